/**
 * ZipWriter: a ZIP archive written front to back into a sink, one member at a time, so it can
 * go to any storage (a file, an upload, memory) and never needs to seek back.
 *
 * Members given as a Uint8Array (and streams that end within 64 KiB, which are collected) are
 * complete before their local header is written, so the header carries the CRC and sizes. A
 * longer stream is written as it arrives with general-purpose flag bit 3: the header carries
 * zeros and a data descriptor after the data (signature 0x08074b50, CRC, sizes) gives the real
 * values, 8-byte sizes when either reaches 0xFFFFFFFF. That is what Java's ZipOutputStream and
 * Go's archive/zip do: central-directory readers (Info-ZIP unzip, 7-Zip, Python, Go, ours) take
 * sizes from the central directory, and Java's streaming reader sizes the descriptor by the
 * bytes it counted. Memory per member is bounded (64 KiB of probe, the codec's window), whatever
 * its size.
 *
 * Compression "auto" (the default) deflates a member only when that saves at least 1/16: the
 * first 64 KiB (the whole member when smaller) are deflated as a probe, and the member is stored
 * if the probe does not shrink to 15/16. The decision depends on content only, never on how the
 * source is chunked; an in-memory member is also stored when its whole deflated form misses the
 * ratio. Deflate input is re-cut into 64 KiB pieces, so the bytes written do not depend on the
 * source's chunk sizes either. Empty members and directories are always stored. Deflating is
 * done by a codec (deflate.ts): fflate unless the caller gives a faster one.
 *
 * A member whose data grows while others are written (an archive's manifest) is made with
 * `later` and written with `addLater`: its pieces are deflated as they come (zip-later.ts), and
 * it is the member `add` writes for its data joined with `compress: true`. Such a member is
 * always compressed, at the default level when the writer's is 0: it is the archive's own
 * description, and its deflated bytes are what a spill bounds. Asked for zstd, where the writer
 * has it, it is one zstd frame while its data stays within LATER_ZSTD_MAX, and deflated past it.
 *
 * With a codec that deflates off the calling thread (node:zlib's thread pool), `queue` lets a
 * caller hand over an in-memory member and go on preparing the next while it deflates, and a
 * streamed member's pieces deflate `parallel` at a time. Members and pieces are still written in
 * the order given, each with exactly the bytes the codec's synchronous form makes, so the
 * archive is the one `add` writes; what is held meanwhile is bounded by `parallel` members.
 *
 * ZIP64 appears only where a value does not fit: the ZIP64 extra field in a local header (for
 * an in-memory member of 4 GiB or more) or a central record (size, compressed size or offset of
 * 0xFFFFFFFF or more), and the ZIP64 end record and locator when there are 65,535 members or
 * more or the central directory's offset or size overflows. Small archives are plain ZIP.
 *
 * The central directory (46 bytes + name + 13..41 bytes of extra fields per member) is kept in
 * memory in 64 KiB chunks until `finish`. Names are checked with `checkPath` and written as
 * UTF-8 (flag bit 11); a name may not repeat, and a file may not also be a directory of another
 * member, since the reader refuses such archives.
 */
import { IbtError } from "../errors.js";
import { checkPath } from "../fs/paths.js";
import { ChunkQueue, chunksOf, concatBytes, type ByteSource } from "../bytes.js";
import { crc32 } from "./crc32.js";
import { checkDeflatedSize, checkZstdSize, codecBytes, fflateDeflate, type DeflateCodec } from "./deflate.js";
import { LATER_ZSTD_MAX, LaterMember, type LaterSpill, type LaterZstd } from "./zip-later.js";
import {
  CENTRAL_LEN,
  DOS_DIRECTORY,
  END64_LEN,
  END_LEN,
  EXTRA_ZIP64,
  FLAG_DESCRIPTOR,
  FLAG_UTF8,
  LOCAL_LEN,
  LOCATOR64_LEN,
  METHOD_DEFLATED,
  METHOD_STORED,
  METHOD_ZSTD,
  RecordWriter,
  S_IFDIR,
  S_IFREG,
  SIG_CENTRAL,
  SIG_DESCRIPTOR,
  SIG_END,
  SIG_END64,
  SIG_LOCAL,
  SIG_LOCATOR64,
  U16_MAX,
  U32_MAX,
  VERSION_DEFLATED,
  VERSION_MADE_BY,
  VERSION_STORED,
  VERSION_ZIP64,
  VERSION_ZSTD,
  ZSTD_MAX_SIZE,
  containsBytes,
  dosDateTime,
  signatureBytes,
  timestampExtra,
  utf8,
} from "./zip-format.js";

/** Receives the archive in order. It MUST be done with (or have copied) a chunk when it returns. */
export type ZipSink = (chunk: Uint8Array) => void | Promise<void>;

export interface ZipWriterOptions {
  /**
   * Deflate level 1-9, or 0 to store every member given to `add` and `queue` as it is (method 0:
   * a deflate at level 0 would only wrap the bytes); a `later` member is deflated still. Default
   * 6: zlib's default, the usual balance of speed and size.
   */
  level?: number;
  /** The deflate implementation. Default fflate (portable); Node's `nodeDeflate` is faster. */
  deflate?: DeflateCodec;
  /**
   * With a codec that has `deflateAsync`: how many members given to `queue` may wait to be
   * written, deflating meanwhile, and how many pieces of a streamed member deflate at once.
   * Default 2, so two cores deflate while this thread prepares what comes next. Memory held
   * for this is about `parallel` members and their deflated bytes.
   */
  parallel?: number;
  /**
   * Zstandard level (1..19) for members given with `zstd: true`, which are then ZIP method 93
   * when the codec has `zstd` and they are at most ZSTD_MAX_SIZE bytes; otherwise they are
   * deflated as any member. Default: none, so every member is deflated or stored.
   */
  zstdLevel?: number;
}

export interface ZipAddOptions {
  /** Modification time, ms since the epoch. Default: now, as `zip` does for standard input. */
  mtimeMs?: number;
  /** Permission bits (0..0o7777). Default 0o644 for files, 0o755 for directories. */
  mode?: number;
  /** Deflate (true), store (false), or decide from the content ("auto", the default). */
  compress?: boolean | "auto";
  /** Compress with zstd (method 93) where the writer can (`zstdLevel`, a codec with `zstd`). */
  zstd?: boolean;
}

/** What `add` wrote: the member as the central directory describes it. */
export interface ZipWritten {
  name: string;
  isDirectory: boolean;
  /** Offset of the local header. */
  offset: number;
  size: number;
  compressedSize: number;
  crc32: number;
  method: Method;
}

type Method = typeof METHOD_STORED | typeof METHOD_DEFLATED | typeof METHOD_ZSTD;

/** Streams shorter than this are collected and written like in-memory members; also the probe. */
const PROBE = 64 * 1024;
/** Deflate input piece size: fixed, so output does not depend on the source's chunking. */
const DEFLATE_PIECE = 64 * 1024;
/** Stored stream chunks smaller than this are gathered into pieces of this size for the sink. */
const SMALL_CHUNK = 64 * 1024;
/** The largest piece of an in-memory member handed to the sink at once. */
const SINK_PIECE = 1024 * 1024;
/** "auto" keeps deflate only when it shrinks data to this fraction or less. */
const AUTO_MAX_RATIO = 15 / 16;
const DEFAULT_LEVEL = 6;
const DEFAULT_PARALLEL = 2;

interface Member {
  name: string;
  nameBytes: Uint8Array;
  isDirectory: boolean;
  mtimeMs: number;
  mode: number;
  offset: number;
  flags: number;
  method: Method;
  crc: number;
  size: number;
  compressedSize: number;
}

type State = "idle" | "busy" | "finished" | "failed";

type Compressor = (data: Uint8Array) => Uint8Array | Promise<Uint8Array>;

/** What an in-memory member stores. */
interface Encoded {
  method: Method;
  payload: Uint8Array;
}

/** A member given to `queue`, its bytes being made. */
interface Queued {
  m: Member;
  encoded: Promise<Encoded>;
}

export class ZipWriter {
  readonly #sink: ZipSink;
  readonly #level: number;
  readonly #codec: DeflateCodec;
  readonly #parallel: number;
  readonly #zstdLevel: number | undefined;
  readonly #queued: Queued[] = [];
  #offset = 0;
  #count = 0;
  #state: State = "idle";
  readonly #central = new ChunkQueue();
  /** Every name written ("file" or "dir") and every directory implied by one ("parent"). */
  readonly #names = new Map<string, "file" | "dir" | "parent">();

  constructor(sink: ZipSink, options: ZipWriterOptions = {}) {
    if (typeof sink !== "function") throw new IbtError("BAD_ARGUMENT", "ZipWriter needs a sink function");
    const level = options.level ?? DEFAULT_LEVEL;
    if (!Number.isInteger(level) || level < 0 || level > 9) {
      throw new IbtError("BAD_ARGUMENT", `deflate level ${level} is not an integer in 0..9`);
    }
    this.#sink = sink;
    this.#level = level;
    this.#codec = options.deflate ?? fflateDeflate;
    if (typeof this.#codec?.deflate !== "function") throw new IbtError("BAD_ARGUMENT", "the deflate codec has no deflate function");
    const parallel = options.parallel ?? DEFAULT_PARALLEL;
    if (!Number.isInteger(parallel) || parallel < 1) throw new IbtError("BAD_ARGUMENT", `parallel ${String(parallel)} is not an integer >= 1`);
    this.#parallel = parallel;
    const zstdLevel = options.zstdLevel;
    if (zstdLevel !== undefined && (!Number.isInteger(zstdLevel) || zstdLevel < 1 || zstdLevel > 19)) {
      throw new IbtError("BAD_ARGUMENT", `zstd level ${String(zstdLevel)} is not an integer in 1..19`);
    }
    if (zstdLevel !== undefined && this.#codec.zstd !== undefined && typeof this.#codec.zstd !== "function") {
      throw new IbtError("BAD_ARGUMENT", "the codec's zstd is not a function");
    }
    this.#zstdLevel = zstdLevel;
  }

  /** Whether members given with `zstd: true` (and at most ZSTD_MAX_SIZE) are compressed with zstd. */
  get zstd(): boolean {
    return this.#zstdLevel !== undefined && this.#level !== 0 && this.#codec.zstd !== undefined;
  }

  /** Bytes handed to the sink so far (not counting queued members not yet written). */
  get bytesWritten(): number {
    return this.#offset;
  }

  /** Members written so far (not counting queued members not yet written). */
  get entryCount(): number {
    return this.#count;
  }

  /**
   * Adds a file member with the bytes of `source`, read to its end. Members are written one at a
   * time: wait for one `add` before the next. If the source or the sink fails after the first
   * byte reached the sink, the archive is unusable and every later call fails.
   */
  async add(name: string, source: Uint8Array | ByteSource, options: ZipAddOptions = {}): Promise<ZipWritten> {
    const compress = this.#compress(options.compress);
    return this.#member(name, false, options, async (m) => {
      if (source instanceof Uint8Array) await this.#writeWhole(m, source, compress, this.#zstdFor(source, compress, options));
      else await this.#writeStream(m, source, compress);
    });
  }

  /**
   * Adds a file member with the bytes of `data` as `add` does, but may return before it is
   * written: with a codec that has `deflateAsync` it deflates off this thread while the caller
   * prepares the next member, and is written in turn, when a later `queue` would otherwise have
   * more than `parallel` members deflating, or at the next `flush`, `add`, `addDirectory` or
   * `finish`. The archive is byte for byte what `add` would have written. `data` MUST stay
   * unchanged until then. A bad name or option is
   * refused here; a failure of the codec or the sink surfaces from a later call, and leaves the
   * writer failed. Without `deflateAsync` this is `add`.
   */
  async queue(name: string, data: Uint8Array, options: ZipAddOptions = {}): Promise<void> {
    const compress = this.#compress(options.compress);
    const zstd = this.#zstdFor(data, compress, options);
    const deflateAsync = this.#codec.deflateAsync;
    if (!deflateAsync && !zstd) {
      await this.add(name, data, options);
      return;
    }
    const m = this.#begin(name, false, options);
    this.#enter();
    // The name is taken now, so that later names are checked against it as `add` would.
    this.#taken(name, false);
    await this.#drain(this.#parallel - 1);
    m.crc = crc32(data);
    m.size = data.length;
    const encoded = zstd
      ? this.#encode(data, compress, name, zstd, METHOD_ZSTD)
      : this.#encode(data, compress, name, (d) => deflateAsync!.call(this.#codec, d, this.#level), METHOD_DEFLATED);
    encoded.catch(() => {}); // it is awaited when written; a failure before then must not go unhandled
    this.#queued.push({ m, encoded });
    this.#state = "idle";
  }

  /**
   * A deflated member whose data is pushed in pieces while other members are written; give it
   * to `addLater` when the data is complete, or `dispose` it. The name is checked now and again
   * when it is written. With a `spill`, its deflated bytes past the spill's `keep` wait there
   * (zip-later.ts). `addLater` disposes the member whether it succeeds or fails: a member is
   * written at most once. With `zstd: true` and a writer that has zstd, it is a zstd frame while
   * its data stays within LATER_ZSTD_MAX and the spill's `keep`.
   */
  later(name: string, spill?: LaterSpill, options: { zstd?: boolean } = {}): LaterMember {
    this.#checkName(name, false);
    const zstd: LaterZstd | undefined = options.zstd === true && this.zstd ? { max: LATER_ZSTD_MAX, compress: this.#zstdCompressor() } : undefined;
    return new LaterMember(name, this.#codec, this.#level === 0 ? DEFAULT_LEVEL : this.#level, spill, zstd);
  }

  /**
   * Writes a member made with `later`, ending its data: byte for byte what `add` writes for its
   * data joined, with `compress: true` (at level 0: what a writer at the default level writes).
   */
  async addLater(member: LaterMember, options: Omit<ZipAddOptions, "compress"> = {}): Promise<ZipWritten> {
    if (!(member instanceof LaterMember)) throw new IbtError("BAD_ARGUMENT", "addLater takes a member made by ZipWriter.later");
    try {
      return await this.#member(member.name, false, options, async (m) => {
        const { crc, size, compressedSize, zstd, deflated } = await member.finish();
        m.crc = crc;
        m.size = size;
        m.method = size === 0 ? METHOD_STORED : zstd ? METHOD_ZSTD : METHOD_DEFLATED;
        m.compressedSize = compressedSize;
        if (zstd) checkZstdSize(m.size, m.compressedSize, m.name);
        else checkDeflatedSize(m.size, m.compressedSize, m.name);
        await this.#writePayload(m, deflated);
      });
    } finally {
      await member.dispose();
    }
  }

  /** Writes every queued member. */
  async flush(): Promise<void> {
    this.#enter();
    await this.#drain(0);
    this.#state = "idle";
  }

  /** Adds a directory member ("name/", no data). Parents need no member of their own. */
  async addDirectory(name: string, options: Omit<ZipAddOptions, "compress"> = {}): Promise<ZipWritten> {
    return this.#member(name, true, options, (m) => this.#writeWhole(m, new Uint8Array(0), false));
  }

  /**
   * Writes the central directory and end records; the archive is complete when this resolves.
   * The comment is UTF-8, at most 65,535 bytes, and may not contain the end record's signature
   * (a reader could take it for the real one).
   */
  async finish(comment = ""): Promise<{ size: number; entries: number }> {
    const commentBytes = utf8.encode(comment);
    if (commentBytes.length > U16_MAX) {
      throw new IbtError("BAD_ARGUMENT", `archive comment of ${commentBytes.length} bytes: at most 65,535`);
    }
    if (containsBytes(commentBytes, signatureBytes(SIG_END))) {
      throw new IbtError("BAD_ARGUMENT", "archive comment contains the end-of-central-directory signature");
    }
    this.#enter();
    await this.#drain(0);
    try {
      const cdOffset = this.#offset;
      for (const chunk of this.#central.take(true)) await this.#write(chunk);
      const cdSize = this.#offset - cdOffset;
      const zip64 = this.#count >= U16_MAX || cdOffset >= U32_MAX || cdSize >= U32_MAX;
      const w = new RecordWriter((zip64 ? END64_LEN + LOCATOR64_LEN : 0) + END_LEN + commentBytes.length);
      if (zip64) {
        w.u32(SIG_END64).u64(END64_LEN - 12).u16(VERSION_MADE_BY).u16(VERSION_ZIP64).u32(0).u32(0);
        w.u64(this.#count).u64(this.#count).u64(cdSize).u64(cdOffset);
        w.u32(SIG_LOCATOR64).u32(0).u64(cdOffset + cdSize).u32(1);
      }
      const count16 = Math.min(this.#count, U16_MAX);
      w.u32(SIG_END).u16(0).u16(0).u16(count16).u16(count16);
      w.u32(Math.min(cdSize, U32_MAX)).u32(Math.min(cdOffset, U32_MAX));
      w.u16(commentBytes.length).raw(commentBytes);
      await this.#write(w.done());
      this.#state = "finished";
      return { size: this.#offset, entries: this.#count };
    } catch (e) {
      this.#state = "failed";
      throw e;
    }
  }

  #enter(): void {
    if (this.#state === "busy") {
      throw new IbtError("BAD_ARGUMENT", "ZipWriter writes one member at a time: await the previous call first");
    }
    if (this.#state === "finished") throw new IbtError("BAD_ARGUMENT", "ZipWriter is finished");
    if (this.#state === "failed") {
      throw new IbtError("BAD_ARGUMENT", "ZipWriter failed earlier: its output is incomplete");
    }
    this.#state = "busy";
  }

  async #member(
    name: string,
    isDirectory: boolean,
    options: Omit<ZipAddOptions, "compress">,
    write: (m: Member) => Promise<void>,
  ): Promise<ZipWritten> {
    const m = this.#begin(name, isDirectory, options);
    this.#enter();
    await this.#drain(0);
    m.offset = this.#offset;
    try {
      await write(m);
    } catch (e) {
      // Nothing reached the sink: the archive is still whole, so the writer stays usable.
      this.#state = this.#offset === m.offset ? "idle" : "failed";
      throw e;
    }
    this.#written(m);
    this.#state = "idle";
    const { offset, size, compressedSize, crc, method } = m;
    return { name, isDirectory, offset, size, compressedSize, crc32: crc, method };
  }

  /** A new member, its name and options checked. */
  #begin(name: string, isDirectory: boolean, options: Omit<ZipAddOptions, "compress">): Member {
    const nameBytes = this.#checkName(name, isDirectory);
    const mtimeMs = options.mtimeMs ?? Date.now();
    if (typeof mtimeMs !== "number" || !Number.isFinite(mtimeMs)) {
      throw new IbtError("BAD_ARGUMENT", `mtimeMs ${String(mtimeMs)} is not a finite number`, { path: name });
    }
    const mode = options.mode ?? (isDirectory ? 0o755 : 0o644);
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
      throw new IbtError("BAD_ARGUMENT", `mode ${String(mode)} is not an integer in 0..0o7777`, { path: name });
    }
    const flags = FLAG_UTF8;
    return { name, nameBytes, isDirectory, mtimeMs, mode, offset: 0, flags, method: METHOD_STORED, crc: 0, size: 0, compressedSize: 0 };
  }

  /** Records a member that reached the sink. */
  #written(m: Member): void {
    this.#central.append(centralRecord(m));
    this.#count++;
    this.#taken(m.name, m.isDirectory);
  }

  #taken(name: string, isDirectory: boolean): void {
    this.#names.set(name, isDirectory ? "dir" : "file");
    for (let i = name.indexOf("/"); i >= 0; i = name.indexOf("/", i + 1)) {
      const parent = name.slice(0, i);
      if (!this.#names.has(parent)) this.#names.set(parent, "parent");
    }
  }

  /** Writes queued members, oldest first, until at most `keep` wait. Called busy; a failure fails the writer. */
  async #drain(keep: number): Promise<void> {
    try {
      while (this.#queued.length > keep) {
        const { m, encoded } = this.#queued.shift()!;
        const { method, payload } = await encoded;
        m.offset = this.#offset;
        m.method = method;
        m.compressedSize = payload.length;
        await this.#writePayload(m, payload);
        this.#written(m);
      }
    } catch (e) {
      this.#queued.length = 0;
      this.#state = "failed";
      throw e;
    }
  }

  /** Checks a member name against the path rules and the names already written. */
  #checkName(name: string, isDirectory: boolean): Uint8Array {
    if (typeof name !== "string" || name === "") {
      throw new IbtError("BAD_ARGUMENT", "a member name must be a non-empty string");
    }
    checkPath(name);
    const seen = this.#names.get(name);
    if (seen === "file" || seen === "dir" || (seen === "parent" && !isDirectory)) {
      throw new IbtError("BAD_ARGUMENT", `${name} is already in the archive${seen === "parent" ? " as a directory" : ""}`, {
        path: name,
      });
    }
    for (let i = name.indexOf("/"); i >= 0; i = name.indexOf("/", i + 1)) {
      if (this.#names.get(name.slice(0, i)) === "file") {
        throw new IbtError("BAD_ARGUMENT", `${name.slice(0, i)} is a file in the archive, so ${name} cannot be`, {
          path: name,
        });
      }
    }
    const bytes = utf8.encode(isDirectory ? `${name}/` : name);
    if (bytes.length > U16_MAX) {
      throw new IbtError("BAD_ARGUMENT", `member name of ${bytes.length} bytes: at most 65,535`, { path: name });
    }
    return bytes;
  }

  async #write(chunk: Uint8Array): Promise<void> {
    if (chunk.length === 0) return;
    await this.#sink(chunk);
    this.#offset += chunk.length;
  }

  /** A member whose bytes are all at hand: CRC and sizes go in the local header. */
  async #writeWhole(m: Member, data: Uint8Array, compress: boolean | "auto", zstd?: Compressor): Promise<void> {
    m.crc = crc32(data);
    m.size = data.length;
    const { method, payload } = zstd
      ? await this.#encode(data, compress, m.name, zstd, METHOD_ZSTD)
      : await this.#encode(data, compress, m.name, (d) => this.#codec.deflate(d, this.#level), METHOD_DEFLATED);
    m.method = method;
    m.compressedSize = payload.length;
    await this.#writePayload(m, payload);
  }

  /**
   * What an in-memory member stores: "auto" deflates when the probe (the first 64 KiB of a
   * larger member) and then the whole shrink to AUTO_MAX_RATIO, and uses zstd when the whole
   * does. The same decision and bytes whichever form of the codec `deflate` is.
   */
  async #encode(data: Uint8Array, compress: boolean | "auto", name: string, pack: Compressor, method: typeof METHOD_DEFLATED | typeof METHOD_ZSTD): Promise<Encoded> {
    const stored: Encoded = { method: METHOD_STORED, payload: data };
    if (data.length === 0 || compress === false) return stored;
    // zstd goes over what does not shrink at memory speed, and a group may start with such a file
    // and go on with text: it decides on the whole. A deflate probe of the first 64 KiB spares
    // deflating a large member of noise.
    if (compress === "auto" && data.length > PROBE && method === METHOD_DEFLATED) {
      const probe = codecBytes(await pack(data.subarray(0, PROBE)), name);
      if (probe.length > PROBE * AUTO_MAX_RATIO) return stored;
    }
    const out = codecBytes(await pack(data), name);
    if (method === METHOD_ZSTD) checkZstdSize(data.length, out.length, name);
    else checkDeflatedSize(data.length, out.length, name);
    return compress === true || out.length <= data.length * AUTO_MAX_RATIO ? { method, payload: out } : stored;
  }

  /** The zstd compressor for a whole member, when it asks for zstd and the writer can. */
  #zstdFor(data: Uint8Array, compress: boolean | "auto", options: ZipAddOptions): Compressor | undefined {
    if (options.zstd !== true || compress === false || !this.zstd || data.length > ZSTD_MAX_SIZE) return undefined;
    return this.#zstdCompressor();
  }

  /** zstd at the writer's level; only where `this.zstd`. */
  #zstdCompressor(): Compressor {
    const level = this.#zstdLevel!;
    return (d) => this.#codec.zstd!(d, level);
  }

  /** The local header and data of a member whose CRC, sizes and method are set. */
  async #writePayload(m: Member, payload: Uint8Array | readonly Uint8Array[] | AsyncIterable<Uint8Array>): Promise<void> {
    const header = localHeader(m);
    const pieces = payload instanceof Uint8Array ? [payload] : payload;
    if (Symbol.iterator in pieces && pieces.reduce((n, p) => n + p.length, 0) <= PROBE) {
      await this.#write(concatBytes([header, ...pieces]));
      return;
    }
    await this.#write(header);
    for await (const piece of pieces) for (let at = 0; at < piece.length; at += SINK_PIECE) await this.#write(piece.subarray(at, at + SINK_PIECE));
  }

  /** A member read from a stream: data as it comes, CRC and sizes in a data descriptor. */
  async #writeStream(m: Member, source: ByteSource, compress: boolean | "auto"): Promise<void> {
    const chunks = chunksOf(source)[Symbol.asyncIterator]();
    let finished = false;
    const next = async (): Promise<Uint8Array | undefined> => {
      for (;;) {
        const r = await chunks.next();
        if (r.done) {
          finished = true;
          return undefined;
        }
        if (!(r.value instanceof Uint8Array)) {
          throw new IbtError("BAD_ARGUMENT", "a byte source yielded something other than a Uint8Array", { path: m.name });
        }
        if (r.value.length > 0) return r.value;
      }
    };
    try {
      // Collect past the probe size, or to the end: a short stream is written like bytes in memory.
      const head: Uint8Array[] = [];
      let headLength = 0;
      while (headLength <= PROBE) {
        const chunk = await next();
        if (chunk === undefined) return await this.#writeWhole(m, concatBytes(head), compress);
        head.push(chunk);
        headLength += chunk.length;
      }
      const deflate = compress === true || (compress === "auto" && this.#worthDeflating(m, concatBytes(head).subarray(0, PROBE)));
      m.flags |= FLAG_DESCRIPTOR;
      m.method = deflate ? METHOD_DEFLATED : METHOD_STORED;
      await this.#write(localHeader(m));
      let taken = 0;
      const pull = async (): Promise<Uint8Array | undefined> => (taken < head.length ? head[taken++] : next());
      if (deflate) await this.#deflateData(m, pull);
      else await this.#storeData(m, pull);
      const zip64 = m.size >= U32_MAX || m.compressedSize >= U32_MAX;
      const d = new RecordWriter(zip64 ? 24 : 16).u32(SIG_DESCRIPTOR).u32(m.crc);
      if (zip64) d.u64(m.compressedSize).u64(m.size);
      else d.u32(m.compressedSize).u32(m.size);
      await this.#write(d.done());
    } finally {
      if (!finished) await chunks.return?.(undefined);
    }
  }

  async #storeData(m: Member, pull: () => Promise<Uint8Array | undefined>): Promise<void> {
    // Large chunks of the source go to the sink as they are (no copy); small ones are gathered
    // into 64 KiB pieces, so a source of tiny chunks does not become tiny writes.
    const small = new ChunkQueue(SMALL_CHUNK);
    for (let chunk = await pull(); chunk !== undefined; chunk = await pull()) {
      m.crc = crc32(chunk, m.crc);
      m.size += chunk.length;
      if (chunk.length < SMALL_CHUNK) {
        small.append(chunk);
        for (const piece of small.take()) await this.#write(piece);
      } else {
        for (const piece of small.take(true)) await this.#write(piece);
        await this.#write(chunk);
      }
    }
    for (const piece of small.take(true)) await this.#write(piece);
    m.compressedSize = m.size;
  }

  async #deflateData(m: Member, pull: () => Promise<Uint8Array | undefined>): Promise<void> {
    const codec = this.#codec.deflateStream ? this.#codec : fflateDeflate;
    const deflater = codec.deflateStream!(this.#level);
    const output = async (out: Uint8Array | Promise<Uint8Array>): Promise<void> => {
      const bytes = codecBytes(await out, m.name);
      m.compressedSize += bytes.length;
      await this.#write(bytes);
    };
    // Pieces deflating off this thread, written in the order they were pushed.
    const inFlight: Promise<Uint8Array>[] = [];
    const push = async (piece: Uint8Array, final: boolean): Promise<void> => {
      if (!deflater.pushAsync) return output(deflater.push(piece, final));
      while (inFlight.length >= this.#parallel) await output(inFlight.shift()!);
      const out = deflater.pushAsync(piece, final);
      out.catch(() => {}); // awaited in turn; a failure before then must not go unhandled
      inFlight.push(out);
      if (final) while (inFlight.length > 0) await output(inFlight.shift()!);
    };
    const pieces = new ChunkQueue(DEFLATE_PIECE);
    for (let chunk = await pull(); chunk !== undefined; chunk = await pull()) {
      m.crc = crc32(chunk, m.crc);
      m.size += chunk.length;
      pieces.append(chunk);
      for (const piece of pieces.take()) await push(piece, false);
    }
    await push(pieces.take(true)[0] ?? new Uint8Array(0), true);
    checkDeflatedSize(m.size, m.compressedSize, m.name);
  }

  /** What a member's `compress` option comes to: at level 0, storing. */
  #compress(compress: ZipAddOptions["compress"]): boolean | "auto" {
    const c = compressOption(compress);
    return this.#level === 0 ? false : c;
  }

  #worthDeflating(m: Member, probe: Uint8Array): boolean {
    return codecBytes(this.#codec.deflate(probe, this.#level), m.name).length <= probe.length * AUTO_MAX_RATIO;
  }
}

function compressOption(compress: ZipAddOptions["compress"]): boolean | "auto" {
  const c = compress ?? "auto";
  if (c !== true && c !== false && c !== "auto") {
    throw new IbtError("BAD_ARGUMENT", `compress must be true, false or "auto", not ${String(c)}`);
  }
  return c;
}

function versionNeeded(m: Member, zip64: boolean): number {
  if (zip64) return VERSION_ZIP64;
  if (m.method === METHOD_ZSTD) return VERSION_ZSTD;
  return m.method === METHOD_DEFLATED ? VERSION_DEFLATED : VERSION_STORED;
}

/**
 * The local header. A streamed member (flag bit 3) has zeros for CRC and sizes; an in-memory
 * member of 4 GiB or more carries both sizes in a ZIP64 extra field, as APPNOTE 4.5.3 asks.
 */
function localHeader(m: Member): Uint8Array {
  const zip64 = m.size >= U32_MAX || m.compressedSize >= U32_MAX;
  const timestamp = timestampExtra(m.mtimeMs);
  const extraLength = (zip64 ? 20 : 0) + (timestamp?.length ?? 0);
  const { date, time } = dosDateTime(m.mtimeMs);
  const w = new RecordWriter(LOCAL_LEN + m.nameBytes.length + extraLength);
  w.u32(SIG_LOCAL).u16(versionNeeded(m, zip64)).u16(m.flags).u16(m.method).u16(time).u16(date);
  w.u32(m.crc).u32(zip64 ? U32_MAX : m.compressedSize).u32(zip64 ? U32_MAX : m.size);
  w.u16(m.nameBytes.length).u16(extraLength).raw(m.nameBytes);
  if (zip64) w.u16(EXTRA_ZIP64).u16(16).u64(m.size).u64(m.compressedSize);
  if (timestamp) w.raw(timestamp);
  return w.done();
}

/** The central directory record, with a ZIP64 extra field holding just the values that overflow. */
function centralRecord(m: Member): Uint8Array {
  const bigSize = m.size >= U32_MAX;
  const bigCompressed = m.compressedSize >= U32_MAX;
  const bigOffset = m.offset >= U32_MAX;
  const zip64Length = 8 * (+bigSize + +bigCompressed + +bigOffset);
  const timestamp = timestampExtra(m.mtimeMs);
  const extraLength = (zip64Length > 0 ? 4 + zip64Length : 0) + (timestamp?.length ?? 0);
  const { date, time } = dosDateTime(m.mtimeMs);
  const unixMode = (m.isDirectory ? S_IFDIR : S_IFREG) | m.mode;
  const w = new RecordWriter(CENTRAL_LEN + m.nameBytes.length + extraLength);
  w.u32(SIG_CENTRAL).u16(VERSION_MADE_BY).u16(versionNeeded(m, zip64Length > 0)).u16(m.flags).u16(m.method);
  w.u16(time).u16(date).u32(m.crc);
  w.u32(bigCompressed ? U32_MAX : m.compressedSize).u32(bigSize ? U32_MAX : m.size);
  w.u16(m.nameBytes.length).u16(extraLength).u16(0).u16(0).u16(0);
  w.u32(unixMode * 0x10000 + (m.isDirectory ? DOS_DIRECTORY : 0));
  w.u32(bigOffset ? U32_MAX : m.offset).raw(m.nameBytes);
  if (zip64Length > 0) {
    w.u16(EXTRA_ZIP64).u16(zip64Length);
    if (bigSize) w.u64(m.size);
    if (bigCompressed) w.u64(m.compressedSize);
    if (bigOffset) w.u64(m.offset);
  }
  if (timestamp) w.raw(timestamp);
  return w.done();
}
