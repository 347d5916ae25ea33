/**
 * Cuts a byte source into parts of exactly `partSize` bytes (the last one shorter), for S3's
 * multipart uploads. Each part is a fresh array that nothing else references: the caller's chunks
 * are copied, because a source may reuse its buffers, and a part is kept until its upload has
 * succeeded so that it can be sent again. A part is filled only when the consumer asks for it,
 * so the consumer decides how many are held at once.
 */
import { chunksOf, type ByteSource } from "../../bytes.js";

export async function* partsOf(source: ByteSource, partSize: number): AsyncGenerator<Uint8Array> {
  // Allocated at its first byte, so a source that ends on a part boundary costs no extra part.
  let part: Uint8Array | undefined;
  let used = 0;
  for await (const chunk of chunksOf(source)) {
    for (let at = 0; at < chunk.length; ) {
      part ??= new Uint8Array(partSize);
      const n = Math.min(partSize - used, chunk.length - at);
      part.set(chunk.subarray(at, at + n), used);
      used += n;
      at += n;
      if (used === partSize) {
        const full = part;
        part = undefined;
        used = 0;
        yield full;
      }
    }
  }
  if (part && used > 0) yield part.subarray(0, used);
}

/** The parts of an array already in memory: views, no copies. */
export function* partsOfArray(data: Uint8Array, partSize: number): Generator<Uint8Array> {
  for (let at = 0; at < data.length; at += partSize) yield data.subarray(at, at + partSize);
}
