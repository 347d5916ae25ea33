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
 *
 * `zstd` decodes one whole frame (a ZIP method 93 member) where node:zlib has zstd: from Node
 * 22.15, and in Deno and Bun; Node 20 has none. The functions are looked up on the module
 * namespace at load, so an older Node still loads this file, `nodeInflate.zstd` is undefined and
 * the reader uses its portable decoder. The frame is checked first (checkZstdFrame: node:zlib
 * would decode a second frame and ignore trailing bytes), then zlib is held to `size + 1` bytes of
 * output and a 16 MiB window (ZSTD_d_windowLogMax 24), so no frame makes it allocate more, and
 * from ASYNC_FROM compressed bytes on it runs on the thread pool, as inflate does.
 */
import { kMaxLength } from "node:buffer";
import * as zlib from "node:zlib";
import { createInflateRaw, inflateRaw, inflateRawSync } from "node:zlib";
import { IbtError } from "../errors.js";
import { inflateInvalid, inflatesPast, inflateTruncated, type InflateCodec, type InflateStream } from "../archive/inflate.js";
import { checkZstdFrame, ZSTD_MAX_WINDOW } from "../archive/zstd-frame.js";

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

interface ZstdOptions {
  maxOutputLength: number;
  chunkSize: number;
  params: Record<number, number>;
}

/** What node:zlib has from Node 22.15 on; the @types/node of Node 20 does not declare it. */
interface ZstdZlib {
  zstdDecompressSync?(data: Uint8Array, options: ZstdOptions): Buffer;
  zstdDecompress?(data: Uint8Array, options: ZstdOptions, callback: (err: Error | null, out: Buffer) => void): void;
  constants?: { ZSTD_d_windowLogMax?: number };
}

const zstdZlib = zlib as unknown as ZstdZlib;

function zstdError(err: unknown, size: number): IbtError {
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (code === "ERR_BUFFER_TOO_LARGE") return new IbtError("CORRUPT", `zstd data decodes past its declared size of ${size} bytes`, { cause: err });
  // As for inflate: Z_BUF_ERROR when the input ran out inside the frame.
  if (code === "Z_BUF_ERROR") return new IbtError("TRUNCATED", "zstd data ends early", { cause: err });
  if (code === "ZSTD_error_frameParameter_windowTooLarge") {
    return new IbtError("UNSUPPORTED", `zstd frame needs too large a window (${message})`, { cause: err });
  }
  return new IbtError("CORRUPT", `invalid zstd data (${message})`, { cause: err });
}

function zstdChecked(out: Buffer, size: number): Uint8Array {
  if (out.length !== size) throw new IbtError("CORRUPT", `zstd data decodes to ${out.length} bytes, not the declared ${size}`);
  return view(out);
}

function zstd(data: Uint8Array, size: number): Uint8Array | Promise<Uint8Array> {
  checkZstdFrame(data, size);
  const { zstdDecompress, zstdDecompressSync, constants } = zstdZlib;
  const maxOutputLength = size + 1;
  const options: ZstdOptions = {
    maxOutputLength,
    chunkSize: Math.max(MIN_CHUNK, Math.min(MAX_CHUNK, maxOutputLength)),
    params: { [constants!.ZSTD_d_windowLogMax!]: Math.log2(ZSTD_MAX_WINDOW) },
  };
  if (data.length >= ASYNC_FROM) {
    return new Promise((resolve, reject) => {
      zstdDecompress!(data, options, (err, out) => {
        try {
          if (err) throw zstdError(err, size);
          resolve(zstdChecked(out, size));
        } catch (e) {
          reject(e);
        }
      });
    });
  }
  let out: Buffer;
  try {
    out = zstdDecompressSync!(data, options);
  } catch (err) {
    throw zstdError(err, size);
  }
  return zstdChecked(out, size);
}

const hasZstd =
  typeof zstdZlib.zstdDecompressSync === "function" &&
  typeof zstdZlib.zstdDecompress === "function" &&
  typeof zstdZlib.constants?.ZSTD_d_windowLogMax === "number";

/** Raw inflate by node:zlib, whole and streamed, and zstd where node:zlib has it. */
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
  ...(hasZstd ? { zstd } : {}),
};
