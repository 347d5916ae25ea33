/**
 * The walk that makes an index: through an FsAdapter, in path order, reading each directory's
 * ignore files before its entries (see ignore-rules.ts). Every file is read once: the same
 * chunks feed its content hash and its librsync signature. Given the previous index, a file
 * whose size, mtime and, where the adapter reports them, ctime and inode are unchanged keeps its
 * old hash and signature without being read (the quick check); `force` distrusts it and reads
 * everything. Size and mtime alone are not trusted where more is available, because tools that
 * unpack archives often give every file the same mtime.
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
import { collect, toHex } from "../bytes.js";
import type { BoundedQueue } from "../queue.js";
import { STAGING_PREFIX, comparePaths, type IndexEntry } from "./entry.js";
import type { IgnoreRules } from "./ignore-rules.js";
import { signsFile, type Resolved } from "./walk-options.js";
import { FileDigest, changeInfo, fileEntry, ms, reusedEntry, usable } from "./file-entry.js";

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
export class Walker {
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

  /**
   * `queue`: a streamed walk's entries go there, none are kept. `released`: its consumer lets
   * each file's cached bytes go as it takes the file, so a file the cache could keep waits for
   * room rather than be read twice; a consumer that keeps them until the walk has ended (an
   * incremental backup's) says false, and files past what the cache holds are read again later.
   */
  constructor(
    private readonly fs: FsAdapter,
    private readonly o: Resolved,
    private readonly queue?: BoundedQueue<IndexEntry>,
    private readonly released = queue !== undefined,
  ) {
    this.readWhole = wholeFileReader(fs);
    // Lanes held back by a full queue go on once the consumer has taken half of it, not after
    // every item: waking every waiting lane per item taken costs more than the item.
    if (queue) queue.onRoom = () => queue.size <= queue.limit / 2 && this.wake();
    if (released && o.cache) o.cache.onRelease = () => this.wake();
  }

  /** Walks the tree from the root; rejects with the error that aborted it, once no task is running. */
  async walk(rules: IgnoreRules): Promise<void> {
    this.busy = 1; // the root's listing, which the first lane starts with
    const lanes = [this.lane(() => this.list("", rules))];
    for (let i = 1; i < CONCURRENCY; i++) lanes.push(this.lane(undefined));
    await Promise.all(lanes);
    if (this.failure) throw this.failure.error;
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
      try {
        task = this.failure ? undefined : this.take();
      } catch (e) {
        // An entry recorded on the way (its onProgress, say) failed: the walk stops, every lane
        // returns once its task has ended, and only then does `walk` reject.
        this.failure ??= { error: e };
        task = undefined;
      }
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
    if (!this.released || cache === undefined || st?.type !== "file" || !cache.couldTake(st.size)) return false;
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
    const previous = this.o.force ? undefined : this.o.previous;
    // A previous tree read as a stream may have to read on before it can answer.
    if (previous?.ready?.(path) === false)
      return async () => {
        await previous.fill!(path);
        await this.checked(place, path, stat)?.();
      };
    return this.checked(place, path, stat);
  }

  /** Records a file the quick check vouches for, or returns the read that indexes it. */
  private checked(place: number, path: string, stat: FsStat): Task | undefined {
    const old = this.o.force ? undefined : this.reusable(path, stat);
    if (old) {
      this.finish(place, reusedEntry(path, stat, old, this.o.signatures !== undefined));
      return undefined;
    }
    const promised = this.released && this.o.cache?.couldTake(stat.size) ? stat.size : 0;
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
    // The file here, changed: any other entry with its inode has its size and times.
    if (st.ino === undefined || st.ctimeMs === undefined || (here?.type === "file" && here.ino === st.ino)) return undefined;
    const moved = previous.fileWithInode(st.ino);
    return moved?.ctimeMs !== undefined && usable(moved, st, needSignature) ? moved : undefined;
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
