/**
 * The file-system layer's public face: the FsAdapter contract, the path rules every layer shares,
 * and the adapters that need no Node (memory, a browser File list). NodeFs lives in
 * "incremental-backups-tools/node".
 */
export type { EntryType, FsAdapter, FsCapabilities, FsStat, ListedEntry, ReadStreamOptions, WriteOptions } from "./types.js";
export { listWithStats } from "./list-stat.js";
export { baseName, checkPath, depth, joinPath, parentPath, resolveLinkTarget } from "./paths.js";
export { MemoryFs, type MemoryFsOptions, type TreeSpec } from "./memory.js";
export { FileListFs } from "./file-list.js";
export { HandleFs, type HandleFsOptions } from "./handle.js";
