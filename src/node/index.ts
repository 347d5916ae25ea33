/** Node-only helpers: "incremental-backups-tools/node". */
export { readFileChunks, openBasis, writeFileAtomic, fsError, type OpenBasis, type ReadOptions, type WriteOptions } from "./files.js";
export { readFileChunksSync, openReadSync, openBasisSync, AtomicFileSync, type BasisFileSync, type ReadFileSync } from "./sync-files.js";
export { NodeFs, type NodeFsOptions } from "./fs-node.js";
export { isLockOwnerAlive } from "./repo-lock.js";
export { nodeRepositoryOptions } from "./repo-options.js";
export { nodeDeflate } from "./deflate.js";
export { nodeInflate } from "./inflate.js";
export { s3CredentialsFromEnvironment, type FoundS3Credentials } from "./s3-credentials.js";
export { openStore, isPathLocation } from "./open-store.js";
export { nodeHttpTransport, nodeS3Options } from "./http-transport.js";
