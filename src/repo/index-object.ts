/**
 * How a repository stores a snapshot's index object (a whole index or a delta, dirindex/):
 * deflated in frames, behind the index file's magic with a version of its own:
 *
 *   "IBTINDEX"  8-byte magic
 *   u32         3: a deflated index object
 *   frames      each: varint length (1 or more), u32 CRC-32 of the deflate bytes, then that many
 *               bytes of raw deflate (RFC 1951, one whole stream) that inflate to 1..65536 bytes
 *               of the index or delta file
 *   end         varint 0, and nothing after it
 *
 * The file inside keeps its own header and BLAKE2b-256 checksum; the CRC-32 covers what that
 * cannot, bits of the deflate data that inflating ignores (the padding after a stream's last
 * block), so every damaged byte of the object is refused, as in a plain index. Paths, metadata and weak sums
 * compress; content hashes and strong sums do not. Objects written before (the index or delta
 * file as it is, versions 1 and 2) are read as they are, so a repository may hold both; a library
 * that reads only those refuses version 3 as UNSUPPORTED.
 *
 * Frames bound what a damaged or hostile object can cost: each inflates whole, in one call, to
 * at most 64 KiB, so no deflate bomb gets further than one frame, and reading stays a stream
 * whose memory is that of the index. They also let the writer deflate one frame while the next
 * is encoded, and the reader inflate without a streaming codec's per-piece round trips.
 */
import { IbtError } from "../errors.js";
import { ChunkQueue, chunksOf, type ByteSource } from "../bytes.js";
import { fflateDeflate, type DeflateCodec } from "../archive/deflate.js";
import { fflateInflate, type InflateCodec } from "../archive/inflate.js";
import { MAGIC } from "../dirindex/index-format.js";
import { crc32 } from "../archive/crc32.js";
import { ChunkWriter } from "../dirindex/index-encoder.js";

export const DEFLATED_INDEX_VERSION = 3;
/** zlib's scale: on real indexes level 1 keeps nearly all of level 6's saving, for less CPU. */
const LEVEL = 1;
const HEADER = MAGIC.length + 4;
/** Bytes of the index file per frame. */
const FRAME = 64 * 1024;
/** Deflate of FRAME bytes is never longer than this (stored blocks' overhead, with room). */
const MAX_DEFLATED_FRAME = FRAME + 1024;

/** An index or delta file's bytes as the repository stores them. */
export async function* deflatedIndex(file: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, codec?: DeflateCodec): AsyncGenerator<Uint8Array> {
  const header = new Uint8Array(HEADER);
  header.set(MAGIC);
  new DataView(header.buffer).setUint32(MAGIC.length, DEFLATED_INDEX_VERSION);
  yield header;
  const c: DeflateCodec = codec ?? fflateDeflate;
  // Off the calling thread where the codec can: a frame deflates while the next is encoded.
  const deflate = c.deflateAsync ? (d: Uint8Array) => c.deflateAsync!(d, LEVEL) : async (d: Uint8Array) => c.deflate(d, LEVEL);
  let pending: Promise<Uint8Array> | undefined;
  for await (const frame of framesOf(file)) {
    const next = deflate(frame);
    next.catch(() => undefined); // awaited in turn below; a failure must not go unhandled meanwhile
    if (pending) yield* framed(await pending);
    pending = next;
  }
  if (pending) yield* framed(await pending);
  yield new Uint8Array([0]);
}

/** The file cut into fresh FRAME-byte buffers (the last shorter), none empty. */
async function* framesOf(file: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const frames = new ChunkQueue(FRAME);
  for await (const chunk of file) {
    frames.append(chunk);
    yield* frames.take();
  }
  yield* frames.take(true);
}

/** A frame's length and deflated bytes. */
function framed(deflated: Uint8Array): Uint8Array[] {
  if (!(deflated instanceof Uint8Array) || deflated.length === 0 || deflated.length > MAX_DEFLATED_FRAME) {
    throw new IbtError("BAD_ARGUMENT", "the deflate codec returned something other than deflate of an index frame");
  }
  const w = new ChunkWriter();
  w.varint(deflated.length);
  w.u32(crc32(deflated));
  w.bytes(deflated);
  return w.take();
}

/**
 * The index or delta file in a stored index object: inflated when it is deflated (version 3),
 * else the object as it is. An object that ends before its end mark is TRUNCATED; anything else
 * wrong with the frames (a length out of range, a CRC-32 that does not match, data that is not
 * deflate or inflates to more than a frame, bytes after the end) is CORRUPT.
 */
export async function* indexFileOf(object: ByteSource, codec?: InflateCodec): AsyncGenerator<Uint8Array> {
  const input = new Input(chunksOf(object));
  try {
    const head = await input.upTo(HEADER);
    if (!isDeflated(head)) {
      if (head.length > 0) yield head;
      yield* input.rest();
      return;
    }
    const inflate = codec ?? fflateInflate;
    for (;;) {
      const length = await frameLength(input);
      if (length === 0) break;
      const sum = await input.exactly(4);
      const want = ((sum[0]! << 24) | (sum[1]! << 16) | (sum[2]! << 8) | sum[3]!) >>> 0;
      const frame = await input.exactly(length);
      if (crc32(frame) !== want) throw new IbtError("CORRUPT", `index object: the frame at ${input.offset - length} does not match its CRC-32`, { offset: input.offset - length });
      let out: Uint8Array;
      try {
        out = await inflate.inflate(frame, FRAME);
      } catch (e) {
        throw new IbtError("CORRUPT", `index object: a frame at ${input.offset - length} is not deflate of at most ${FRAME} bytes`, { cause: e, offset: input.offset - length });
      }
      if (!(out instanceof Uint8Array) || out.length === 0 || out.length > FRAME) {
        throw new IbtError("CORRUPT", `index object: a frame at ${input.offset - length} inflates to ${out?.length} bytes, not 1 to ${FRAME}`, { offset: input.offset - length });
      }
      yield out;
    }
    if ((await input.upTo(1)).length > 0) throw new IbtError("CORRUPT", `index object: data after its end at ${input.offset - 1}`, { offset: input.offset - 1 });
  } finally {
    await input.close();
  }
}

async function frameLength(input: Input): Promise<number> {
  const at = input.offset;
  let v = 0;
  for (let shift = 0; ; shift += 7) {
    const b = (await input.exactly(1))[0]!;
    v += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
    if (shift >= 14) throw new IbtError("CORRUPT", `index object: a frame length at ${at} is out of range`, { offset: at });
  }
  if (v > MAX_DEFLATED_FRAME) throw new IbtError("CORRUPT", `index object: a frame length at ${at} is out of range (${v} bytes)`, { offset: at });
  return v;
}

function isDeflated(head: Uint8Array): boolean {
  if (head.length < HEADER || MAGIC.some((b, i) => head[i] !== b)) return false;
  return new DataView(head.buffer, head.byteOffset, HEADER).getUint32(MAGIC.length) === DEFLATED_INDEX_VERSION;
}

/** Bytes taken from a stream of chunks in the sizes the reader wants. */
class Input {
  #chunks: AsyncGenerator<Uint8Array>;
  #buf: Uint8Array = new Uint8Array(0);
  #pos = 0;
  #done = false;
  /** Bytes taken so far. */
  offset = 0;

  constructor(chunks: AsyncGenerator<Uint8Array>) {
    this.#chunks = chunks;
  }

  /** The next `n` bytes, or fewer where the stream ends first. */
  async upTo(n: number): Promise<Uint8Array> {
    while (this.#buf.length - this.#pos < n && !this.#done) {
      const r = await this.#chunks.next();
      if (r.done) {
        this.#done = true;
        break;
      }
      this.#buf = joined(this.#buf.subarray(this.#pos), r.value);
      this.#pos = 0;
    }
    const out = this.#buf.subarray(this.#pos, this.#pos + n);
    this.#pos += out.length;
    this.offset += out.length;
    return out;
  }

  /** The next `n` bytes; TRUNCATED where the stream ends first. */
  async exactly(n: number): Promise<Uint8Array> {
    const out = await this.upTo(n);
    if (out.length < n) throw new IbtError("TRUNCATED", `index object: ends at ${this.offset}, before its end mark`, { offset: this.offset });
    return out;
  }

  /** What is left, as it comes. */
  async *rest(): AsyncGenerator<Uint8Array> {
    if (this.#pos < this.#buf.length) yield this.#buf.subarray(this.#pos);
    this.#buf = new Uint8Array(0);
    this.#pos = 0;
    for (let r = await this.#chunks.next(); !r.done; r = await this.#chunks.next()) yield r.value;
    this.#done = true;
  }

  async close(): Promise<void> {
    if (!this.#done) await this.#chunks.return(undefined).catch(() => undefined);
  }
}

function joined(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
