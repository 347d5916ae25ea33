/**
 * applyDiff: turns a copy of the base tree into the target tree, or changes nothing.
 *
 * Three phases:
 *   1. Verify. The manifest is read and checked (paths, kinds, members present in the archive),
 *      and every path the diff touches is compared with the base: types, content hashes, symlink
 *      targets; paths to be created must not exist. Any difference is BASE_MISMATCH. Nothing has
 *      been written yet.
 *   2. Stage. Every new file's content is built in a staging directory inside the target
 *      (`.ibt-staging-…`): archive bytes, a delta patched against the old file, or a copy of a
 *      moved or copied file. Each is checked against its size and hash before it counts. A bad
 *      archive fails here and only the staging directory is removed.
 *   3. Commit. A journal in the staging directory marks the commit point. Then: deletions
 *      (deepest first), new directories, staged files renamed into place, symlinks, then modes
 *      and mtimes (directories after their children, deepest first). Every step checks what is
 *      already done, so when an apply is interrupted after the commit point, applying the same
 *      archive again finishes it (the journal lets it skip the base check, which a half-changed
 *      tree would fail); interrupted before it, the target was never touched and the next apply
 *      starts over. A target that already is the diff's result (the apply finished, or was
 *      killed while removing its staging directory) is recognised by its content: the apply then
 *      only sets modes and mtimes and reports `alreadyApplied`.
 *
 * The adapter guarantees that no path goes through a symlink or leaves the root, and every path
 * in the manifest has passed checkPath, so nothing is written outside the target.
 */
import { IbtError } from "../errors.js";
import type { FsAdapter, FsStat } from "../fs/types.js";
import { depth, joinPath, parentPath } from "../fs/paths.js";
import { patch } from "../rsync/patch.js";
import { collect } from "../bytes.js";
import { lstatOrUndefined, setMeta } from "../fs/entry.js";
import { hashFile, verifiedContent } from "./content-hash.js";
import type { ZipReader } from "./zip-read.js";
import { ArchiveData } from "./group-read.js";
import { STAGING_PREFIX } from "../dirindex/entry.js";
import { MANIFEST_NAME, matchesHash, readManifest, type Manifest, type ManifestChange, type ManifestEntry } from "./manifest.js";

export interface ApplyOptions {
  /** Called as files are staged and committed. */
  onProgress?: (p: { phase: "verify" | "stage" | "commit"; path: string; done: number; total: number }) => void;
}

export interface ApplyResult {
  manifest: Manifest;
  /** Directories that were to be deleted but still held files outside the diff (left in place). */
  keptDirectories: string[];
  /** The target already was the diff's result (content and types), so only metadata was set. */
  alreadyApplied: boolean;
}

/** Applies the diff archive to `target`, a copy of the diff's base tree (Python's apply_diff). */
export async function applyDiff(target: FsAdapter, archive: ZipReader, options: ApplyOptions = {}): Promise<ApplyResult> {
  const progress = options.onProgress ?? (() => {});
  const manifestEntry = archive.get(MANIFEST_NAME);
  if (!manifestEntry) throw new IbtError("CORRUPT", `the archive has no ${MANIFEST_NAME}`);
  const manifest = await readManifest(archive.open(manifestEntry));
  const named = new Set([MANIFEST_NAME]);
  for (const c of manifest.changes) {
    if (c.member !== undefined && !archive.get(c.member)) {
      throw new IbtError("CORRUPT", `the archive lacks member ${c.member}`, { path: c.path });
    }
    if (c.member !== undefined) named.add(c.member);
  }
  // A member no change names is not ours to ignore: the archive is not what its manifest says.
  for (const e of archive.entries()) {
    if (!named.has(e.name)) throw new IbtError("CORRUPT", `the archive holds member ${e.name}, which its manifest does not name`, { path: e.name });
  }
  const data = new ArchiveData(archive, manifest);

  const staging = stagingName(manifest);
  const journal = joinPath(staging, JOURNAL);
  const files = manifest.changes.filter((c) => c.new?.type === "file" && c.kind !== "metadata");
  const staged = files.map((change, i) => ({ change, from: joinPath(staging, String(i)) }));

  if (!(await committing(target, journal, manifest))) {
    // Leftovers of an apply that died while staging: the tree itself was not touched yet.
    if (await lstatOrUndefined(target, staging)) await target.remove(staging, { recursive: true });
    try {
      await verifyBase(target, manifest, (path, done, total) => progress({ phase: "verify", path, done, total }));
    } catch (e) {
      if (!(e instanceof IbtError && e.code === "BASE_MISMATCH") || !(await isResult(target, manifest))) throw e;
      // Already the diff's result: a finished apply run again, or one killed while it removed
      // its staging directory. Only modes and mtimes can still be missing; set them.
      const keptDirectories = await commit(target, manifest, [], (path, done, total) => progress({ phase: "commit", path, done, total }));
      return { manifest, keptDirectories, alreadyApplied: true };
    }
    await target.mkdir(staging);
    try {
      await refuseCaseTwins(target, staging, manifest);
      for (const [i, { change: c, from }] of staged.entries()) {
        await target.writeFile(from, verifiedContent(c, contentOf(target, data, c)), { mode: c.new!.mode & 0o7777 });
        progress({ phase: "stage", path: c.path, done: i + 1, total: files.length });
      }
      // The commit point: from here on, an interrupted apply is finished by the next one.
      await target.writeFile(journal, new TextEncoder().encode(JSON.stringify({ base: manifest.base, target: manifest.target })));
    } catch (e) {
      await target.remove(staging, { recursive: true }).catch(() => {});
      throw e;
    }
  }

  const keptDirectories = await commit(target, manifest, staged, (path, done, total) => progress({ phase: "commit", path, done, total }));
  await target.remove(staging, { recursive: true });
  return { manifest, keptDirectories, alreadyApplied: false };
}

const JOURNAL = "journal.json";

/** True when an earlier apply of this very diff reached its commit point and must be finished. */
async function committing(fs: FsAdapter, journal: string, m: Manifest): Promise<boolean> {
  if (!(await lstatOrUndefined(fs, journal))) return false;
  try {
    const j = JSON.parse(new TextDecoder().decode(await collect(fs.readStream(journal)))) as { base?: string; target?: string };
    return j.base === m.base && j.target === m.target;
  } catch {
    return false;
  }
}

/**
 * Two paths the diff creates that differ only by case would land on one entry of a
 * case-insensitive target, the second replacing the first. The staging directory's name,
 * upper-cased, tells whether the target folds case; only then are such twins refused.
 */
async function refuseCaseTwins(fs: FsAdapter, staging: string, m: Manifest): Promise<void> {
  const seen = new Map<string, string>();
  let twin: [string, string] | undefined;
  for (const c of m.changes) {
    if (c.kind === "delete") continue;
    const folded = c.path.toLowerCase();
    const other = seen.get(folded);
    if (other !== undefined && other !== c.path) twin ??= [other, c.path];
    seen.set(folded, c.path);
  }
  if (twin && (await lstatOrUndefined(fs, staging.toUpperCase()))) {
    throw new IbtError("UNSUPPORTED", `${JSON.stringify(twin[0])} and ${JSON.stringify(twin[1])} differ only by case, and this target does not tell them apart`, { path: twin[1] });
  }
}

function stagingName(m: Manifest): string {
  return `${STAGING_PREFIX}${m.target.slice(0, 16)}`;
}

function mismatch(path: string, why: string): never {
  throw new IbtError("BASE_MISMATCH", `the target is not the diff's base at ${JSON.stringify(path)}: ${why}`, { path });
}

/** Checks that `path` in the target is what `want` says the base had. */
async function expect(fs: FsAdapter, path: string, want: ManifestEntry): Promise<void> {
  const st = await lstatOrUndefined(fs, path);
  if (!st) mismatch(path, "missing");
  if (st.type !== want.type) mismatch(path, `is a ${st.type}, the base has a ${want.type}`);
  if (want.type === "file") {
    const got = await hashFile(fs, path);
    if (got.size !== want.size || !matchesHash(got.hash, want.hash)) mismatch(path, "content differs");
  } else if (want.type === "symlink" && (await fs.readlink(path)) !== want.target) {
    mismatch(path, "symlink target differs");
  }
}

async function verifyBase(fs: FsAdapter, m: Manifest, progress: (path: string, done: number, total: number) => void): Promise<void> {
  const deleted = new Set(m.changes.filter((c) => c.kind === "delete").map((c) => c.path));
  const created = new Set(m.changes.filter((c) => c.new && !c.old && c.kind !== "delete").map((c) => c.path));
  for (const [i, c] of m.changes.entries()) {
    if (c.old) await expect(fs, c.path, c.old);
    if (c.kind === "move" || c.kind === "copy") await expect(fs, c.from!, { ...c.new!, type: "file" });
    if (!c.old && c.kind !== "delete" && !deleted.has(c.path)) {
      if (await lstatOrUndefined(fs, c.path)) mismatch(c.path, "exists but the diff creates it");
      const parent = parentPath(c.path);
      if (parent !== "" && !created.has(parent) && (await lstatOrUndefined(fs, parent))?.type !== "dir") {
        mismatch(c.path, "its directory is missing");
      }
    }
    progress(c.path, i + 1, m.changes.length);
  }
}

/**
 * Whether the target already is what the diff makes of its base, as far as types, content and
 * symlink targets go: every path the diff writes holds its new self and every path it deletes
 * is gone (a directory may remain: it held files the diff does not know, and is kept).
 */
async function isResult(fs: FsAdapter, m: Manifest): Promise<boolean> {
  const written = new Map(m.changes.filter((c) => c.kind !== "delete").map((c) => [c.path, c.new!.type]));
  // Below a path the diff makes a file or symlink, nothing can be: that is how a deleted entry
  // under a replaced directory is gone. Anywhere else "not a directory" means the path runs
  // through something the diff did not make (a symlink, say), which is no result of it.
  const underNonDir = (path: string) => {
    for (let p = parentPath(path); p !== ""; p = parentPath(p)) if ((written.get(p) ?? "dir") !== "dir") return true;
    return false;
  };
  for (const c of m.changes) {
    if (c.kind === "delete") {
      if (written.has(c.path)) continue;
      let st: FsStat;
      try {
        st = await fs.lstat(c.path);
      } catch (e) {
        if (e instanceof IbtError && (e.code === "NOT_FOUND" || (e.code === "NOT_A_DIRECTORY" && underNonDir(c.path)))) continue;
        if (e instanceof IbtError && e.code === "NOT_A_DIRECTORY") return false;
        throw e;
      }
      if (!(st.type === "dir" && c.old!.type === "dir")) return false;
      continue;
    }
    try {
      await expect(fs, c.path, c.new!);
    } catch (e) {
      if (e instanceof IbtError && e.code === "BASE_MISMATCH") return false;
      throw e;
    }
  }
  return true;
}

/** The new content of a file change, before verification. */
function contentOf(fs: FsAdapter, data: ArchiveData, c: ManifestChange): AsyncIterable<Uint8Array> {
  if (c.kind === "move" || c.kind === "copy") return fs.readStream(c.from!);
  if (c.encoding === "bytes") return data.open(c);
  const read = (offset: number, length: number) => fs.read(c.path, offset, length);
  return patch(read, data.open(c), { basisSize: c.old!.size });
}

/**
 * The commit. Every step checks what is already done, so running it again after an
 * interruption (from the journal) finishes the job instead of failing on it.
 */
async function commit(
  fs: FsAdapter,
  m: Manifest,
  staged: { change: ManifestChange; from: string }[],
  progress: (path: string, done: number, total: number) => void,
): Promise<string[]> {
  const kept: string[] = [];
  const total = m.changes.length;
  let done = 0;
  const step = (path: string) => progress(path, ++done, total);

  // Deletions: files and symlinks, then directories deepest first.
  const deletes = m.changes.filter((c) => c.kind === "delete");
  // A path deleted only to change its type may already hold its new self (a resumed commit):
  // only an entry of the old type is removed.
  const stillOld = async (c: ManifestChange) => (await lstatOrUndefined(fs, c.path))?.type === c.old!.type;
  for (const c of deletes.filter((c) => c.old!.type !== "dir")) {
    if (await stillOld(c)) await fs.remove(c.path).catch(ignoreMissing);
    step(c.path);
  }
  for (const c of deletes.filter((c) => c.old!.type === "dir").sort((a, b) => depth(b.path) - depth(a.path))) {
    if (!(await stillOld(c))) continue;
    try {
      await fs.remove(c.path);
    } catch (e) {
      if (e instanceof IbtError && e.code === "NOT_FOUND") continue;
      // Not empty: it holds files the diff does not know (excluded ones), which are kept.
      if (e instanceof IbtError && e.code === "EXISTS") kept.push(c.path);
      else throw e;
    }
    step(c.path);
  }

  // New directories, parents first.
  const dirs = m.changes.filter((c) => c.kind === "create" && c.new!.type === "dir").sort((a, b) => depth(a.path) - depth(b.path));
  for (const c of dirs) {
    await fs.mkdir(c.path, { recursive: true });
    step(c.path);
  }

  // Files into place. A staged file that is gone was placed by an interrupted run: check it.
  for (const { change: c, from } of staged) {
    if (await lstatOrUndefined(fs, from)) await fs.rename(from, c.path);
    else {
      const got = (await lstatOrUndefined(fs, c.path))?.type === "file" ? await hashFile(fs, c.path) : undefined;
      if (!got || !matchesHash(got.hash, c.new!.hash)) {
        throw new IbtError("CORRUPT", `cannot finish the interrupted apply: ${c.path} is neither staged nor in place`, { path: c.path });
      }
    }
    step(c.path);
  }

  // Symlinks.
  for (const c of m.changes.filter((c) => c.new?.type === "symlink" && (c.kind === "create" || c.kind === "relink"))) {
    const st = await lstatOrUndefined(fs, c.path);
    if (st?.type === "symlink" && (await fs.readlink(c.path)) === c.new!.target) continue;
    if (st) await fs.remove(c.path);
    await fs.symlink(c.new!.target!, c.path);
    step(c.path);
  }

  // Modes and mtimes: files and symlinks, then directories deepest first.
  const withMeta = m.changes.filter((c) => c.new && c.kind !== "delete");
  // A staged file got its mode from the staging write: only its mtime is left to set.
  const placed = new Set(staged.map((s) => s.change.path));
  for (const c of withMeta.filter((c) => c.new!.type !== "dir")) {
    if (!placed.has(c.path)) await setMeta(fs, c.path, c.new!);
    else if (fs.capabilities.mtimes) await fs.utimes(c.path, c.new!.mtimeMs);
  }
  for (const c of withMeta.filter((c) => c.new!.type === "dir").sort((a, b) => depth(b.path) - depth(a.path))) {
    await setMeta(fs, c.path, c.new!);
  }
  // Directories whose children changed got new mtimes from the changes; restore what the
  // target tree records for every directory above a change, deepest first.
  for (const d of [...m.parents].sort((a, b) => depth(b.path) - depth(a.path))) {
    if (await lstatOrUndefined(fs, d.path)) await setMeta(fs, d.path, { type: "dir", mtimeMs: d.mtimeMs, mode: d.mode });
  }
  return kept;
}

function ignoreMissing(e: unknown): void {
  if (e instanceof IbtError && e.code === "NOT_FOUND") return;
  throw e;
}
