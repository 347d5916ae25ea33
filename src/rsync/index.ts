export {
  MAGIC_DELTA,
  MAGIC_ROLLSUM_MD4,
  MAGIC_ROLLSUM_BLAKE2,
  MAGIC_RABINKARP_MD4,
  MAGIC_RABINKARP_BLAKE2,
  signatureParams,
  type SignatureOptions,
  type SignatureParams,
  type StrongHash,
  type WeakSum,
} from "./format.js";
export { SignatureJob, signature, signatureOf } from "./signature.js";
export { loadSignature, parseSignature, type Signature } from "./loadsig.js";
export { DeltaJob, delta, deltaOf, type DeltaStats } from "./delta.js";
export { DeltaDecoder, patch, patchInto, patchViews, patchOf, type BasisReader, type DeltaCommand, type PatchOptions } from "./patch.js";
export { Hasher, blake2b, md4, type HashKind } from "./hashes.js";
export { chunksOf, collect, type ByteSource } from "../bytes.js";
export { EngineJob, streamJob, runJob, type PushJob } from "./job.js";
export { engineModule, useEngineModule } from "./engine.js";
