export { DiffData } from "./diff-data.js";
export { applyDiff, openArchive } from "./apply.js";
export { parseManifest, MANIFEST_NAME } from "./manifest.js";
export { ZipWriter } from "./zip-write.js";
export { fflateDeflate } from "./deflate.js";
export { ZipReader } from "./zip-read.js";
//# sourceMappingURL=index.js.map