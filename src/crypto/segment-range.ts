/**
 * Ranged reads of encrypted objects (format in segments.ts): the plaintext range maps to a run
 * of whole segments, so a read fetches the header and that run, and opens only those segments.
 *
 * Whether the last segment fetched is the object's final one decides its nonce, and a reader
 * must not take a stranger's word for it: the run is asked for with one byte more than it
 * spans, and only an answer that comes back short (the object ended first) marks the last
 * segment as final. A range that reaches the end therefore always verifies the final segment,
 * so a cut object cannot pass for a shorter one; a range past the end learns the stored size
 * and verifies the final segment before it answers "nothing here".
 */
import { IbtError } from "../errors.js";
import {
  authFailed,
  cipherFor,
  HEADER_LENGTH,
  plaintextSize,
  segmentCount,
  segmentOffset,
  TAG_LENGTH,
  type ObjectCipher,
} from "./segments.js";

/** Where the stored bytes of one object come from. */
export interface StoredRange {
  readonly name: string;
  /** Stored bytes from `offset`, `length` of them or to the end; fewer only where the object ends. */
  read(offset: number, length?: number): Promise<Uint8Array>;
  /** The stored size. */
  size(): Promise<number>;
}

/** Plaintext bytes [offset, offset + length) of an object (to its end without `length`). */
export async function decryptRange(
  masterKey: CryptoKey,
  stored: StoredRange,
  segmentSize: number,
  offset: number,
  length?: number,
): Promise<Uint8Array> {
  const { name } = stored;
  if (!Number.isSafeInteger(offset) || offset < 0 || (length !== undefined && (!Number.isSafeInteger(length) || length < 0))) {
    throw new IbtError("BAD_ARGUMENT", `load: bad range for ${name}`, { path: name, caller: "load" });
  }
  const stride = segmentSize + TAG_LENGTH;
  const first = Math.floor(offset / segmentSize);
  const lastWanted = length === undefined ? undefined : Math.max(first, Math.floor((offset + length - 1) / segmentSize));
  const asked = lastWanted === undefined ? undefined : (lastWanted - first + 1) * stride + 1;
  const [headerBytes, body] = await Promise.all([
    stored.read(0, HEADER_LENGTH),
    stored.read(segmentOffset(first, segmentSize), asked),
  ]);
  if (headerBytes.length !== HEADER_LENGTH) throw authFailed(name);
  const cipher = await cipherFor(masterKey, name, headerBytes, segmentSize);

  if (asked !== undefined && body.length === asked) {
    // The object goes on past the run: every segment in it is full and not final.
    const count = lastWanted! - first + 1;
    const opened = await openRun(cipher, body.subarray(0, count * stride), first, count, stride, -1);
    return slicePlain(opened, offset - first * segmentSize, length);
  }
  if (body.length === 0) {
    // The range starts past the end: show that the object really ends there.
    const size = plaintextSize(await stored.size(), segmentSize, name);
    const final = segmentCount(size, segmentSize) - 1;
    if (final >= first) throw authFailed(name);
    await cipher.open(final, true, await stored.read(segmentOffset(final, segmentSize)));
    return new Uint8Array(0);
  }
  const size = plaintextSize(segmentOffset(first, segmentSize) + body.length, segmentSize, name);
  const final = segmentCount(size, segmentSize) - 1;
  const opened = await openRun(cipher, body, first, final - first + 1, stride, final);
  return slicePlain(opened, offset - first * segmentSize, length);
}

/** Opens `count` consecutive segments from `first`, the one numbered `final` as final. */
async function openRun(cipher: ObjectCipher, run: Uint8Array, first: number, count: number, stride: number, final: number): Promise<Uint8Array[]> {
  const opening: Promise<Uint8Array>[] = [];
  for (let k = 0; k < count; k++) {
    const index = first + k;
    opening.push(cipher.open(index, index === final, run.subarray(k * stride, Math.min(run.length, (k + 1) * stride))));
  }
  return Promise.all(opening);
}

function slicePlain(segments: Uint8Array[], from: number, length: number | undefined): Uint8Array {
  let total = 0;
  for (const s of segments) total += s.length;
  const start = Math.min(from, total);
  const end = length === undefined ? total : Math.min(total, from + length);
  const out = new Uint8Array(end - start);
  let at = 0;
  for (const s of segments) {
    const lo = Math.max(start - at, 0);
    const hi = Math.min(end - at, s.length);
    if (hi > lo) out.set(s.subarray(lo, hi), at + lo - start);
    at += s.length;
  }
  return out;
}
