/**
 * A whole-tree restore into an empty target, as a stream: the snapshot's tree is read from its
 * index in path order (parentTree), and beside it each link's manifest (streamManifest), so that
 * neither the tree nor any manifest is ever held whole. Memory is bounded by batches, read
 * windows and the directories' list, not by the number of files, but for files moved or copied
 * (below): a directory renamed in the chain defers every file under it.
 *
 * Every entry is made in a staging directory inside the target, under `tree/` at its own path,
 * as the tree comes: directories, symlinks with their metadata, files rebuilt by their recipe
 * (content.ts) and created with their mode and mtime. Files are made a batch at a time, each
 * batch in the order its data lies in the archives: a backup writes data in path order, except
 * that a group is stored once full, after the large files whose paths came while it filled, so a
 * remote archive is still read front to back but where those lie more than a batch apart.
 *
 * Once the tree has ended, its identity checked against the record, and every manifest has
 * ended, checked to lead from the parent's tree to this one, the commit moves each top-level
 * entry into place and sets the directories' modes and mtimes, deepest first. Any failure
 * before or during the commit leaves the target empty again.
 *
 * A recipe that goes through a move or copy reads another path of an earlier link, which a
 * stream in path order may have passed: such a file is made after the tree has ended, from the
 * changes at the paths it needs, found by reading the manifests again (makeLater). A manifest
 * whose changes are not in path order (no backup writes one) cannot be streamed: the restore
 * then gives up (NotStreamable), leaves the target empty, and the caller restores with the
 * manifests read whole.
 */
import { IbtError } from "../errors.js";
import type { FsAdapter } from "../fs/types.js";
import type { Store } from "../store/types.js";
import { joinPath, parentPath } from "../fs/paths.js";
import type { IndexEntry } from "../dirindex/entry.js";
import { fileCreator, setMeta } from "../fs/entry.js";
import { READ_AHEAD, ReadBudget, storedRandomAccess } from "../store/random-access.js";
import { ArchiveData } from "../archive/group-read.js";
import { MANIFEST_NAME, NotStreamable, streamManifest, type Manifest, type ManifestChange } from "../archive/manifest.js";
import type { InflateCodec } from "../archive/inflate.js";
import { archivePath } from "./layout.js";
import type { SnapshotRecord } from "./snapshot.js";
import { emptyTreeId, inFile, openArchive, parentTree, type ArchiveLink } from "./stored.js";
import { rebuild, recipe, type Step } from "./content.js";
import { reporter } from "./options.js";
import { InFlight, askFirstReads, deepestFirst, eachSettled, inArchiveOrder, removeStaging, stageFile } from "./restore-work.js";
import type { RestoreOptions, RestoreResult } from "./restore.js";

export interface StreamedRestore {
  staging: string;
  /** Files whose data is read in archive order at a time (path order and archive order differ where large files were stored while a group filled). */
  batchFiles: number;
  /** Files up to this size are created whole, in one call. */
  wholeWrite: number;
  createsInFlight: number;
  createBytesInFlight: number;
  metaConcurrency: number;
}

/** A link whose changes are read from its manifest's stream, in path order. */
interface StreamedLink extends ArchiveLink {
  changes: ChangeCursor;
}

/**
 * Restores snapshot `chain.at(-1)` into `target`, which must be empty, as a stream; undefined,
 * with the target left empty, where the chain cannot be read in path order.
 */
export async function restoreStreamed(
  store: Store,
  chain: readonly SnapshotRecord[],
  records: readonly SnapshotRecord[],
  target: FsAdapter,
  o: RestoreOptions,
  s: StreamedRestore,
  inflate?: InflateCodec,
): Promise<RestoreResult | undefined> {
  const rec = chain.at(-1)!;
  const result: RestoreResult = { snapshot: rec.id, files: 0, unchanged: 0, dirs: 0, symlinks: 0, deleted: 0, bytes: 0 };
  const tree = await parentTree(store, rec, records, inflate);
  const links = await openStreamedChain(store, chain, inflate);
  walkTheLargest(links);
  const report = reporter(o.onProgress, "restore");
  const totals = { totalFiles: rec.files, totalBytes: rec.fullSize };
  const staged = joinPath(s.staging, "tree");
  const create = fileCreator(target);
  const creating = new InFlight(s.createsInFlight, s.createBytesInFlight);
  const dirs: IndexEntry[] = [];
  const roots: string[] = [];
  const moved: string[] = [];
  /** Files whose recipe reads another path of an earlier link (a move or copy): made once the tree has ended. */
  const later: IndexEntry[] = [];
  const wanted = new Set<string>();
  const put = async (e: IndexEntry, steps: Step[]): Promise<void> => {
    const at = joinPath(staged, e.path);
    const content = rebuild(target, steps, joinPath(s.staging, `basis-${result.files}`));
    const timed = await stageFile(target, create, creating, at, e, content, s.wholeWrite);
    if (!timed && target.capabilities.mtimes) await target.utimes(at, e.mtimeMs);
    result.files++;
    result.bytes += e.size;
    report(result.files, result.bytes, totals);
  };
  /** Files of the tree read so far, with their recipes, made a batch at a time in archive order. */
  let plans: { e: IndexEntry; steps: Step[] }[] = [];
  let first = true;
  const putAll = async (): Promise<void> => {
    const batch = inArchiveOrder(links, plans);
    plans = [];
    if (first) askFirstReads(links, batch);
    first = false;
    for (const { e, steps } of batch) await put(e, steps);
  };
  try {
    await target.mkdir(s.staging);
    await target.mkdir(staged);
    for await (const batch of tree.batches()) {
      for (const e of batch.entries) {
        const at = joinPath(staged, e.path);
        if (parentPath(e.path) === "") roots.push(e.path);
        if (e.type === "dir") {
          await target.mkdir(at);
          dirs.push(e);
          result.dirs++;
        } else if (e.type === "symlink") {
          await target.symlink(e.target!, at);
          await setMeta(target, at, e);
          result.symlinks++;
        } else {
          for (const link of links) {
            const reading = link.changes.reach(e.path);
            if (reading) await reading;
          }
          const steps = stepsOrElsewhere(links, e, wanted);
          if (steps) plans.push({ e, steps });
          else later.push(e);
          if (plans.length >= s.batchFiles) await putAll();
        }
      }
    }
    await putAll();
    await makeLater(links, later, wanted, put);
    await creating.drain();
    await checkManifests(links, chain);

    for (const root of roots) {
      await target.rename(joinPath(staged, root), root);
      moved.push(root);
    }
    for (const level of deepestFirst(dirs, (e) => e.path)) await eachSettled(s.metaConcurrency, level, (e) => setMeta(target, e.path, e));
  } catch (e) {
    await creating.drain().catch(() => {}); // nothing may still write into what is removed
    for (const path of moved.reverse()) await target.remove(path, { recursive: true }).catch(() => {});
    let left: unknown;
    await target.remove(s.staging, { recursive: true }).catch((x: unknown) => void (left = x));
    await Promise.all(links.map((l) => l.changes.close()));
    if (!(e instanceof NotStreamable)) throw e;
    // The other way starts only from an empty target.
    if (left === undefined) return undefined;
    const code = left instanceof IbtError ? left.code : "IO";
    throw new IbtError(code, `the restore's staging directory ${s.staging} could not be removed (${left instanceof Error ? left.message : String(left)}); delete it`, { path: s.staging, cause: left });
  }
  await removeStaging(target, s.staging);
  return result;
}

/**
 * Thrown by a link asked for a path other than the one its stream stands at: a recipe that goes
 * through a move or copy, to `path` in an earlier link.
 */
class Elsewhere extends Error {
  constructor(readonly path: string) {
    super(`the restore needs ${JSON.stringify(path)} of an earlier snapshot`);
  }
}

/**
 * The recipe of file `e`; undefined if it needs another path of an earlier link, which is then
 * added to `wanted` with the file's own path.
 */
function stepsOrElsewhere(links: readonly ArchiveLink[], e: IndexEntry, wanted: Set<string>): Step[] | undefined {
  try {
    return recipe(links, links.length - 1, e.path, e.hash);
  } catch (x) {
    if (!(x instanceof Elsewhere)) throw x;
    wanted.add(e.path).add(x.path);
    return undefined;
  }
}

/**
 * Makes the files whose recipes read other paths. Each round reads every link's manifest again
 * and keeps only the changes at the paths wanted, then makes each file whose recipe those
 * changes complete; a recipe that needs yet another path (a file moved twice) adds it for the
 * next round. Each round follows each recipe at least one link further back, so there are at
 * most as many rounds as links. What is held is proportional to the files moved or copied.
 */
async function makeLater(links: readonly StreamedLink[], files: IndexEntry[], wanted: Set<string>, put: (e: IndexEntry, steps: Step[]) => Promise<void>): Promise<void> {
  for (let round = 0; files.length > 0; round++) {
    if (round > links.length) throw new IbtError("INTERNAL", "the recipes of moved files do not end");
    // The paths this round reads; those its recipes add are read by the next.
    const asked = new Set(wanted);
    const read = await Promise.allSettled(links.map((l) => l.changes.at(asked)));
    const failed = read.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
    const found = read.map((r) => (r as PromiseFulfilledResult<Map<string, ManifestChange>>).value);
    const byPath = links.map((l, j): ArchiveLink => ({
      ...l,
      changes: {
        get: (path) => {
          if (!asked.has(path)) throw new Elsewhere(path);
          return found[j]!.get(path);
        },
      },
    }));
    const rest: IndexEntry[] = [];
    for (const e of files) {
      const steps = stepsOrElsewhere(byPath, e, wanted);
      if (steps) await put(e, steps);
      else rest.push(e);
    }
    files = rest;
  }
}

/**
 * Every link's archive opened (full first), all at once, each with its manifest as a stream. The
 * manifest is the archive's last member and is read beside the data: one larger than the
 * opening's first window is read through reads of its own, so that the data's windows and its
 * own do not push each other out. The data's windows share one budget, the manifests' another.
 * The first failure in chain order is thrown once every opening has settled.
 */
async function openStreamedChain(store: Store, chain: readonly SnapshotRecord[], inflate: InflateCodec | undefined): Promise<StreamedLink[]> {
  const data = new ReadBudget();
  const manifests = new ReadBudget();
  const opened = await Promise.allSettled(
    chain.map(async (rec, i): Promise<StreamedLink> => {
      const path = archivePath(rec.id);
      try {
        const { reader, access } = await openArchive(store, path, inflate, data);
        const entry = reader.get(MANIFEST_NAME);
        if (!entry) throw new IbtError("CORRUPT", `no ${MANIFEST_NAME}`);
        // A small manifest lies in what the opening read; a large one is read through its own windows.
        const own = entry.compressedSize <= READ_AHEAD ? reader : reader.through(storedRandomAccess(store, path, access.size, manifests));
        const base = i === 0 ? await emptyTreeId() : chain[i - 1]!.tree;
        return { rec, reader, access, data: new ArchiveData(reader), changes: new ChangeCursor(() => streamManifest(own.open(entry)), { path, base }) };
      } catch (e) {
        inFile(path, e);
      }
    }),
  );
  const links = opened.flatMap((o) => (o.status === "fulfilled" ? [o.value] : []));
  const failed = opened.find((o) => o.status === "rejected");
  if (failed) {
    await Promise.all(links.map((l) => l.changes.close()));
    throw failed.reason;
  }
  return links;
}

/**
 * The archive that holds more than half of the chain's stored bytes (a chain's full, mostly) is
 * read front to back by a whole restore: it takes whole windows from its first read on.
 */
function walkTheLargest(links: readonly StreamedLink[]): void {
  const total = links.reduce((n, l) => n + l.rec.bytesStored, 0);
  for (const l of links) if (l.rec.bytesStored * 2 > total) l.access.walk();
}

/** Reads every manifest to its end and checks that each leads from its parent's tree to its own. */
async function checkManifests(links: readonly StreamedLink[], chain: readonly SnapshotRecord[]): Promise<void> {
  for (const [i, link] of links.entries()) {
    const m = await link.changes.end();
    if (m.target !== link.rec.tree || m.base !== link.changes.expected.base) {
      const from = i === 0 ? "the empty tree" : `snapshot ${chain[i - 1]!.id}`;
      throw new IbtError("CORRUPT", `${link.changes.expected.path}: the archive does not lead from ${from} to snapshot ${link.rec.id}`, { path: link.changes.expected.path });
    }
  }
}

/**
 * A manifest's changes read in path order, as far as the restore has gone: `reach(path)` reads
 * on until the change at `path` (or the first past it) is at hand, and `get(path)` gives the
 * change there. Only changes not yet passed are held, at most a batch of them.
 */
class ChangeCursor {
  #batch: ManifestChange[] = [];
  #i = 0;
  #at: string | undefined;
  #end: Manifest | undefined;

  readonly #source: AsyncGenerator<ManifestChange[], Manifest>;

  /** `read()` reads the manifest from its start: once as it goes, and again for `at`. */
  constructor(
    private readonly read: () => AsyncGenerator<ManifestChange[], Manifest>,
    readonly expected: { path: string; base: string },
  ) {
    this.#source = read();
  }

  /** The manifest's changes at `paths` (deletions left out), read anew from its start. */
  async at(paths: ReadonlySet<string>): Promise<Map<string, ManifestChange>> {
    const found = new Map<string, ManifestChange>();
    try {
      for await (const batch of this.read()) for (const c of batch) if (c.kind !== "delete" && paths.has(c.path)) found.set(c.path, c);
    } catch (e) {
      inFile(this.expected.path, e);
    }
    return found;
  }

  /** Reads on to `path` (paths asked for in increasing order): a promise only if it must read. */
  reach(path: string): Promise<void> | undefined {
    this.#at = path;
    this.#skip();
    if (this.#i < this.#batch.length || this.#end) return undefined;
    return this.#load();
  }

  /** The change giving `path` content in this link, if any; only the path reached can be asked for. */
  get(path: string): ManifestChange | undefined {
    if (path !== this.#at) throw new Elsewhere(path);
    const c = this.#batch[this.#i];
    return c?.path === path ? c : undefined;
  }

  /** The manifest without its changes, once every change has been read. */
  async end(): Promise<Manifest> {
    this.#at = undefined;
    this.#batch = [];
    this.#i = 0;
    while (!this.#end) await this.#next();
    return this.#end;
  }

  async close(): Promise<void> {
    await this.#source.return(undefined as never).catch(() => {});
  }

  /** Passes deletions and changes before the path reached. */
  #skip(): void {
    const at = this.#at;
    while (this.#i < this.#batch.length && (this.#batch[this.#i]!.kind === "delete" || (at !== undefined && this.#batch[this.#i]!.path < at))) this.#i++;
  }

  async #load(): Promise<void> {
    while (this.#i >= this.#batch.length && !this.#end) {
      await this.#next();
      this.#skip();
    }
  }

  async #next(): Promise<void> {
    let r: IteratorResult<ManifestChange[], Manifest>;
    try {
      r = await this.#source.next();
    } catch (e) {
      inFile(this.expected.path, e);
    }
    if (r.done) this.#end = r.value;
    else {
      this.#batch = r.value;
      this.#i = 0;
    }
  }
}
