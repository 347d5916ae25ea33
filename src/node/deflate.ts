/**
 * A deflate codec on node:zlib, for ZipWriter, DiffData and the repository (`deflate` option).
 * zlib is native, needs no warm-up and allocates its tables once per call in C, so small
 * members cost far less than in fflate, which must warm up first, and large ones deflate faster.
 *
 * node:zlib has no synchronous streaming API, so the stream form deflates each piece with its
 * own `deflateRawSync` call and joins them into one deflate stream: every piece but the last
 * ends with a sync flush (an empty stored block, so the next piece starts on a byte boundary and
 * no block is final), and each piece is given the 32 KiB of input before it as a preset
 * dictionary, so matches reach back across pieces as in one continuous stream. An inflater sees
 * a single raw deflate stream; the cost is about 5 bytes per 64 KiB piece.
 *
 * The async forms run the same zlib calls with the same options on libuv's thread pool, so they
 * give the same bytes, and the writer deflates on both cores while its own thread reads and
 * frames the next member. Each is one thread-pool job: the output buffer is sized to deflate's
 * bound, since a smaller one would hand the job back to the main thread at every buffer filled,
 * where it waits for the writer's synchronous work. Level 0 stays on the calling thread: it
 * only copies, and zlib sizes its stored blocks by the output buffer, so the bytes would differ.
 */
import { constants, createDeflateRaw, deflateRaw, deflateRawSync, type DeflateRaw, type ZlibOptions } from "node:zlib";
import type { DeflateCodec, DeflateIncremental, DeflateStream } from "../archive/deflate.js";
import { nodeZstdCompress } from "./zstd-compress.js";

/** Deflate's window: how far back a match may reach. */
const WINDOW = 32 * 1024;

function deflateStream(level: number): DeflateStream {
  let window: Uint8Array = new Uint8Array(0);
  /** The options for `piece`, and the window moved past it: each piece's call is independent. */
  const next = (piece: Uint8Array, final: boolean): ZlibOptions => {
    const options: ZlibOptions = {
      level,
      finishFlush: final ? constants.Z_FINISH : constants.Z_SYNC_FLUSH,
      ...(window.length > 0 ? { dictionary: window } : {}),
    };
    window = lastWindow(window, piece);
    return options;
  };
  const push = (piece: Uint8Array, final: boolean): Uint8Array => {
    if (piece.length === 0 && !final) return piece;
    return deflateRawSync(piece, next(piece, final));
  };
  return {
    push,
    pushAsync(piece, final) {
      if ((piece.length === 0 && !final) || level === 0) return Promise.resolve(push(piece, final));
      return deflateOffThread(piece, next(piece, final));
    },
  };
}

/** zlib's conservative bound on deflate's output (any window and memLevel), with room for a flush marker. */
function outputBound(length: number): number {
  return length + Math.ceil(length / 8) + Math.ceil(length / 64) + 64;
}

function deflateOffThread(data: Uint8Array, options: ZlibOptions): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    deflateRaw(data, { ...options, chunkSize: outputBound(data.length) }, (error, out) => (error ? reject(error) : resolve(out)));
  });
}

/** The last 32 KiB of `window` followed by `piece`, copied: the caller may reuse `piece`. */
function lastWindow(window: Uint8Array, piece: Uint8Array): Uint8Array {
  if (piece.length >= WINDOW) return piece.slice(piece.length - WINDOW);
  const keep = Math.min(window.length, WINDOW - piece.length);
  const next = new Uint8Array(keep + piece.length);
  next.set(window.subarray(window.length - keep));
  next.set(piece, keep);
  return next;
}

/**
 * zlib's window and hash table sized to a whole input: `windowBits` the smallest window that
 * holds all of it (9..15; a window no shorter than the input finds every match the 32 KiB one
 * would) and `memLevel` to match (1..8, 8 from 32 KiB on). zlib's defaults take about 256 KiB
 * of state for every call, which the allocator hands back to the system when the call ends and
 * takes again at the next, each page a fault: for the many small members of a typical archive
 * that costs more than compressing them, and state sized to the input compresses them as well.
 */
function sizedFor(length: number): { windowBits: number; memLevel: number } {
  const bits = Math.max(9, Math.min(15, Math.ceil(Math.log2(Math.max(1, length)))));
  return { windowBits: bits, memLevel: Math.max(1, bits - 7) };
}

/**
 * `deflate`'s bytes from pieces: one zlib stream that is never flushed, whose output does not
 * depend on how its input is cut (level 0 excepted, see above). Its options must be those
 * `deflate` picks for the whole, which are known once the data is long enough that `sizedFor`
 * gives zlib's largest window; until then the pieces are kept, and a shorter whole is deflated
 * at the end as `deflate` does.
 */
function deflateIncremental(level: number): DeflateIncremental {
  let head: Uint8Array[] = [];
  let headLength = 0;
  let stream: DeflateRaw | undefined;
  let failure: Error | undefined;
  const out: Uint8Array[] = [];
  const write = (piece: Uint8Array): Promise<void> =>
    new Promise((resolve, reject) => stream!.write(piece, (error) => (error || failure ? reject(error ?? failure) : resolve())));
  return {
    async push(piece) {
      if (stream) return write(piece);
      head.push(piece.slice());
      headLength += piece.length;
      if (level === 0 || sizedFor(headLength).windowBits < 15) return;
      stream = createDeflateRaw({ level, ...sizedFor(headLength) });
      stream.on("data", (chunk: Uint8Array) => out.push(chunk));
      stream.on("error", (error) => (failure = error));
      const joined = Buffer.concat(head);
      head = [];
      await write(joined);
    },
    take() {
      return out.splice(0);
    },
    async finish() {
      if (!stream) return [nodeDeflate.deflate(Buffer.concat(head), level)];
      const s = stream;
      await new Promise<void>((resolve, reject) => {
        s.once("end", () => (failure ? reject(failure) : resolve()));
        s.once("error", reject);
        s.end();
      });
      return out;
    },
    dispose() {
      stream?.destroy();
      head = [];
      out.length = 0;
    },
  };
}

/** Raw deflate by node:zlib, whole and streamed; and zstd where node:zlib has it. */
export const nodeDeflate: Required<Omit<DeflateCodec, "zstd">> & Pick<DeflateCodec, "zstd"> = {
  deflate: (data, level) => deflateRawSync(data, { level, ...sizedFor(data.length) }),
  deflateAsync: (data, level) => (level === 0 ? Promise.resolve(nodeDeflate.deflate(data, level)) : deflateOffThread(data, { level, ...sizedFor(data.length) })),
  deflateStream,
  deflateIncremental,
  ...(nodeZstdCompress ? { zstd: nodeZstdCompress } : {}),
};
