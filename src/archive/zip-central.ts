/**
 * The structure of a ZIP archive as ZipReader sees it before reading any member: the end
 * records and the central directory, found through random access and checked throughout.
 *
 * The end record is searched for in the last 64 KiB + 22 bytes, scanning back for the
 * signature whose comment ends exactly at the end of the file. Data after the end record is
 * refused (CORRUPT), as is data between the central directory and the end records; data before
 * the first member is allowed (the spec allows it), but offsets are taken as written, never
 * "repaired" for a prefix the way unzip does for self-extractors. A ZIP64 locator right before
 * the end record leads to the ZIP64 end record, which must end at the locator; each classic
 * field must then hold either its value or the 0xFFFF/0xFFFFFFFF escape. Multi-disk archives
 * are UNSUPPORTED. A file that starts like a ZIP but has no end record is TRUNCATED.
 *
 * The central directory is read in 1 MiB windows and every record checked: signature, bounds,
 * UTF-8 name (bit 11 set, or valid UTF-8 anyway: a name in a legacy code page is UNSUPPORTED)
 * through `checkPath` (UNSAFE_PATH), no duplicate names, no member inside a file or a symlink
 * (CORRUPT: extraction would fail or escape through the link), ZIP64 fields where escaped,
 * Unix type bits that agree with the name, stored sizes equal, deflated sizes within deflate's
 * 1032:1 maximum, zstd members (method 93) of at most ZSTD_MAX_SIZE (else UNSUPPORTED) with
 * compressed data when they have data and no more of it than zstd's worst case allows,
 * encryption and methods other than stored, deflated and zstd UNSUPPORTED, the
 * record count and the directory size exactly consumed. Members are then sorted by offset and
 * each must fit, with at least its local header, name and data, before the next one (or the
 * central directory): no two members share bytes, which is what "overlapping" zip bombs rely on.
 */
import { IbtError } from "../errors.js";
import { checkPath } from "../fs/paths.js";
import {
  CENTRAL_LEN,
  END64_LEN,
  END_LEN,
  END_SEARCH,
  EXTRA_TIMESTAMP,
  EXTRA_ZIP64,
  FLAG_DESCRIPTOR,
  FLAG_ENCRYPTED,
  FLAG_MASKED_HEADER,
  FLAG_STRONG_ENCRYPTION,
  FLAG_UTF8,
  HOST_DARWIN,
  HOST_UNIX,
  LOCAL_LEN,
  LOCATOR64_LEN,
  METHOD_DEFLATED,
  METHOD_STORED,
  METHOD_ZSTD,
  RecordReader,
  S_IFDIR,
  S_IFLNK,
  S_IFMT,
  SIG_CENTRAL,
  SIG_END,
  SIG_END64,
  SIG_LOCAL,
  SIG_LOCATOR64,
  U16_MAX,
  U32_MAX,
  fromDosDateTime,
  splitExtra,
  timestampOf,
  utf8Lenient,
  utf8Strict,
  ZSTD_MAX_SIZE,
} from "./zip-format.js";

/** Random access to the archive's bytes. */
export interface RandomAccessFile {
  /** Total length in bytes. */
  readonly size: number;
  /**
   * Exactly `length` bytes from `offset`; the reader never asks past `size`. The array must
   * stay unchanged once returned (a fresh array always qualifies): the reader may have several
   * reads in flight (ArchiveData reads a group ahead) and keep an array while a codec inflates
   * it on another thread.
   */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** A member as the central directory describes it, checked. */
export interface ZipEntry {
  /** The path, checked with `checkPath`; a directory's without its trailing "/". */
  readonly name: string;
  readonly isDirectory: boolean;
  /** A Unix symlink: its data is the link target. */
  readonly isSymlink: boolean;
  readonly size: number;
  readonly compressedSize: number;
  readonly crc32: number;
  readonly method: typeof METHOD_STORED | typeof METHOD_DEFLATED | typeof METHOD_ZSTD;
  /** Modification time: the extended timestamp's exact second, else the DOS time as local time. */
  readonly mtimeMs: number;
  /** Permission bits when the archive recorded Unix attributes, else undefined. */
  readonly mode: number | undefined;
  /** Offset of the local header. */
  readonly offset: number;
}

/** A member with what the reader needs besides its public entry. */
export interface Member {
  entry: ZipEntry;
  nameBytes: Uint8Array;
  flags: number;
  /** Where the next member (or the central directory) starts: this member must end before. */
  limit: number;
}

const CENTRAL_WINDOW = 1024 * 1024;
/** Deflate's largest expansion: a 258-byte match coded in two bits. */
export const DEFLATE_MAX_RATIO = 1032;
/**
 * The most compressed bytes a zstd member of `size` bytes may have. zstd's own worst case
 * (ZSTD_COMPRESSBOUND) is size + size/256 + 64 for small sizes; twice that per-byte overhead and
 * 1 KiB leave room for a writer that ends blocks early, and still refuse padding.
 */
export function zstdMaxCompressed(size: number): number {
  return size + Math.floor(size / 128) + 1024;
}

export function corrupt(message: string, offset?: number, path?: string): IbtError {
  const data: { offset?: number; path?: string } = {};
  if (offset !== undefined) data.offset = offset;
  if (path !== undefined) data.path = path;
  return new IbtError("CORRUPT", message, data);
}

/** Reads exactly `length` bytes at `offset`, refusing anything past the end as TRUNCATED. */
export async function readAt(file: RandomAccessFile, offset: number, length: number, what: string): Promise<Uint8Array> {
  if (offset < 0 || offset + length > file.size) {
    throw new IbtError("TRUNCATED", `${what} at ${offset} (${length} bytes) runs past the end of the ${file.size}-byte archive`, {
      offset,
    });
  }
  if (length === 0) return new Uint8Array(0);
  const bytes = await file.read(offset, length);
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw new IbtError("TRUNCATED", `reading ${length} bytes of ${what} at ${offset} returned ${bytes?.length ?? "none"}`, {
      offset,
    });
  }
  return bytes;
}

export interface End {
  comment: string;
  zip64: boolean;
  count: number;
  cdOffset: number;
  cdSize: number;
}

/** Finds and checks the end record(s); see the file comment for the rules. */
export async function findEnd(file: RandomAccessFile): Promise<End> {
  const size = file.size;
  if (size < END_LEN) {
    throw new IbtError("TRUNCATED", `${size} bytes is too short for a ZIP archive`, { offset: 0 });
  }
  const tailStart = size - Math.min(size, END_SEARCH);
  const tail = await readAt(file, tailStart, size - tailStart, "end record");
  const t = new RecordReader(tail);
  let found = -1;
  let nearest = -1;
  for (let i = tail.length - END_LEN; i >= 0; i--) {
    if (tail[i] !== 0x50 || t.u32(i) !== SIG_END) continue;
    if (i + END_LEN + t.u16(i + 20) === tail.length) {
      found = i;
      break;
    }
    if (nearest < 0) nearest = i;
  }
  if (found < 0) {
    if (nearest >= 0) {
      const end = nearest + END_LEN + t.u16(nearest + 20);
      if (end > tail.length) {
        throw new IbtError("TRUNCATED", "the archive ends inside its comment", { offset: tailStart + nearest });
      }
      throw corrupt(`${tail.length - end} bytes of trailing data after the end record`, tailStart + end);
    }
    const head = await readAt(file, 0, 4, "first header");
    if (new RecordReader(head).u32(0) === SIG_LOCAL) {
      throw new IbtError("TRUNCATED", "a ZIP archive without its end record (truncated?)", { offset: size });
    }
    throw corrupt("not a ZIP archive: no end of central directory record", size);
  }
  const endAt = tailStart + found;
  const disk = t.u16(found + 4);
  const cdDisk = t.u16(found + 6);
  const count16Disk = t.u16(found + 8);
  const count16 = t.u16(found + 10);
  const cdSize32 = t.u32(found + 12);
  const cdOffset32 = t.u32(found + 16);
  const comment = utf8Lenient.decode(t.slice(found + END_LEN, t.u16(found + 20)));
  if (disk !== 0 || cdDisk !== 0) throw new IbtError("UNSUPPORTED", "multi-disk archive", { offset: endAt });
  if (count16Disk !== count16) throw corrupt("end record's member counts differ", endAt);

  const locatorAt = endAt - LOCATOR64_LEN;
  const locator =
    locatorAt < 0
      ? undefined
      : new RecordReader(
          locatorAt >= tailStart ? tail.subarray(locatorAt - tailStart, found) : await readAt(file, locatorAt, LOCATOR64_LEN, "ZIP64 locator"),
        );
  if (locator === undefined || locator.u32(0) !== SIG_LOCATOR64) {
    if (cdOffset32 + cdSize32 !== endAt) {
      throw corrupt(`central directory at ${cdOffset32} (${cdSize32} bytes) does not end at the end record (${endAt})`, endAt);
    }
    return { comment, zip64: false, count: count16, cdOffset: cdOffset32, cdSize: cdSize32 };
  }

  const end64At = locator.u64(8);
  if (locator.u32(4) !== 0 || locator.u32(16) > 1) throw new IbtError("UNSUPPORTED", "multi-disk archive", { offset: locatorAt });
  if (end64At < 0 || end64At + END64_LEN > locatorAt) throw corrupt("ZIP64 locator points outside the archive", locatorAt);
  const z = new RecordReader(await readAt(file, end64At, END64_LEN, "ZIP64 end record"));
  if (z.u32(0) !== SIG_END64) throw corrupt(`no ZIP64 end record at ${end64At}`, end64At);
  if (end64At + 12 + z.u64(4) !== locatorAt) throw corrupt("ZIP64 end record does not end at its locator", end64At);
  if (z.u32(16) !== 0 || z.u32(20) !== 0) throw new IbtError("UNSUPPORTED", "multi-disk archive", { offset: end64At });
  const countDisk = z.u64(24);
  const count = z.u64(32);
  const cdSize = z.u64(40);
  const cdOffset = z.u64(48);
  if (countDisk < 0 || count < 0 || cdSize < 0 || cdOffset < 0) throw corrupt("ZIP64 end record value beyond 2^53", end64At);
  if (countDisk !== count) throw corrupt("ZIP64 end record's member counts differ", end64At);
  const agrees = (classic: number, escape: number, value: number): boolean => classic === escape || classic === value;
  if (!agrees(count16, U16_MAX, count) || !agrees(cdSize32, U32_MAX, cdSize) || !agrees(cdOffset32, U32_MAX, cdOffset)) {
    throw corrupt("end record and ZIP64 end record disagree", endAt);
  }
  if (cdOffset + cdSize !== end64At) {
    throw corrupt(`central directory at ${cdOffset} (${cdSize} bytes) does not end at the ZIP64 end record (${end64At})`, end64At);
  }
  return { comment, zip64: true, count, cdOffset, cdSize };
}

/** Reads the central directory through a window, checking each record and then the layout. */
export async function readCentral(file: RandomAccessFile, end: End): Promise<Member[]> {
  const { cdOffset, cdSize, count } = end;
  const cdEnd = cdOffset + cdSize;
  if (count * CENTRAL_LEN > cdSize) throw corrupt(`${count} members cannot fit a ${cdSize}-byte central directory`, cdOffset);
  let window: Uint8Array = new Uint8Array(0);
  let windowAt = 0;
  const view = async (at: number, length: number): Promise<RecordReader> => {
    if (at < windowAt || at + length > windowAt + window.length) {
      windowAt = at;
      window = await readAt(file, at, Math.min(Math.max(length, CENTRAL_WINDOW), cdEnd - at), "central directory");
    }
    return new RecordReader(window, at - windowAt);
  };

  const members: Member[] = [];
  const byName = new Map<string, Member>();
  let pos = cdOffset;
  for (let i = 0; i < count; i++) {
    if (pos + CENTRAL_LEN > cdEnd) throw corrupt(`central directory ends after ${i} of ${count} records`, pos);
    let r = await view(pos, CENTRAL_LEN);
    if (r.u32(0) !== SIG_CENTRAL) throw corrupt(`no central directory record signature at ${pos}`, pos);
    const length = CENTRAL_LEN + r.u16(28) + r.u16(30) + r.u16(32);
    if (pos + length > cdEnd) throw corrupt("central directory record runs past the directory's end", pos);
    r = await view(pos, length);
    const m = parseCentral(r, pos);
    if (byName.has(m.entry.name)) throw corrupt(`${m.entry.name} appears twice`, pos, m.entry.name);
    byName.set(m.entry.name, m);
    members.push(m);
    pos += length;
  }
  if (pos !== cdEnd) throw corrupt(`${cdEnd - pos} bytes after the last central directory record`, pos);

  for (const m of members) {
    const name = m.entry.name;
    for (let i = name.indexOf("/"); i >= 0; i = name.indexOf("/", i + 1)) {
      const parent = byName.get(name.slice(0, i))?.entry;
      if (parent !== undefined && !parent.isDirectory) {
        throw corrupt(`${name} is inside ${parent.name}, which is a ${parent.isSymlink ? "symlink" : "file"}`, m.entry.offset, name);
      }
    }
  }

  const byOffset = members.slice().sort((a, b) => a.entry.offset - b.entry.offset);
  for (let i = 0; i < byOffset.length; i++) {
    const m = byOffset[i]!;
    const next = byOffset[i + 1];
    m.limit = next === undefined ? cdOffset : next.entry.offset;
    const minEnd = m.entry.offset + LOCAL_LEN + m.nameBytes.length + m.entry.compressedSize + (m.flags & FLAG_DESCRIPTOR ? 12 : 0);
    if (minEnd > m.limit) {
      const what = next === undefined ? "the central directory" : `${next.entry.name} at ${next.entry.offset}`;
      throw corrupt(`${m.entry.name} at ${m.entry.offset} overlaps ${what}`, m.entry.offset, m.entry.name);
    }
  }
  return members;
}

/** Parses and checks one central directory record at `pos`. */
function parseCentral(r: RecordReader, pos: number): Member {
  const madeBy = r.u16(4);
  const flags = r.u16(8);
  const method = r.u16(10);
  const time = r.u16(12);
  const date = r.u16(14);
  const crc = r.u32(16);
  let compressedSize = r.u32(20);
  let size = r.u32(24);
  const nameLength = r.u16(28);
  const extraLength = r.u16(30);
  let disk = r.u16(34);
  const external = r.u32(38);
  let offset = r.u32(42);
  const nameBytes = r.slice(CENTRAL_LEN, nameLength).slice();

  let raw: string;
  try {
    raw = utf8Strict.decode(nameBytes);
  } catch {
    throw flags & FLAG_UTF8
      ? corrupt("member name is not valid UTF-8 although flagged so", pos)
      : new IbtError("UNSUPPORTED", "member name is not UTF-8 (a legacy code page)", { offset: pos });
  }
  const isDirectory = raw.endsWith("/");
  const name = isDirectory ? raw.slice(0, -1) : raw;
  try {
    if (name === "") throw new IbtError("UNSAFE_PATH", "empty member name");
    checkPath(name);
  } catch (e) {
    throw new IbtError("UNSAFE_PATH", `member name ${JSON.stringify(raw)}: ${(e as Error).message}`, { path: raw, offset: pos });
  }
  const bad = (why: string): IbtError => corrupt(`${name}: ${why}`, pos, name);
  if (flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION | FLAG_MASKED_HEADER)) {
    throw new IbtError("UNSUPPORTED", `${name} is encrypted`, { path: name, offset: pos });
  }
  if (method !== METHOD_STORED && method !== METHOD_DEFLATED && method !== METHOD_ZSTD) {
    throw new IbtError("UNSUPPORTED", `${name} uses compression method ${method}`, { path: name, offset: pos });
  }

  const fields = splitExtra(r.slice(CENTRAL_LEN + nameLength, extraLength), true);
  if (fields === null) throw bad("malformed extra field");
  let zip64: Uint8Array | undefined;
  let timestamp: Uint8Array | undefined;
  for (const f of fields) {
    if (f.tag === EXTRA_ZIP64 || f.tag === EXTRA_TIMESTAMP) {
      if ((f.tag === EXTRA_ZIP64 ? zip64 : timestamp) !== undefined) throw bad(`extra field ${f.tag} appears twice`);
      if (f.tag === EXTRA_ZIP64) zip64 = f.data;
      else timestamp = f.data;
    }
  }
  if (size === U32_MAX || compressedSize === U32_MAX || offset === U32_MAX || disk === U16_MAX) {
    if (zip64 === undefined) throw bad("a field is escaped to ZIP64 but there is no ZIP64 extra field");
    const z = new RecordReader(zip64);
    let at = 0;
    const next64 = (): number => {
      if (at + 8 > zip64!.length) throw bad("ZIP64 extra field is too short");
      const v = z.u64(at);
      at += 8;
      if (v < 0) throw bad("ZIP64 value beyond 2^53");
      return v;
    };
    if (size === U32_MAX) size = next64();
    if (compressedSize === U32_MAX) compressedSize = next64();
    if (offset === U32_MAX) offset = next64();
    if (disk === U16_MAX) {
      if (at + 4 > zip64.length) throw bad("ZIP64 extra field is too short");
      disk = z.u32(at);
    }
  }
  if (disk !== 0) throw new IbtError("UNSUPPORTED", "multi-disk archive", { path: name, offset: pos });

  let mode: number | undefined;
  let isSymlink = false;
  const host = madeBy >> 8;
  const unix = external >>> 16;
  if ((host === HOST_UNIX || host === HOST_DARWIN) && unix !== 0) {
    mode = unix & 0o7777;
    const type = unix & S_IFMT;
    // Other types (a FIFO: `zip` reading standard input records its mode) extract as files, as unzip does.
    if (type === S_IFLNK) isSymlink = true;
    if ((type === S_IFDIR) !== isDirectory && (type !== 0 || !isDirectory)) {
      throw bad(`its mode says ${type === S_IFDIR ? "directory" : "file"} but its name says otherwise`);
    }
  }
  if (isDirectory && size !== 0) throw bad(`a directory with ${size} bytes of data`);
  if (method === METHOD_STORED && compressedSize !== size) throw bad(`stored, but sizes differ (${compressedSize} vs ${size})`);
  if (method === METHOD_DEFLATED && compressedSize === 0) throw bad("deflated with no compressed data");
  if (method === METHOD_DEFLATED && size > compressedSize * DEFLATE_MAX_RATIO) {
    throw bad(`declares ${size} bytes from ${compressedSize}: more than deflate can expand`);
  }
  if (method === METHOD_ZSTD) {
    if (size > ZSTD_MAX_SIZE) {
      throw new IbtError("UNSUPPORTED", `${name} is a zstd member of ${size} bytes, more than the ${ZSTD_MAX_SIZE} this reader decodes`, {
        path: name,
        offset: pos,
      });
    }
    if (size > 0 && compressedSize === 0) throw bad("zstd-compressed with no compressed data");
    if (compressedSize > zstdMaxCompressed(size)) throw bad(`${compressedSize} zstd-compressed bytes for ${size}: more than zstd ever needs`);
  }

  const mtimeMs = (timestamp && timestampOf(timestamp)) ?? fromDosDateTime(date, time);
  const entry: ZipEntry = Object.freeze({
    name,
    isDirectory,
    isSymlink,
    size,
    compressedSize,
    crc32: crc,
    method: method as ZipEntry["method"],
    mtimeMs,
    mode,
    offset,
  });
  return { entry, nameBytes, flags, limit: 0 };
}
