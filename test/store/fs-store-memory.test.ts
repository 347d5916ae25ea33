import { FsStore, MemoryFs } from "../../src/index.js";
import { storeConformance } from "../support/store-conformance.js";

storeConformance({ name: "FsStore over MemoryFs", make: async () => new FsStore(new MemoryFs()) });
