/**
 * The stored form of a DirIndex: a compact, versioned binary file that is written and read as a
 * stream, so a million-file index never has to exist as one string or one buffer.
 *
 *   "IBTINDEX"  8-byte magic
 *   u32         format version (1)
 *   entries     per entry: u8 type (1 file, 2 dir, 3 symlink), u8 flags (1 ctime, 2 inode,
 *               4 hash, 8 signature), path (varint length + UTF-8), varint size, f64 mtime,
 *               varint mode, [f64 ctime], [varint inode], [32-byte hash], symlink target
 *               (varint length + UTF-8) for symlinks, [varint length + signature]
 *   end         u8 0, varint entry count, then the BLAKE2b-256 (32 bytes) of every byte before it
 *
 * Integers are big-endian; varints are unsigned LEB128 up to 2^53. Loading checks everything
 * (magic, version, types, paths through checkPath, order and uniqueness, the count and the
 * checksum) and fails with BAD_MAGIC, UNSUPPORTED, UNSAFE_PATH, TRUNCATED or CORRUPT.
 */
import { IbtError } from "../errors.js";
import type { EntryType, FsAdapter } from "../fs/types.js";
import { checkPath } from "../fs/paths.js";
import { ChunkQueue, chunksOf, toHex, type ByteSource } from "../rsync/bytes.js";
import { Hasher } from "../rsync/hashes.js";
import { DirIndex } from "./dir-index.js";
import type { IndexEntry } from "./entry.js";

const MAGIC = new TextEncoder().encode("IBTINDEX");
const VERSION = 1;
const TYPES = ["", "file", "dir", "symlink"] as const;
const F_CTIME = 1;
const F_INO = 2;
const F_HASH = 4;
const F_SIGNATURE = 8;

class Encoder {
  private readonly scratch = new DataView(new ArrayBuffer(8));
  constructor(private readonly out: ChunkQueue) {}
  bytes(b: Uint8Array): void {
    this.out.append(b);
  }
  u8(v: number): void {
    this.out.append(new Uint8Array([v]));
  }
  u32(v: number): void {
    this.scratch.setUint32(0, v);
    this.out.append(new Uint8Array(this.scratch.buffer, 0, 4));
  }
  f64(v: number): void {
    this.scratch.setFloat64(0, v);
    this.out.append(new Uint8Array(this.scratch.buffer, 0, 8));
  }
  varint(v: number): void {
    const b: number[] = [];
    do {
      let byte = v % 128;
      v = Math.floor(v / 128);
      if (v > 0) byte |= 0x80;
      b.push(byte);
    } while (v > 0);
    this.out.append(new Uint8Array(b));
  }
  text(s: string): void {
    const b = new TextEncoder().encode(s);
    this.varint(b.length);
    this.bytes(b);
  }
}

function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}


/** Encodes an index as a stream of chunks. */
export async function* encodeIndex(index: DirIndex): AsyncGenerator<Uint8Array> {
  const hasher = await Hasher.create();
  try {
    yield* encodeWith(hasher, index);
  } finally {
    hasher.dispose();
  }
}

async function* encodeWith(hasher: Hasher, index: DirIndex): AsyncGenerator<Uint8Array> {
  const queue = new ChunkQueue();
  const e = new Encoder(queue);
  const flush = function* (final: boolean) {
    for (const c of queue.take(final)) {
      hasher.update(c);
      yield c;
    }
  };
  e.bytes(MAGIC);
  e.u32(VERSION);
  for (const entry of index.entries.values()) {
    e.u8(TYPES.indexOf(entry.type));
    const flags =
      (entry.ctimeMs !== undefined ? F_CTIME : 0) |
      (entry.ino !== undefined ? F_INO : 0) |
      (entry.hash !== undefined ? F_HASH : 0) |
      (entry.signature !== undefined ? F_SIGNATURE : 0);
    e.u8(flags);
    e.text(entry.path);
    e.varint(entry.size);
    e.f64(entry.mtimeMs);
    e.varint(entry.mode);
    if (entry.ctimeMs !== undefined) e.f64(entry.ctimeMs);
    if (entry.ino !== undefined) e.varint(entry.ino);
    if (entry.hash !== undefined) e.bytes(hexToBytes(entry.hash));
    if (entry.type === "symlink") e.text(entry.target ?? "");
    if (entry.signature !== undefined) {
      e.varint(entry.signature.length);
      e.bytes(entry.signature);
    }
    if (queue.readyLength > 0) yield* flush(false);
  }
  e.u8(0);
  e.varint(index.entries.size);
  yield* flush(true);
  yield hasher.digest();
}

class Incomplete extends Error {}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** Reads fields from a buffer; throws Incomplete when the buffer ends inside one. */
class Cursor {
  pos = 0;
  private view: DataView;
  constructor(
    public buf: Uint8Array,
    public base: number,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** Drops the first `n` bytes (after handing them to `sink`), keeping offsets absolute. */
  commit(n: number, sink: (done: Uint8Array) => void): void {
    if (n > 0) sink(this.buf.subarray(0, n));
    this.buf = this.buf.subarray(n);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.base += n;
    this.pos -= n;
  }
  need(n: number): void {
    if (this.pos + n > this.buf.length) throw new Incomplete();
  }
  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }
  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos);
    this.pos += 8;
    return v;
  }
  varint(): number {
    let v = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      const b = this.u8();
      v += (b & 0x7f) * scale;
      if (!(b & 0x80)) break;
      scale *= 128;
      if (i >= 7) throw new IbtError("CORRUPT", "index varint too long", { offset: this.base + this.pos });
    }
    if (v > Number.MAX_SAFE_INTEGER) throw new IbtError("CORRUPT", "index integer beyond 2^53", { offset: this.base + this.pos });
    return v;
  }
  /** The next `n` bytes, copied (they outlive the buffer). */
  bytes(n: number): Uint8Array {
    return this.take(n).slice();
  }
  /** The next `n` bytes as a view into the buffer (valid until the next chunk). */
  take(n: number): Uint8Array {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
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

function readEntry(c: Cursor, type: number): IndexEntry {
  if (type < 1 || type > 3) throw new IbtError("CORRUPT", `unknown index entry type ${type}`, { offset: c.base + c.pos - 1 });
  const flags = c.u8();
  if (flags & ~15) throw new IbtError("CORRUPT", `unknown index entry flags ${flags}`, { offset: c.base + c.pos - 1 });
  const path = c.text();
  const entry: IndexEntry = { path, type: TYPES[type] as EntryType, size: c.varint(), mtimeMs: c.f64(), mode: c.varint() };
  if (flags & F_CTIME) entry.ctimeMs = c.f64();
  if (flags & F_INO) entry.ino = c.varint();
  if (flags & F_HASH) entry.hash = toHex(c.take(32));
  if (entry.type === "symlink") entry.target = c.text();
  // A view, not a copy: every chunk is a fresh buffer that nothing writes to again.
  if (flags & F_SIGNATURE) entry.signature = c.take(c.varint());
  return entry;
}

/** Decodes an index from a stream of chunks, checking everything. */
export async function decodeIndex(source: ByteSource): Promise<DirIndex> {
  const hasher = await Hasher.create();
  try {
    return await decodeWith(hasher, source);
  } finally {
    hasher.dispose();
  }
}

async function decodeWith(hasher: Hasher, source: ByteSource): Promise<DirIndex> {
  const entries: IndexEntry[] = [];
  let pending: Uint8Array = new Uint8Array(0);
  let consumed = 0; // bytes before `pending`
  let headerDone = false;
  let trailer: { count: number; sum: Uint8Array } | undefined;
  let last = "";

  const parse = (final: boolean) => {
    const c = new Cursor(pending, consumed);
    const done = (bytes: Uint8Array) => hasher.update(bytes);
    let good = 0; // end of the last whole record: what is hashed and dropped
    try {
      if (!headerDone) {
        const magic = c.take(8);
        if (magic.some((b, i) => b !== MAGIC[i])) throw new IbtError("BAD_MAGIC", "not an ibt index file", { offset: 0 });
        const version = c.u32();
        if (version !== VERSION) throw new IbtError("UNSUPPORTED", `index format version ${version} (this library reads ${VERSION})`, { offset: 8 });
        headerDone = true;
        good = c.pos;
      }
      for (;;) {
        const start = c.pos;
        const type = c.u8();
        if (type === 0) {
          const count = c.varint();
          const sum = c.bytes(32);
          if (c.pos !== c.buf.length) throw new IbtError("CORRUPT", "data after the end of the index", { offset: c.base + c.pos });
          good = c.pos - 32;
          trailer = { count, sum };
          return;
        }
        const entry = readEntry(c, type);
        checkPath(entry.path);
        if (entry.path === "" || !(last < entry.path || entries.length === 0)) {
          throw new IbtError("CORRUPT", `index paths out of order or repeated at ${JSON.stringify(entry.path)}`, { offset: c.base + start });
        }
        last = entry.path;
        entries.push(entry);
        good = c.pos;
      }
    } catch (e) {
      if (!(e instanceof Incomplete)) throw e;
      if (final) throw new IbtError("TRUNCATED", "index file ends inside an entry", { offset: c.base + c.buf.length });
    } finally {
      c.commit(good, done);
      pending = c.buf;
      consumed = c.base;
    }
  };

  for await (const chunk of chunksOf(source)) {
    if (trailer) throw new IbtError("CORRUPT", "data after the end of the index", { offset: consumed + pending.length });
    const next = new Uint8Array(pending.length + chunk.length);
    next.set(pending);
    next.set(chunk, pending.length);
    pending = next;
    parse(false);
  }
  if (!trailer) parse(true);
  if (!trailer) throw new IbtError("TRUNCATED", "index file has no end record", { offset: consumed + pending.length });
  if (trailer.count !== entries.length) throw new IbtError("CORRUPT", `index says ${trailer.count} entries, holds ${entries.length}`);
  const sum = hasher.digest();
  if (sum.some((b, i) => b !== trailer!.sum[i])) throw new IbtError("CORRUPT", "index checksum mismatch");
  return DirIndex.fromEntries(entries);
}

/** Saves an index through an adapter, whole or not at all. */
export async function saveIndex(fs: FsAdapter, path: string, index: DirIndex): Promise<void> {
  await fs.writeFile(path, encodeIndex(index));
}

/** Loads an index saved by `saveIndex`. */
export async function loadIndex(fs: FsAdapter, path: string): Promise<DirIndex> {
  try {
    return await decodeIndex(fs.readStream(path));
  } catch (e) {
    if (e instanceof IbtError && e.path === undefined) {
      throw new IbtError(e.code, `${path}: ${e.message}`, { path, ...(e.offset === undefined ? {} : { offset: e.offset }) });
    }
    throw e;
  }
}
