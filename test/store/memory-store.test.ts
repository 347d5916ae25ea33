import { MemoryStore } from "../../src/index.js";
import { storeConformance } from "../support/store-conformance.js";

storeConformance({ name: "MemoryStore", make: async () => new MemoryStore() });
