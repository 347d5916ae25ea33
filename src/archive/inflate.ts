/**
 * The inflate implementation behind ZipReader, pluggable, as deflate.ts is for the writer. The
 * default is fflate, which is JavaScript and runs everywhere; a runtime with a native zlib can
 * hand in something faster (the Node entry exports `nodeInflate`, built on node:zlib). Input is
 * raw deflate (RFC 1951, ZIP method 8): no zlib or gzip wrapper.
 *
 * A codec is trusted with nothing the reader can keep for itself. The reader decides how much
 * input a codec sees at a time (so deflate's 1032:1 expansion bounds what one call can make),
 * counts every byte that comes back against the member's declared size, and checks the exact
 * size and the CRC-32 before the last output is handed on. What a codec must do is narrow: never
 * make more than it is allowed in one call, and throw on data that is not deflate. So a codec
 * that misbehaves costs a CORRUPT error, never wrong bytes or unbounded memory.
 */
import { FlateErrorCode, Inflate, inflateSync } from "fflate";
import { IbtError, isIbtError } from "../errors.js";

/** One raw deflate stream, inflated from pieces pushed in order. */
export interface InflateStream {
  /**
   * Inflates `piece`, the next input, and returns every output byte it completes, in order
   * (possibly none). MUST NOT hold output back beyond the call that completes it, MUST be done
   * with `piece` when it returns (or its promise settles), and MUST throw on data that is not
   * deflate; with `final` true, also on data that ends before its last block. Input after the
   * last block may be ignored. No call follows one with `final` true, or one that threw.
   */
  push(piece: Uint8Array, final: boolean): Uint8Array[] | Promise<Uint8Array[]>;
  /** Frees what the stream holds when the reader stops early. MUST be safe to call at any time. */
  close?(): void;
}

export interface InflateCodec {
  /**
   * Inflates `data`, one whole raw deflate stream, and returns its output. MUST NOT make more
   * than `limit + 1` bytes: data that would inflate to more is refused (by throwing
   * `inflatesPast(limit)`) or cut off after `limit + 1` bytes, never inflated whole. MUST throw
   * on data that is not deflate or ends before its last block, and MUST NOT keep `data`.
   */
  inflate(data: Uint8Array, limit: number): Uint8Array | Promise<Uint8Array>;
  /** A stream for members too large to inflate whole; without it, those use fflate. */
  inflateStream?(): InflateStream;
  /**
   * Decompresses `data`, one whole Zstandard frame (a ZIP method 93 member), into exactly `size`
   * bytes. MUST NOT allocate more than `size` bytes of output (plus its own bounded window) and
   * MUST throw on data that is not one valid frame or that decodes to another size. Without it,
   * the reader uses its JavaScript decoder (zstd.ts).
   */
  zstd?(data: Uint8Array, size: number): Uint8Array | Promise<Uint8Array>;
}

/** What a codec throws for data that inflates past `limit` bytes. */
export function inflatesPast(limit: number): IbtError {
  return new IbtError("CORRUPT", `inflates past its declared size of ${limit} bytes`);
}

/** What a codec throws for data that ends before its last block. */
export function inflateTruncated(cause?: unknown): IbtError {
  return new IbtError("TRUNCATED", "deflate data ends early", { cause });
}

/** What a codec throws for data that is not deflate. */
export function inflateInvalid(cause: unknown): IbtError {
  const message = cause instanceof Error ? cause.message : String(cause);
  return new IbtError("CORRUPT", `invalid deflate data (${message})`, { cause });
}

function fflateError(err: unknown): IbtError {
  if (isIbtError(err)) return err;
  if ((err as { code?: unknown } | null)?.code === FlateErrorCode.UnexpectedEOF) return inflateTruncated(err);
  return inflateInvalid(err);
}

/** fflate: portable, and the default. */
export const fflateInflate: Required<Omit<InflateCodec, "zstd">> = {
  inflate(data, limit) {
    try {
      // A buffer one byte past the limit, which fflate fills and no further.
      return inflateSync(data, { out: new Uint8Array(limit + 1) });
    } catch (err) {
      throw fflateError(err);
    }
  },
  inflateStream() {
    const out: Uint8Array[] = [];
    const inflater = new Inflate((data) => {
      if (data.length > 0) out.push(data);
    });
    return {
      push(piece, final) {
        try {
          inflater.push(piece, final);
        } catch (err) {
          throw fflateError(err);
        }
        return out.splice(0);
      },
    };
  },
};

/** The codec to use: fflate when none is given; anything else must look like a codec. */
export function inflateCodec(codec: InflateCodec | undefined): InflateCodec {
  if (codec === undefined) return fflateInflate;
  const optional = (f: unknown): boolean => f === undefined || typeof f === "function";
  if (typeof codec?.inflate !== "function" || !optional(codec.inflateStream) || !optional(codec.zstd)) {
    throw new IbtError("BAD_ARGUMENT", "inflate must be a codec with an inflate function");
  }
  return codec;
}
