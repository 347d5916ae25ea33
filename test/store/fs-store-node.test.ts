import { FsStore } from "../../src/index.js";
import { NodeFs } from "../../src/node/index.js";
import { tempDir } from "../support/helpers.js";
import { storeConformance } from "../support/store-conformance.js";

storeConformance({ name: "FsStore over NodeFs", make: async () => new FsStore(new NodeFs(tempDir())) });
