/**
 * LaterMember: a deflated ZIP member whose data comes in pieces while other members are
 * written, and which is added after them (ZipWriter.later / addLater). An archive's manifest is
 * one: it grows by a change at a time as the changes' data is written, and goes last.
 *
 * Each piece is deflated as it comes, by the codec's `deflateIncremental`, so what is held until
 * the member is written is its deflated bytes, a fraction of the data; and they are exactly what
 * deflating the data whole gives, so the member is byte for byte the one `ZipWriter.add` writes
 * for the data joined with `compress: true`. A codec without that form (fflate's streamed output
 * differs from its whole one) has the pieces kept, copied into large chunks, and deflated whole
 * at the end, as `add` would.
 *
 * With a `LaterSpill` (and an incremental codec), the deflated bytes past the spill's `keep` go
 * to it as they are made, and are read back from it when the member is written: what the member
 * holds is then bounded by `keep` plus a chunk, however large the data grows (a backup of a
 * million files has a manifest of about 55 MB deflated). The bytes written are the same.
 *
 * One piece deflates while the caller makes the next: `push` returns once the previous piece is
 * done, so at most one piece is in flight and its failure surfaces from the next call.
 *
 * Asked for zstd (`LaterZstd`), the member keeps its data as it comes while it stays within
 * `max` (and within the spill's `keep`, so that a spill still bounds what it holds), and
 * compresses it whole at the end into one frame (ZIP method 93). zstd has no form that takes the
 * data in pieces and still gives one frame with its content size, which readers need. Past that
 * the member turns to deflate, the data so far first, and is then what it would have been
 * without zstd.
 */
import { IbtError } from "../errors.js";
import { ChunkQueue, concatBytes } from "../bytes.js";
import { crc32 } from "./crc32.js";
import { checkZstdSize, codecBytes, type DeflateCodec, type DeflateIncremental } from "./deflate.js";

/** Chunks the deflated bytes (or the kept pieces) are gathered in. */
const CHUNK = 1024 * 1024;
/** The smallest chunk, with a spill that keeps less than CHUNK: what goes to it at a time. */
const MIN_SPILL_CHUNK = 4096;

/** Where a later member's deflated bytes wait once it has made more than it keeps in memory. */
export interface LaterSpill {
  /** Deflated bytes the member keeps in memory; past that, whole chunks go to `write`. */
  readonly keep: number;
  /** Keeps `pieces`, the member's next deflated bytes, until `read`. */
  write(pieces: Uint8Array[]): Promise<void>;
  /** Everything written, in the order written. Called at most once, after the last `write`. */
  read(): AsyncIterable<Uint8Array>;
  /**
   * Lets go of everything written. Called once, when the member is written or dropped, even after
   * a failure; it MUST NOT reject (what it cannot remove is the owner's to clean up later).
   */
  dispose(): Promise<void>;
}

/** zstd for a later member: `compress` makes one whole frame; data past `max` bytes is deflated instead. */
export interface LaterZstd {
  readonly max: number;
  compress(data: Uint8Array): Uint8Array | Promise<Uint8Array>;
}

/**
 * The most data a later member asked for zstd keeps before it turns to deflate: a manifest of
 * about 15,000 changes. A reader decodes such a member whole.
 */
export const LATER_ZSTD_MAX = 4 * 1024 * 1024;

/** What a LaterMember holds once its data has ended. */
export interface LaterData {
  crc: number;
  size: number;
  /** How many compressed bytes there are (0 for empty data). */
  compressedSize: number;
  /** Whether they are one zstd frame rather than deflate. */
  zstd: boolean;
  /** The compressed bytes, in order: when some were spilled, read back from the spill first, then those kept. */
  deflated: Uint8Array[] | AsyncIterable<Uint8Array>;
}

export class LaterMember {
  #crc = 0;
  #size = 0;
  #state: "open" | "finished" | "disposed" = "open";
  readonly #incremental: DeflateIncremental | undefined;
  /** The data, kept when the codec has no incremental form. */
  readonly #kept: ChunkQueue | undefined;
  /** The deflated bytes made and not spilled, with an incremental codec. */
  readonly #out: ChunkQueue;
  #spilled = 0;
  /** CRC-32 of the bytes spilled, to check them when they come back. */
  #spilledCrc = 0;
  readonly #spill: LaterSpill | undefined;
  #spillDisposed = false;
  #codecDisposed = false;
  #inFlight: Promise<void> = Promise.resolve();
  /** The data, kept while it may still be compressed with zstd, up to #rawMax bytes. */
  #raw: ChunkQueue | undefined;
  readonly #rawMax: number;

  constructor(
    readonly name: string,
    private readonly codec: DeflateCodec,
    private readonly level: number,
    spill?: LaterSpill,
    private readonly zstd?: LaterZstd,
  ) {
    this.#incremental = codec.deflateIncremental?.(level);
    this.#kept = this.#incremental ? undefined : new ChunkQueue(CHUNK);
    this.#spill = this.#incremental ? spill : undefined;
    this.#out = new ChunkQueue(this.#spill ? Math.min(CHUNK, Math.max(MIN_SPILL_CHUNK, this.#spill.keep)) : CHUNK);
    this.#raw = zstd ? new ChunkQueue(CHUNK) : undefined;
    this.#rawMax = zstd ? Math.min(zstd.max, this.#spill ? this.#spill.keep : Infinity) : 0;
  }

  /** Appends `piece` to the member's data. The caller may reuse `piece` once the returned promise settles. */
  async push(piece: Uint8Array): Promise<void> {
    this.#open();
    await this.#inFlight;
    this.#crc = crc32(piece, this.#crc);
    this.#size += piece.length;
    if (this.#raw) {
      if (this.#size <= this.#rawMax) return this.#raw.append(piece);
      // Past what zstd takes here: deflate from now on, the data so far first.
      const before = this.#raw.take(true);
      this.#raw = undefined;
      for (const p of before) await this.#deflate(p);
    }
    await this.#deflate(piece);
  }

  async #deflate(piece: Uint8Array): Promise<void> {
    if (!this.#incremental) return this.#kept!.append(piece);
    await this.#inFlight;
    await this.#gather();
    // The codec may hold `piece` until its promise settles, and the caller may reuse it now.
    const pushed = this.#incremental.push(piece.slice());
    pushed.catch(() => {}); // awaited by the next call; a failure before then must not go unhandled
    this.#inFlight = pushed;
  }

  /** Ends the data: its CRC, size and deflated bytes. Called once, by ZipWriter.addLater. */
  async finish(): Promise<LaterData> {
    this.#open();
    this.#state = "finished";
    await this.#inFlight;
    if (this.#raw) {
      const data = concatBytes(this.#raw.take(true));
      this.#raw = undefined;
      if (data.length === 0) return { crc: this.#crc, size: 0, compressedSize: 0, zstd: false, deflated: [] };
      const frame = codecBytes(await this.zstd!.compress(data), this.name);
      checkZstdSize(data.length, frame.length, this.name);
      return { crc: this.#crc, size: this.#size, compressedSize: frame.length, zstd: true, deflated: [frame] };
    }
    const tail = this.#size === 0 ? [] : await this.#deflated();
    const spilled = this.#spilled > 0 ? this.#readSpilled() : undefined;
    return {
      crc: this.#crc,
      size: this.#size,
      compressedSize: this.#spilled + tail.reduce((n, c) => n + c.length, 0),
      zstd: false,
      deflated: spilled
        ? (async function* () {
            yield* spilled;
            yield* tail;
          })()
        : tail,
    };
  }

  /**
   * Lets go of what the member holds: before it is written, when it will not be; after, what the
   * spill still keeps. Safe to call at any time and more than once.
   */
  async dispose(): Promise<void> {
    if (this.#state === "open") {
      this.#state = "disposed";
      this.#inFlight.catch(() => {});
      this.#kept?.take(true);
      this.#raw?.take(true);
      this.#out.take(true);
    }
    if (this.#incremental && !this.#codecDisposed) {
      this.#codecDisposed = true;
      this.#incremental.dispose();
    }
    if (this.#spill && !this.#spillDisposed) {
      this.#spillDisposed = true;
      await this.#spill.dispose();
    }
  }

  /** Moves the codec's output into the kept chunks, and whole chunks past `keep` to the spill. */
  async #gather(): Promise<void> {
    for (const chunk of this.#incremental!.take()) this.#out.append(codecBytes(chunk, this.name));
    if (!this.#spill || this.#out.length <= this.#spill.keep || this.#out.readyLength === 0) return;
    const ready = this.#out.take(false);
    await this.#spill.write(ready);
    for (const c of ready) {
      this.#spilledCrc = crc32(c, this.#spilledCrc);
      this.#spilled += c.length;
    }
  }

  /** The spilled bytes as they come back, refused (CORRUPT) unless they are the bytes spilled. */
  async *#readSpilled(): AsyncGenerator<Uint8Array> {
    let crc = 0;
    let length = 0;
    for await (const piece of this.#spill!.read()) {
      crc = crc32(piece, crc);
      length += piece.length;
      if (length > this.#spilled) break;
      yield piece;
    }
    if (length !== this.#spilled || crc !== this.#spilledCrc) {
      throw new IbtError("CORRUPT", `${this.name}: the deflated bytes kept aside came back changed`, { path: this.name });
    }
  }

  async #deflated(): Promise<Uint8Array[]> {
    if (this.#incremental) {
      await this.#gather();
      for (const chunk of await this.#incremental.finish()) this.#out.append(codecBytes(chunk, this.name));
      return this.#out.take(true);
    }
    const data = concatBytes(this.#kept!.take(true));
    const deflateAsync = this.codec.deflateAsync;
    const out = deflateAsync ? await deflateAsync.call(this.codec, data, this.level) : this.codec.deflate(data, this.level);
    return [codecBytes(out, this.name)];
  }

  #open(): void {
    if (this.#state !== "open") throw new IbtError("BAD_ARGUMENT", `${this.name}: the member was already ${this.#state === "finished" ? "written" : "disposed"}`, { path: this.name });
  }
}
