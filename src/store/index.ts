export type { Store, StoredObject, SaveOptions, LoadOptions } from "./types.js";
export { checkObjectName } from "./types.js";
export { MemoryStore } from "./memory.js";
