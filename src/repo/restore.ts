/**
 * Restore: make a target hold a snapshot's tree, or chosen paths of it, writing only what
 * differs.
 *
 * A whole restore into an empty target is made as a stream (restore-stream.ts), in memory that
 * does not grow with the tree; what follows is every other restore, and that one where the
 * stream gives up (a manifest out of path order, which no backup writes).
 *
 * Plan. The snapshot's stored index is the tree to produce. For every file in scope whose
 * target copy is missing or has other content (size, then hash), a recipe (content.ts) says
 * which archive members rebuild it; files already right are left alone, and paths outside
 * `paths` are never looked at.
 *
 * Stage. Every file to write is rebuilt and verified against its hash, in the order its data lies
 * in the chain's archives (so a remote archive is read front to back), into a staging directory
 * inside the target (`.ibt-staging-restore-*`, which indexes exclude). An entry the target lacks
 * is staged with everything below it as a fresh subtree, at its own path under the staging
 * directory's `tree/`: directories and symlinks made, files created with their mode and mtime in
 * one call (`createFile`, several in flight). Other files are staged one by one. If anything
 * fails here, damage in the repository included, the staging directory is removed and the error
 * thrown: the target's tree is as it was.
 *
 * Commit. With `delete`, entries the snapshot does not have are removed. Then, parents before
 * children: each fresh subtree moved into place with one rename, directories made, staged files
 * renamed into place, symlinks made, each replacing an entry of another type. Then modes and
 * mtimes where they differ, directories last and deepest first; directories outside the scope
 * whose children changed get their mtimes back. If the commit fails, the fresh subtrees already
 * moved are removed again, so a restore into an empty target leaves it empty; a file replaced in
 * place cannot be taken back.
 *
 * Calls per entry. A whole-tree restore learns what the target holds from one listing per
 * directory (`listWithStats`), not one lstat per entry, and never lists below a directory the
 * target lacks. What the commit made itself needs no lstat to know: a file created in a fresh
 * subtree is done, a staged file already has its mode (the staging write set it), so only its
 * mtime is set; a directory or symlink it made gets both. Metadata calls run several at once,
 * directories one depth at a time, deepest first, so a directory's mode never shuts out work on
 * its children (nor a move: a directory's mode is set only once it is in place).
 */
import { IbtError } from "../errors.js";
import type { FsAdapter, FsStat, ListedEntry } from "../fs/types.js";
import type { Store } from "../store/types.js";
import { baseName, depth, joinPath, parentPath } from "../fs/paths.js";
import type { DirIndex } from "../dirindex/dir-index.js";
import { STAGING_PREFIX, type IndexEntry } from "../dirindex/entry.js";
import { ms } from "../dirindex/file-entry.js";
import { hashFile } from "../archive/content-hash.js";
import { fileCreator, lstatOrUndefined, setMeta } from "../fs/entry.js";
import { listWithStats } from "../fs/list-stat.js";
import { collect } from "../bytes.js";
import { newId } from "./layout.js";
import { chainOf, loadRecords, findSnapshot } from "./snapshot.js";
import { loadTree, openChain, type ArchiveLink } from "./stored.js";
import { recipe, rebuild, type Step } from "./content.js";
import { reporter, type Progress } from "./options.js";
import { InFlight, askFirstReads, deepestFirst, eachSettled, inArchiveOrder, removeStaging, stageFile } from "./restore-work.js";
import { restoreStreamed } from "./restore-stream.js";
import type { InflateCodec } from "../archive/inflate.js";

export interface RestoreOptions {
  /** Restore only these paths (a directory with everything in it); default the whole tree. */
  paths?: string[];
  /** Whole-tree restores: remove what the target holds and the snapshot does not. Default false. */
  delete?: boolean;
  onProgress?: (p: Progress) => void;
}

export interface RestoreResult {
  snapshot: string;
  /** Files written. */
  files: number;
  /** Files in scope that already had the snapshot's content (not written). */
  unchanged: number;
  dirs: number;
  symlinks: number;
  /** Entries removed by `delete` or to make room for an entry of another type. */
  deleted: number;
  /** Bytes of the files written. */
  bytes: number;
}

const RESTORE_STAGING = `${STAGING_PREFIX}restore-`;
/** Files up to this size are rebuilt in memory and handed to the adapter whole: one write. */
const WHOLE_WRITE = 1 << 20;
/**
 * Files being created at once, by an adapter that can work on several: a few of a worker's
 * batches (create-worker.ts), so the next batch is ready when it finishes one.
 */
const CREATES_IN_FLIGHT = 256;
const CREATE_BYTES_IN_FLIGHT = 32 << 20;
/** A streamed restore's files taken in archive order at a time: their entries and recipes are held. */
const STREAM_BATCH = 4096;
/** Metadata calls in flight at once. */
const META_CONCURRENCY = 16;

export async function restore(store: Store, name: string, target: FsAdapter, o: RestoreOptions, inflate?: InflateCodec): Promise<RestoreResult> {
  const { records } = await loadRecords(store);
  const chain = chainOf(records, findSnapshot(records, name).id);
  const rec = chain.at(-1)!;
  if (!o.paths && (await isEmpty(target))) {
    const limits = { batchFiles: STREAM_BATCH, wholeWrite: WHOLE_WRITE, createsInFlight: CREATES_IN_FLIGHT, createBytesInFlight: CREATE_BYTES_IN_FLIGHT, metaConcurrency: META_CONCURRENCY };
    const streamed = await restoreStreamed(store, chain, records, target, o, { staging: RESTORE_STAGING + newId(), ...limits }, inflate);
    if (streamed) return streamed;
  }
  // A restore makes no deltas: the signatures, views into the index's chunks, would keep them all.
  const index = await loadTree(store, rec, records, inflate, { signatures: false });
  const scope = select(index, o.paths);
  const result: RestoreResult = { snapshot: rec.id, files: 0, unchanged: 0, dirs: 0, symlinks: 0, deleted: 0, bytes: 0 };

  // Plan: which files differ, and which subtrees the target lacks. The chain is opened only if
  // some file is to be written.
  const planned = await targetStats(target, scope, !o.paths);
  const fresh = await freshSubtrees(scope, planned);
  const differing: IndexEntry[] = [];
  for (const e of scope) {
    if (e.type !== "file") continue;
    const st = fresh.all.has(e.path) ? undefined : await planned(e.path);
    if (st?.type === "file" && st.size === e.size && (await hashFile(target, e.path)).hash === e.hash) result.unchanged++;
    else differing.push(e);
  }
  const links = differing.length ? await openChain(store, chain, inflate) : [];
  const plans = inArchiveOrder(links, differing.map((e) => ({ entry: e, steps: recipe(links, links.length - 1, e.path, e.hash) })));
  walkWhereMostIsRead(links, plans);
  askFirstReads(links, plans);

  const staging: Staging = { dir: RESTORE_STAGING + newId(), fresh, files: new Map(), timed: new Set() };
  const staged = plans.length > 0 || fresh.roots.size > 0;
  if (staged) await stage(target, scope, staging, plans, o.onProgress, result);
  try {
    await commit(target, index, scope, staging, o, result);
  } catch (e) {
    if (staged) await target.remove(staging.dir, { recursive: true }).catch(() => {});
    throw e;
  }
  if (staged) await removeStaging(target, staging.dir);
  return result;
}

/** Whether the target's top directory holds nothing: a whole restore into it is made as a stream (restore-stream.ts). */
async function isEmpty(target: FsAdapter): Promise<boolean> {
  try {
    return (await target.list("")).length === 0;
  } catch (e) {
    if (e instanceof IbtError) return false; // the restore below reports it, if it matters
    throw e;
  }
}

/**
 * Files are rebuilt in archive order, so an archive that holds most of what the restore reads,
 * and most of whose own bytes the plans read, in order (one restart allowed: a later link's new
 * files come after its deltas), is read front to back: its reads take whole windows from the
 * first (StoredRandomAccess.walk) instead of ramping up, a round trip per doubling. At most one
 * archive walks: the chain's archives share one read budget, and two walks interleaved (a full's
 * members and an incremental's deltas of the same files) would push each other's windows out
 * before they are read. The others, like an archive whose plans read little or jump about in it,
 * keep windows that follow the reads.
 */
function walkWhereMostIsRead(links: readonly ArchiveLink[], plans: readonly { steps: Step[] }[]): void {
  const reads = new Map(links.map((l) => [l, { members: new Set<string>(), bytes: 0, last: 0, back: 0 }]));
  for (const p of plans) {
    for (const { link, change } of p.steps) {
      const r = reads.get(link)!;
      if (change.member === undefined || r.members.has(change.member)) continue;
      r.members.add(change.member);
      const entry = link.reader.get(change.member);
      if (!entry) continue;
      if (entry.offset < r.last) r.back++;
      r.last = entry.offset;
      r.bytes += entry.compressedSize;
    }
  }
  let total = 0;
  for (const r of reads.values()) total += r.bytes;
  for (const [link, r] of reads) if (r.bytes * 2 > total && r.bytes * 2 > link.access.size && r.back <= 1) link.access.walk();
}

/**
 * Entries in scope the target lacks, with everything below them: each root is staged whole,
 * under the staging directory's `tree/` at its own path, and moved into place with one rename.
 */
interface Fresh {
  roots: Set<string>;
  /** The roots and every path below them. */
  all: Set<string>;
}

/** Where the stage put things, for the commit. */
interface Staging {
  dir: string;
  fresh: Fresh;
  /** Files outside fresh subtrees: path → staged file, renamed into place one by one. */
  files: Map<string, string>;
  /** Files staged with their mode and mtime already set. */
  timed: Set<string>;
}

const TREE = "tree";

async function freshSubtrees(scope: readonly IndexEntry[], current: (path: string) => Promise<FsStat | undefined>): Promise<Fresh> {
  const fresh: Fresh = { roots: new Set(), all: new Set() };
  for (const e of scope) {
    if (fresh.all.has(parentPath(e.path))) fresh.all.add(e.path);
    else if (!(await current(e.path))) {
      fresh.roots.add(e.path);
      fresh.all.add(e.path);
    }
  }
  return fresh;
}

/** The entries in scope, in path order (parents before children). */
function select(index: DirIndex, paths: readonly string[] | undefined): IndexEntry[] {
  const all = [...index.entries.values()];
  if (!paths) return all;
  const picked = new Set<IndexEntry>();
  for (const p of paths) {
    const clean = p.replace(/^\/+|\/+$/g, "");
    const hits = all.filter((e) => e.path === clean || e.path.startsWith(clean + "/") || clean === "");
    if (!hits.length) throw new IbtError("NOT_FOUND", `the snapshot has no ${JSON.stringify(p)}`, { path: clean });
    for (const e of hits) picked.add(e);
  }
  return all.filter((e) => picked.has(e));
}

async function stage(
  target: FsAdapter,
  scope: readonly IndexEntry[],
  staging: Staging,
  plans: { entry: IndexEntry; steps: Step[] }[],
  onProgress: RestoreOptions["onProgress"],
  result: RestoreResult,
): Promise<void> {
  const report = reporter(onProgress, "restore");
  const totals = { totalFiles: plans.length, totalBytes: plans.reduce((n, p) => n + p.entry.size, 0) };
  const { fresh } = staging;
  const tree = joinPath(staging.dir, TREE);
  const create = fileCreator(target);
  const creating = new InFlight(CREATES_IN_FLIGHT, CREATE_BYTES_IN_FLIGHT);
  await target.mkdir(staging.dir);
  try {
    // Fresh subtrees' directories and symlinks first, parents before children, so their files
    // can be written in place.
    if (fresh.roots.size) await target.mkdir(tree);
    for (const e of scope) {
      if (!fresh.all.has(e.path)) continue;
      const parent = parentPath(e.path);
      if (fresh.roots.has(e.path) && parent !== "") await target.mkdir(joinPath(tree, parent), { recursive: true });
      if (e.type === "dir") await target.mkdir(joinPath(tree, e.path));
      else if (e.type === "symlink") await target.symlink(e.target!, joinPath(tree, e.path));
    }
    for (const [i, { entry, steps }] of plans.entries()) {
      const inTree = fresh.all.has(entry.path);
      const file = inTree ? joinPath(tree, entry.path) : joinPath(staging.dir, String(i));
      const content = rebuild(target, steps, joinPath(staging.dir, `basis-${i}`));
      if (inTree) {
        if (await stageFile(target, create, creating, file, entry, content, WHOLE_WRITE)) staging.timed.add(entry.path);
      } else {
        await target.writeFile(file, entry.size <= WHOLE_WRITE ? await collect(content) : content, { mode: entry.mode & 0o7777 });
      }
      if (!inTree) staging.files.set(entry.path, file);
      result.files++;
      result.bytes += entry.size;
      report(result.files, result.bytes, totals);
    }
    await creating.drain();
  } catch (e) {
    await creating.drain().catch(() => {}); // nothing may still write into what is removed
    await target.remove(staging.dir, { recursive: true }).catch(() => {});
    throw e;
  }
}

/**
 * The commit. A fresh subtree moved into place is removed again if a later step fails, so a
 * target that lacked it lacks it still; a file replaced one by one cannot be taken back.
 */
async function commit(target: FsAdapter, index: DirIndex, scope: IndexEntry[], staging: Staging, o: RestoreOptions, result: RestoreResult): Promise<void> {
  if (o.delete && !o.paths) result.deleted += await deleteExtras(target, index, "");

  // Directories outside the scope that will see changes: their mtimes are put back at the end.
  const inScope = new Set(scope.map((e) => e.path));
  const outside = new Map<string, FsStat>();
  for (const e of scope) {
    for (let d = parentPath(e.path); d !== "" && !inScope.has(d) && !outside.has(d); d = parentPath(d)) {
      const st = await lstatOrUndefined(target, d);
      if (st?.type === "dir") outside.set(d, st);
    }
  }

  const { fresh, timed } = staging;
  const made: IndexEntry[] = [];
  /** Entries this commit wrote: their metadata is set without asking what it is. */
  const wrote = new Set<string>();
  const moved: string[] = [];
  const current = await targetStats(target, scope, !o.paths);
  try {
    for (const e of scope) {
      const count = () => (e.type === "dir" ? result.dirs++ : e.type === "symlink" ? result.symlinks++ : 0);
      wrote.add(e.path);
      if (fresh.all.has(e.path) && !fresh.roots.has(e.path)) {
        count(); // moved in with its root
        continue;
      }
      await ensureParent(target, index, e.path, made, inScope);
      const st = await current(e.path);
      if (fresh.roots.has(e.path)) {
        if (st) result.deleted += await removeAny(target, e.path); // appeared since the plan
        await target.rename(joinPath(joinPath(staging.dir, TREE), e.path), e.path);
        moved.push(e.path);
        count();
      } else if (e.type === "dir") {
        if (st?.type === "dir") wrote.delete(e.path);
        else {
          if (st) result.deleted += await removeAny(target, e.path);
          await target.mkdir(e.path);
          result.dirs++;
        }
      } else if (e.type === "file") {
        const from = staging.files.get(e.path);
        if (from === undefined) wrote.delete(e.path);
        else {
          if (st?.type === "dir") result.deleted += await removeAny(target, e.path);
          await target.rename(from, e.path);
        }
      } else if (st?.type === "symlink" && (await target.readlink(e.path)) === e.target) {
        wrote.delete(e.path);
      } else {
        if (st) result.deleted += await removeAny(target, e.path);
        await target.symlink(e.target!, e.path);
        result.symlinks++;
      }
    }

    const meta = async (e: IndexEntry): Promise<void> => {
      // A file or symlink left alone is as the listing found it; a directory may have new children.
      if (!wrote.has(e.path)) return metaIfDiffers(target, e, e.type === "dir" ? undefined : await current(e.path));
      // Staged with its mode: only the mtime the write gave it is wrong.
      if (e.type === "file") return target.capabilities.mtimes ? target.utimes(e.path, e.mtimeMs) : undefined;
      return setMeta(target, e.path, e);
    };
    for (const e of made) wrote.add(e.path);
    const withMeta = [...scope, ...made];
    await eachSettled(META_CONCURRENCY, withMeta.filter((e) => e.type !== "dir" && !timed.has(e.path)), meta);
    const dirs = withMeta.filter((e) => e.type === "dir");
    for (const level of deepestFirst(dirs, (e) => e.path)) await eachSettled(META_CONCURRENCY, level, meta);
    const back = [...outside].map(([d, st]): IndexEntry => ({ path: d, type: "dir", size: 0, mtimeMs: ms(st.mtimeMs), mode: st.mode }));
    for (const level of deepestFirst(back, (e) => e.path)) await eachSettled(META_CONCURRENCY, level, (e) => metaIfDiffers(target, e));
  } catch (e) {
    for (const path of moved.reverse()) await target.remove(path, { recursive: true }).catch(() => {});
    throw e;
  }
}

/**
 * What the target has at each of `entries`' paths, as `lstatOrUndefined` would say. A path
 * restore asks for each entry; a whole-tree restore lists each directory holding one once,
 * parents first, and lists nothing below a directory the target lacks. A name that matches only
 * when case and Unicode form are folded is asked for itself, so a target that folds them sees
 * its entry.
 */
async function targetStats(target: FsAdapter, entries: readonly IndexEntry[], whole: boolean): Promise<(path: string) => Promise<FsStat | undefined>> {
  if (!whole) return (path) => lstatOrUndefined(target, path);
  const fold = (name: string) => name.normalize("NFC").toLowerCase();
  const listed = new Map<string, { exact: Map<string, ListedEntry>; folded: Set<string> } | undefined>();
  // Every directory above an entry, parents first: a directory is listed only if its parent's
  // listing shows it.
  const dirs = new Set<string>([""]);
  for (const e of entries) for (let d = parentPath(e.path); d !== "" && !dirs.has(d); d = parentPath(d)) dirs.add(d);
  for (const dir of [...dirs].sort((a, b) => depth(a) - depth(b))) {
    const shown = dir === "" || listed.get(parentPath(dir))?.exact.get(baseName(dir))?.stat?.type === "dir";
    listed.set(dir, shown ? await listing(target, dir) : undefined);
  }
  return async (path) => {
    const dir = listed.get(parentPath(path));
    const name = baseName(path);
    const entry = dir?.exact.get(name);
    if (entry?.stat) return entry.stat;
    if (entry?.error && entry.error.code !== "NOT_FOUND") throw entry.error;
    if (dir?.folded.has(fold(name))) return lstatOrUndefined(target, path);
    return undefined;
  };

  async function listing(fs: FsAdapter, dir: string) {
    let all: ListedEntry[];
    try {
      all = await listWithStats(fs, dir);
    } catch (e) {
      if (e instanceof IbtError && (e.code === "NOT_FOUND" || e.code === "NOT_A_DIRECTORY")) return undefined;
      throw e;
    }
    return { exact: new Map(all.map((e) => [e.name, e])), folded: new Set(all.map((e) => fold(e.name))) };
  }
}

/** Makes missing directories above `path` (a path restore into a tree without them). */
async function ensureParent(target: FsAdapter, index: DirIndex, path: string, made: IndexEntry[], inScope: Set<string>): Promise<void> {
  const parent = parentPath(path);
  if (parent === "" || inScope.has(parent)) return;
  const st = await lstatOrUndefined(target, parent);
  if (st?.type === "dir") return;
  await ensureParent(target, index, parent, made, inScope);
  if (st) await removeAny(target, parent);
  await target.mkdir(parent);
  const e = index.get(parent);
  if (e) made.push(e);
  inScope.add(parent);
}

async function removeAny(target: FsAdapter, path: string): Promise<number> {
  await target.remove(path, { recursive: true });
  return 1;
}

async function deleteExtras(target: FsAdapter, index: DirIndex, dir: string): Promise<number> {
  let n = 0;
  for (const name of await target.list(dir)) {
    const path = joinPath(dir, name);
    if (dir === "" && name.startsWith(STAGING_PREFIX)) continue; // ours, this one or a leftover
    const e = index.get(path);
    const st = await target.lstat(path);
    if (!e) n += await removeAny(target, path);
    else if (e.type === "dir" && st.type === "dir") n += await deleteExtras(target, index, path);
  }
  return n;
}

async function metaIfDiffers(target: FsAdapter, e: IndexEntry, known?: FsStat): Promise<void> {
  const st = known ?? (await target.lstat(e.path));
  const modeDiffers = target.capabilities.modes && e.type !== "symlink" && (st.mode & 0o7777) !== (e.mode & 0o7777);
  if (modeDiffers || ms(st.mtimeMs) !== e.mtimeMs) await setMeta(target, e.path, e);
}
