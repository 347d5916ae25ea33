/**
 * Reading a snapshot's stored files back, trusting them no further than its record: the index
 * must be the tree the record names, and the archive's manifest must lead from the parent's
 * tree (or the empty tree, for a full snapshot) to it. Every failure keeps its code and names
 * the repository file concerned, so "which file is damaged" is always in the error.
 */
import { IbtError } from "../errors.js";
import type { Store } from "../store/types.js";
import { storedRandomAccess } from "../store/random-access.js";
import { DirIndex } from "../dirindex/dir-index.js";
import { decodeIndex } from "../dirindex/index-file.js";
import { ZipReader } from "../archive/zip-read.js";
import type { InflateCodec } from "../archive/inflate.js";
import { MANIFEST_NAME, parseManifest, type Manifest, type ManifestChange } from "../archive/manifest.js";
import { archivePath, indexPath } from "./layout.js";
import type { SnapshotRecord } from "./snapshot.js";

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

/** Opens a stored archive for random access through ranged loads (never a whole download). */
export async function openArchive(store: Store, name: string, inflate?: InflateCodec): Promise<ZipReader> {
  const { size } = await store.stat(name);
  return ZipReader.from(storedRandomAccess(store, name, size), inflate ? { inflate } : {});
}

export async function loadTree(store: Store, rec: SnapshotRecord): Promise<DirIndex> {
  const path = indexPath(rec.id);
  let index: DirIndex;
  try {
    index = await decodeIndex(store.loadStream(path));
  } catch (e) {
    inFile(path, e);
  }
  if (index.id !== rec.tree) throw new IbtError("CORRUPT", `${path}: not the tree of snapshot ${rec.id}`, { path });
  return index;
}

/** One link of a chain: the snapshot's archive and, per path, the change that gives it content. */
export interface Link {
  rec: SnapshotRecord;
  reader: ZipReader;
  manifest: Manifest;
  /** Non-delete changes by path. */
  changes: Map<string, ManifestChange>;
}

export async function openLink(store: Store, rec: SnapshotRecord, parent: SnapshotRecord | undefined, inflate?: InflateCodec): Promise<Link> {
  const path = archivePath(rec.id);
  try {
    const reader = await openArchive(store, path, inflate);
    const entry = reader.get(MANIFEST_NAME);
    if (!entry) throw new IbtError("CORRUPT", `no ${MANIFEST_NAME}`);
    const manifest = parseManifest(await reader.bytes(entry));
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
    return { rec, reader, manifest, changes };
  } catch (e) {
    inFile(path, e);
  }
}

/** Opens every link of a chain (full first). */
export async function openChain(store: Store, chain: readonly SnapshotRecord[], inflate?: InflateCodec): Promise<Link[]> {
  const links: Link[] = [];
  for (const [i, rec] of chain.entries()) links.push(await openLink(store, rec, chain[i - 1], inflate));
  return links;
}
