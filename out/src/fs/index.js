export { listWithStats } from "./list-stat.js";
export { baseName, checkPath, depth, joinPath, parentPath, resolveLinkTarget } from "./paths.js";
export { MemoryFs } from "./memory.js";
export { FileListFs } from "./file-list.js";
export { HandleFs } from "./handle.js";
//# sourceMappingURL=index.js.map