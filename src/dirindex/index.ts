export { DirIndex, INDEX_SIGNATURES, type DirIndexOptions, type IndexProgress, type IndexStats } from "./dir-index.js";
export { DiffIndex, diffSorted, summarize, type Change, type Diff, type SortedEntries } from "./diff-index.js";
export { saveIndex, loadIndex, encodeIndex, decodeIndex } from "./index-file.js";
export { IgnoreRules } from "./ignore-rules.js";
export type { IndexEntry } from "./entry.js";
export { ContentCache } from "./content-cache.js";
