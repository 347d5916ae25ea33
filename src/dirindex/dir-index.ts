/**
 * DirIndex: what a directory tree holds, as of one walk (walker.ts), its entries in path order
 * and its identity; and the same walk streamed to a consumer that does not hold them.
 */
import { IbtError } from "../errors.js";
import type { FsAdapter } from "../fs/types.js";
import { comparePaths, type IndexEntry } from "./entry.js";
import { IgnoreRules } from "./ignore-rules.js";
import { IdentityHasher, indexIdentity } from "./identity.js";
import { BoundedQueue } from "../queue.js";
import { resolve, type DirIndexOptions, type PreviousTree } from "./walk-options.js";
import { Walker } from "./walker.js";

export { INDEX_SIGNATURES, signsFile, type DirIndexOptions, type IndexProgress, type IndexSignatureOptions, type PreviousTree } from "./walk-options.js";

export interface IndexStats {
  files: number;
  dirs: number;
  symlinks: number;
  /** Total size of the files. */
  bytes: number;
  /** Files whose content was read (the rest were reused by the quick check). */
  filesRead: number;
  bytesRead: number;
  /** Paths skipped by `onError`. */
  skipped: string[];
}

export class DirIndex implements PreviousTree {
  /** Entries in path order. */
  readonly sortedEntries: readonly IndexEntry[];
  /** BLAKE2b-256 of the entries' content and metadata: the identity a diff names as its base. */
  readonly id: string;
  readonly stats: IndexStats;
  /** Entries by path, made on first need: a backup reads most indexes only in order. */
  private byPath: Map<string, IndexEntry> | undefined;
  /** Files by inode, made on first need. */
  private byInode: Map<number, IndexEntry> | undefined;

  private constructor(sorted: readonly IndexEntry[], id: string, stats?: Partial<IndexStats>) {
    this.sortedEntries = sorted;
    this.id = id;
    const counts = { files: 0, dirs: 0, symlinks: 0, bytes: 0 };
    for (const e of sorted) count(counts, e);
    this.stats = { ...counts, filesRead: 0, bytesRead: 0, skipped: [], ...stats };
  }

  /** Entries by path, iterated in path order. */
  get entries(): ReadonlyMap<string, IndexEntry> {
    if (!this.byPath) {
      this.byPath = new Map();
      for (const e of this.sortedEntries) this.byPath.set(e.path, e);
    }
    return this.byPath;
  }

  /** An index of the given entries (any order; paths must be unique). */
  static async fromEntries(entries: Iterable<IndexEntry>, stats?: Partial<IndexStats>): Promise<DirIndex> {
    const sorted = [...entries].sort((a, b) => comparePaths(a.path, b.path));
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i]!.path === sorted[i - 1]!.path) throw new IbtError("CORRUPT", `duplicate path in index: ${sorted[i]!.path}`, { path: sorted[i]!.path });
    }
    return new DirIndex(sorted, await indexIdentity(sorted), stats);
  }

  /**
   * An index of entries already in path order, as a loaded index file holds them: the order is
   * checked (CORRUPT if a path is not greater than the one before), not sorted again.
   */
  static async fromSorted(sorted: readonly IndexEntry[], stats?: Partial<IndexStats>): Promise<DirIndex> {
    for (let i = 1; i < sorted.length; i++) {
      const path = sorted[i]!.path;
      if (!(sorted[i - 1]!.path < path)) throw new IbtError("CORRUPT", `index paths out of order or repeated at ${JSON.stringify(path)}`, { path });
    }
    return new DirIndex(sorted, await indexIdentity(sorted), stats);
  }

  get(path: string): IndexEntry | undefined {
    return this.entries.get(path);
  }

  fileWithInode(ino: number): IndexEntry | undefined {
    if (!this.byInode) {
      this.byInode = new Map();
      // Hard links share an inode: the first in path order answers.
      for (const e of this.sortedEntries) if (e.type === "file" && e.ino !== undefined && !this.byInode.has(e.ino)) this.byInode.set(e.ino, e);
    }
    return this.byInode.get(ino);
  }

  /** Walks `fs` from its root and indexes what is not excluded. */
  static async build(fs: FsAdapter, options: DirIndexOptions = {}): Promise<DirIndex> {
    const o = resolve(options);
    const walker = new Walker(fs, o);
    await walker.walk(IgnoreRules.root(o.exclude));
    return DirIndex.fromSorted(walker.entries, { filesRead: walker.filesRead, bytesRead: walker.bytesRead, skipped: walker.skipped });
  }

  /**
   * Walks `fs` as `build` does, handing each entry on in path order as soon as the walk is past
   * it, so a consumer (a full backup's archive) works beside the walk; the entries are not kept.
   * The walk keeps at most a bounded number of entries ahead of the consumer. `done` settles
   * once the walk has ended, with what `build` puts in an index's stats besides its entries, or
   * with the error that aborted the walk; leaving the loop over `entries` early stops the walk.
   * With a cache, the consumer lets each path's bytes go as it takes it, unless it says
   * `released: false`: then the cache fills once and files it cannot hold are read again later.
   */
  static stream(fs: FsAdapter, options: DirIndexOptions = {}, stream: { released?: boolean } = {}): IndexStream {
    const o = resolve(options);
    const queue = new BoundedQueue<IndexEntry>(STREAM_QUEUE);
    const walker = new Walker(fs, o, queue, stream.released ?? true);
    const walked = walker.walk(IgnoreRules.root(o.exclude));
    walked.then(
      () => queue.end(),
      (e: unknown) => queue.end(e),
    );
    const done = walked.then((): WalkStats => ({ filesRead: walker.filesRead, bytesRead: walker.bytesRead, skipped: walker.skipped }));
    done.catch(() => {}); // the entries' loop reports the same failure
    let stopped = false;
    const stop = (): void => {
      if (queue.ended) return;
      stopped = true;
      walker.stop();
    };
    return {
      entries: queue.items(stop),
      done,
      stop,
      get stopped() {
        return stopped;
      },
    };
  }
}

/** Entries a streamed walk hands on that may wait for the consumer before the walk pauses. */
const STREAM_QUEUE = 256;

/** What a walk reports besides its entries. */
export type WalkStats = Pick<IndexStats, "filesRead" | "bytesRead" | "skipped">;

/** What `DirIndex.stream` returns. */
export interface IndexStream {
  /** Every entry of the index, in path order; throws what aborted the walk. Iterate it once. */
  entries: AsyncIterable<IndexEntry>;
  /** Once the walk has ended; rejects with what aborted it. */
  done: Promise<WalkStats>;
  /** Ends a walk still going: its consumer has failed. Leaving the loop over `entries` early does the same. */
  stop(): void;
  /** Whether the walk ended because `stop` was called (then `done` rejects with ABORTED). */
  readonly stopped: boolean;
}

/**
 * What an index says of its entries, its identity and counts, made from entries in path order
 * one at a time without holding them (a streamed walk's consumer).
 */
export class IndexSummary {
  private readonly stats = { files: 0, dirs: 0, symlinks: 0, bytes: 0 };
  entries = 0;

  private constructor(private readonly identity: IdentityHasher) {}

  static async create(): Promise<IndexSummary> {
    return new IndexSummary(await IdentityHasher.create());
  }

  add(e: IndexEntry): void {
    this.entries++;
    count(this.stats, e);
    this.identity.add(e);
  }

  /** The identity and stats of the index of every entry added. Ends the summary. */
  finish(walk: WalkStats): { id: string; stats: IndexStats } {
    try {
      return { id: this.identity.digest(), stats: { ...this.stats, ...walk } };
    } finally {
      this.dispose();
    }
  }

  /** Gives the hasher back, finished or not; once. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.identity.dispose();
  }

  private disposed = false;
}

/** Adds one entry to an index's counts. */
function count(stats: { files: number; dirs: number; symlinks: number; bytes: number }, e: IndexEntry): void {
  if (e.type === "file") {
    stats.files++;
    stats.bytes += e.size;
  } else if (e.type === "dir") stats.dirs++;
  else stats.symlinks++;
}
