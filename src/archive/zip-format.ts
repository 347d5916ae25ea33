/**
 * The ZIP records both sides agree on (PKWARE APPNOTE 6.3, section 4.3), as constants and small
 * little-endian codecs. An archive is a run of members, each a local header, its data and,
 * when general-purpose flag bit 3 is set, a data descriptor; then the central directory (one
 * record per member, the authoritative copy of its metadata); then, when a count, size or
 * offset does not fit the classic 16/32-bit fields, the ZIP64 end record and its locator; and
 * last the classic end record with the archive comment.
 *
 * ZIP64 (APPNOTE 4.5.3) is used only where needed: a 32-bit field that cannot hold its value is
 * set to 0xFFFFFFFF and the value moves, as 64 bits, to the ZIP64 extra field (tag 0x0001),
 * which lists only the moved fields, in the fixed order uncompressed size, compressed size,
 * local header offset, disk number. Values are JS numbers, so a 64-bit field above 2^53 is
 * refused as CORRUPT: no real file is that large.
 *
 * Times: the DOS date/time fields (local time, two-second steps, 1980-2107) are what every tool
 * reads; the Info-ZIP extended timestamp (tag 0x5455, "UT") adds the exact second as a signed
 * 32-bit Unix time, and `unzip` restores it. Modes: "version made by" names Unix (3) and the
 * high 16 bits of the external attributes hold st_mode, so `unzip` restores permissions.
 */
import { IbtError } from "../errors.js";

export const SIG_LOCAL = 0x04034b50;
export const SIG_CENTRAL = 0x02014b50;
export const SIG_DESCRIPTOR = 0x08074b50;
export const SIG_END = 0x06054b50;
export const SIG_END64 = 0x06064b50;
export const SIG_LOCATOR64 = 0x07064b50;

export const LOCAL_LEN = 30;
export const CENTRAL_LEN = 46;
export const END_LEN = 22;
export const END64_LEN = 56;
export const LOCATOR64_LEN = 20;
/** The end record's comment length field is 16 bits: the record sits in the last 64 KiB + 22. */
export const END_SEARCH = END_LEN + 0xffff;

export const U16_MAX = 0xffff;
export const U32_MAX = 0xffffffff;

export const FLAG_ENCRYPTED = 0x0001;
export const FLAG_DESCRIPTOR = 0x0008;
export const FLAG_STRONG_ENCRYPTION = 0x0040;
export const FLAG_UTF8 = 0x0800;
export const FLAG_MASKED_HEADER = 0x2000;

export const METHOD_STORED = 0;
export const METHOD_DEFLATED = 8;
/** Zstandard (RFC 8878), method 93 in PKWARE's APPNOTE: one whole frame per member. */
export const METHOD_ZSTD = 93;
/** The largest zstd member a writer makes and a reader takes: readers decode those whole, into one buffer. */
export const ZSTD_MAX_SIZE = 16 * 1024 * 1024;

export const EXTRA_ZIP64 = 0x0001;
export const EXTRA_TIMESTAMP = 0x5455;

export const HOST_UNIX = 3;
export const HOST_DARWIN = 19;
/** Version 4.5 (ZIP64) of the APPNOTE, attributes in Unix form. */
export const VERSION_MADE_BY = (HOST_UNIX << 8) | 45;
export const VERSION_STORED = 10;
export const VERSION_DEFLATED = 20;
/** Version needed for a Zstandard member: APPNOTE names none; 6.3, as other writers use. */
export const VERSION_ZSTD = 63;
export const VERSION_ZIP64 = 45;

export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;
/** The MS-DOS directory attribute, the low byte of the external attributes. */
export const DOS_DIRECTORY = 0x10;

/** Writes little-endian fields into a fixed-size record. */
export class RecordWriter {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  at = 0;

  constructor(length: number) {
    this.bytes = new Uint8Array(length);
    this.view = new DataView(this.bytes.buffer);
  }

  u8(v: number): this {
    this.view.setUint8(this.at, v);
    this.at += 1;
    return this;
  }

  u16(v: number): this {
    this.view.setUint16(this.at, v, true);
    this.at += 2;
    return this;
  }

  u32(v: number): this {
    this.view.setUint32(this.at, v >>> 0, true);
    this.at += 4;
    return this;
  }

  i32(v: number): this {
    this.view.setInt32(this.at, v, true);
    this.at += 4;
    return this;
  }

  /** A safe integer as 64 bits. */
  u64(v: number): this {
    this.view.setUint32(this.at, v % 0x100000000, true);
    this.view.setUint32(this.at + 4, Math.floor(v / 0x100000000), true);
    this.at += 8;
    return this;
  }

  raw(b: Uint8Array): this {
    this.bytes.set(b, this.at);
    this.at += b.length;
    return this;
  }

  /** The record, after checking that every byte was written. */
  done(): Uint8Array {
    if (this.at !== this.bytes.length) {
      throw new IbtError("INTERNAL", `record of ${this.bytes.length} bytes written to ${this.at}`);
    }
    return this.bytes;
  }
}

/** Reads little-endian fields of a record at `base` inside `bytes`. */
export class RecordReader {
  private readonly view: DataView;

  constructor(readonly bytes: Uint8Array, readonly base = 0) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  u8(at: number): number {
    return this.view.getUint8(this.base + at);
  }

  u16(at: number): number {
    return this.view.getUint16(this.base + at, true);
  }

  u32(at: number): number {
    return this.view.getUint32(this.base + at, true);
  }

  i32(at: number): number {
    return this.view.getInt32(this.base + at, true);
  }

  /** A 64-bit field as a number, or -1 when it exceeds 2^53 - 1 (the caller reports it). */
  u64(at: number): number {
    const lo = this.u32(at);
    const hi = this.u32(at + 4);
    return hi > 0x1fffff ? -1 : hi * 0x100000000 + lo;
  }

  slice(at: number, length: number): Uint8Array {
    return this.bytes.subarray(this.base + at, this.base + at + length);
  }
}

/** One field of an extra-field block: its tag and data. */
export interface ExtraField {
  tag: number;
  data: Uint8Array;
}

/**
 * Splits an extra-field block into its fields. With `strict`, a block that does not split
 * exactly into (tag, length, data) triples is an error (null is returned); without it, a
 * malformed tail is ignored, as some tools pad local headers with bytes that form no field.
 */
export function splitExtra(block: Uint8Array, strict: boolean): ExtraField[] | null {
  const fields: ExtraField[] = [];
  const r = new RecordReader(block);
  let at = 0;
  while (at + 4 <= block.length) {
    const tag = r.u16(at);
    const length = r.u16(at + 2);
    if (at + 4 + length > block.length) break;
    fields.push({ tag, data: block.subarray(at + 4, at + 4 + length) });
    at += 4 + length;
  }
  return strict && at !== block.length ? null : fields;
}

/** The extended timestamp field: flags "modification time present" and the time. */
export function timestampExtra(mtimeMs: number): Uint8Array | undefined {
  const seconds = Math.floor(mtimeMs / 1000);
  // Signed 32 bits, and not before 1970: some readers take the field as unsigned.
  if (seconds < 0 || seconds > 0x7fffffff) return undefined;
  return new RecordWriter(9).u16(EXTRA_TIMESTAMP).u16(5).u8(1).i32(seconds).done();
}

/** The modification time in a timestamp field's data, in ms, if it carries one. */
export function timestampOf(data: Uint8Array): number | undefined {
  if (data.length < 5 || (data[0]! & 1) === 0) return undefined;
  return new RecordReader(data).i32(1) * 1000;
}

/** DOS date and time (local time, clamped to 1980-01-01 ... 2107-12-31 23:59:58). */
export function dosDateTime(mtimeMs: number): { date: number; time: number } {
  const d = new Date(mtimeMs);
  const year = d.getFullYear();
  if (year < 1980) return { date: (1 << 5) | 1, time: 0 };
  if (year > 2107) return { date: (127 << 9) | (12 << 5) | 31, time: (23 << 11) | (59 << 5) | 29 };
  return {
    date: ((year - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
  };
}

/** Milliseconds since the epoch of DOS date and time fields read as local time. */
export function fromDosDateTime(date: number, time: number): number {
  return new Date(
    1980 + (date >> 9),
    ((date >> 5) & 15) - 1,
    date & 31,
    time >> 11,
    (time >> 5) & 63,
    (time & 31) * 2,
  ).getTime();
}

export const utf8 = new TextEncoder();
export const utf8Strict = new TextDecoder("utf-8", { fatal: true });
export const utf8Lenient = new TextDecoder("utf-8");

/** The four bytes of a signature, as they appear in a file. */
export function signatureBytes(sig: number): Uint8Array {
  return new RecordWriter(4).u32(sig).done();
}

/** Whether `needle` occurs in `haystack`. */
export function containsBytes(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}
