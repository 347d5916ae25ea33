/**
 * DirIndex: what a directory tree holds, as of one walk.
 *
 * The walk goes through an FsAdapter, in sorted order, reading each directory's ignore files
 * before its entries (see ignore-rules.ts). Every file is read once: the same chunks feed its
 * content hash and its librsync signature. Given the previous index, a file whose size, mtime
 * and, where the adapter reports them, ctime and inode are unchanged keeps its old hash and
 * signature without being read (the quick check); `force` distrusts it and reads everything.
 * Size and mtime alone are not trusted where more is available, because tools that unpack
 * archives often give every file the same mtime.
 *
 * A file that changes while it is read (its size or mtime differs before and after) is an
 * error (CHANGED), handed to `onError` like any other per-path failure, which decides between
 * skipping the path and aborting the walk.
 */
import { Breather } from "../breather.js";
import { IbtError } from "../errors.js";
import type { FsAdapter, FsStat, ListedEntry } from "../fs/types.js";
import { checkPath, joinPath } from "../fs/paths.js";
import { listWithStats, wholeFileReader, type ReadWhole } from "../fs/list-stat.js";
import { Hasher } from "../rsync/hashes.js";
import { SignatureJob } from "../rsync/signature.js";
import type { SignatureOptions } from "../rsync/format.js";
import { collect, concatBytes, toHex } from "../bytes.js";
import { STAGING_PREFIX, comparePaths, type IndexEntry } from "./entry.js";
import { IgnoreRules } from "./ignore-rules.js";
import { IdentityHasher, indexIdentity } from "./identity.js";
import { BoundedQueue } from "../queue.js";
import type { ContentCache } from "./content-cache.js";

export interface DirIndexOptions {
  /** Exclude patterns in .gitignore syntax, relative to the root (weakest rules). */
  exclude?: readonly string[];
  /** Names of the per-directory ignore files. */
  ignoreFiles?: readonly string[];
  /** The previous index of the same tree: unchanged files reuse its hashes and signatures. */
  previous?: DirIndex;
  /** Read every file even when the quick check says it is unchanged. */
  force?: boolean;
  /** Keep librsync signatures of files (true: INDEX_SIGNATURES), with these options, or not (false). */
  signatures?: boolean | IndexSignatureOptions;
  /** Called after each file, directory or symlink is indexed. */
  onProgress?: (progress: IndexProgress) => void;
  /** Decides what a failure on one path does: "skip" the path or "abort" the walk. */
  onError?: (error: IbtError, path: string) => "skip" | "abort";
  /** Keeps the bytes of the files read for a DiffData that follows (content-cache.ts): read once, not twice. */
  cache?: ContentCache;
}

export interface IndexProgress {
  path: string;
  entries: number;
  /** Bytes read from files so far (reused files are not read). */
  bytesRead: number;
}

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

interface Resolved {
  exclude: readonly string[];
  ignoreFiles: readonly string[];
  previous: DirIndex | undefined;
  force: boolean;
  signatures: IndexSignatureOptions | undefined;
  onProgress: ((p: IndexProgress) => void) | undefined;
  onError: (e: IbtError, path: string) => "skip" | "abort";
  cache: ContentCache | undefined;
}

/** Signature options, and the smallest file that gets a signature at all. */
export interface IndexSignatureOptions extends SignatureOptions {
  /** Files shorter than this get no signature (and so no delta next time). Default 0. */
  minFileSize?: number;
}

/**
 * Signatures an index keeps by default: librsync's recommended block length but never under
 * 2 KiB, strong sums of 16 bytes instead of BLAKE2b's full 32, and none for files shorter than
 * one block. An index is mostly signatures, stored (as a delta) with every backup.
 *
 * - Strong sums: 16 bytes make an index little more than half the size 32 would. With 128 bits
 *   a chance false block match has a probability of about 2^-128 per comparison, and there is
 *   no known way to make one on purpose short of a second preimage of BLAKE2b-128; every file is
 *   also checked against its whole BLAKE2b-256 when a diff is applied.
 * - Block length and the smallest file signed were chosen by the bytes a repository stores,
 *   archives and indexes together, over release series of real packages (bench/README.md):
 *   shorter blocks make deltas of edited files smaller but cost more in every index than they
 *   save, and a file of one block can only match whole, when it needs no delta at all.
 *
 * rdiff reads such signatures like any other.
 */
export const INDEX_SIGNATURES: IndexSignatureOptions = Object.freeze({ strongLength: 16, minBlockLength: 2048, minFileSize: 2048 });

/** Whether a file of `size` bytes gets a signature under `options`. */
export function signsFile(options: IndexSignatureOptions | undefined, size: number): boolean {
  return options !== undefined && size >= (options.minFileSize ?? 0);
}

/** Every default in one place. */
function resolve(o: DirIndexOptions): Resolved {
  return {
    exclude: o.exclude ?? [],
    // .gitignore because trees already carry one; .ibtignore for backup-only exclusions.
    ignoreFiles: o.ignoreFiles ?? [".gitignore", ".ibtignore"],
    previous: o.previous,
    force: o.force ?? false,
    // Signatures are what make the next backup a delta: keep them unless told otherwise.
    signatures: o.signatures === false ? undefined : o.signatures === true || o.signatures === undefined ? INDEX_SIGNATURES : o.signatures,
    onProgress: o.onProgress,
    // A backup that silently leaves files out is worse than one that stops.
    onError: o.onError ?? (() => "abort"),
    cache: o.cache,
  };
}


export class DirIndex {
  /** Entries in path order. */
  readonly sortedEntries: readonly IndexEntry[];
  /** BLAKE2b-256 of the entries' content and metadata: the identity a diff names as its base. */
  readonly id: string;
  readonly stats: IndexStats;
  /** Entries by path, made on first need: a backup reads most indexes only in order. */
  private byPath: Map<string, IndexEntry> | undefined;

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

  /** Walks `fs` from its root and indexes what is not excluded. */
  static async build(fs: FsAdapter, options: DirIndexOptions = {}): Promise<DirIndex> {
    const o = resolve(options);
    const walker = new Walker(fs, o);
    await walker.walk(IgnoreRules.root(o.exclude));
    return walker.index();
  }

  /**
   * Walks `fs` as `build` does, handing each entry on in path order as soon as the walk is past
   * it, so a consumer (a full backup's archive) works beside the walk; the entries are not kept.
   * The walk keeps at most a bounded number of entries ahead of the consumer. `done` settles
   * once the walk has ended, with what `build` puts in an index's stats besides its entries, or
   * with the error that aborted the walk; leaving the loop over `entries` early stops the walk.
   */
  static stream(fs: FsAdapter, options: DirIndexOptions = {}): IndexStream {
    const o = resolve(options);
    const queue = new BoundedQueue<IndexEntry>(STREAM_QUEUE);
    const walker = new Walker(fs, o, queue);
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

/** File-system calls in flight at once while indexing: one per lane. */
const CONCURRENCY = 16;

/** Files up to this size are read in one call where the adapter can (`wholeFileReader`). */
const WHOLE_FILE_LIMIT = 64 * 1024;

/**
 * Entries the walk may have started or finished ahead of the first one not yet handed on: the
 * bound on what waits to be put in path order behind a slow read.
 */
const WINDOW = 1024;

/**
 * One place in a listing: an entry, or (`descend`) the point in path order where the entries of
 * the subdirectory of that name come: after its siblings that sort before `name + "/"`.
 */
interface Item {
  readonly name: string;
  readonly stat?: FsStat;
  readonly error?: IbtError;
  readonly descend?: true;
}

/** A listed directory whose entries are still being visited. */
interface Frame {
  readonly dir: string;
  /** In path order; each item is cleared once visited, so what it held can be freed as the walk goes. */
  readonly listing: (Item | undefined)[];
  readonly inside: IgnoreRules;
  next: number;
}

/** One piece of I/O a lane runs: a directory's listing, or one file or symlink. */
type Task = () => Promise<unknown>;

/** What `take` answers when the next piece of work must wait: for a listing, or for room. */
const WAIT = "wait";

/**
 * The walk. CONCURRENCY lanes each take the next piece of I/O, run it, and come back for more;
 * what a lane takes is found by advancing a cursor through the listing on top of a stack of
 * listed directories, in path order (depth first, so the stack stays as short as the tree is
 * deep). Work is made only as a lane is free to run it: what is pending at any moment is the
 * lanes' tasks, the lanes waiting, the stack of listings and at most WINDOW entries waiting to be
 * handed on, never a promise or a queued closure per entry of the tree. Entries that need no I/O
 * (directories' own entries, files the quick check vouches for, excluded names) are recorded as
 * the cursor passes them.
 *
 * Every entry gets its place in path order when the cursor passes it, and is handed on (to the
 * index, and to the queue of a streamed walk) once every entry before it has been: lanes finish
 * in any order, the walk's output is in path order. A subdirectory is listed when the cursor
 * passes its entry and its entries are visited when the cursor reaches its place.
 */
class Walker {
  /** Entries in path order, as handed on; a streamed walk keeps none. */
  readonly entries: IndexEntry[] = [];
  private handedOn = 0;
  filesRead = 0;
  bytesRead = 0;
  readonly skipped: string[] = [];
  private readonly frames: Frame[] = [];
  /** Subdirectories listed or being listed whose place the cursor has not reached yet. */
  private readonly listed = new Map<string, Frame | "listing" | undefined>();
  /** Places given out, and handed on: entries between them are running or wait for an earlier one. */
  private placed = 0;
  private handed = 0;
  /** Finished entries (undefined: skipped) by place, waiting for an earlier one to finish. */
  private readonly finished = new Map<number, IndexEntry | undefined>();
  /** Tasks being run, at most one per lane. */
  private busy = 0;
  /** A streamed walk's bytes of files being read that the cache will keep: room promised to them. */
  private reading = 0;
  /** Lanes with nothing to take until a task ends or the consumer makes room (at most CONCURRENCY). */
  private idle: (() => void)[] = [];
  /** The error that aborts the walk, once `onError` (or a failure it cannot see) decided so. */
  private failure: { error: unknown } | undefined;
  /** Lets timers run now and then: on a synchronous adapter the walk never waits for a macrotask. */
  private readonly breather = new Breather();

  /** The adapter's one-call read of a small file, where it has one. */
  private readonly readWhole: ReadWhole | undefined;

  constructor(
    private readonly fs: FsAdapter,
    private readonly o: Resolved,
    private readonly queue?: BoundedQueue<IndexEntry>,
  ) {
    this.readWhole = wholeFileReader(fs);
    if (queue) {
      queue.onRoom = () => this.wake();
      if (o.cache) o.cache.onRelease = () => this.wake();
    }
  }

  /** Walks the tree from the root; rejects with the error that aborted it, once no task is running. */
  async walk(rules: IgnoreRules): Promise<void> {
    this.busy = 1; // the root's listing, which the first lane starts with
    const lanes = [this.lane(() => this.list("", rules))];
    for (let i = 1; i < CONCURRENCY; i++) lanes.push(this.lane(undefined));
    await Promise.all(lanes);
    if (this.failure) throw this.failure.error;
  }

  /** The index of what the walk handed on. */
  index(): Promise<DirIndex> {
    return DirIndex.fromSorted(this.entries, { filesRead: this.filesRead, bytesRead: this.bytesRead, skipped: this.skipped });
  }

  /** Ends the walk early: the consumer of a streamed walk has stopped. */
  stop(): void {
    this.failure ??= { error: new IbtError("ABORTED", "the walk was stopped") };
    this.wake();
  }

  private async lane(first: Task | undefined): Promise<void> {
    let task: Task | typeof WAIT | undefined = first;
    for (;;) {
      if (typeof task === "function") {
        try {
          await task();
        } catch (e) {
          this.failure ??= { error: e };
        } finally {
          this.busy--;
          this.wake(); // a listing or an entry may have given the idle lanes work, or this was the last task
        }
      }
      const pause = this.breather.breathe();
      if (pause) await pause;
      task = this.failure ? undefined : this.take();
      if (typeof task === "function") {
        this.busy++;
        continue;
      }
      if (this.failure || (task === undefined && this.busy === 0)) {
        this.wake(); // nothing left to take and nothing running that could list more: done
        return;
      }
      await new Promise<void>((r) => this.idle.push(r));
    }
  }

  private wake(): void {
    const idle = this.idle;
    if (idle.length === 0) return;
    this.idle = [];
    for (const r of idle) r();
  }

  /**
   * The next piece of I/O, recording on the way every entry that needs none; WAIT while the
   * next place is a subdirectory still being listed or the entries ahead have no room.
   */
  private take(): Task | typeof WAIT | undefined {
    for (;;) {
      if (this.placed - this.handed >= WINDOW || this.queue?.full) return WAIT;
      const frame = this.frames[this.frames.length - 1];
      if (!frame) return undefined;
      if (frame.next === frame.listing.length) {
        this.frames.pop();
        continue;
      }
      const item = frame.listing[frame.next]!;
      const path = joinPath(frame.dir, item.name);
      if (item.descend) {
        const listing = this.listed.get(path);
        if (listing === "listing") return WAIT;
        this.listed.delete(path);
        frame.listing[frame.next++] = undefined;
        if (listing) this.frames.push(listing);
        continue;
      }
      if (this.waitsForCache(item.stat)) return WAIT;
      frame.listing[frame.next++] = undefined;
      if (frame.dir === "" && item.name.startsWith(STAGING_PREFIX)) continue; // never part of a tree
      const task = this.visit(path, item.stat, item.error, frame.inside);
      if (task || this.failure) return task;
    }
  }

  /**
   * Whether a streamed walk should wait before reading this file: the consumer lets the cache's
   * bytes go as it takes them, so a file the cache could keep once it has room waits for room
   * rather than be read twice (a file the cache never keeps is read again whatever happens).
   */
  private waitsForCache(st: FsStat | undefined): boolean {
    const cache = this.o.cache;
    if (this.queue === undefined || cache === undefined || st?.type !== "file" || !cache.couldTake(st.size)) return false;
    const promised = cache.held + this.reading;
    return promised > 0 && promised + st.size > cache.limitBytes;
  }

  /** Lists a directory, reads its ignore files, and makes its frame: on the stack for the root, else kept for its place. */
  private async list(dir: string, rules: IgnoreRules): Promise<void> {
    let frame: Frame | undefined;
    try {
      // One call per directory for its names and their metadata (see FsAdapter.listStat).
      const listed = (await this.guard(dir, () => listWithStats(this.fs, dir))) ?? [];
      const texts: string[] = [];
      for (const ignoreName of this.o.ignoreFiles) {
        const entry = listed.find((e) => e.name === ignoreName);
        if (entry?.stat?.type !== "file") continue;
        const path = joinPath(dir, ignoreName);
        const bytes = await this.guard(path, () => collect(this.fs.readStream(path)));
        if (bytes) texts.push(new TextDecoder().decode(bytes));
      }
      const inside = rules.child(dir, texts);
      if (listed.length > 0) frame = { dir, listing: inPathOrder(listed), inside, next: 0 };
    } finally {
      if (dir === "") {
        if (frame) this.frames.push(frame);
      } else {
        this.listed.set(dir, frame);
      }
    }
  }

  /**
   * Records one listed entry, or returns the I/O that will. A tree of many small files is bound
   * by the latency of each call, not by bandwidth, hence the lanes; each entry keeps the place
   * the cursor gave it, so the order in which they complete does not matter.
   */
  private visit(path: string, st: FsStat | undefined, error: IbtError | undefined, inside: IgnoreRules): Task | undefined {
    // An entry that cannot be used is no error if the rules leave it out anyway (as a file: no
    // directory pattern can be meant for it), a socket in an excluded folder, say.
    if (error) {
      if (!ignoredAsFile(inside, path)) this.failNow(path, error);
      return undefined;
    }
    try {
      checkPath(path);
      if (inside.ignores(path, st!.type === "dir")) return undefined;
    } catch (e) {
      this.failNow(path, e);
      return undefined;
    }
    const stat = st!;
    if (stat.type === "dir") {
      this.finish(this.placed++, { path, type: "dir", size: 0, mtimeMs: ms(stat.mtimeMs), mode: stat.mode, ...changeInfo(stat) });
      this.listed.set(path, "listing");
      return () => this.list(path, inside);
    }
    const place = this.placed++;
    if (stat.type === "symlink") return async () => this.finish(place, await this.guard(path, () => this.symlink(path, stat)));
    const old = this.o.force ? undefined : this.reusable(path, stat);
    if (old) {
      this.finish(place, reusedEntry(path, stat, old, this.o.signatures !== undefined));
      return undefined;
    }
    const promised = this.queue && this.o.cache?.couldTake(stat.size) ? stat.size : 0;
    this.reading += promised;
    return async () => {
      try {
        this.finish(place, await this.guard(path, () => this.file(path, stat)));
      } finally {
        this.reading -= promised;
      }
    };
  }

  private async symlink(path: string, st: FsStat): Promise<IndexEntry> {
    const target = await this.fs.readlink(path);
    const hasher = await Hasher.create();
    let hash: string;
    try {
      hash = toHex(hasher.update(new TextEncoder().encode(target)).digest());
    } finally {
      hasher.dispose();
    }
    return { path, type: "symlink", size: st.size, mtimeMs: ms(st.mtimeMs), mode: st.mode, hash, target, ...changeInfo(st) };
  }

  /** The entry at `place` is done (undefined: skipped); hands on every entry whose turn has come. */
  private finish(place: number, entry: IndexEntry | undefined): void {
    if (place !== this.handed) {
      this.finished.set(place, entry);
      return;
    }
    let next: IndexEntry | undefined = entry;
    for (;;) {
      if (next) {
        if (this.queue) this.queue.push(next);
        else this.entries.push(next);
        this.o.onProgress?.({ path: next.path, entries: ++this.handedOn, bytesRead: this.bytesRead });
      }
      this.handed++;
      if (!this.finished.has(this.handed)) return;
      next = this.finished.get(this.handed);
      this.finished.delete(this.handed);
    }
  }

  /** Reads a file that the quick check could not vouch for: hash, signature, cached bytes. */
  private async file(path: string, st: FsStat): Promise<IndexEntry> {
    const digest = await FileDigest.create(signsFile(this.o.signatures, st.size) ? this.o.signatures : undefined, st.size);
    let n = 0;
    let after: FsStat;
    let kept: Uint8Array[] | undefined;
    const cache = this.o.cache;
    // The archive is made from the bytes the cache keeps, exactly the bytes hashed here however
    // the file changes meanwhile. A file it does not keep (too large, the cache full) is read
    // again for the archive, and a change in between fails with CHANGED.
    try {
      const keep = cache?.wants(st.size) ? ([] as Uint8Array[]) : undefined;
      if (st.size <= WHOLE_FILE_LIMIT && this.readWhole) {
        // One call for the bytes and the metadata after them: the same check as the stream's.
        const whole = await this.readWhole(path, st.size);
        digest.push(whole.data);
        keep?.push(whole.data);
        n = whole.data.length;
        after = whole.stat;
      } else {
        // Kept chunks are the adapter's fresh ones (no copy); the rest are only read here.
        for await (const chunk of this.fs.readStream(path, { transient: !keep })) {
          digest.push(chunk);
          keep?.push(chunk);
          n += chunk.length;
        }
        after = await this.fs.lstat(path);
      }
      kept = keep;
      digest.finish();
    } finally {
      digest.dispose();
    }
    if (n !== st.size || after.type !== "file" || after.size !== st.size || after.mtimeMs !== st.mtimeMs) {
      throw new IbtError("CHANGED", `${path} changed while it was read`, { path });
    }
    this.filesRead++;
    this.bytesRead += n;
    const hash = toHex(digest.hash!);
    if (kept) cache!.put(path, hash, kept);
    return fileEntry(path, st, hash, digest.signature);
  }

  /**
   * The previous entry whose hash and signature this file can reuse without being read: the
   * one at the same path if the quick check passes, else (a file moved with its directory) the
   * one with the same inode, size, mtime and change time. Renaming a directory leaves its
   * files' inodes and change times alone, so a moved subtree is not read again; a reused inode
   * would also need the same size and the same change time to the millisecond to be mistaken.
   */
  private reusable(path: string, st: FsStat): IndexEntry | undefined {
    const previous = this.o.previous;
    if (!previous) return undefined;
    const needSignature = signsFile(this.o.signatures, st.size);
    const here = previous.get(path);
    if (here !== undefined && usable(here, st, needSignature)) return here;
    if (st.ino === undefined || st.ctimeMs === undefined) return undefined;
    const moved = this.byInode().get(st.ino);
    return moved?.ctimeMs !== undefined && usable(moved, st, needSignature) ? moved : undefined;
  }

  private inodes: Map<number, IndexEntry> | undefined;

  /** Previous files by inode, built on first need (hard-linked files share one; any will do). */
  private byInode(): Map<number, IndexEntry> {
    if (!this.inodes) {
      this.inodes = new Map();
      for (const e of this.o.previous!.sortedEntries) if (e.type === "file" && e.ino !== undefined) this.inodes.set(e.ino, e);
    }
    return this.inodes;
  }

  /** Hands a failure found without I/O to onError, as `guard` does; an abort stops the lanes. */
  private failNow(path: string, error: unknown): void {
    try {
      this.decide(path, error);
    } catch (e) {
      this.failure ??= { error: e };
    }
  }

  /** Runs one path's work; a failure goes to onError, which skips the path or aborts. */
  private async guard<T>(path: string, work: () => Promise<T>): Promise<T | undefined> {
    try {
      return await work();
    } catch (e) {
      this.decide(path, e);
      return undefined;
    }
  }

  /** Asks onError about one path's failure: returns if it is skipped, throws the error if not. */
  private decide(path: string, e: unknown): void {
    const err = e instanceof IbtError ? e : new IbtError("IO", `${path}: ${e instanceof Error ? e.message : String(e)}`, { path, cause: e });
    if (this.o.onError(err, path) !== "skip") throw err;
    this.skipped.push(path);
  }
}

/** A file's content hash and, if asked for, its librsync signature, fed the same chunks. */
class FileDigest {
  hash: Uint8Array | undefined;
  signature: Uint8Array | undefined;
  private readonly sigParts: Uint8Array[] = [];

  private constructor(
    private readonly hasher: Hasher,
    private readonly sig: SignatureJob | undefined,
  ) {
    if (sig) sig.ondata = (d) => this.sigParts.push(d);
  }

  static async create(signatures: SignatureOptions | undefined, size: number): Promise<FileDigest> {
    const hasher = await Hasher.create();
    try {
      return new FileDigest(hasher, signatures ? await SignatureJob.create({ ...signatures, size }) : undefined);
    } catch (e) {
      hasher.dispose();
      throw e;
    }
  }

  push(chunk: Uint8Array): void {
    this.hasher.update(chunk);
    this.sig?.push(chunk);
  }

  finish(): void {
    if (this.sig) {
      this.sig.push(new Uint8Array(0), true);
      // The index keeps the signature as long as it lives: a view of a larger output buffer
      // (what a small file's job hands out) would keep that whole buffer too.
      const sig = concatBytes(this.sigParts);
      this.signature = sig.byteLength === sig.buffer.byteLength ? sig : sig.slice();
    }
    this.hash = this.hasher.digest();
  }

  /** Gives the engine instances back, finished or not. */
  dispose(): void {
    this.hasher.dispose();
    this.sig?.dispose();
  }
}

/**
 * Times are kept in whole milliseconds. File systems record nanoseconds, but JavaScript can only
 * set times as a double of seconds, which cannot carry them: a restored file would never match
 * its index. Milliseconds survive the round trip exactly (after rounding), and the quick check
 * does not rest on mtime alone where change times and inodes exist.
 */
function ms(t: number): number {
  return Math.round(t);
}

/**
 * A directory's listing in the order its paths sort: each subdirectory's entries go where its
 * name followed by "/" sorts among its siblings (after "a.txt", before "a0" for a directory "a").
 */
function inPathOrder(listed: readonly ListedEntry[]): Item[] {
  const keyed: { key: string; item: Item }[] = [];
  for (const e of listed) {
    keyed.push({ key: e.name, item: e });
    if (e.stat?.type === "dir") keyed.push({ key: `${e.name}/`, item: { name: e.name, descend: true } });
  }
  keyed.sort((a, b) => comparePaths(a.key, b.key));
  return keyed.map((k) => k.item);
}

function ignoredAsFile(rules: IgnoreRules, path: string): boolean {
  try {
    return rules.ignores(path, false);
  } catch {
    return false; // a name the rules cannot even take is reported as what it is
  }
}

/**
 * The entry of a file the quick check vouched for: its metadata now, its old hash and signature.
 * Where that is the old entry field for field (a file untouched since the last backup, nearly
 * every file of most runs) it is the old entry itself, so the new index shares it with the
 * previous one instead of holding a copy.
 */
function reusedEntry(path: string, st: FsStat, old: IndexEntry, signatures: boolean): IndexEntry {
  if (
    old.path === path &&
    old.mtimeMs === ms(st.mtimeMs) &&
    old.mode === st.mode &&
    old.ctimeMs === (st.ctimeMs === undefined ? undefined : ms(st.ctimeMs)) &&
    old.ino === st.ino &&
    old.target === undefined &&
    (signatures || old.signature === undefined)
  ) {
    return old; // type, size and hash are the quick check's
  }
  return fileEntry(path, st, old.hash!, signatures ? old.signature : undefined);
}

/**
 * A file's entry. Where the adapter reports change time and inode (every POSIX file system) it
 * is one literal with every field, in the order a loaded index builds them: the commonest
 * entries then share one shape, and nothing is spread.
 */
function fileEntry(path: string, st: FsStat, hash: string, signature: Uint8Array | undefined): IndexEntry {
  if (st.ctimeMs !== undefined && st.ino !== undefined && signature !== undefined) {
    return { path, type: "file", size: st.size, mtimeMs: ms(st.mtimeMs), mode: st.mode, ctimeMs: ms(st.ctimeMs), ino: st.ino, hash, signature };
  }
  const entry: IndexEntry = { path, type: "file", size: st.size, mtimeMs: ms(st.mtimeMs), mode: st.mode, ...changeInfo(st), hash };
  if (signature !== undefined) entry.signature = signature;
  return entry;
}

function changeInfo(st: FsStat): { ctimeMs?: number; ino?: number } {
  const info: { ctimeMs?: number; ino?: number } = {};
  if (st.ctimeMs !== undefined) info.ctimeMs = ms(st.ctimeMs);
  if (st.ino !== undefined) info.ino = st.ino;
  return info;
}

/** A previous entry this file may take its hash (and signature, if needed) from. */
function usable(e: IndexEntry, st: FsStat, needSignature: boolean): boolean {
  return e.type === "file" && (e.signature !== undefined || !needSignature) && quickCheckPasses(e, st);
}

/** Size and mtime equal, and ctime and inode too wherever both sides have them. */
function quickCheckPasses(old: IndexEntry, st: FsStat): boolean {
  if (old.size !== st.size || old.mtimeMs !== ms(st.mtimeMs) || old.hash === undefined) return false;
  if (old.ctimeMs !== undefined && st.ctimeMs !== undefined && old.ctimeMs !== ms(st.ctimeMs)) return false;
  if (old.ino !== undefined && st.ino !== undefined && old.ino !== st.ino) return false;
  return true;
}
