export type { Store, StoredObject, SaveOptions, LoadOptions } from "./types.js";
export { checkObjectName } from "./types.js";
export { MemoryStore } from "./memory.js";
export { FsStore } from "./fs-store.js";
export { storedRandomAccess, READ_AHEAD, type StoredRandomAccess } from "./random-access.js";
