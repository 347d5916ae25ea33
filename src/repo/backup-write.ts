/**
 * What a backup writes: its archive and its index, each saved whole or not at all and hashed on
 * the way, and the record that makes the snapshot exist.
 */
import { IbtError } from "../errors.js";
import type { FsAdapter } from "../fs/types.js";
import type { ContentCache } from "../dirindex/content-cache.js";
import type { Diff } from "../dirindex/diff-index.js";
import type { DirIndex } from "../dirindex/dir-index.js";
import type { IndexEntry } from "../dirindex/entry.js";
import { encodeEntries } from "../dirindex/index-file.js";
import { encodeIndexDelta, estimatedDeltaSize, type IndexDelta } from "../dirindex/index-delta.js";
import type { Store } from "../store/types.js";
import { DiffData, type DiffDataOptions, type DiffStream } from "../archive/diff-data.js";
import { pushToPull } from "../archive/pipe.js";
import type { LaterSpill } from "../archive/zip-later.js";
import { storeSpill } from "./manifest-spill.js";
import { REPOSITORY_VERSION, SNAPSHOT_FORMAT, Tap, archivePath, indexPath } from "./layout.js";
import type { ArchiveBudget } from "./chain.js";
import type { SnapshotRecord, StoredFile, StoredIndex } from "./snapshot.js";
import { deflatedIndex } from "./index-object.js";
import { reporter, throwIfAborted, type ResolvedOptions } from "./options.js";
import type { BackupOptions } from "./backup.js";

/** What a snapshot's record and index are made from. */
export interface Plan {
  parent: SnapshotRecord | undefined;
  full: boolean;
  /** The new tree, or what its index says of it when it was never held whole (a full backup). */
  now: Pick<DirIndex, "id" | "stats">;
  /** How many changes the archive holds. */
  changed: number;
}

/** A tree whose index may be written whole: its entries read anew, and what they would take. */
export interface WholeTree {
  entries(): AsyncIterable<IndexEntry>;
  /** `estimatedSize` of its entries. */
  indexSize: number;
}

/**
 * Writes the snapshot's index: `delta` against the parent's, when there is one and it is smaller
 * than the whole index, else the whole index.
 */
export async function writeIndex(store: Store, ro: ResolvedOptions, id: string, plan: Plan & { now: WholeTree }, delta: IndexDelta | undefined, signal: AbortSignal | undefined): Promise<StoredIndex> {
  // A delta as large as the whole index saves nothing and lengthens the next load.
  if (!delta || estimatedDeltaSize(delta) >= plan.now.indexSize) {
    return { ...(await writeTapped(store, indexPath(id), deflatedIndex(encodeEntries(plan.now.entries()), ro.deflate), signal)), kind: "full" };
  }
  return { ...(await writeTapped(store, indexPath(id), deflatedIndex(encodeIndexDelta(delta), ro.deflate), signal)), kind: "delta", base: plan.parent!.id };
}

export function record(plan: Plan, id: string, seq: number, o: BackupOptions, archive: StoredFile, index: StoredIndex): SnapshotRecord {
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
    changed: plan.changed,
    bytesStored: archive.size,
    fullSize: s.bytes,
    tree: plan.now.id,
    archive,
    index,
  };
}

/** How a backup's archive compresses file data (BackupOptions.compression). */
export type Compression = "auto" | "off" | "fastest" | "max" | "deflate";

/** Each mode's deflate level (0 stores) and, where the codec has zstd, its groups' zstd level (bench/README.md, "zstd groups"). */
const MODES: Record<Compression, Pick<DiffDataOptions, "level" | "zstdLevel">> = {
  auto: { level: 6, zstdLevel: 6 },
  off: { level: 0 },
  fastest: { level: 1, zstdLevel: 3 },
  max: { level: 9, zstdLevel: 19 },
  // auto without zstd: archives that Info-ZIP unzip and readers before zstd groups extract.
  deflate: { level: 6 },
};

/** The archive's deflate level for a `compression` option (0 stores); BAD_ARGUMENT for an unknown one. */
export function compressionLevel(compression: Compression | undefined, from = "compression"): number {
  const c = compression ?? "auto";
  if (!Object.hasOwn(MODES, c)) throw new IbtError("BAD_ARGUMENT", `${from} ${JSON.stringify(c)} is not one of ${Object.keys(MODES).join(", ")}`);
  return MODES[c].level!;
}

/** DiffData's compression options for a `compression` mode: the deflate level and, where the codec has zstd, the groups' zstd level. */
export function compressionOptions(compression: Compression | undefined): Pick<DiffDataOptions, "level" | "zstdLevel"> {
  compressionLevel(compression);
  return { ...MODES[compression ?? "auto"] };
}

/**
 * The archive writer's options; each change's cached bytes are let go once it is written. The
 * archive is dated with the snapshot when the caller gives its time.
 */
export function archiveOptions(ro: ResolvedOptions, source: FsAdapter, cache: ContentCache, o: BackupOptions, onProgress?: (changes: number, bytesOut: number) => void, spill?: LaterSpill): DiffDataOptions {
  return {
    source,
    cache,
    deflate: ro.deflate,
    ...compressionOptions(o.compression),
    ...(spill ? { manifestSpill: spill } : {}),
    ...(o.time ? { time: o.time } : {}),
    onProgress: (p) => {
      cache.release(p.path);
      onProgress?.(p.changes, p.bytesOut);
    },
  };
}

/**
 * Writes the archive, reporting the write phase once its total is known (`total`: while a full
 * backup's walk goes on it is not) and once more at the end.
 */
export async function writeArchive(store: Store, ro: ResolvedOptions, id: string, diff: Diff | DiffStream, cache: ContentCache, source: FsAdapter, o: BackupOptions, budget: ArchiveBudget, total: () => number | undefined): Promise<StoredFile> {
  const report = reporter(o.onProgress, "write");
  const spill = storeSpill(store, archivePath(id), ro.manifestMemory, o.signal);
  const data = new DiffData(
    diff,
    archiveOptions(
      ro,
      source,
      cache,
      o,
      (changes, bytesOut) => {
        throwIfAborted(o.signal);
        const totalFiles = total();
        if (totalFiles !== undefined) report(changes, bytesOut, { totalFiles });
      },
      spill,
    ),
  );
  try {
    return await writeTapped(
      store,
      archivePath(id),
      budget.through(
        pushToPull(async (sink) => {
          const stats = await data.write(sink);
          report(stats.changes, stats.bytesOut, { totalFiles: stats.changes });
        }),
      ),
      o.signal,
    );
  } finally {
    await spill.close();
  }
}

/** Saves an object whole or not at all, returning the size and hash of what was saved. */
export async function writeTapped(store: Store, name: string, source: AsyncIterable<Uint8Array>, signal: AbortSignal | undefined): Promise<StoredFile> {
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
export async function settledBoth<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [x, y] = await Promise.allSettled([a, b]);
  if (x.status === "rejected") throw x.reason;
  if (y.status === "rejected") throw y.reason;
  return [x.value, y.value];
}
