/**
 * An inflate codec on node:zlib, for ZipReader and the repository (`inflate` option). zlib is
 * native and inflates several times faster than fflate, and it writes whole members straight
 * into one buffer instead of growing one as it goes.
 *
 * Whole members use `inflateRaw` with `maxOutputLength` one byte past the limit, so zlib
 * itself stops (ERR_BUFFER_TOO_LARGE) rather than inflate a bomb; its output chunk is sized to
 * the limit so an honest member lands in a single allocation. From ASYNC_FROM compressed bytes on
 * the call runs on libuv's thread pool, so the reader's thread goes on (writing the files of the
 * group before, while a restore's next group inflates: group-read.ts); smaller members stay
 * synchronous, where the hop to another thread would cost more than it frees.
 *
 * node:zlib has no synchronous streaming API, so the stream form drives an `InflateRaw`
 * transform: each push writes one piece and waits until zlib has consumed it, so the output a
 * push returns is what that piece made, which is what keeps the reader's bounds on memory. Buffers are handed on as plain Uint8Array
 * views, so no Buffer semantics (a `slice` that does not copy) leak into the core.
 */
import { kMaxLength } from "node:buffer";
import { createInflateRaw, inflateRaw, inflateRawSync } from "node:zlib";
import { inflateInvalid, inflatesPast, inflateTruncated, type InflateCodec, type InflateStream } from "../archive/inflate.js";

/** The largest output chunk a whole inflate allocates at once; larger members take several. */
const MAX_CHUNK = 16 * 1024 * 1024;
/** Whole members with at least this many compressed bytes inflate off the calling thread. */
export const ASYNC_FROM = 64 * 1024;
/** zlib's smallest output chunk. */
const MIN_CHUNK = 64;
/** Output chunk of the stream form: the reader pushes pieces that make a few hundred KiB. */
const STREAM_CHUNK = 256 * 1024;

function view(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function zlibError(err: unknown, limit?: number): Error {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === "ERR_BUFFER_TOO_LARGE" && limit !== undefined) return inflatesPast(limit);
  // zlib says Z_BUF_ERROR when the input ran out before the last block.
  if (code === "Z_BUF_ERROR") return inflateTruncated(err);
  return inflateInvalid(err);
}

function inflateStream(): InflateStream {
  const zlib = createInflateRaw({ chunkSize: STREAM_CHUNK });
  const out: Uint8Array[] = [];
  let failure: unknown;
  zlib.on("data", (b: Buffer) => out.push(view(b)));
  zlib.on("error", (err) => (failure ??= err));
  return {
    async push(piece, final) {
      if (failure === undefined) {
        await new Promise<void>((resolve) => {
          // An error may destroy the stream without calling back: it settles the push too.
          const done = () => {
            zlib.off("error", done);
            zlib.off("end", done);
            resolve();
          };
          zlib.on("error", done);
          if (final) {
            // 'end' comes once every output byte has been emitted.
            zlib.on("end", done);
            zlib.end(piece);
          } else {
            zlib.write(piece, () => done());
          }
        });
      }
      if (failure !== undefined) throw zlibError(failure);
      return out.splice(0);
    },
    close() {
      zlib.destroy();
    },
  };
}

/** Raw inflate by node:zlib, whole and streamed. */
export const nodeInflate: Required<Omit<InflateCodec, "zstd">> & Pick<InflateCodec, "zstd"> = {
  inflate(data, limit) {
    const maxOutputLength = Math.min(kMaxLength, limit + 1);
    const options = { maxOutputLength, chunkSize: Math.max(MIN_CHUNK, Math.min(MAX_CHUNK, maxOutputLength)) };
    if (data.length >= ASYNC_FROM) {
      return new Promise((resolve, reject) => {
        inflateRaw(data, options, (err, out) => (err ? reject(zlibError(err, limit)) : resolve(view(out))));
      });
    }
    try {
      return view(inflateRawSync(data, options));
    } catch (err) {
      throw zlibError(err, limit);
    }
  },
  inflateStream,
};
