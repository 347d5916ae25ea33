/**
 * ParentTree: a backup's parent index read as a stream, in path order, never held whole. What a
 * backup needs of its parent is read in one forward pass beside its walk: the quick check asks
 * for entries by path as the walk goes (`get`, after `fill` where `ready` says so), and the walk's
 * entries are compared with the parent's as they are handed on (`alongside`). Only the entries
 * between those two positions are held, so a million-file parent costs what a thousand do. A
 * pass that needs the whole tree again (`entries`) reads it again from its source.
 *
 * The source is read as batches of entries, each with its stored record where the source has it
 * as stored (an entry a delta changed has none: it is encoded when it must be compared).
 */
import { IbtError } from "../errors.js";
import type { ByteSource } from "../bytes.js";
import type { IndexEntry } from "./entry.js";
import { ChunkWriter, writeEntry } from "./index-encoder.js";
import { indexEntryBatches } from "./index-delta.js";
import { DeltaApplier, type TreeChange } from "./delta-apply.js";
import type { PreviousTree } from "./walk-options.js";

/** Entries in path order, each with its record as stored (undefined where it was made anew). */
export interface RecordBatch {
  entries: IndexEntry[];
  records: (Uint8Array | undefined)[];
}

/** What `alongside` answers for a walked entry the parent stores alike. */
export const ALIKE = true;

export class ParentTree implements PreviousTree {
  private entries_: IndexEntry[] = [];
  private records: (Uint8Array | undefined)[] = [];
  /** The first entry still held: everything before it has been passed by the trailing reader. */
  private head = 0;
  /** Where the last `get` ended. */
  private cursor = 0;
  private reader: AsyncIterator<RecordBatch> | undefined;
  private ended = false;
  private reading: Promise<void> | undefined;
  /** Why the source stopped, once it failed: every later read fails the same way. */
  private failure: { error: unknown } | undefined;
  /** Writers of a walked entry's record and of a parent entry's that has none stored. */
  private readonly w = new ChunkWriter();
  private readonly w2 = new ChunkWriter();
  /** The most entries held at once (for tests and benchmarks). */
  peakHeld = 0;

  /** `open` starts a new pass over the tree, which the source checks whole as it ends. */
  constructor(
    readonly id: string,
    private readonly open: () => AsyncIterable<RecordBatch>,
  ) {}

  /** Every entry in path order, in batches, read anew from the source. */
  batches(): AsyncIterable<RecordBatch> {
    return this.open();
  }

  /** Every entry in path order, read anew from the source. */
  async *entries(): AsyncGenerator<IndexEntry> {
    for await (const batch of this.open()) yield* batch.entries;
  }

  /** Whether `get(path)` can answer now; if not, `fill(path)` first. */
  ready(path: string): boolean {
    return this.ended || (this.entries_.length > this.head && this.entries_[this.entries_.length - 1]!.path >= path);
  }

  /** Reads on until `path` is held or passed. */
  async fill(path: string): Promise<void> {
    while (!this.ready(path)) await this.more();
  }

  get(path: string): IndexEntry | undefined {
    if (!this.ready(path)) throw new IbtError("INTERNAL", `the parent index was asked for ${JSON.stringify(path)} before it was read that far`, { path });
    let i = Math.max(this.cursor, this.head);
    // A walk asks in path order; an earlier path is looked for from the first entry held.
    if (i > this.head && this.entries_[i - 1]!.path >= path) i = this.head;
    while (i < this.entries_.length && this.entries_[i]!.path < path) i++;
    this.cursor = i;
    const e = this.entries_[i];
    return e?.path === path ? e : undefined;
  }

  /** Files that moved are not looked for: the parent is not held whole, so a moved file is read again. */
  fileWithInode(): undefined {
    return undefined;
  }

  /**
   * Goes through the parent beside entries given in path order, as a walk of the same tree hands
   * them on: `take` answers ALIKE when the parent stores the entry alike (the same record, byte
   * for byte), else the parent's entry at its path if there is one; before that it hands every
   * parent entry no given entry had to `gone`. `end` hands on the rest. Entries passed are let go.
   */
  alongside(gone: (old: IndexEntry) => void): { take(e: IndexEntry): Promise<IndexEntry | typeof ALIKE | undefined>; end(): Promise<void> } {
    return {
      take: async (e) => {
        if (!this.ready(e.path)) await this.fill(e.path);
        const mine = recordOf(this.w, e);
        for (; this.head < this.entries_.length; this.dropHead()) {
          const old = this.entries_[this.head]!;
          if (old.path > e.path) return undefined;
          if (old.path === e.path) {
            const alike = sameBytes(mine, this.records[this.head] ?? recordOf(this.w2, old));
            this.dropHead();
            return alike ? ALIKE : old;
          }
          gone(old);
        }
        return undefined;
      },
      end: async () => {
        for (;;) {
          for (; this.head < this.entries_.length; this.dropHead()) gone(this.entries_[this.head]!);
          if (this.ended) return;
          await this.more();
        }
      },
    };
  }

  /** For a walk with no `alongside`: lets go of every entry up to `path`, which the walk has passed. */
  passed(path: string): void {
    while (this.head < this.entries_.length && this.entries_[this.head]!.path <= path) this.dropHead();
  }

  /** Reads the rest, so that the source checks the tree whole. */
  async finish(): Promise<void> {
    for (;;) {
      this.entries_ = [];
      this.records = [];
      this.head = this.cursor = 0;
      if (this.ended) return;
      await this.more();
    }
  }

  /** Ends the pass `get` and `alongside` read, if it has not ended: its source lets go of what it holds. */
  async close(): Promise<void> {
    const reader = this.reader;
    this.ended = true;
    this.entries_ = [];
    this.records = [];
    this.head = this.cursor = 0;
    await this.reading?.catch(() => {});
    await reader?.return?.(undefined);
  }

  private dropHead(): void {
    this.head++;
    if (this.head >= 4096 && this.head * 2 >= this.entries_.length) {
      this.entries_ = this.entries_.slice(this.head);
      this.records = this.records.slice(this.head);
      this.cursor = Math.max(0, this.cursor - this.head);
      this.head = 0;
    }
  }

  /** Reads the next batch; concurrent callers share one read. */
  private more(): Promise<void> {
    return (this.reading ??= (async () => {
      try {
        if (this.failure) throw this.failure.error;
        this.reader ??= this.open()[Symbol.asyncIterator]();
        const r = await this.reader.next().catch((e: unknown) => {
          this.failure = { error: e };
          throw e;
        });
        if (r.done) {
          this.ended = true;
          return;
        }
        for (let k = 0; k < r.value.entries.length; k++) {
          this.entries_.push(r.value.entries[k]!);
          this.records.push(r.value.records[k]);
        }
        this.peakHeld = Math.max(this.peakHeld, this.entries_.length - this.head);
      } finally {
        this.reading = undefined;
      }
    })());
  }
}

/** An entry's record as one array (a view of the writer's, valid until its next use). */
function recordOf(w: ChunkWriter, e: IndexEntry): Uint8Array {
  writeEntry(w, e);
  const pieces = w.take();
  if (pieces.length === 1) return pieces[0]!;
  let n = 0;
  for (const p of pieces) n += p.length;
  const out = new Uint8Array(n);
  n = 0;
  for (const p of pieces) {
    out.set(p, n);
    n += p.length;
  }
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

/**
 * An index file read as it comes, checked as `decodeIndexEntries` checks it, with `deltas`
 * applied one after the other on the way: batches of the resulting entries, each with its record
 * as the file stores it where no delta changed it. `failed(k, e)` rethrows a failure of delta k
 * (one that does not fit the tree before it) as the caller names it; it is reported once the
 * whole file has been read and checked, so that damage to the file is not taken for a delta
 * that does not fit it.
 */
export async function* appliedBatches(source: ByteSource, deltas: readonly TreeChange[], failed: (k: number, e: unknown) => never = (_, e) => { throw e; }): AsyncGenerator<RecordBatch> {
  const appliers = deltas.map((d) => new DeltaApplier(d));
  let base: IndexEntry | undefined;
  let record: Uint8Array | undefined;
  const records: Uint8Array[] = [];
  let out: RecordBatch = { entries: [], records: [] };
  const sinks: ((e: IndexEntry) => void)[] = [];
  sinks[appliers.length] = (e) => {
    out.entries.push(e);
    out.records.push(e === base ? record : undefined);
  };
  // The first delta to fail, noted where it failed (a later one's failure passes through the
  // earlier ones' sinks).
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
    if (out.entries.length > 0 && !failure) {
      yield out;
      out = { entries: [], records: [] };
    }
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
  if (out.entries.length > 0) yield out;
}
