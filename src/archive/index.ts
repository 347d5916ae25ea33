export { DiffData, type DiffDataOptions, type ArchiveStats } from "./diff-data.js";
export { applyDiff, type ApplyOptions, type ApplyResult } from "./apply.js";
export { ArchiveData } from "./group-read.js";
export { parseManifest, readManifest, matchesHash, manifestHash, MANIFEST_NAME, MANIFEST_VERSION, MANIFEST_VERSIONS, type Manifest, type ManifestChange, type ManifestEntry } from "./manifest.js";
export { ZipWriter, type ZipSink, type ZipAddOptions, type ZipWriterOptions } from "./zip-write.js";
export type { LaterSpill } from "./zip-later.js";
export { fflateDeflate, type DeflateCodec, type DeflateStream } from "./deflate.js";
export { fflateInflate, type InflateCodec, type InflateStream } from "./inflate.js";
export { ZipReader, openArchive, type ZipEntry, type RandomAccessFile, type ZipReaderOptions } from "./zip-read.js";
