/**
 * ZipReader: a ZIP archive read through random access (`read(offset, length)` and a total
 * `size`), so it works over any adapter, and trusted in nothing. Opening the archive reads and
 * checks its end records and central directory (zip-central.ts: trailing data, overlapping
 * members, unsafe or duplicate names and the rest are refused there). `openArchive` opens one that
 * lies in a file on an adapter.
 *
 * Opening a member re-checks its local header against the central record (name, method,
 * flags, CRC and sizes or a matching data descriptor) and that the data ends before the next
 * member. Data is streamed: stored data in 1 MiB reads; a small deflated member (up to 1 MiB
 * compressed and 16 MiB declared) inflated in one call allowed one byte past its declared size,
 * so it can neither allocate more nor pass unnoticed; larger deflated data pushed into the inflate
 * codec's stream (inflate.ts: fflate unless another is given) in pieces sized to yield about
 * 256 KiB at the previous piece's ratio (64 B to 32 KiB of input), and never more than 1/1032 of
 * the room left under the declared size, 1032:1 being deflate's largest expansion. So one push
 * allocates at most ~33 MB even inside an honestly declared huge member, a lying member cannot
 * make the reader produce more than a few hundred KB past its declared size, and it is refused
 * (CORRUPT) as soon as its output passes that size. At the end the exact size and the CRC-32 must match, and the last output is only
 * handed out after both checks.
 *
 * A zstd member (method 93; the central directory holds it to 16 MiB declared and zstd's worst
 * case compressed) is read whole and checked to be one frame of its declared size with no
 * dictionary and a bounded window (zstd-frame.ts) before the codec's `zstd` decodes it, or the
 * portable decoder (zstd.ts) where the codec has none; then, as for a whole deflated member, the
 * output must be bytes of exactly the declared size with the recorded CRC-32. Every error is an
 * IbtError with the offset concerned: CORRUPT, TRUNCATED (something ends or points past the end),
 * UNSAFE_PATH, UNSUPPORTED, LIMIT.
 */
import { IbtError, isIbtError } from "../errors.js";
import { collect } from "../bytes.js";
import type { FsAdapter } from "../fs/types.js";
import { crc32 } from "./crc32.js";
import { fflateInflate, inflateCodec, type InflateCodec, type InflateStream } from "./inflate.js";
import { zstdDecompress } from "./zstd.js";
import { checkZstdFrame } from "./zstd-frame.js";
import {
  DEFLATE_MAX_RATIO,
  corrupt,
  findEnd,
  readAt,
  readCentral,
  type Member,
  type RandomAccessFile,
  type ZipEntry,
} from "./zip-central.js";
import {
  EXTRA_ZIP64,
  FLAG_DESCRIPTOR,
  FLAG_ENCRYPTED,
  LOCAL_LEN,
  METHOD_STORED,
  METHOD_ZSTD,
  RecordReader,
  SIG_DESCRIPTOR,
  SIG_LOCAL,
  U32_MAX,
  splitExtra,
} from "./zip-format.js";

export type { RandomAccessFile, ZipEntry } from "./zip-central.js";

export interface ZipReaderOptions {
  /** Members declaring more bytes than this are refused with LIMIT when opened. Default: none. */
  maxMemberSize?: number;
  /** Archives with more members are refused with LIMIT. Default 10,000,000 (~2 GB of metadata). */
  maxEntries?: number;
  /** Inflates deflated members. Default fflate (portable); in Node pass `nodeInflate`, which is faster. */
  inflate?: InflateCodec;
}

const DEFAULT_MAX_ENTRIES = 10_000_000;
const STORED_READ = 1024 * 1024;
const DEFLATED_READ = 256 * 1024;
/** Inflate input per push: sized so a push yields about TARGET_OUTPUT at the last push's ratio. */
const TARGET_OUTPUT = 256 * 1024;
const FIRST_PIECE = 4 * 1024;
const MIN_PIECE = 64;
const MAX_PIECE = 32 * 1024;
/** Members at most this compressed and this large are inflated in one call (#inflatedWhole). */
const WHOLE_INPUT = 1024 * 1024;
const WHOLE_OUTPUT = 16 * 1024 * 1024;

export class ZipReader {
  /** The archive comment (decoded leniently: it is informational). */
  readonly comment: string;
  /** Whether the archive has a ZIP64 end record. */
  readonly zip64: boolean;
  readonly #file: RandomAccessFile;
  readonly #members: Member[];
  readonly #byName: Map<string, Member>;
  readonly #maxMemberSize: number;
  readonly #codec: InflateCodec;

  private constructor(file: RandomAccessFile, comment: string, zip64: boolean, members: Member[], maxMemberSize: number, codec: InflateCodec) {
    this.#file = file;
    this.comment = comment;
    this.zip64 = zip64;
    this.#members = members;
    this.#byName = new Map(members.map((m) => [m.entry.name, m]));
    this.#maxMemberSize = maxMemberSize;
    this.#codec = codec;
  }

  /** Reads and checks the archive's structure and central directory. */
  static async from(file: RandomAccessFile, options: ZipReaderOptions = {}): Promise<ZipReader> {
    if (typeof file?.read !== "function" || !Number.isSafeInteger(file.size) || file.size < 0) {
      throw new IbtError("BAD_ARGUMENT", "ZipReader needs { size, read(offset, length) }");
    }
    const maxMemberSize = options.maxMemberSize ?? Number.MAX_SAFE_INTEGER;
    const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    const codec = inflateCodec(options.inflate);
    if (typeof maxMemberSize !== "number" || !(maxMemberSize >= 0)) {
      throw new IbtError("BAD_ARGUMENT", `maxMemberSize ${String(maxMemberSize)} is not a non-negative number`);
    }
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 0) {
      throw new IbtError("BAD_ARGUMENT", `maxEntries ${String(maxEntries)} is not a non-negative integer`);
    }
    const end = await findEnd(file);
    if (end.count > maxEntries) {
      throw new IbtError("LIMIT", `archive has ${end.count} members, more than maxEntries ${maxEntries}`, {
        offset: end.cdOffset,
      });
    }
    const members = await readCentral(file, end);
    return new ZipReader(file, end.comment, end.zip64, members, maxMemberSize, codec);
  }

  /**
   * The same archive read through `file`, which must hold the same bytes (another reader of the
   * same stored object, with reads of its own): the central directory is not read again.
   */
  through(file: RandomAccessFile): ZipReader {
    if (file.size !== this.#file.size) throw new IbtError("BAD_ARGUMENT", "ZipReader.through needs the same archive");
    return new ZipReader(file, this.comment, this.zip64, this.#members, this.#maxMemberSize, this.#codec);
  }

  /** Every member, in central directory order. */
  entries(): ZipEntry[] {
    return this.#members.map((m) => m.entry);
  }

  /** The member called `name`, if any. */
  get(name: string): ZipEntry | undefined {
    return this.#byName.get(name)?.entry;
  }

  /**
   * The data of a member, streamed as it is read and checked: CRC-32 and exact size at the
   * end, refused as soon as it passes its declared size. Only the name of an entry is used, so
   * a changed entry object cannot point the reader elsewhere.
   */
  async *open(target: string | ZipEntry): AsyncGenerator<Uint8Array, void, undefined> {
    const m = this.#member(target);
    const e = m.entry;
    if (e.isDirectory) throw new IbtError("IS_A_DIRECTORY", `${e.name} is a directory`, { path: e.name });
    if (e.size > this.#maxMemberSize) {
      throw new IbtError("LIMIT", `${e.name} declares ${e.size} bytes, more than maxMemberSize ${this.#maxMemberSize}`, {
        path: e.name,
        offset: e.offset,
      });
    }
    const dataStart = await this.#checkLocal(m);
    if (e.method === METHOD_STORED) yield* this.#stored(m, dataStart);
    else if (e.method === METHOD_ZSTD) yield await this.#zstd(m, dataStart);
    else yield* this.#inflated(m, dataStart);
  }

  /** The whole data of a member, checked as `open` checks it. */
  async bytes(target: string | ZipEntry): Promise<Uint8Array> {
    return collect(this.open(target));
  }

  #member(target: string | ZipEntry): Member {
    const name = typeof target === "string" ? target : target?.name;
    const m = typeof name === "string" ? this.#byName.get(name) : undefined;
    if (m === undefined) throw new IbtError("NOT_FOUND", `no member ${String(name)} in the archive`, { path: String(name) });
    return m;
  }

  /** Checks the local header against the central record; returns where the data starts. */
  async #checkLocal(m: Member): Promise<number> {
    const e = m.entry;
    const at = e.offset;
    const bad = (why: string, offset = at): IbtError => corrupt(`${e.name}: ${why}`, offset, e.name);
    const h = new RecordReader(await readAt(this.#file, at, LOCAL_LEN, "local header"));
    if (h.u32(0) !== SIG_LOCAL) throw bad(`no local header signature at ${at}`);
    const flags = h.u16(6);
    const nameLength = h.u16(26);
    const extraLength = h.u16(28);
    const dataStart = at + LOCAL_LEN + nameLength + extraLength;
    const dataEnd = dataStart + e.compressedSize;
    const minEnd = dataEnd + (flags & FLAG_DESCRIPTOR ? 12 : 0);
    if (minEnd > m.limit) throw bad(`data runs to ${minEnd}, into the next member or the central directory at ${m.limit}`);
    const tail = await readAt(this.#file, at + LOCAL_LEN, nameLength + extraLength, "local header");
    if (!equalBytes(tail.subarray(0, nameLength), m.nameBytes)) throw bad("local header names another member");
    if (h.u16(8) !== e.method) throw bad("local header has another compression method");
    if ((flags ^ m.flags) & (FLAG_DESCRIPTOR | FLAG_ENCRYPTED)) throw bad("local header has other flags");
    if (flags & FLAG_DESCRIPTOR) {
      const available = Math.min(24, m.limit - dataEnd);
      const d = await readAt(this.#file, dataEnd, available, "data descriptor");
      if (!descriptorMatches(d, e)) throw bad("data descriptor does not match the central directory", dataEnd);
    } else {
      let size = h.u32(22);
      let compressedSize = h.u32(18);
      if (size === U32_MAX || compressedSize === U32_MAX) {
        const zip64 = splitExtra(tail.subarray(nameLength), false)?.find((f) => f.tag === EXTRA_ZIP64);
        if (zip64 === undefined || zip64.data.length < 16) throw bad("local header lacks its ZIP64 sizes");
        const z = new RecordReader(zip64.data);
        size = z.u64(0);
        compressedSize = z.u64(8);
      }
      if (h.u32(14) !== e.crc32 || size !== e.size || compressedSize !== e.compressedSize) {
        throw bad("local header's CRC or sizes differ from the central directory");
      }
    }
    return dataStart;
  }

  async *#stored(m: Member, dataStart: number): AsyncGenerator<Uint8Array, void, undefined> {
    const e = m.entry;
    const end = dataStart + e.compressedSize;
    let crc = 0;
    for (let pos = dataStart; pos < end; ) {
      const chunk = await readAt(this.#file, pos, Math.min(STORED_READ, end - pos), "member data");
      pos += chunk.length;
      crc = crc32(chunk, crc);
      if (pos === end) checkCrc(e, crc, dataStart);
      yield chunk;
    }
    if (e.size === 0) checkCrc(e, crc, dataStart);
  }

  async *#inflated(m: Member, dataStart: number): AsyncGenerator<Uint8Array, void, undefined> {
    const e = m.entry;
    if (e.compressedSize <= WHOLE_INPUT && e.size <= WHOLE_OUTPUT) {
      yield await this.#inflatedWhole(m, dataStart);
      return;
    }
    const end = dataStart + e.compressedSize;
    const inflater: InflateStream = this.#codec.inflateStream?.() ?? fflateInflate.inflateStream();
    let produced = 0;
    let crc = 0;
    let piece = FIRST_PIECE;
    try {
      for (let pos = dataStart; pos < end; ) {
        const block = await readAt(this.#file, pos, Math.min(DEFLATED_READ, end - pos), "member data");
        for (let i = 0; i < block.length; ) {
          // Even a maximal expansion of what is pushed must stay near the declared size.
          const room = e.size - produced;
          const n = Math.min(block.length - i, piece, Math.max(MIN_PIECE, Math.ceil((room + 1) / DEFLATE_MAX_RATIO)));
          const final = pos + i + n === end;
          let chunks: Uint8Array[];
          try {
            chunks = await inflater.push(block.subarray(i, i + n), final);
          } catch (err) {
            throw codecError(err, e, pos + i, "deflate");
          }
          if (!Array.isArray(chunks) || !chunks.every((c) => c instanceof Uint8Array)) {
            throw corrupt(`${e.name}: the inflate codec's stream returned something other than bytes`, pos + i, e.name);
          }
          i += n;
          let output = 0;
          for (const data of chunks) output += data.length;
          piece = Math.min(MAX_PIECE, Math.max(MIN_PIECE, Math.floor((TARGET_OUTPUT * n) / Math.max(output, 1))));
          for (const data of chunks) {
            produced += data.length;
            if (produced > e.size) {
              throw corrupt(`${e.name} inflates past its declared size of ${e.size} bytes`, pos + i, e.name);
            }
            crc = crc32(data, crc);
            if (!final && data.length > 0) yield data;
          }
          if (final) {
            // The last output is handed out only once the whole member is known to be right.
            if (produced !== e.size) {
              throw corrupt(`${e.name} inflates to ${produced} bytes, not the declared ${e.size}`, dataStart, e.name);
            }
            checkCrc(e, crc, dataStart);
            for (const data of chunks) if (data.length > 0) yield data;
          }
        }
        pos += block.length;
      }
    } finally {
      inflater.close?.();
    }
  }

  /**
   * A small member in one call: its compressed bytes read whole and inflated into a buffer one
   * byte longer than declared, which the inflater fills and no further. A full buffer means the
   * data runs past its declared size; a short one, that it stops before. Pushing a small member
   * through the streaming inflater in the tiny pieces its small room allows would copy the
   * inflater's 32 KiB window once per piece.
   */
  async #inflatedWhole(m: Member, dataStart: number): Promise<Uint8Array> {
    const e = m.entry;
    const input = await readAt(this.#file, dataStart, e.compressedSize, "member data");
    let out: Uint8Array;
    try {
      out = await this.#codec.inflate(input, e.size);
    } catch (err) {
      throw codecError(err, e, dataStart, "deflate");
    }
    if (!(out instanceof Uint8Array)) throw corrupt(`${e.name}: the inflate codec returned something other than bytes`, dataStart, e.name);
    if (out.length > e.size) throw corrupt(`${e.name} inflates past its declared size of ${e.size} bytes`, dataStart, e.name);
    if (out.length !== e.size) throw corrupt(`${e.name} inflates to ${out.length} bytes, not the declared ${e.size}`, dataStart, e.name);
    checkCrc(e, crc32(out, 0), dataStart);
    return out;
  }

  /**
   * A zstd member, whole: its compressed bytes read at once (the central directory bounded them),
   * checked as a frame, decoded by the codec's `zstd` or the portable decoder, and the output held
   * to the declared size and CRC-32 whatever the decoder did. An empty member may have no frame.
   */
  async #zstd(m: Member, dataStart: number): Promise<Uint8Array> {
    const e = m.entry;
    if (e.compressedSize === 0) {
      checkCrc(e, 0, dataStart);
      return new Uint8Array(0);
    }
    const input = await readAt(this.#file, dataStart, e.compressedSize, "member data");
    const codec = this.#codec;
    let out: Uint8Array;
    try {
      if (codec.zstd === undefined) out = zstdDecompress(input, e.size);
      else {
        checkZstdFrame(input, e.size);
        out = await codec.zstd(input, e.size);
      }
    } catch (err) {
      throw codecError(err, e, dataStart, "zstd");
    }
    if (!(out instanceof Uint8Array)) throw corrupt(`${e.name}: the zstd decoder returned something other than bytes`, dataStart, e.name);
    if (out.length !== e.size) throw corrupt(`${e.name} decodes to ${out.length} bytes, not the declared ${e.size}`, dataStart, e.name);
    checkCrc(e, crc32(out, 0), dataStart);
    return out;
  }
}

function checkCrc(e: ZipEntry, crc: number, offset: number): void {
  if (crc !== e.crc32) {
    throw corrupt(`${e.name}: CRC-32 ${hex32(crc)} does not match the recorded ${hex32(e.crc32)}`, offset, e.name);
  }
}

function hex32(v: number): string {
  return v.toString(16).padStart(8, "0");
}

/**
 * A codec's error with the member and offset named: its own code if it is one a codec may give
 * (TRUNCATED, CORRUPT, and UNSUPPORTED for a zstd frame this reader does not take), else CORRUPT.
 */
function codecError(err: unknown, e: ZipEntry, offset: number, format: "deflate" | "zstd"): IbtError {
  if (isIbtError(err) && err.path !== undefined) return err;
  const kept = isIbtError(err) && (err.code === "TRUNCATED" || err.code === "CORRUPT" || (format === "zstd" && err.code === "UNSUPPORTED"));
  const code = kept ? err.code : "CORRUPT";
  const message = isIbtError(err) ? err.message : `invalid ${format} data (${err instanceof Error ? err.message : String(err)})`;
  return new IbtError(code, `${e.name}: ${message}`, { path: e.name, offset, cause: err });
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether `d` starts with a data descriptor for `e`: with or without signature, 32- or 64-bit sizes. */
function descriptorMatches(d: Uint8Array, e: ZipEntry): boolean {
  const r = new RecordReader(d);
  const starts = d.length >= 4 && r.u32(0) === SIG_DESCRIPTOR ? [4, 0] : [0];
  for (const base of starts) {
    if (base + 12 <= d.length && r.u32(base) === e.crc32) {
      if (r.u32(base + 4) === e.compressedSize && r.u32(base + 8) === e.size) return true;
      if (base + 20 <= d.length && r.u64(base + 4) === e.compressedSize && r.u64(base + 12) === e.size) return true;
    }
  }
  return false;
}

/** Opens an archive stored on an adapter for random access. */
export async function openArchive(fs: FsAdapter, path: string, options: ZipReaderOptions = {}): Promise<ZipReader> {
  const st = await fs.lstat(path);
  if (st.type !== "file") throw new IbtError("IS_A_DIRECTORY", `not an archive file: ${path}`, { path });
  const file: RandomAccessFile = { size: st.size, read: (offset, length) => fs.read(path, offset, length) };
  return ZipReader.from(file, options);
}
