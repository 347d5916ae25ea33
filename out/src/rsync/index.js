export { MAGIC_DELTA, MAGIC_ROLLSUM_MD4, MAGIC_ROLLSUM_BLAKE2, MAGIC_RABINKARP_MD4, MAGIC_RABINKARP_BLAKE2, signatureParams, } from "./format.js";
export { SignatureJob, signature, signatureOf } from "./signature.js";
export { loadSignature, parseSignature } from "./loadsig.js";
export { DeltaJob, delta, deltaOf } from "./delta.js";
export { DeltaDecoder, patch, patchViews, patchOf } from "./patch.js";
export { Hasher, blake2b, md4 } from "./hashes.js";
export { chunksOf, collect } from "../bytes.js";
export { EngineJob, streamJob, runJob } from "./job.js";
export { engineModule } from "./engine.js";
//# sourceMappingURL=index.js.map