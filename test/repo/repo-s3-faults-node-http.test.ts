// repo-s3-faults.test.ts again over node:http: backups under the strict server's faults, then
// verify and an exact restore of every snapshot, with the Node transport the CLI uses.
import { rerunOverNodeHttp } from "../support/node-http-rerun.js";

await rerunOverNodeHttp(() => import("./repo-s3-faults.test.js"));
