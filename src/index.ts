/**
 * incremental-backups-tools: the runtime-neutral entry point. Imports nothing from Node; the
 * Node file helpers live in "incremental-backups-tools/node".
 */
export * from "./rsync/index.js";
export { IbtError, isIbtError, type ErrorCode, type IbtErrorData } from "./errors.js";
export * from "./fs/index.js";
export * from "./dirindex/index.js";
export * from "./archive/index.js";
export * from "./store/index.js";
export * from "./repo/index.js";
export * from "./store/index.js";
export * from "./crypto/index.js";
