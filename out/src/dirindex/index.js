export { DirIndex, INDEX_SIGNATURES } from "./dir-index.js";
export { DiffIndex, summarize } from "./diff-index.js";
export { saveIndex, loadIndex, encodeIndex, decodeIndex } from "./index-file.js";
export { IgnoreRules } from "./ignore-rules.js";
export { ContentCache } from "./content-cache.js";
//# sourceMappingURL=index.js.map