/**
 * PackedIndex: an index held as its entries' stored records (index-format.ts) in a few large
 * buffers, each entry made into an object only when it is asked for. A backup keeps its parent's
 * tree this way while it walks: about a third of the memory the same entries take as objects,
 * which is what a million-file tree's previous index costs otherwise.
 *
 * Entries are read in path order (`sortedEntries`, any number of times), by path (`get`: quick
 * when asked in path order, as a walk asks), and files by inode (`fileWithInode`: a table built
 * on first need). The identity and counts are those a DirIndex of the same entries has.
 */
import { IbtError } from "../errors.js";
import type { IndexEntry } from "./entry.js";
import { IdentityHasher } from "./identity.js";
import { ChunkWriter, writeEntry } from "./index-encoder.js";
import { entryAt, fileInodeAt, pathAt } from "./index-decoder.js";
import { indexEntryBatches } from "./index-delta.js";
import { DeltaApplier, type TreeChange } from "./delta-apply.js";
import type { ByteSource } from "../bytes.js";
import type { IndexStats } from "./dir-index.js";
import type { PreviousTree } from "./walk-options.js";

/** Bytes of each buffer the records are copied into (a larger record gets one of its own). */
const BLOCK = 4 * 1024 * 1024;
/** A record's place: its buffer times this, plus its offset in the buffer. */
const SPAN = 2 ** 32;

export class PackedIndex implements PreviousTree {
  /** Where each entry's record starts, in path order. */
  private readonly places: Float64Array;
  /** Files' places by inode, sorted by inode; made on first need. */
  private inodes: { ino: Float64Array; place: Float64Array } | undefined;
  /** Where the last `get` ended: the next path asked for is most likely at or after it. */
  private cursor = 0;
  /** A path that every entry before `cursor` sorts at or before (the last one asked for), when there is one. */
  private cursorPath: string | undefined;

  private constructor(
    private readonly blocks: readonly Uint8Array[],
    places: Float64Array,
    readonly count: number,
    readonly id: string,
    readonly stats: Pick<IndexStats, "files" | "dirs" | "symlinks" | "bytes">,
  ) {
    this.places = places;
  }

  /** Packs entries given in path order (CORRUPT if a path is not greater than the one before). */
  static async from(entries: Iterable<IndexEntry> | AsyncIterable<IndexEntry>): Promise<PackedIndex> {
    const packer = new Packer(await IdentityHasher.create());
    try {
      for await (const e of entries) packer.add(e);
      const p = packer.finish();
      return new PackedIndex(p.blocks, p.places, p.count, p.id, p.stats);
    } finally {
      packer.dispose();
    }
  }

  /**
   * Packs an index file as it is read, checked as `decodeIndexEntries` checks it, with `deltas`
   * applied to it one after the other on the way. The records the deltas leave alone stay where
   * they were read, in the chunks of the file (which nothing writes to again): neither copied nor
   * written again; the rest are written into blocks of their own. `failed(k, e)` rethrows a
   * failure of delta k (a delta that does not fit the tree before it) as the caller names it.
   */
  static async fromFile(source: ByteSource, deltas: readonly TreeChange[] = [], failed: (k: number, e: unknown) => never = (_, e) => { throw e; }): Promise<PackedIndex> {
    const packer = new Packer(await IdentityHasher.create());
    try {
      const appliers = deltas.map((d) => new DeltaApplier(d));
      let base: IndexEntry | undefined;
      let record: Uint8Array | undefined;
      const records: Uint8Array[] = [];
      const sinks: ((e: IndexEntry) => void)[] = [];
      sinks[appliers.length] = (e) => {
        if (e === base) {
          packer.count(e);
          packer.keepView(record!);
        } else packer.add(e);
      };
      // The first delta to fail, noted where it failed (a later one's failure passes through the
      // earlier ones' sinks): it is reported only once the whole file has been read and checked,
      // so that damage to the file is not taken for a delta that does not fit it.
      let failure: { k: number; error: unknown } | undefined;
      for (let k = appliers.length - 1; k >= 0; k--) {
        const applier = appliers[k]!;
        const next = sinks[k + 1]!;
        sinks[k] = (e) => {
          try {
            applier.push(e, next);
          } catch (x) {
            failure ??= { k, error: x };
            throw x;
          }
        };
      }
      for await (const batch of indexEntryBatches(source, true, (r) => records.push(r))) {
        for (let i = 0; i < batch.length && !failure; i++) {
          base = batch[i]!;
          record = records[i]!;
          try {
            sinks[0]!(base);
          } catch (x) {
            if (!failure) throw x;
          }
        }
        records.length = 0;
      }
      base = record = undefined;
      for (let k = 0; k < appliers.length && !failure; k++) {
        try {
          appliers[k]!.end(sinks[k + 1]!);
        } catch (x) {
          failure ??= { k, error: x };
        }
      }
      if (failure) failed(failure.k, failure.error);
      const p = packer.finish();
      return new PackedIndex(p.blocks, p.places, p.count, p.id, p.stats);
    } finally {
      packer.dispose();
    }
  }

  /** Every entry in path order, made anew on each iteration. */
  get sortedEntries(): Iterable<IndexEntry> {
    return { [Symbol.iterator]: () => this.iterate() };
  }

  private *iterate(): Generator<IndexEntry> {
    for (let i = 0; i < this.count; i++) yield this.at(i);
  }

  get(path: string): IndexEntry | undefined {
    const i = this.seek(path);
    if (i >= this.count) return undefined;
    const e = this.at(i);
    return e.path === path ? e : undefined;
  }

  fileWithInode(ino: number): IndexEntry | undefined {
    const table = (this.inodes ??= this.inodeTable());
    let lo = 0;
    let hi = table.ino.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (table.ino[mid]! < ino) lo = mid + 1;
      else hi = mid;
    }
    return lo < table.ino.length && table.ino[lo] === ino ? this.entryAtPlace(table.place[lo]!) : undefined;
  }

  /**
   * Goes through the index beside entries given in path order, as a walk of the same tree makes
   * them: `take` says whether the index stores an entry alike at the entry's path (the same
   * record, byte for byte), after handing every path before it that no given entry had to
   * `gone`; `end` hands on the paths after the last. An entry stored alike is compared as its
   * encoded record, so the index's entry is never made into an object.
   */
  alongside(gone: (path: string) => void): { take(e: IndexEntry): boolean; end(): void } {
    let i = 0;
    const w = new ChunkWriter();
    return {
      take: (e) => {
        writeEntry(w, e);
        const record = w.take();
        while (i < this.count) {
          const place = this.places[i]!;
          if (sameBytesAt(record, this.blocks[Math.floor(place / SPAN)]!, place % SPAN)) {
            i++;
            return true;
          }
          const path = this.pathOf(i);
          if (path > e.path) return false;
          i++;
          if (path === e.path) return false;
          gone(path);
        }
        return false;
      },
      end: () => {
        for (; i < this.count; i++) gone(this.pathOf(i));
      },
    };
  }

  /**
   * The first entry whose path is not less than `path`: galloping on from where the last answer
   * was, when `path` lies after it (a walk asks in path order), else searching from the start.
   */
  private seek(path: string): number {
    let lo = this.cursorPath !== undefined && this.cursorPath < path ? this.cursor : 0;
    let step = 1;
    let probe = lo;
    for (; probe < this.count; probe = lo + step, step *= 2) {
      const p = this.pathOf(probe);
      if (p === path) return this.found(probe, p);
      if (p > path) break;
      lo = probe + 1;
    }
    let hi = Math.min(probe, this.count);
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const p = this.pathOf(mid);
      if (p === path) return this.found(mid, p);
      if (p < path) lo = mid + 1;
      else hi = mid;
    }
    // Every entry before `lo` sorts before `path`, so `path` bounds them as well as a found one would.
    this.cursor = lo;
    this.cursorPath = path;
    return lo;
  }

  /** Notes where a path was found, so that the next search for a later path starts after it. */
  private found(i: number, path: string): number {
    this.cursor = i + 1;
    this.cursorPath = path;
    return i;
  }

  private inodeTable(): { ino: Float64Array; place: Float64Array } {
    const found: number[] = [];
    const inoOf = new Float64Array(this.count);
    for (let i = 0; i < this.count; i++) {
      const place = this.places[i]!;
      const ino = fileInodeAt(this.blocks[Math.floor(place / SPAN)]!, place % SPAN);
      if (ino === undefined) continue;
      inoOf[i] = ino;
      found.push(i);
    }
    found.sort((a, b) => inoOf[a]! - inoOf[b]! || a - b);
    const ino = new Float64Array(found.length);
    const place = new Float64Array(found.length);
    found.forEach((i, k) => {
      ino[k] = inoOf[i]!;
      place[k] = this.places[i]!;
    });
    return { ino, place };
  }

  private at(i: number): IndexEntry {
    return this.entryAtPlace(this.places[i]!);
  }

  private entryAtPlace(place: number): IndexEntry {
    return entryAt(this.blocks[Math.floor(place / SPAN)]!, place % SPAN);
  }

  private pathOf(i: number): string {
    const place = this.places[i]!;
    return pathAt(this.blocks[Math.floor(place / SPAN)]!, place % SPAN);
  }
}

/** Keeps entries' records in blocks as they come, summing the identity and counts. */
class Packer {
  private readonly blocks: Uint8Array[] = [];
  /** The block records are copied into, and its place among the blocks (-1 before the first). */
  private block = new Uint8Array(0);
  private blockAt = -1;
  private used = 0;
  private places = new Float64Array(1024);
  private records = 0;
  private last: string | undefined;
  private readonly stats = { files: 0, dirs: 0, symlinks: 0, bytes: 0 };
  private readonly w = new ChunkWriter();

  constructor(private readonly identity: IdentityHasher) {}

  add(e: IndexEntry): void {
    this.count(e);
    writeEntry(this.w, e);
    this.keep(this.w.take());
  }

  /** Checks the order of one more entry and adds it to the identity and counts; its record is kept apart. */
  count(e: IndexEntry): void {
    if (this.last !== undefined && !(this.last < e.path)) throw new IbtError("CORRUPT", `index paths out of order or repeated at ${JSON.stringify(e.path)}`, { path: e.path });
    this.last = e.path;
    this.identity.add(e);
    if (e.type === "file") {
      this.stats.files++;
      this.stats.bytes += e.size;
    } else if (e.type === "dir") this.stats.dirs++;
    else this.stats.symlinks++;
  }

  /** Copies one entry's record, given in pieces, into the blocks. */
  keep(pieces: readonly Uint8Array[]): void {
    let n = 0;
    for (const p of pieces) n += p.length;
    if (this.blockAt < 0 || this.used + n > this.block.length) {
      this.block = new Uint8Array(Math.max(BLOCK, n));
      this.blockAt = this.blocks.push(this.block) - 1;
      this.used = 0;
    }
    this.place(this.blockAt * SPAN + this.used);
    for (const p of pieces) {
      this.block.set(p, this.used);
      this.used += p.length;
    }
  }

  /** Keeps one entry's record where it lies: the buffer it is a view of becomes a block. */
  keepView(record: Uint8Array): void {
    if (record.buffer !== this.viewed) {
      this.viewed = record.buffer;
      this.viewedAt = this.blocks.push(new Uint8Array(record.buffer)) - 1;
    }
    this.place(this.viewedAt * SPAN + record.byteOffset);
  }

  /** The buffer records were last kept in as views, and its block. */
  private viewed: ArrayBufferLike | undefined;
  private viewedAt = -1;

  private place(at: number): void {
    if (this.records === this.places.length) {
      const grown = new Float64Array(this.places.length * 2);
      grown.set(this.places);
      this.places = grown;
    }
    this.places[this.records++] = at;
  }

  /** What the index is made of, the last block and the places trimmed to what they hold. */
  finish(): { blocks: Uint8Array[]; places: Float64Array; count: number; id: string; stats: PackedIndex["stats"] } {
    if (this.blockAt >= 0) this.blocks[this.blockAt] = this.block.slice(0, this.used);
    return { blocks: this.blocks, places: this.places.slice(0, this.records), count: this.records, id: this.identity.digest(), stats: { ...this.stats } };
  }

  dispose(): void {
    this.identity.dispose();
  }
}

/** Whether `buf` holds the pieces of a record, one after the other, from `at` on. */
function sameBytesAt(pieces: readonly Uint8Array[], buf: Uint8Array, at: number): boolean {
  for (const p of pieces) {
    if (at + p.length > buf.length) return false;
    for (let k = 0; k < p.length; k++) if (p[k] !== buf[at + k]) return false;
    at += p.length;
  }
  return true;
}

