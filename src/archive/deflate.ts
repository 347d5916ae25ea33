/**
 * The deflate implementation behind ZipWriter, pluggable. The default is fflate, which is
 * JavaScript and runs everywhere; a runtime with a native zlib can hand in something faster
 * (the Node entry exports `nodeDeflate`, built on node:zlib). Whatever the codec, the archive
 * keeps ZIP method 8, so its output MUST be raw deflate (RFC 1951: no zlib or gzip wrapper).
 *
 * The writer trusts a codec as it trusts fflate: it does not inflate what it gets back to compare
 * (that would cost a good share of what a faster codec saves). Two things keep a broken codec
 * from going unnoticed. The writer checks what is cheap to check: a Uint8Array, not empty for
 * data that is not, and no more than deflate's 1032:1 expansion, which is what our reader refuses
 * first. And the CRC-32 in the archive is computed by the writer from the input, never by the
 * codec, so data that does not inflate to the input fails on every read (ours, `unzip -t`,
 * applyDiff, `verify --read-data`) with CORRUPT instead of yielding wrong bytes.
 */
import { Deflate, deflateSync } from "fflate";
import { IbtError } from "../errors.js";
import { concatBytes } from "../bytes.js";
import { DEFLATE_MAX_RATIO, zstdMaxCompressed } from "./zip-central.js";

/** One raw deflate stream, made from pieces pushed in order. */
export interface DeflateStream {
  /**
   * Deflates `piece` and returns the output it completes (possibly empty until `final`). The
   * outputs of every call, concatenated, MUST be one raw deflate stream that inflates to the
   * pieces concatenated, ending with the final block on the call with `final` true; no call
   * follows that one. The codec MUST be done with `piece` when it returns.
   */
  push(piece: Uint8Array, final: boolean): Uint8Array;
  /**
   * `push`'s output made off the calling thread, so that pieces of one member deflate at once.
   * The caller may push again before an earlier promise settles, and uses the outputs in the
   * order it pushed; they MUST be exactly what `push` returns for the same pieces. The caller
   * leaves `piece` unchanged until its promise settles.
   */
  pushAsync?(piece: Uint8Array, final: boolean): Promise<Uint8Array>;
}

/**
 * `deflate`'s bytes for data given in pieces while the caller does other work: the pieces are
 * deflated as they come, so what is held is the deflated bytes, not the data.
 */
export interface DeflateIncremental {
  /** Takes the next piece. The codec MUST be done with `piece` when the promise settles. */
  push(piece: Uint8Array): Promise<void>;
  /**
   * The output made so far, handed over and forgotten (possibly none: a codec may hold output
   * back). `finish` then returns only what follows it.
   */
  take(): Uint8Array[];
  /**
   * Ends the data and returns the output not yet taken: every output concatenated in order MUST
   * be exactly what `deflate` returns for all the pieces joined, at the same level. No call follows.
   */
  finish(): Promise<Uint8Array[]>;
  /** Lets go of everything held, when `finish` will not be called; a no-op after it. */
  dispose(): void;
}

export interface DeflateCodec {
  /**
   * Raw deflate of all of `data` at `level` (an integer 0..9, zlib's scale), ending with the
   * final block. MUST be synchronous and MUST NOT keep `data`.
   */
  deflate(data: Uint8Array, level: number): Uint8Array;
  /** A stream for members too large to deflate whole; without it, those use fflate. */
  deflateStream?(level: number): DeflateStream;
  /**
   * `deflate`'s bytes made off the calling thread (node:zlib's thread pool), so the writer
   * prepares the next member while this one deflates, and deflates two at once on two cores.
   * It MUST resolve to exactly what `deflate(data, level)` returns: an archive's bytes do not
   * depend on which form made them. The caller leaves `data` unchanged until the promise settles.
   */
  deflateAsync?(data: Uint8Array, level: number): Promise<Uint8Array>;
  /**
   * `deflate`'s bytes made from pieces as they come (a member written after the others whose
   * data grows meanwhile, as an archive's manifest does). Without it, the writer keeps the
   * pieces and deflates them joined at the end.
   */
  deflateIncremental?(level: number): DeflateIncremental;
  /**
   * One whole Zstandard frame of `data` at zstd's `level` (1..19), with the content size in its
   * header, for members the writer stores as ZIP method 93. Only runtimes with a native zstd
   * have it (node:zlib from Node 22.15, Deno, Bun); without it the writer deflates. It MUST NOT
   * keep `data`, which the caller leaves unchanged until a promise settles.
   */
  zstd?(data: Uint8Array, level: number): Uint8Array | Promise<Uint8Array>;
}

/** fflate: portable, and the default. It runs on the calling thread only. */
export const fflateDeflate: Required<Omit<DeflateCodec, "deflateAsync" | "deflateIncremental" | "zstd">> = {
  deflate: (data, level) => deflateSync(data, { level: level as 6 }),
  deflateStream(level) {
    const out: Uint8Array[] = [];
    const deflater = new Deflate({ level: level as 6 }, (data) => out.push(data));
    return {
      push(piece, final) {
        deflater.push(piece, final);
        return concatBytes(out.splice(0));
      },
    };
  },
};

/** Checks one output of a codec: the bytes the writer is about to use or measure. */
export function codecBytes(out: unknown, name: string): Uint8Array {
  if (!(out instanceof Uint8Array)) {
    throw new IbtError("BAD_ARGUMENT", "the deflate codec returned something other than a Uint8Array", { path: name });
  }
  return out;
}

/** Checks a member's whole deflated size against its size, as the reader will. */
export function checkDeflatedSize(size: number, compressedSize: number, name: string): void {
  if (compressedSize === 0 ? size > 0 : size > compressedSize * DEFLATE_MAX_RATIO) {
    throw new IbtError("BAD_ARGUMENT", `the deflate codec made ${compressedSize} bytes of ${size}: not deflate`, { path: name });
  }
}

/** Checks a zstd member's size against the bound the reader enforces (zstdMaxCompressed). */
export function checkZstdSize(size: number, compressedSize: number, name: string): void {
  if (compressedSize === 0 || compressedSize > zstdMaxCompressed(size)) {
    throw new IbtError("BAD_ARGUMENT", `the zstd codec made ${compressedSize} bytes of ${size}: not a zstd frame`, { path: name });
  }
}
