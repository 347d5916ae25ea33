export type { Store, StoredObject, SaveOptions, LoadOptions } from "./types.js";
export { checkObjectName } from "./types.js";
export { MemoryStore } from "./memory.js";
export { R2Store, type R2BucketLike, type R2StoreOptions } from "./r2.js";
export { S3Store, type S3StoreOptions } from "./s3/s3-store.js";
export type { S3Credentials } from "./s3/sigv4.js";
export { parseS3Location, formatS3Location, type S3Location } from "./s3/url.js";
export type { RetryOptions } from "./s3/retry.js";
