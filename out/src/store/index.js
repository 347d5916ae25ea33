export { checkObjectName } from "./types.js";
export { MemoryStore } from "./memory.js";
//# sourceMappingURL=index.js.map