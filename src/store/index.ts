export type { Store, StoredObject, SaveOptions, LoadOptions } from "./types.js";
export { checkObjectName } from "./types.js";
export { MemoryStore } from "./memory.js";
export { R2Store, type R2BucketLike, type R2StoreOptions } from "./r2.js";
