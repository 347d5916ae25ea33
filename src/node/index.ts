/** Node-only helpers: "incremental-backups-tools/node". */
export { readFileChunks, openBasis, writeFileAtomic, fsError, type OpenBasis, type ReadOptions, type WriteOptions } from "./files.js";
