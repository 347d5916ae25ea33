/**
 * What the data of a ZIP method 93 member must be before any decoder sees it: exactly one
 * Zstandard frame (RFC 8878, section 3.1.1) that declares its content size, equal to the size the
 * ZIP records, needs no dictionary and at most a 16 MiB window. Both decoders get the same bytes
 * only after this check: node:zlib would decode a second frame or ignore trailing bytes, and the
 * JavaScript decoder (fzstd) trusts sizes that the reference decoder checks.
 *
 * The check walks the frame header and every block header: a block must fit in the data and in
 * Block_Maximum_Size (the smaller of the window and 128 KiB), its type must not be the reserved
 * one, and the checksum, when flagged, must be present; the frame must end exactly where the data
 * ends, and raw and RLE blocks must not make more than the declared size. For fzstd, a compressed
 * block's literals section header is read for its literal count and its sequences are decoded for
 * their lengths (zstd-sequences.ts), so what each block makes is known before decoding: at most
 * the block maximum each, and exactly the declared size in all. That bounds the work fzstd does,
 * which it does not bound itself.
 *
 * Codes: TRUNCATED when the data ends inside the frame; UNSUPPORTED for a valid frame this reader
 * does not take (no content size, a dictionary, a larger window, a second frame); CORRUPT for the
 * rest. Offsets are within the member's data.
 */
import { IbtError } from "../errors.js";
import { sequencesOutput, type SequenceTables } from "./zstd-sequences.js";

/** The largest window a frame may ask for: node:zlib is told the same (ZSTD_d_windowLogMax 24). */
export const ZSTD_MAX_WINDOW = 16 * 1024 * 1024;
const MAGIC = [0x28, 0xb5, 0x2f, 0xfd];
const SKIPPABLE = 0x184d2a50;
const BLOCK_MAX = 128 * 1024;
const BLOCK_RLE = 1;
const BLOCK_COMPRESSED = 2;

function corrupt(message: string, offset: number): IbtError {
  return new IbtError("CORRUPT", message, { offset });
}

/**
 * Throws unless `data` is one frame of `size` bytes as the file comment describes. Only with
 * `sequences` are compressed blocks decoded for their lengths: fzstd needs that, libzstd (behind
 * node:zlib) checks the same itself, and the walk without it costs next to nothing.
 */
export function checkZstdFrame(data: Uint8Array, size: number, sequences = false): void {
  for (let i = 0; i < MAGIC.length; i++) {
    if (i >= data.length) throw new IbtError("TRUNCATED", "zstd data ends inside the frame's magic number", { offset: i });
    if (data[i] !== MAGIC[i]) throw corrupt("not a Zstandard frame (no magic number)", 0);
  }
  let at = MAGIC.length;
  const byte = (what: string): number => {
    if (at >= data.length) throw new IbtError("TRUNCATED", `zstd data ends inside ${what} at byte ${at}`, { offset: at });
    return data[at++]!;
  };
  const little = (length: number, what: string): number => {
    let v = 0;
    for (let i = 0; i < length; i++) v += byte(what) * 2 ** (8 * i);
    return v;
  };

  const descriptor = byte("the frame header");
  const sizeFlag = descriptor >> 6;
  const singleSegment = (descriptor & 0x20) !== 0;
  if (descriptor & 0x08) throw corrupt("zstd frame header has its reserved bit set", 4);
  const checksum = (descriptor & 0x04) !== 0;
  let window = 0;
  if (!singleSegment) {
    const w = byte("the frame header");
    const base = 2 ** (10 + (w >> 3));
    window = base + (base / 8) * (w & 7);
  }
  const dictionary = little([0, 1, 2, 4][descriptor & 3]!, "the frame header");
  if (dictionary !== 0) throw new IbtError("UNSUPPORTED", `zstd frame needs dictionary ${dictionary}`, { offset: 4 });
  const sizeLength = sizeFlag === 0 ? (singleSegment ? 1 : 0) : 1 << sizeFlag;
  if (sizeLength === 0) throw new IbtError("UNSUPPORTED", "zstd frame does not declare its content size", { offset: 4 });
  const content = little(sizeLength, "the frame header") + (sizeLength === 2 ? 256 : 0);
  if (content !== size) throw corrupt(`zstd frame declares ${content} bytes, not the ${size} the archive records`, 4);
  if (singleSegment) window = content;
  if (window > ZSTD_MAX_WINDOW) {
    throw new IbtError("UNSUPPORTED", `zstd frame needs a ${window}-byte window, more than ${ZSTD_MAX_WINDOW}`, { offset: 4 });
  }
  const blockMax = Math.min(window, BLOCK_MAX);

  let made = 0;
  const tables: SequenceTables = {};
  for (let last = false; !last; ) {
    const blockAt = at;
    const header = little(3, "a block header");
    last = (header & 1) === 1;
    const type = (header >> 1) & 3;
    const length = header >>> 3;
    if (type > BLOCK_COMPRESSED) throw corrupt("zstd block of the reserved type", blockAt);
    if (length > blockMax) throw corrupt(`zstd block of ${length} bytes, more than its frame's ${blockMax}`, blockAt);
    const stored = type === BLOCK_RLE ? 1 : length;
    if (at + stored > data.length) {
      throw new IbtError("TRUNCATED", `zstd data ends inside the block at byte ${blockAt}`, { offset: blockAt });
    }
    if (type !== BLOCK_COMPRESSED) made += length;
    else if (sequences) made += compressedOutput(data.subarray(at, at + length), blockMax, tables, at);
    if (made > size) throw corrupt(`zstd frame makes more than the ${size} bytes it declares`, blockAt);
    at += stored;
  }
  if (sequences && made !== size) throw corrupt(`zstd frame makes ${made} bytes, not the ${size} it declares`, at);
  if (checksum) little(4, "the frame checksum");
  if (at < data.length) {
    const next = data.length - at >= 4 ? new DataView(data.buffer, data.byteOffset + at, 4).getUint32(0, true) : -1;
    if (next === 0xfd2fb528 || (next & 0xfffffff0) >>> 0 === SKIPPABLE) {
      throw new IbtError("UNSUPPORTED", "zstd data holds more than one frame", { offset: at });
    }
    throw corrupt(`${data.length - at} bytes after the zstd frame`, at);
  }
}

/**
 * What a compressed block at `offset` makes: its literals, read from the literals section header
 * (RFC 8878, 3.1.1.3.1.1), and its sequences' matches (zstd-sequences.ts).
 */
function compressedOutput(block: Uint8Array, blockMax: number, tables: SequenceTables, offset: number): number {
  const b = (i: number): number => {
    if (i >= block.length) throw corrupt("zstd block ends inside its section headers", offset);
    return block[i]!;
  };
  const b0 = b(0);
  const literalsType = b0 & 3;
  const format = (b0 >> 2) & 3;
  let literals: number;
  let pos: number;
  if (literalsType < 2) {
    // Raw or RLE literals: a 5-, 12- or 20-bit size, then the literals or the one repeated byte.
    if ((format & 1) === 0) [literals, pos] = [b0 >> 3, 1];
    else if (format === 1) [literals, pos] = [(b0 >> 4) + (b(1) << 4), 2];
    else [literals, pos] = [(b0 >> 4) + (b(1) << 4) + (b(2) << 12), 3];
    pos += literalsType === 0 ? literals : 1;
  } else {
    // Huffman-coded literals: regenerated and compressed sizes of 10, 14 or 18 bits each.
    let stored: number;
    if (format < 2) [literals, stored, pos] = [(b0 >> 4) + ((b(1) & 63) << 4), (b(1) >> 6) + (b(2) << 2), 3];
    else if (format === 2) [literals, stored, pos] = [(b0 >> 4) + (b(1) << 4) + ((b(2) & 3) << 12), (b(2) >> 2) + (b(3) << 6), 4];
    else [literals, stored, pos] = [(b0 >> 4) + (b(1) << 4) + ((b(2) & 63) << 12), (b(2) >> 6) + (b(3) << 2) + (b(4) << 10), 5];
    pos += stored;
  }
  if (literals > blockMax) throw corrupt(`zstd block of ${literals} literals, more than its frame's ${blockMax} bytes`, offset);
  // Sequence count (3.1.1.3.2.1): one, two or three bytes.
  const n0 = b(pos);
  if (n0 === 0) return literals;
  const [count, next] = n0 < 128 ? [n0, pos + 1] : n0 < 255 ? [((n0 - 128) << 8) + b(pos + 1), pos + 2] : [b(pos + 1) + (b(pos + 2) << 8) + 0x7f00, pos + 3];
  return sequencesOutput(block, next, literals, count, blockMax, tables, offset);
}
