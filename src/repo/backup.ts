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
 */
import { IbtError } from "../errors.js";
import type { FsAdapter } from "../fs/types.js";
import { DirIndex } from "../dirindex/dir-index.js";
import { DiffIndex } from "../dirindex/diff-index.js";
import { ContentCache } from "../dirindex/content-cache.js";
import { encodeIndex } from "../dirindex/index-file.js";
import { encodeIndexDelta, estimatedDeltaSize, estimatedSize, indexDelta } from "../dirindex/index-delta.js";
import type { Store } from "../store/types.js";
import { DiffData, type DiffDataOptions } from "../archive/diff-data.js";
import { pushToPull } from "../archive/pipe.js";
import { REPOSITORY_VERSION, SNAPSHOT_FORMAT, Tap, archivePath, encodeRecord, indexPath, newId, recordPath } from "./layout.js";
import { ArchiveBudget, incrementalBudget } from "./chain.js";
import { chainOf, loadRecords, removeLeftovers, toSnapshot, type Snapshot, type SnapshotRecord, type StoredFile, type StoredIndex } from "./snapshot.js";
import { deflatedIndex } from "./index-object.js";
import { indexReads, loadTree } from "./stored.js";
import { RepositoryLock } from "./lock.js";
import { reporter, throwIfAborted, type Progress, type ResolvedOptions } from "./options.js";

export interface BackupOptions {
  /** Label stored in the snapshot. */
  source?: string;
  /** Force a full backup. */
  full?: boolean;
  /** .gitignore-style patterns (plus .gitignore/.ibtignore files, as DirIndex does). */
  exclude?: string[];
  /** Report what would be stored, write nothing; resolves to a Snapshot-shaped report with id ''. */
  dryRun?: boolean;
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

interface Plan {
  parent: SnapshotRecord | undefined;
  full: boolean;
  /** The parent's tree, when the new index is stored as a delta against it. */
  indexBase: DirIndex | undefined;
  now: DirIndex;
  diff: ReturnType<DiffIndex["compute"]>;
  cache: ContentCache;
  /** Bytes an incremental's archive may take before a full is written instead (chain.ts). */
  budget: number;
}

export async function backup(store: Store, ro: ResolvedOptions, source: FsAdapter, o: BackupOptions): Promise<Snapshot> {
  throwIfAborted(o.signal);
  if (o.dryRun) {
    let plan = await makePlan(store, ro, source, o);
    const count = async (budget: ArchiveBudget): Promise<number> => {
      let bytes = 0;
      await new DiffData(plan.diff, archiveOptions(ro, source, plan)).write(async (chunk) => {
        budget.add(chunk.length);
        bytes += chunk.length;
      });
      return bytes;
    };
    const first = new ArchiveBudget(plan.budget);
    const bytes = await count(first).catch(async (e) => (first.passed ? count(new ArchiveBudget((plan = await asFull(plan)).budget)) : Promise.reject(e)));
    return toSnapshot(record(plan, "", 0, o, { size: bytes, hash: "" }, { size: 0, hash: "", kind: "full" }));
  }
  const lock = await RepositoryLock.acquire(store, "backup", ro.lock);
  try {
    await removeLeftovers(store, ro.lock);
    let plan = await makePlan(store, ro, source, o);
    throwIfAborted(o.signal);
    const id = newId();
    try {
      // The index goes up while the archive is made, so neither waits for the other's last
      // request; both settle before anything is removed or the record is written. An
      // incremental that passes its budget is redone as a full, whole index included.
      const budget = new ArchiveBudget(plan.budget);
      const [archive, index] = await settledBoth(writeArchive(store, ro, id, plan, source, o, budget), writeIndex(store, ro, id, plan, o.signal)).catch(async (e) => {
        if (!budget.passed) throw e;
        plan = await asFull(plan);
        return settledBoth(writeArchive(store, ro, id, plan, source, o, new ArchiveBudget(Infinity)), writeIndex(store, ro, id, plan, o.signal));
      });
      throwIfAborted(o.signal);
      const report = reporter(o.onProgress, "commit");
      const seq = ((await loadRecords(store)).records.at(-1)?.seq ?? 0) + 1;
      const rec = record(plan, id, seq, o, archive, index);
      // The commit point: the snapshot exists once its record does.
      await lock.check();
      await store.save(recordPath(id), await encodeRecord(rec));
      report(1, archive.size + index.size);
      return toSnapshot(rec);
    } catch (e) {
      for (const name of [archivePath(id), indexPath(id)]) await store.remove(name).catch(() => {});
      throw e;
    }
  } finally {
    await lock.release();
  }
}

/**
 * Writes the snapshot's index: a delta against the parent's when the plan has a base and the
 * change can be said as one, else the whole index.
 */
async function writeIndex(store: Store, ro: ResolvedOptions, id: string, plan: Plan, signal: AbortSignal | undefined): Promise<StoredIndex> {
  const delta = plan.indexBase && indexDelta(plan.indexBase, plan.now);
  // A delta as large as the whole index saves nothing and lengthens the next load.
  if (!delta || estimatedDeltaSize(delta) >= estimatedSize(plan.now.sortedEntries)) {
    return { ...(await writeTapped(store, indexPath(id), deflatedIndex(encodeIndex(plan.now), ro.deflate), signal)), kind: "full" };
  }
  return { ...(await writeTapped(store, indexPath(id), deflatedIndex(encodeIndexDelta(delta), ro.deflate), signal)), kind: "delta", base: plan.parent!.id };
}

function record(plan: Plan, id: string, seq: number, o: BackupOptions, archive: StoredFile, index: StoredIndex): SnapshotRecord {
  const s = plan.now.stats;
  return {
    format: SNAPSHOT_FORMAT,
    version: REPOSITORY_VERSION,
    id,
    seq,
    parent: plan.full ? null : plan.parent!.id,
    kind: plan.full ? "full" : "incremental",
    time: (o.time ?? new Date()).toISOString(),
    source: o.source ?? "",
    files: s.files,
    dirs: s.dirs,
    changed: plan.diff.changes.length,
    bytesStored: archive.size,
    fullSize: s.bytes,
    tree: plan.now.id,
    archive,
    index,
  };
}

/** The plan made a full: its diff against the empty tree, a whole index, no budget. */
async function asFull(plan: Plan): Promise<Plan> {
  const diff = new DiffIndex(plan.now, await DirIndex.fromEntries([])).compute();
  return { ...plan, full: true, indexBase: undefined, diff, budget: Infinity };
}

async function makePlan(store: Store, ro: ResolvedOptions, source: FsAdapter, o: BackupOptions): Promise<Plan> {
  const { records } = await loadRecords(store);
  const parent = records.at(-1);
  let previous: DirIndex | undefined;
  if (parent) {
    try {
      previous = await loadTree(store, parent, records, ro.inflate);
    } catch (e) {
      if (!(e instanceof IbtError)) throw e;
      throw new IbtError(e.code, `cannot read the latest snapshot's index (${e.message}); run verify, or back up with full: true (--full)`, { path: indexPath(parent.id), cause: e });
    }
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
  const cache = new ContentCache();
  const indexing = reporter(o.onProgress, "index");
  const onError = o.onError;
  const now = await DirIndex.build(source, {
    exclude: o.exclude ?? [],
    ...(previous ? { previous } : {}),
    cache,
    onProgress: (p) => {
      throwIfAborted(o.signal);
      indexing(p.entries, p.bytesRead);
    },
    onError: (e, path) => (e.code !== "ABORTED" && skips(onError?.(e, path)) ? "skip" : "abort"),
  });
  throwIfAborted(o.signal);
  const budget = full ? Infinity : incrementalBudget(ro, chain!, now.stats.bytes);
  if (budget <= 0) full = true;
  const base = full ? await DirIndex.fromEntries([]) : previous!;
  const diff = new DiffIndex(now, base).compute();
  reporter(o.onProgress, "diff")(diff.changes.length, 0, { totalFiles: now.stats.files, totalBytes: now.stats.bytes });
  // A whole index with every full backup, and at least every `fullIndexEvery` snapshots.
  const indexBase = !full && indexReads(records, parent!) < ro.fullIndexEvery ? previous : undefined;
  return { parent, full, indexBase, now, diff, cache, budget };
}

/** The archive writer's options; each change's cached bytes are let go once it is written. */
function archiveOptions(ro: ResolvedOptions, source: FsAdapter, plan: Plan, onProgress?: (changes: number, bytesOut: number) => void): DiffDataOptions {
  return {
    source,
    cache: plan.cache,
    deflate: ro.deflate,
    onProgress: (p) => {
      plan.cache.release(p.path);
      onProgress?.(p.changes, p.bytesOut);
    },
  };
}

async function writeArchive(store: Store, ro: ResolvedOptions, id: string, plan: Plan, source: FsAdapter, o: BackupOptions, budget: ArchiveBudget): Promise<StoredFile> {
  const report = reporter(o.onProgress, "write");
  const total = { totalFiles: plan.diff.changes.length };
  const data = new DiffData(
    plan.diff,
    archiveOptions(ro, source, plan, (changes, bytesOut) => {
      throwIfAborted(o.signal);
      report(changes, bytesOut, total);
    }),
  );
  return writeTapped(store, archivePath(id), budget.through(pushToPull((sink) => data.write(sink).then(() => {}))), o.signal);
}

/** Saves an object whole or not at all, returning the size and hash of what was saved. */
async function writeTapped(store: Store, name: string, source: AsyncIterable<Uint8Array>, signal: AbortSignal | undefined): Promise<StoredFile> {
  const tap = await Tap.create();
  try {
    await store.save(name, tap.through(source), signal ? { signal } : {});
  } catch (e) {
    tap.dispose();
    throw e;
  }
  return tap.finish();
}

/** Both results once both have settled; the first failure, if any. */
async function settledBoth<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [x, y] = await Promise.allSettled([a, b]);
  if (x.status === "rejected") throw x.reason;
  if (y.status === "rejected") throw y.reason;
  return [x.value, y.value];
}

/** Whether an onError answer skips the path ("continue" being the older word for "skip"). */
function skips(answer: "skip" | "abort" | "continue" | undefined): boolean {
  return answer === "skip" || answer === "continue";
}
