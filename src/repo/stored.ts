/**
 * Reading a snapshot's stored files back, trusting them no further than its record: the index
 * must be the tree the record names, and the archive's manifest must lead from the parent's
 * tree (or the empty tree, for a full snapshot) to it. Every failure keeps its code and names
 * the repository file concerned, so "which file is damaged" is always in the error.
 */
import { IbtError } from "../errors.js";
import type { Store } from "../store/types.js";
import { ReadBudget, storedRandomAccess, type StoredRandomAccess } from "../store/random-access.js";
import { DirIndex } from "../dirindex/dir-index.js";
import { decodeIndex } from "../dirindex/index-file.js";
import { indexFileOf } from "./index-object.js";
import { decodeIndexDelta, decodeIndexEntries, type IndexDelta } from "../dirindex/index-delta.js";
import { applyIndexDelta } from "../dirindex/delta-apply.js";
import { ParentTree, appliedBatches, type RecordBatch } from "../dirindex/parent-tree.js";
import { IdentityHasher } from "../dirindex/identity.js";
import type { IndexEntry } from "../dirindex/entry.js";
import { ZipReader } from "../archive/zip-read.js";
import type { InflateCodec } from "../archive/inflate.js";
import { archiveData, type ArchiveData } from "../archive/group-read.js";
import { MANIFEST_NAME, readManifest, type Manifest, type ManifestChange } from "../archive/manifest.js";
import { archivePath, indexPath, recordPath } from "./layout.js";
import { hasIndexDelta, loadRecord, type SnapshotRecord } from "./snapshot.js";

/** Rethrows `e` with `path` named in its message and data. */
export function inFile(path: string, e: unknown): never {
  if (e instanceof IbtError) {
    if (e.message.startsWith(path)) throw e;
    throw new IbtError(e.code, `${path}: ${e.message}`, { path, ...(e.offset === undefined ? {} : { offset: e.offset }), cause: e });
  }
  throw e;
}

let emptyTree: Promise<string> | undefined;
/** Identity of the empty tree: the base of every full snapshot's diff. */
export function emptyTreeId(): Promise<string> {
  return (emptyTree ??= DirIndex.fromEntries([]).then((i) => i.id));
}

/**
 * Opens a stored archive for random access through ranged loads (never a whole download), its
 * read-ahead within `budget` (shared by archives open together).
 */
export async function openArchive(store: Store, name: string, inflate?: InflateCodec, budget?: ReadBudget): Promise<{ reader: ZipReader; access: StoredRandomAccess }> {
  const { size } = await store.stat(name);
  const access = storedRandomAccess(store, name, size, budget);
  return { reader: await ZipReader.from(access, inflate ? { inflate } : {}), access };
}

/**
 * The snapshot's tree, read from its stored index. `records`, where the caller has them, saves
 * reading the records of the snapshots whose indexes a delta is built on. `signatures: false`
 * leaves the signatures out (of the whole index and of the deltas), for a caller that makes no
 * deltas against the tree (a restore): the tree's identity does not cover them.
 */
export async function loadTree(store: Store, rec: SnapshotRecord, records?: readonly SnapshotRecord[], inflate?: InflateCodec, o: { signatures?: boolean } = {}): Promise<DirIndex> {
  const [whole, ...links] = await indexChain(store, rec, records);
  if (links.length === 0) return loadWholeIndex(store, whole!, inflate, o);
  const deltas = chainDeltas(store, whole!, links, inflate, o);
  // The whole index's identity is not computed: the result's, checked below, covers every link.
  let entries: IndexEntry[];
  try {
    entries = await decodeIndexEntries(indexFile(store, whole!.id, inflate), o);
  } catch (e) {
    inFile(indexPath(whole!.id), e);
  }
  for (const [i, link] of links.entries()) {
    const delta = await deltas[i]!;
    try {
      entries = applyIndexDelta(entries, delta);
    } catch (e) {
      inFile(indexPath(link.id), e);
    }
  }
  const path = indexPath(rec.id);
  let index: DirIndex;
  try {
    index = await DirIndex.fromSorted(entries);
  } catch (e) {
    inFile(path, e);
  }
  if (index.id !== rec.tree) throw new IbtError("CORRUPT", `${path}: the index deltas do not make the tree of snapshot ${rec.id}`, { path });
  return index;
}

/**
 * The snapshot's tree as `loadTree` reads it, as a stream (parent-tree.ts): each pass reads the
 * whole index at the chain's start again, with the deltas after it (read once, on the first
 * pass) applied on the way, and checks the result's identity against the record as it ends.
 * `explain` rethrows a pass's failure as the caller words it.
 */
export async function parentTree(store: Store, rec: SnapshotRecord, records?: readonly SnapshotRecord[], inflate?: InflateCodec, explain: (e: unknown) => never = (e) => { throw e; }): Promise<ParentTree> {
  const [whole, ...links] = await indexChain(store, rec, records);
  let deltas: Promise<IndexDelta>[] | undefined;
  async function* pass(): AsyncGenerator<RecordBatch> {
    const reads = (deltas ??= chainDeltas(store, whole!, links, inflate));
    // The whole index's first read goes out with the deltas' rather than after them.
    const file = startedEarly(indexFile(store, whole!.id, inflate));
    const applied: IndexDelta[] = [];
    try {
      for (const delta of reads) applied.push(await delta);
    } catch (e) {
      await file.close();
      throw e;
    }
    let named: unknown;
    const failed = (k: number, e: unknown): never => {
      try {
        inFile(indexPath(links[k]!.id), e);
      } catch (n) {
        named = n;
        throw n;
      }
    };
    const identity = await IdentityHasher.create();
    try {
      try {
        for await (const batch of appliedBatches(file.source, applied, failed)) {
          for (const e of batch.entries) identity.add(e);
          yield batch;
        }
      } catch (e) {
        if (e === named) throw e;
        inFile(indexPath(whole!.id), e);
      }
      if (identity.digest() !== rec.tree) {
        const path = indexPath(rec.id);
        const why = links.length === 0 ? `not the tree of snapshot ${rec.id}` : `the index deltas do not make the tree of snapshot ${rec.id}`;
        throw new IbtError("CORRUPT", `${path}: ${why}`, { path });
      }
    } finally {
      identity.dispose();
      await file.close();
    }
  }
  async function* explained(): AsyncGenerator<RecordBatch> {
    try {
      yield* pass();
    } catch (e) {
      explain(e);
    }
  }
  return new ParentTree(rec.tree, explained);
}

/**
 * The index deltas of a chain's `links` (every link after the one with the whole index), every
 * read started at once so the chain costs about one round trip, not one per link. Each delta,
 * awaited, has been checked to lead from the tree of the link before it to its own, and a
 * failure names the delta's file.
 */
function chainDeltas(store: Store, whole: SnapshotRecord, links: readonly SnapshotRecord[], inflate: InflateCodec | undefined, o: { signatures?: boolean } = {}): Promise<IndexDelta>[] {
  let tree = whole.tree;
  return links.map((link) => {
    const base = tree;
    tree = link.tree;
    const read = (async () => {
      try {
        const delta = await decodeIndexDelta(indexFile(store, link.id, inflate), o);
        if (delta.base !== base || delta.target !== link.tree) throw new IbtError("CORRUPT", `not the index delta of snapshot ${link.id}`);
        return delta;
      } catch (e) {
        inFile(indexPath(link.id), e);
      }
    })();
    read.catch(() => undefined); // awaited in order by the caller; a later failure must not go unhandled meanwhile
    return read;
  });
}

/** The index or delta file of a snapshot's stored index object, as it is read. */
function indexFile(store: Store, id: string, inflate: InflateCodec | undefined): AsyncGenerator<Uint8Array> {
  return indexFileOf(store.loadStream(indexPath(id)), inflate);
}

/**
 * `source` with its first chunk asked for now, so that its first reads (round trips to a remote
 * store) overlap what the caller does before it reads. `close()` ends it if it is never read.
 */
function startedEarly(source: AsyncGenerator<Uint8Array>): { source: AsyncGenerator<Uint8Array>; close(): Promise<void> } {
  const first = source.next();
  first.catch(() => {}); // seen by whoever reads the source
  return {
    source: (async function* () {
      const head = await first;
      if (head.done) return;
      yield head.value;
      yield* source;
    })(),
    close: async () => {
      await first.catch(() => {});
      await source.return(undefined);
    },
  };
}

async function loadWholeIndex(store: Store, rec: SnapshotRecord, inflate: InflateCodec | undefined, o: { signatures?: boolean }): Promise<DirIndex> {
  const path = indexPath(rec.id);
  let index: DirIndex;
  try {
    index = await decodeIndex(indexFile(store, rec.id, inflate), o);
  } catch (e) {
    inFile(path, e);
  }
  if (index.id !== rec.tree) throw new IbtError("CORRUPT", `${path}: not the tree of snapshot ${rec.id}`, { path });
  return index;
}

/** Index deltas followed before a chain is taken as damaged: far beyond any a backup writes. */
const MAX_INDEX_CHAIN = 1000;

/** The snapshots whose stored indexes make `rec`'s tree: the one with a whole index first, `rec` last. */
export async function indexChain(store: Store, rec: SnapshotRecord, records?: readonly SnapshotRecord[]): Promise<SnapshotRecord[]> {
  const byId = records ? new Map(records.map((r) => [r.id, r])) : undefined;
  const chain = [rec];
  for (let at = rec; hasIndexDelta(at); ) {
    const id = at.index.base!;
    if (chain.length > MAX_INDEX_CHAIN) throw new IbtError("CORRUPT", `snapshot ${rec.id}'s index deltas do not end`, { path: indexPath(rec.id) });
    let base = byId?.get(id);
    if (!base) {
      try {
        base = await loadRecord(store, id);
      } catch (e) {
        if (!(e instanceof IbtError)) throw e;
        const why = e.code === "NOT_FOUND" || e.code === "CORRUPT" ? "which is missing or damaged" : "whose record could not be read";
        throw new IbtError(e.code === "NOT_FOUND" ? "CORRUPT" : e.code, `snapshot ${rec.id}'s index is built on snapshot ${id}, ${why}: ${e.message}`, { path: recordPath(id), cause: e });
      }
    }
    chain.unshift(base);
    at = base;
  }
  return chain;
}

/** How many index objects loading `rec`'s tree reads. */
export function indexReads(records: readonly SnapshotRecord[], rec: SnapshotRecord): number {
  const byId = new Map(records.map((r) => [r.id, r]));
  let n = 1;
  for (let at: SnapshotRecord | undefined = rec; at && hasIndexDelta(at) && n <= MAX_INDEX_CHAIN; n++) at = byId.get(at.index.base!);
  return n;
}

/**
 * One link of a chain as a recipe reads it (content.ts): the snapshot's archive, its data, and
 * the change that gives a path content, if the link has one.
 */
export interface ArchiveLink {
  rec: SnapshotRecord;
  reader: ZipReader;
  /** The archive's ranged reads (`walk` when most of it is to be read). */
  access: StoredRandomAccess;
  data: ArchiveData;
  /** Non-delete changes by path. */
  changes: { get(path: string): ManifestChange | undefined };
}

/** A link with its whole manifest read. */
export interface Link extends ArchiveLink {
  manifest: Manifest;
  changes: Map<string, ManifestChange>;
}

export async function openLink(store: Store, rec: SnapshotRecord, parent: SnapshotRecord | undefined, inflate?: InflateCodec, budget?: ReadBudget): Promise<Link> {
  const path = archivePath(rec.id);
  try {
    const { reader, access } = await openArchive(store, path, inflate, budget);
    const entry = reader.get(MANIFEST_NAME);
    if (!entry) throw new IbtError("CORRUPT", `no ${MANIFEST_NAME}`);
    const manifest = await readManifest(reader.open(entry));
    const base = parent ? parent.tree : await emptyTreeId();
    if (manifest.target !== rec.tree || manifest.base !== base) {
      throw new IbtError("CORRUPT", `the archive does not lead from ${parent ? `snapshot ${parent.id}` : "the empty tree"} to snapshot ${rec.id}`);
    }
    const changes = new Map<string, ManifestChange>();
    for (const c of manifest.changes) {
      if (c.kind === "delete") continue;
      if (c.member !== undefined && !reader.get(c.member)) throw new IbtError("CORRUPT", `the archive lacks member ${c.member}`);
      changes.set(c.path, c);
    }
    return { rec, reader, access, manifest, changes, data: archiveData(reader, manifest) };
  } catch (e) {
    inFile(path, e);
  }
}

/**
 * Opens every link of a chain (full first), all at once: each opening is a few reads one after
 * the other (size, end record and directory, manifest), so on a remote store a chain costs about
 * one opening's round trips, not one per link. Their archives' read-ahead shares one budget. If
 * links fail, the first failure in chain order is thrown, once every opening has settled.
 */
export async function openChain(store: Store, chain: readonly SnapshotRecord[], inflate?: InflateCodec): Promise<Link[]> {
  const budget = new ReadBudget();
  const opened = await Promise.allSettled(chain.map((rec, i) => openLink(store, rec, chain[i - 1], inflate, budget)));
  return opened.map((o) => {
    if (o.status === "rejected") throw o.reason;
    return o.value;
  });
}
