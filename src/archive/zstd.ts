/**
 * The portable Zstandard decoder behind ZipReader's method 93 members: fzstd, pure JavaScript, so
 * it runs in every runtime, browsers and workerd included, which have no native zstd. A codec
 * with a native `zstd` (the Node entry's `nodeInflate`) replaces it.
 *
 * fzstd is handed only data that checkZstdFrame accepted with its sequences decoded for their
 * lengths (one frame, its content size equal to `size`, no dictionary, a bounded window, blocks
 * that make what their frame allows and no more, however their sequences read) and an output
 * buffer of exactly `size` bytes, allocated here. Given a buffer, fzstd decodes into it and keeps
 * no window of its own (the buffer is the window), so memory stays `size` plus small tables,
 * whatever the frame says. It returns that same buffer whole, so a frame that decodes to fewer
 * bytes leaves zeros at the end rather than a shorter result, and writes past the end of the
 * buffer are dropped: the caller's CRC-32 check is what catches both, as it catches fzstd not
 * verifying the frame's own checksum. Every error fzstd throws (its own, or a RangeError from a
 * size it did not check) becomes an IbtError: TRUNCATED for data that ends early, else CORRUPT.
 */
import { ZstdErrorCode, decompress } from "fzstd";
import { IbtError, isIbtError } from "../errors.js";
import { checkZstdFrame } from "./zstd-frame.js";

/** Decodes `data`, one whole zstd frame, into exactly `size` bytes; see the file comment. */
export function zstdDecompress(data: Uint8Array, size: number): Uint8Array {
  checkZstdFrame(data, size, true);
  const out = new Uint8Array(size);
  try {
    decompress(data, out);
  } catch (err) {
    throw fzstdError(err);
  }
  return out;
}

function fzstdError(err: unknown): IbtError {
  if (isIbtError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  if ((err as { code?: unknown } | null)?.code === ZstdErrorCode.UnexpectedEOF) {
    return new IbtError("TRUNCATED", "zstd data ends early", { cause: err });
  }
  return new IbtError("CORRUPT", `invalid zstd data (${message})`, { cause: err });
}
