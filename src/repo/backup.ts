/**
 * A backup: index the source, diff it against the latest snapshot's stored index, write the
 * archive and the new index, then the record that makes the snapshot exist.
 *
 * The first snapshot is full (a diff against the empty tree, so every file is stored whole);
 * later ones are incremental against the latest snapshot. A new full starts when asked, or when
 * the chain policy (chain.ts) says so: the incremental is written within a byte budget that
 * bounds what any restore has to read, and one that passes it is replaced by a full. The previous index is
 * still given to DirIndex for a full backup: its quick check saves re-reading unchanged files
 * whichever kind of archive they go into.
 *
 * The index is stored as a delta against the parent's (index-delta.ts) when the snapshot is
 * incremental and the parent's index is fewer than `fullIndexEvery` reads deep, else whole: so
 * an index costs about what changed, and loading any snapshot's tree reads a bounded number of
 * objects.
 *
 * The archive and index are hashed as they are written, and those hashes go into the record, so
 * `verify` can later check every byte. A failure before the record is written removes what was
 * written; a crash leaves it for the next writer's `removeLeftovers`. The archive is streamed
 * into the store as DiffData makes it, so a store holds only a bounded part of it in memory. A dry run takes no lock
 * and writes nothing: the archive is made into a counter, so `bytesStored` is what it would be.
 *
 * A backup known to be full before the walk (the first, a forced one, or a chain without room)
 * writes its archive as the walk goes (`fullAsWalked`); one that may extend the chain walks the
 * whole tree first, since whether it does depends on what the walk finds. That walk is streamed
 * beside the parent's tree, itself read from the store as a stream (`walkAgainst`, parent-tree.ts):
 * of the new tree it keeps only what differs from the parent's, with the parent's entries there,
 * and reads the parent again only for a pass that needs it whole (where created content already
 * is, a whole index, a full made of an incremental that passed its budget). No part of a backup
 * holds either tree whole.
 */
import { IbtError } from "../errors.js";
import type { FsAdapter } from "../fs/types.js";
import { DirIndex, IndexSummary, type DirIndexOptions } from "../dirindex/dir-index.js";
import type { IndexEntry } from "../dirindex/entry.js";
import { encodeEntries } from "../dirindex/index-file.js";
import { estimatedEntrySize, indexDeltaOf, type IndexDelta } from "../dirindex/index-delta.js";
import { appliedEntriesOf } from "../dirindex/delta-apply.js";
import type { ParentTree } from "../dirindex/parent-tree.js";
import { WalkChange } from "../dirindex/walk-change.js";
import { BoundedQueue } from "../queue.js";
import { createdContent, diffPaired, placeContent, type Change, type ContentPlaces, type Diff } from "../dirindex/diff-index.js";
import { ContentCache } from "../dirindex/content-cache.js";
import type { Store } from "../store/types.js";
import { DiffData, type DiffStream } from "../archive/diff-data.js";
import { archivePath, encodeRecord, indexPath, newId, recordPath } from "./layout.js";
import { ArchiveBudget, chainHasRoom, incrementalBudget } from "./chain.js";
import { chainOf, loadRecords, removeLeftovers, toSnapshot, type Snapshot, type SnapshotRecord, type StoredFile, type StoredIndex } from "./snapshot.js";
import { emptyTreeId, indexReads, parentTree } from "./stored.js";
import { RepositoryLock } from "./lock.js";
import { reporter, throwIfAborted, type Progress, type ResolvedOptions } from "./options.js";
import { archiveOptions, compressionLevel, record, settledBoth, writeArchive, writeIndex, writeTapped, type Compression, type Plan, type WholeTree } from "./backup-write.js";
import { deflatedIndex } from "./index-object.js";

export interface BackupOptions {
  /** Label stored in the snapshot. */
  source?: string;
  /** Force a full backup. */
  full?: boolean;
  /** .gitignore-style patterns (plus .gitignore/.ibtignore files, as DirIndex does). */
  exclude?: string[];
  /** Report what would be stored, write nothing; resolves to a Snapshot-shaped report with id ''. */
  dryRun?: boolean;
  /**
   * How this snapshot's archive compresses file data, named as restic names its modes: "auto"
   * (the default), "max", "fastest", or "off" (file data stored as it is; the manifest stays
   * deflated). Where the deflate codec has zstd (node:zlib from Node 22.15, Deno, Bun), files up
   * to 8 MiB and their deltas go into zstd groups of up to 8 MiB, at level 6, 19 and 3, and so
   * does a manifest of up to 4 MiB; larger files deflate at zlib's level 6, 9 and 1, as
   * everything does elsewhere. "deflate" is "auto" without zstd anywhere, for archives that
   * Info-ZIP unzip and readers older than zstd groups extract. What does not shrink is stored.
   * Snapshots made in any mode restore alike. The chain policy weighs an incremental against its
   * full's stored bytes, so a new mode takes its full effect from the next full.
   */
  compression?: Compression;
  onProgress?: (p: Progress) => void;
  /**
   * Decides what a failure on one path does while indexing: "skip" the path (the backup goes on
   * without it) or "abort" the backup. "continue" is an older spelling of "skip", still accepted.
   */
  onError?: (error: IbtError, path: string) => "skip" | "abort" | "continue";
  signal?: AbortSignal;
  /** Snapshot time; default now. */
  time?: Date;
}

/** What is known before the walk: the latest snapshot, its tree, and whether this backup is surely full. */
interface Start {
  records: SnapshotRecord[];
  parent: SnapshotRecord | undefined;
  /** The parent's tree, read as a stream: the quick check asks it for entries, and an incremental diffs against it. */
  previous: ParentTree | undefined;
  /** The parent's chain, when the backup may extend it. */
  chain: SnapshotRecord[] | undefined;
  full: boolean;
}

/** A plan made from the whole walk, before anything is written. */
interface Planned extends Plan {
  /** The new tree: the parent's with what the walk found changed. */
  now: WholeTree & Plan["now"];
  diff: Diff | DiffStream;
  cache: ContentCache;
  /** Bytes an incremental's archive may take before a full is written instead (chain.ts). */
  budget: number;
  /** The index delta against the parent's, when the new index is stored as one. */
  indexDelta: IndexDelta | undefined;
}

export async function backup(store: Store, ro: ResolvedOptions, source: FsAdapter, o: BackupOptions): Promise<Snapshot> {
  throwIfAborted(o.signal);
  compressionLevel(o.compression); // an unknown mode is refused before the lock is taken
  if (o.dryRun) return dryRun(store, ro, source, o);
  const lock = await RepositoryLock.acquire(store, "backup", ro.lock);
  let s: Start | undefined;
  try {
    const recordNames = await removeLeftovers(store, ro.lock);
    s = await start(store, ro, o, recordNames);
    throwIfAborted(o.signal);
    const id = newId();
    let committing = false;
    try {
      const [plan, archive, index] = s.full ? await fullAsWalked(store, ro, id, s, source, o) : await planned(store, ro, id, s, source, o);
      throwIfAborted(o.signal);
      const report = reporter(o.onProgress, "commit");
      // The records read at the start still stand: the lock keeps other writers out.
      const seq = (s.records.at(-1)?.seq ?? 0) + 1;
      const rec = record(plan, id, seq, o, archive, index);
      // The commit point: the snapshot exists once its record does.
      await lock.check();
      committing = true;
      await store.save(recordPath(id), await encodeRecord(rec)).catch(async (e: unknown) => {
        // A save that failed may still have taken effect (an answer lost after the store
        // applied it): if the record is there, the snapshot is whole and made.
        if (!(await store.stat(recordPath(id)).then(() => true, () => false))) throw e;
      });
      report(1, archive.size + index.size);
      return toSnapshot(rec);
    } catch (e) {
      // Once the record was being written, its data and index stay: a record that came into
      // being late must not point at nothing. If there is none, the next writer removes them.
      if (!committing) for (const name of [archivePath(id), indexPath(id)]) await store.remove(name).catch(() => {});
      throw e;
    }
  } finally {
    await s?.previous?.close();
    await lock.release();
  }
}

/** What a backup would store, with nothing written: its archive made into a counter. */
async function dryRun(store: Store, ro: ResolvedOptions, source: FsAdapter, o: BackupOptions): Promise<Snapshot> {
  const s = await start(store, ro, o);
  try {
    return await counted(ro, source, o, s);
  } finally {
    await s.previous?.close();
  }
}

async function counted(ro: ResolvedOptions, source: FsAdapter, o: BackupOptions, s: Start): Promise<Snapshot> {
  const count = async (diff: Diff | DiffStream, cache: ContentCache, budget: ArchiveBudget): Promise<number> => {
    let bytes = 0;
    await new DiffData(diff, archiveOptions(ro, source, cache, o)).write(async (chunk) => {
      budget.add(chunk.length);
      bytes += chunk.length;
    });
    return bytes;
  };
  let plan: Plan;
  let bytes: number;
  if (s.full) {
    const walk = await walkForFull(s, source, o);
    const counted = count(walk.diff, walk.cache, new ArchiveBudget(Infinity));
    const [a] = await Promise.allSettled([counted]);
    if (a.status === "rejected") throw await walk.cause(a);
    bytes = a.value;
    plan = await walk.plan;
  } else {
    let p = await makePlan(ro, source, o, s);
    const first = new ArchiveBudget(p.budget);
    bytes = await count(p.diff, p.cache, first).catch(async (e) => {
      if (!first.passed) throw e;
      p = await asFull(p);
      return count(p.diff, p.cache, new ArchiveBudget(p.budget));
    });
    plan = p;
  }
  return toSnapshot(record(plan, "", 0, o, { size: bytes, hash: "" }, { size: 0, hash: "", kind: "full" }));
}

/** `recordNames`: the listing of snapshots/ a lock holder already made, if any. */
async function start(store: Store, ro: ResolvedOptions, o: BackupOptions, recordNames?: readonly string[]): Promise<Start> {
  const { records } = await loadRecords(store, recordNames ? { names: recordNames } : {});
  const parent = records.at(-1);
  let previous: ParentTree | undefined;
  if (parent) {
    const explain = (e: unknown): never => {
      if (!(e instanceof IbtError) || e.message.startsWith(LATEST_UNREADABLE)) throw e;
      throw new IbtError(e.code, `${LATEST_UNREADABLE} (${e.message}); run verify, or back up with full: true (--full)`, { path: indexPath(parent.id), cause: e });
    };
    previous = await parentTree(store, parent, records, ro.inflate, explain).catch(explain);
  }
  let full = o.full === true || !parent;
  let chain: SnapshotRecord[] | undefined;
  if (!full) {
    try {
      chain = chainOf(records, parent!.id);
    } catch (e) {
      // A broken chain cannot be extended; a new full is the repair.
      if (!(e instanceof IbtError && e.code === "CORRUPT")) throw e;
      full = true;
    }
  }
  if (chain && !chainHasRoom(ro, chain)) full = true;
  return { records, parent, previous, chain: full ? undefined : chain, full };
}

const LATEST_UNREADABLE = "cannot read the latest snapshot's index";

/**
 * A backup that may extend the chain: the whole walk, the diff against the parent, then the
 * archive and the index. The index goes up while the archive is made, so neither waits for the
 * other's last request; both settle before anything is removed or the record is written. An
 * incremental that passes its budget is redone as a full, whole index included.
 */
async function planned(store: Store, ro: ResolvedOptions, id: string, s: Start, source: FsAdapter, o: BackupOptions): Promise<[Plan, StoredFile, StoredIndex]> {
  let plan = await makePlan(ro, source, o, s);
  throwIfAborted(o.signal);
  const written = (p: Planned, budget: ArchiveBudget): Promise<[StoredFile, StoredIndex]> =>
    settledBoth(writeArchive(store, ro, id, p.diff, p.cache, source, o, budget, () => p.changed), writeIndex(store, ro, id, p, p.indexDelta, o.signal));
  const budget = new ArchiveBudget(plan.budget);
  const [archive, index] = await written(plan, budget).catch(async (e) => {
    if (!budget.passed) throw e;
    plan = await asFull(plan);
    return written(plan, new ArchiveBudget(Infinity));
  });
  return [plan, archive, index];
}

async function makePlan(ro: ResolvedOptions, source: FsAdapter, o: BackupOptions, s: Start): Promise<Planned> {
  const cache = new ContentCache();
  const { records, parent, chain } = s;
  const previous = s.previous!;
  const walked = await walkAgainst(previous, source, walkOptions(s, cache, o));
  throwIfAborted(o.signal);
  let budget = incrementalBudget(ro, chain!, walked.stats.bytes);
  const full = budget <= 0;
  if (full) budget = Infinity;
  const { change } = walked;
  const now = { id: walked.id, stats: walked.stats, indexSize: walked.indexSize, entries: () => appliedEntriesOf(previous.entries(), change) };
  const diff = full ? await fullDiff(now) : await diffAgainst(previous, now.id, change);
  const changed = "target" in diff ? diff.changes.length : entryCount(now);
  reporter(o.onProgress, "diff")(changed, 0, { totalFiles: now.stats.files, totalBytes: now.stats.bytes });
  // A whole index with every full backup, and at least every `fullIndexEvery` snapshots.
  const indexDelta = !full && indexReads(records, parent!) < ro.fullIndexEvery ? indexDeltaOf(change.base, now.id, change) : undefined;
  return { parent, full, indexDelta, now, diff, changed, cache, budget };
}

function entryCount(tree: Plan["now"]): number {
  return tree.stats.files + tree.stats.dirs + tree.stats.symlinks;
}

/** The diff of a full backup made of a tree: every entry created, in path order. */
async function fullDiff(now: WholeTree & Plan["now"]): Promise<DiffStream> {
  const base = await emptyTreeId();
  async function* creates(): AsyncGenerator<Change> {
    for await (const entry of now.entries()) yield { kind: "create", path: entry.path, entry };
  }
  // Against the empty tree every entry is created, and no directory is left unchanged.
  return { base, changes: creates(), end: async () => ({ target: now.id, parents: [] }) };
}

/**
 * The diff from the parent's tree to the tree `change` makes of it, from what the walk kept of
 * the parent: the parent is read again only to find where content the change creates already is.
 */
async function diffAgainst(previous: ParentTree, target: string, change: WalkChange): Promise<Diff> {
  const changes: Change[] = [];
  const pairs = change.pairs();
  const places = await contentPlaces(previous, change, createdContent(pairs.pairs));
  const parents = diffPaired(
    () => {
      throw new IbtError("INTERNAL", "the parent tree is read as a stream");
    },
    (c) => changes.push(c),
    pairs,
    places,
  );
  return { base: previous.id, target, changes, parents };
}

/** Where the parent holds the `wanted` content, found in one more pass over it beside `change`. */
async function contentPlaces(previous: ParentTree, change: WalkChange, wanted: ReadonlySet<string>): Promise<ContentPlaces> {
  const places: ContentPlaces = { gone: new Map(), anywhere: new Map() };
  if (wanted.size === 0) return places;
  for await (const old of previous.entries()) placeContent(wanted, change.nowAt(old), old, places);
  return places;
}

/** What the walk of an incremental backup keeps: the change and what the diff needs of the parent, with the new tree's identity and size. */
interface Walked {
  change: WalkChange;
  id: string;
  stats: Plan["now"]["stats"];
  /** `estimatedSize` of the new tree's entries. */
  indexSize: number;
}

/**
 * The walk of a backup that may extend the chain, streamed and merged with the parent's tree as
 * it goes: what it keeps is what changed (walk-change.ts), with the new tree's identity and
 * counts, never the new tree's entries. Files the cache cannot hold wait for the archive to read
 * them again.
 */
async function walkAgainst(previous: ParentTree, source: FsAdapter, options: DirIndexOptions): Promise<Walked> {
  const summary = await IndexSummary.create();
  const stream = DirIndex.stream(source, options, { released: false });
  const change = new WalkChange(previous.id);
  let indexSize = 0;
  try {
    const beside = previous.alongside((old) => change.gone(old));
    let last: string | undefined;
    for await (const e of stream.entries) {
      // The tree is read as the parent with this change: its order is what that rests on.
      if (last !== undefined && !(last < e.path)) throw new IbtError("INTERNAL", `the walk handed on ${JSON.stringify(e.path)} out of path order`, { path: e.path });
      last = e.path;
      summary.add(e);
      indexSize += estimatedEntrySize(e);
      change.walked(e, await beside.take(e));
    }
    await beside.end();
    return { ...summary.finish(await stream.done), change, indexSize };
  } finally {
    summary.dispose();
  }
}

/** The plan made a full: its diff against the empty tree, a whole index, no budget. */
async function asFull(plan: Planned): Promise<Planned> {
  return { ...plan, full: true, indexDelta: undefined, diff: await fullDiff(plan.now), changed: entryCount(plan.now), budget: Infinity };
}

/**
 * A full backup made as the walk goes: each entry goes to the archive as soon as the walk is past
 * it, so a file's bytes wait in the cache for a moment rather than for the whole walk (read once,
 * not twice) and the archive is deflated while the walk reads on; the index is encoded and saved
 * from the same entries as they pass, so no part of the backup holds the whole tree. Archive and
 * index are byte for byte what a whole walk's plan would write.
 */
async function fullAsWalked(store: Store, ro: ResolvedOptions, id: string, s: Start, source: FsAdapter, o: BackupOptions): Promise<[Plan, StoredFile, StoredIndex]> {
  const feed = new BoundedQueue<IndexEntry>(INDEX_FEED);
  const walk = await walkForFull(s, source, o, feed);
  const indexed = writeTapped(store, indexPath(id), deflatedIndex(encodeEntries(feed.items()), ro.deflate), o.signal).then(
    (f): StoredIndex => ({ ...f, kind: "full" }),
    (e: unknown) => {
      feed.abandon(); // the save may have failed before its source took a single entry
      throw e;
    },
  );
  const archived = writeArchive(store, ro, id, walk.diff, walk.cache, source, o, new ArchiveBudget(Infinity), walk.changed).catch((e: unknown) => {
    feed.end(e); // the archive may have failed before it took a single entry
    throw e;
  });
  const [a, i] = await Promise.allSettled([archived, indexed]);
  if (a.status === "fulfilled" && i.status === "fulfilled") return [await walk.plan, a.value, i.value];
  throw await walk.cause(a, i);
}

/** Entries the archive has taken that may wait for the index's encoder. */
const INDEX_FEED = 256;

/** What a full backup's walk hands its archive as it goes, and the plan once it has ended. */
interface FullWalk {
  /** Every entry as a creation, in path order. */
  diff: DiffStream;
  cache: ContentCache;
  /** Once the archive has taken every entry. */
  plan: Promise<Plan>;
  /** How many changes there are, once the archive has taken every entry. */
  changed: () => number | undefined;
  /** The error a failed backup reports: the walk's own, else the first of archive and index to fail on its own. */
  cause: (archive: PromiseSettledResult<unknown>, index?: PromiseSettledResult<unknown>) => Promise<unknown>;
}

/** The walk of a full backup, its entries handed to the archive as creations and to `feed` (the index's encoder). */
async function walkForFull(s: Start, source: FsAdapter, o: BackupOptions, feed?: BoundedQueue<IndexEntry>): Promise<FullWalk> {
  const base = (await DirIndex.fromEntries([])).id;
  const cache = new ContentCache();
  const summary = await IndexSummary.create();
  const stream = DirIndex.stream(source, walkOptions(s, cache, o));
  let changed: number | undefined;
  let indexGone = false;
  let planned: (plan: Plan) => void = () => {};
  let failed: (e: unknown) => void = () => {};
  const plan = new Promise<Plan>((resolve, reject) => {
    planned = resolve;
    failed = reject;
  });
  plan.catch(() => {}); // `cause` reports it
  async function* creates(): AsyncGenerator<Change> {
    let error: unknown = new IbtError("ABORTED", "the archive stopped taking entries");
    try {
      for await (const entry of stream.entries) {
        summary.add(entry);
        s.previous?.passed(entry.path);
        if (feed) {
          await feed.room().catch((e: unknown) => {
            indexGone = true;
            throw e;
          });
          feed.push(entry);
        }
        yield { kind: "create", path: entry.path, entry };
      }
      const tree = summary.finish(await stream.done);
      // The parent lent the quick check its entries: it must be whole, as its source checks once read to the end.
      await s.previous?.finish();
      throwIfAborted(o.signal);
      reporter(o.onProgress, "diff")(summary.entries, 0, { totalFiles: tree.stats.files, totalBytes: tree.stats.bytes });
      changed = summary.entries;
      feed?.end();
      error = undefined;
      planned({ parent: s.parent, full: true, now: tree, changed });
    } catch (e) {
      error = e;
      throw e;
    } finally {
      if (error !== undefined) {
        summary.dispose();
        feed?.end(error);
        failed(error);
      }
    }
  }
  return {
    // Against the empty tree every entry is created, and no directory is left unchanged.
    diff: { base, changes: creates(), end: async () => ({ target: (await plan).now.id, parents: [] }) },
    cache,
    plan,
    changed: () => changed,
    cause: async (archive, index) => {
      stream.stop(); // the archive may have failed before it took every entry
      summary.dispose();
      const walkError = await stream.done.then(
        () => undefined,
        (w: unknown) => w,
      );
      // The archive's store may wrap what the walk threw; a walk this failure stopped has nothing to add.
      if (walkError !== undefined && !stream.stopped) return walkError;
      if (archive.status === "rejected" && !indexGone) return archive.reason;
      if (index?.status === "rejected") return index.reason;
      return archive.status === "rejected" ? archive.reason : new IbtError("INTERNAL", "a full backup failed without an error");
    },
  };
}

/** The walk's options: the previous tree for the quick check, the cache, progress and onError. */
function walkOptions(s: Start, cache: ContentCache, o: BackupOptions): DirIndexOptions {
  const indexing = reporter(o.onProgress, "index");
  const onError = o.onError;
  return {
    exclude: o.exclude ?? [],
    ...(s.previous ? { previous: s.previous } : {}),
    cache,
    onProgress: (p) => {
      throwIfAborted(o.signal);
      indexing(p.entries, p.bytesRead);
    },
    onError: (e, path) => (e.code !== "ABORTED" && skips(onError?.(e, path)) ? "skip" : "abort"),
  };
}

/** Whether an onError answer skips the path ("continue" being the older word for "skip"). */
function skips(answer: "skip" | "abort" | "continue" | undefined): boolean {
  return answer === "skip" || answer === "continue";
}
