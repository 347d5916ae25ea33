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
import { indexIdentity } from "./identity.js";
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
    let files = 0;
    let dirs = 0;
    let symlinks = 0;
    let bytes = 0;
    for (const e of sorted) {
      if (e.type === "file") {
        files++;
        bytes += e.size;
      } else if (e.type === "dir") dirs++;
      else symlinks++;
    }
    this.stats = { files, dirs, symlinks, bytes, filesRead: 0, bytesRead: 0, skipped: [], ...stats };
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
    return DirIndex.fromEntries(walker.entries, { filesRead: walker.filesRead, bytesRead: walker.bytesRead, skipped: walker.skipped });
  }
}

/** File-system calls in flight at once while indexing: one per lane. */
const CONCURRENCY = 16;

/** Files up to this size are read in one call where the adapter can (`wholeFileReader`). */
const WHOLE_FILE_LIMIT = 64 * 1024;

/** A listed directory whose entries are still being visited. */
interface Frame {
  readonly dir: string;
  /** Sorted; each entry is cleared once visited, so what it held can be freed as the walk goes. */
  readonly listing: (ListedEntry | undefined)[];
  readonly inside: IgnoreRules;
  next: number;
}

/** One piece of I/O a lane runs: a directory's listing, or one file or symlink. */
type Task = () => Promise<unknown>;

/**
 * The walk. CONCURRENCY lanes each take the next piece of I/O, run it, and come back for more;
 * what a lane takes is found by advancing a cursor through the listing on top of a stack of
 * listed directories (depth first, so the stack stays as short as the tree is deep). Work is
 * made only as a lane is free to run it: what is pending at any moment is the lanes' tasks, the
 * lanes waiting for a directory to be listed, and the stack of listings, never a promise or a
 * queued closure per entry of the tree. Entries that need no I/O (directories' own entries,
 * files the quick check vouches for, excluded names) are recorded as the cursor passes them.
 */
class Walker {
  readonly entries: IndexEntry[] = [];
  filesRead = 0;
  bytesRead = 0;
  readonly skipped: string[] = [];
  private readonly frames: Frame[] = [];
  /** Tasks being run, at most one per lane. */
  private busy = 0;
  /** Lanes with nothing to take until a running task lists a directory (at most CONCURRENCY). */
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
  ) {
    this.readWhole = wholeFileReader(fs);
  }

  /** Walks the tree from the root; rejects with the error that aborted it, once no task is running. */
  async walk(rules: IgnoreRules): Promise<void> {
    this.busy = 1; // the root's listing, which the first lane starts with
    const lanes = [this.lane(() => this.list("", rules))];
    for (let i = 1; i < CONCURRENCY; i++) lanes.push(this.lane(undefined));
    await Promise.all(lanes);
    if (this.failure) throw this.failure.error;
  }

  private async lane(first: Task | undefined): Promise<void> {
    let task = first;
    for (;;) {
      if (task) {
        try {
          await task();
        } catch (e) {
          this.failure ??= { error: e };
        } finally {
          this.busy--;
          this.wake(); // a listing may have given the idle lanes work, or this was the last task
        }
      }
      const pause = this.breather.breathe();
      if (pause) await pause;
      task = this.failure ? undefined : this.take();
      if (task) {
        this.busy++;
        continue;
      }
      if (this.failure || this.busy === 0) {
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

  /** The next piece of I/O, recording on the way every entry that needs none. */
  private take(): Task | undefined {
    for (;;) {
      const frame = this.frames[this.frames.length - 1];
      if (!frame) return undefined;
      if (frame.next === frame.listing.length) {
        this.frames.pop();
        continue;
      }
      const at = frame.next++;
      const { name, stat, error } = frame.listing[at]!;
      frame.listing[at] = undefined;
      if (frame.dir === "" && name.startsWith(STAGING_PREFIX)) continue; // never part of a tree
      const task = this.visit(joinPath(frame.dir, name), stat, error, frame.inside);
      if (task || this.failure) return task;
    }
  }

  /** Lists a directory, reads its ignore files, and puts its entries on the stack. */
  private async list(dir: string, rules: IgnoreRules): Promise<void> {
    // One call per directory for its names and their metadata (see FsAdapter.listStat).
    const listing = (await this.guard(dir, () => listWithStats(this.fs, dir))) ?? [];
    listing.sort((a, b) => comparePaths(a.name, b.name));
    const texts: string[] = [];
    for (const ignoreName of this.o.ignoreFiles) {
      const listed = listing.find((e) => e.name === ignoreName);
      if (listed?.stat?.type !== "file") continue;
      const path = joinPath(dir, ignoreName);
      const bytes = await this.guard(path, () => collect(this.fs.readStream(path)));
      if (bytes) texts.push(new TextDecoder().decode(bytes));
    }
    const inside = rules.child(dir, texts);
    if (listing.length > 0) this.frames.push({ dir, listing, inside, next: 0 });
  }

  /**
   * Records one listed entry, or returns the I/O that will. A tree of many small files is bound
   * by the latency of each call, not by bandwidth, hence the lanes; the index sorts its
   * entries, so the order in which they complete does not matter.
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
      this.add(path, { path, type: "dir", size: 0, mtimeMs: ms(stat.mtimeMs), mode: stat.mode, ...changeInfo(stat) });
      return () => this.list(path, inside);
    }
    if (stat.type === "symlink") return () => this.guard(path, () => this.symlink(path, stat));
    const old = this.o.force ? undefined : this.reusable(path, stat);
    if (old) {
      this.add(path, reusedEntry(path, stat, old, this.o.signatures !== undefined));
      return undefined;
    }
    return () => this.guard(path, async () => this.add(path, await this.file(path, stat)));
  }

  private async symlink(path: string, st: FsStat): Promise<void> {
    const target = await this.fs.readlink(path);
    const hasher = await Hasher.create();
    let hash: string;
    try {
      hash = toHex(hasher.update(new TextEncoder().encode(target)).digest());
    } finally {
      hasher.dispose();
    }
    this.add(path, { path, type: "symlink", size: st.size, mtimeMs: ms(st.mtimeMs), mode: st.mode, hash, target, ...changeInfo(st) });
  }

  private add(path: string, entry: IndexEntry): void {
    this.entries.push(entry);
    this.o.onProgress?.({ path, entries: this.entries.length, bytesRead: this.bytesRead });
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
