// s3-strict-faults.test.ts again over node:http: every fault of the strict server (dropped
// connections, bodies cut short or stalled, 5xx, lost answers) met by the Node transport.
import { rerunOverNodeHttp } from "../support/node-http-rerun.js";

await rerunOverNodeHttp(() => import("./s3-strict-faults.test.js"));
