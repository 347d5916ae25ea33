/** Node-only helpers: "incremental-backups-tools/node". */
export { readFileChunks, openBasis, writeFileAtomic, fsError } from "./files.js";
export { readFileChunksSync, openReadSync, openBasisSync, AtomicFileSync } from "./sync-files.js";
export { NodeFs } from "./fs-node.js";
export { isLockOwnerAlive } from "./repo-lock.js";
export { nodeRepositoryOptions } from "./repo-options.js";
export { nodeDeflate } from "./deflate.js";
//# sourceMappingURL=index.js.map