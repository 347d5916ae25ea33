/**
 * Reading an index file (the format is in index-format.ts) from a stream of chunks, in one pass.
 *
 * Records are parsed where they lie. An entry inside one chunk is read straight from it, and its
 * signature stays a view into that chunk: chunks are fresh buffers that nothing writes to again,
 * so the index keeps the buffers it read instead of copies of them. Only a record that straddles
 * chunks is copied, once, into a buffer of its own: the read that ran out says how many bytes the
 * record needs at least, chunks are gathered (not copied) until that many have arrived, and the
 * record is parsed again from the gathered bytes plus some slack, because a header cut short
 * says nothing of the signature after it. Running out is signalled by throwing one preallocated
 * marker, which happens about once per chunk, not per field. The bytes parsed from each chunk
 * are hashed in one piece.
 */
import { IbtError } from "../errors.js";
import type { EntryType } from "../fs/types.js";
import { checkPath } from "../fs/paths.js";
import { concatBytes, toHex } from "../bytes.js";
import type { IndexEntry } from "./entry.js";
import { F_CTIME, F_HASH, F_INO, F_SIGNATURE, MAGIC, SUM_LENGTH, TYPES, VERSION } from "./index-format.js";

/** Thrown by a read past the end of the buffer and caught by the parser; made once, so cheap. */
const NEED_MORE = new Error("index record continues in the next chunk");
/** Bytes taken beyond the known need when a straddling record is parsed again. */
const SLACK = 4096;
const UTF8 = new TextDecoder("utf-8", { fatal: true });
const FILE = TYPES.indexOf("file");
const SYMLINK = TYPES.indexOf("symlink");
const EMPTY = new Uint8Array(0);

/** Reads fields from one buffer; a read past its end notes how far it wanted and throws NEED_MORE. */
class FieldReader {
  buf: Uint8Array = EMPTY;
  pos = 0;
  /** File offset of buf[0], for error offsets. */
  base = 0;
  /** The buffer position the last NEED_MORE needed to reach. */
  wanted = 0;
  private view: DataView = new DataView(EMPTY.buffer);

  reset(buf: Uint8Array, base: number, pos: number): void {
    if (buf !== this.buf) {
      this.buf = buf;
      this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    this.base = base;
    this.pos = pos;
  }
  // Each read checks its own bounds (the check is not a call of its own): loading an index
  // makes some fifteen of these reads per entry, mostly in code not yet compiled.
  private short(end: number): never {
    this.wanted = end;
    throw NEED_MORE;
  }
  u8(): number {
    const pos = this.pos;
    if (pos >= this.buf.length) this.short(pos + 1);
    this.pos = pos + 1;
    return this.buf[pos]!;
  }
  u32(): number {
    const pos = this.pos;
    if (pos + 4 > this.buf.length) this.short(pos + 4);
    this.pos = pos + 4;
    return this.view.getUint32(pos);
  }
  f64(): number {
    const pos = this.pos;
    if (pos + 8 > this.buf.length) this.short(pos + 8);
    this.pos = pos + 8;
    return this.view.getFloat64(pos);
  }
  varint(): number {
    const buf = this.buf;
    let pos = this.pos;
    let v = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      if (pos >= buf.length) this.short(pos + 1);
      const b = buf[pos++]!;
      v += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 128;
      if (i >= 7) throw new IbtError("CORRUPT", "index varint too long", { offset: this.base + pos });
    }
    if (v > Number.MAX_SAFE_INTEGER) throw new IbtError("CORRUPT", "index integer beyond 2^53", { offset: this.base + pos });
    this.pos = pos;
    return v;
  }
  /** The next `n` bytes as a view into the buffer. */
  take(n: number): Uint8Array {
    const pos = this.pos;
    if (pos + n > this.buf.length) this.short(pos + n);
    this.pos = pos + n;
    return this.buf.subarray(pos, pos + n);
  }
  /** The next 32 bytes as hex (a content hash). */
  hash(): string {
    const pos = this.pos;
    if (pos + 32 > this.buf.length) this.short(pos + 32);
    this.pos = pos + 32;
    return toHex(this.buf, pos, 32);
  }
  text(): string {
    const n = this.varint();
    const at = this.base + this.pos;
    const bytes = this.take(n);
    try {
      return UTF8.decode(bytes);
    } catch {
      throw new IbtError("CORRUPT", "index text is not valid UTF-8", { offset: at });
    }
  }
}

const ALL_FLAGS = F_CTIME | F_INO | F_HASH | F_SIGNATURE;

function readEntry(r: FieldReader, type: number, signatures: boolean): IndexEntry {
  if (type < 1 || type > 3) throw new IbtError("CORRUPT", `unknown index entry type ${type}`, { offset: r.base + r.pos - 1 });
  const flags = r.u8();
  if (flags & ~ALL_FLAGS) throw new IbtError("CORRUPT", `unknown index entry flags ${flags}`, { offset: r.base + r.pos - 1 });
  const path = r.text();
  const size = r.varint();
  const mtimeMs = r.f64();
  const mode = r.varint();
  const ctimeMs = flags & F_CTIME ? r.f64() : undefined;
  const ino = flags & F_INO ? r.varint() : undefined;
  const hash = flags & F_HASH ? r.hash() : undefined;
  const target = type === SYMLINK ? r.text() : undefined;
  const signed = flags & F_SIGNATURE ? r.take(r.varint()) : undefined;
  const signature = signatures ? signed : undefined;
  // A file with every field (what a walk on a POSIX file system records) is built in one
  // literal: an object grown field by field keeps the later fields in a second allocation.
  if (flags === ALL_FLAGS && type === FILE) return { path, type: "file", size, mtimeMs, mode, ctimeMs, ino, hash, signature };
  const entry: IndexEntry = { path, type: TYPES[type] as EntryType, size, mtimeMs, mode };
  if (ctimeMs !== undefined) entry.ctimeMs = ctimeMs;
  if (ino !== undefined) entry.ino = ino;
  if (hash !== undefined) entry.hash = hash;
  if (target !== undefined) entry.target = target;
  if (signature !== undefined) entry.signature = signature;
  return entry;
}

/** The record that ends the file. */
export interface IndexEnd {
  count: number;
  sum: Uint8Array;
}

/**
 * Parses an index pushed chunk by chunk, checking each entry as it completes. `hash` receives,
 * in order, every byte the checksum covers; `finish` returns the end record, whose count and
 * checksum the caller compares.
 */
export class IndexParser {
  /** The entries so far, in file order (DirIndex.fromSorted, which takes them, checks that order). */
  readonly entries: IndexEntry[] = [];
  private end: IndexEnd | undefined;
  private readonly r = new FieldReader();
  private headerRead = false;
  /** The start of a record that continues past them: file offset `heldAt`, `heldBytes` long. */
  private held: Uint8Array[] = [];
  private heldBytes = 0;
  private heldAt = 0;
  /** How many bytes from `heldAt` that record needs at least. */
  private heldWants = 0;
  /** File offset of the next chunk. */
  private offset = 0;

  /**
   * `hash` receives the bytes the checksum covers; `onRecord`, if given, each entry's record as it
   * lies in the file (a view, valid as long as the chunk it came in), in the order of the entries.
   * With `signatures` false, entries come without their signatures, which are views that would
   * keep every chunk of the file alive: for a reader that needs the tree but no deltas against it.
   */
  constructor(
    private readonly hash: (bytes: Uint8Array) => void,
    private readonly onRecord?: (bytes: Uint8Array) => void,
    private readonly signatures = true,
  ) {}

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.end) throw new IbtError("CORRUPT", "data after the end of the index", { offset: this.offset });
    const at = this.offset;
    this.offset += chunk.length;
    const from = this.heldBytes > 0 ? this.completeHeld(chunk) : 0;
    if (from < 0) return;
    if (!this.end) this.parse(chunk, at, from);
    else if (from < chunk.length) throw new IbtError("CORRUPT", "data after the end of the index", { offset: at + from });
  }

  /** The entries parsed since the last call, handed over: a caller that streams them keeps none here. */
  take(): IndexEntry[] {
    return this.entries.splice(0);
  }

  /** The end record, once the stream has ended (TRUNCATED if it never came). */
  finish(): IndexEnd {
    if (!this.end) throw new IbtError("TRUNCATED", "index file ends inside an entry", { offset: this.offset });
    return this.end;
  }

  /** Parses records from buf[from..], hashes them, and holds an unfinished tail for the next chunk. */
  private parse(buf: Uint8Array, base: number, from: number): void {
    const r = this.r;
    r.reset(buf, base, from);
    let done = from; // the end of the last whole record
    try {
      while (!this.end) {
        this.record();
        done = r.pos;
      }
    } catch (e) {
      if (e !== NEED_MORE) throw e;
      this.held = done < buf.length ? [buf.subarray(done)] : [];
      this.heldBytes = buf.length - done;
      this.heldAt = base + done;
      this.heldWants = r.wanted - done;
    }
    this.hash(buf.subarray(from, this.end ? done - SUM_LENGTH : done));
    if (this.end && done < buf.length) throw new IbtError("CORRUPT", "data after the end of the index", { offset: base + done });
  }

  /** Completes the held record with the start of `chunk`: how much of it was used, or -1 for "not yet". */
  private completeHeld(chunk: Uint8Array): number {
    if (chunk.length < this.heldWants - this.heldBytes) return this.gather(chunk);
    let take = Math.min(chunk.length, this.heldWants - this.heldBytes + SLACK);
    const r = this.r;
    for (;;) {
      const record = concatBytes([...this.held, chunk.subarray(0, take)]);
      r.reset(record, this.heldAt, 0);
      try {
        this.record();
      } catch (e) {
        if (e !== NEED_MORE) throw e;
        this.heldWants = r.wanted;
        if (take === chunk.length) return this.gather(chunk);
        take = Math.min(chunk.length, Math.max(r.wanted - this.heldBytes, 2 * take));
        continue;
      }
      this.hash(record.subarray(0, this.end ? r.pos - SUM_LENGTH : r.pos));
      const used = r.pos - this.heldBytes;
      this.held = [];
      this.heldBytes = 0;
      return used;
    }
  }

  private gather(chunk: Uint8Array): -1 {
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    return -1;
  }

  /** Reads one record at the reader's position: the header, an entry or the end. */
  private record(): void {
    const r = this.r;
    if (!this.headerRead) {
      const magic = r.take(MAGIC.length);
      if (magic.some((b, i) => b !== MAGIC[i])) throw new IbtError("BAD_MAGIC", "not an ibt index file", { offset: 0 });
      const version = r.u32();
      if (version !== VERSION) throw new IbtError("UNSUPPORTED", `index format version ${version} (this library reads ${VERSION})`, { offset: 8 });
      this.headerRead = true;
      return;
    }
    const start = r.pos;
    const type = r.u8();
    if (type === 0) {
      const count = r.varint();
      this.end = { count, sum: r.take(SUM_LENGTH).slice() };
      return;
    }
    const entry = readEntry(r, type, this.signatures);
    checkPath(entry.path);
    if (entry.path === "") throw new IbtError("CORRUPT", "an index entry names the root", { offset: r.base + start });
    this.onRecord?.(r.buf.subarray(start, r.pos));
    this.entries.push(entry);
  }
}
