/**
 * The directory round trip every runtime runs: Node (test/roundtrip.test.ts, on disk), Deno (on
 * disk through NodeFs and in memory) and Chromium (in memory and on OPFS through HandleFs). One
 * source, so that a runtime that indexes, diffs, archives or applies differently fails a test.
 *
 * The fixture is built through the FsAdapter alone (no node:fs, no `cp -a`), with fixed modes and
 * mtimes, so two runs on two adapters with the same capabilities give the same indexes, the same
 * index ids and the same diff. What an adapter cannot hold (symlinks, modes, mtimes on OPFS) is
 * left out of the fixture, and `fingerprint` says which parts the runtimes can be compared on.
 *
 * v1 is built in `source` and copied into `target`; `source` is then edited into v2 in place
 * (edits, adds, deletes, moves, mode and mtime changes, symlinks, a file that becomes a
 * directory), so untouched entries keep their metadata as they would on a real disk.
 */
import assert from "node:assert/strict";
import {
  DiffData,
  DiffIndex,
  DirIndex,
  applyDiff,
  loadIndex,
  openArchive,
  saveIndex,
  summarize,
  type DeflateCodec,
  type FsAdapter,
} from "../../src/index.js";
import { randomBytes, rng, textBytes } from "./data.js";

const MiB = 1 << 20;
/** Fixture times are in 2017-2020; anything newer was written by the test just now. */
const FRESH_AFTER = 1_700_000_000_000;

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Writes a file with fixed permissions (where the adapter keeps them), creating its parents. */
async function put(fs: FsAdapter, path: string, data: Uint8Array | string, mode = 0o644): Promise<void> {
  const parent = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
  if (parent) await fs.mkdir(parent, { recursive: true });
  await fs.writeFile(path, typeof data === "string" ? enc(data) : data);
  if (fs.capabilities.modes) await fs.chmod(path, mode);
}

async function link(fs: FsAdapter, target: string, path: string): Promise<void> {
  if (fs.capabilities.symlinks) await fs.symlink(target, path);
}

async function setTime(fs: FsAdapter, path: string, seconds: number): Promise<void> {
  if (fs.capabilities.mtimes) await fs.utimes(path, seconds * 1000);
}

/** Every path under `dir`, parents before children, in a fixed order. */
async function walk(fs: FsAdapter, dir = ""): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await fs.list(dir)).sort()) {
    const path = dir ? `${dir}/${name}` : name;
    out.push(path);
    if ((await fs.lstat(path)).type === "dir") out.push(...(await walk(fs, path)));
  }
  return out;
}

/**
 * Gives every entry written just now a fixed mtime (and directories fixed permissions), children
 * before their directories, since a change inside a directory moves the directory's own mtime.
 */
async function settle(fs: FsAdapter, baseSeconds: number): Promise<void> {
  if (!fs.capabilities.mtimes) return;
  const paths = await walk(fs);
  const fresh: { path: string; type: string }[] = [];
  for (const path of paths) {
    const st = await fs.lstat(path);
    if (st.mtimeMs > FRESH_AFTER) fresh.push({ path, type: st.type });
  }
  const root = await fs.lstat("");
  for (let i = fresh.length - 1; i >= 0; i--) {
    const { path, type } = fresh[i]!;
    if (type === "dir" && fs.capabilities.modes) await fs.chmod(path, 0o755);
    if (type !== "symlink" || fs.capabilities.symlinks) await fs.utimes(path, (baseSeconds + i) * 1000);
  }
  if (root.mtimeMs > FRESH_AFTER) await fs.utimes("", baseSeconds * 1000 - 1000);
}

/** How many small files the fixture's "many" folder holds: 2000 unless a caller asks for fewer. */
export const MANY_FILES = 2000;

/** Version 1 of the fixture tree. */
export async function makeV1(fs: FsAdapter, many = MANY_FILES): Promise<void> {
  const next = rng(100);
  await fs.mkdir("docs/empty dir", { recursive: true });
  await fs.mkdir("src/nested/deeper/deepest", { recursive: true });
  await put(fs, "README.md", "# fixture\n");
  await put(fs, "docs/naïve café — notes.txt", textBytes(next, 4000));
  await put(fs, "docs/日本語 ファイル.md", textBytes(next, 3000));
  await put(fs, "src/empty.txt", "");
  await put(fs, "src/nested/big.bin", randomBytes(next, 3 * MiB + 17));
  await put(fs, "src/run.sh", "#!/bin/sh\necho hi\n", 0o755);
  await put(fs, "old subtree/a/b/file", "going away");
  await put(fs, "old subtree/a/x", "also going");
  await put(fs, "to-move.txt", textBytes(next, 2000));
  await put(fs, "type-change", "a file that becomes a directory");
  for (let i = 0; i < many; i++) await put(fs, `many/f${i}.txt`, `small file ${i}\n`);
  // A small file edited a little in v2: its delta goes into a group (format v2).
  await put(fs, "src/notes.txt", textBytes(rng(300), 20_000));
  await link(fs, "../README.md", "docs/readme-link");
  await link(fs, "nested/big.bin", "src/big-link");
  await settle(fs, 1_500_000_000);
}

/** Turns version 1 into version 2, in place. */
export async function makeV2(fs: FsAdapter, many = MANY_FILES): Promise<void> {
  const next = rng(200);
  const big = (await fs.read("src/nested/big.bin", 0, 4 * MiB)).slice();
  for (let k = 0; k < 10; k++) big.set(randomBytes(next, 50), Math.floor(next() * (big.length - 50)));
  await put(fs, "src/nested/big.bin", big);
  await put(fs, "README.md", "# fixture, version 2\n");
  const notes = (await fs.read("src/notes.txt", 0, (await fs.lstat("src/notes.txt")).size)).slice();
  notes.set(enc("EDITED"), 10_000);
  await put(fs, "src/notes.txt", notes);
  await fs.remove("old subtree", { recursive: true });
  await fs.rename("to-move.txt", "docs/moved here.txt");
  await put(fs, "docs/copy of run.sh", await fs.read("src/run.sh", 0, 1000), 0o755);
  if (fs.capabilities.modes) await fs.chmod("src/run.sh", 0o700);
  await setTime(fs, "docs/日本語 ファイル.md", 1_600_000_000);
  if (fs.capabilities.symlinks) {
    await fs.remove("src/big-link");
    await fs.symlink("../README.md", "src/big-link");
    await setTime(fs, "src/big-link", 1_550_000_000);
  }
  await fs.mkdir("new/empty/dirs", { recursive: true });
  await fs.remove("docs/empty dir", { recursive: true });
  await fs.remove("type-change");
  await put(fs, "type-change/inside", "now a directory");
  for (let i = 0; i < many; i += 97) await put(fs, `many/f${i}.txt`, `edited ${i}\n`);
  for (let i = 0; i < Math.min(50, many / 3); i++) await fs.remove(`many/f${i * 3 + 1}.txt`);
  await put(fs, "many/new file.txt", "new");
  await settle(fs, 1_700_000_000 - 100_000);
}

/** Copies a whole tree between adapters, metadata included where both can hold it. */
export async function copyTree(from: FsAdapter, to: FsAdapter): Promise<void> {
  const paths = await walk(from);
  for (const path of paths) {
    const st = await from.lstat(path);
    if (st.type === "dir") await to.mkdir(path);
    else if (st.type === "symlink") await link(to, await from.readlink(path), path);
    else await to.writeFile(path, from.readStream(path));
    if (st.type !== "symlink" && from.capabilities.modes && to.capabilities.modes) await to.chmod(path, st.mode);
  }
  if (!(from.capabilities.mtimes && to.capabilities.mtimes)) return;
  for (const path of [...paths].reverse()) {
    const st = await from.lstat(path);
    if (st.type !== "symlink" || to.capabilities.symlinks) await to.utimes(path, st.mtimeMs);
  }
  await to.utimes("", (await from.lstat("")).mtimeMs);
}

/**
 * Everything an index says about each entry, one line each, for comparing two trees; modes and
 * mtimes only where the adapter keeps them (OPFS stamps each file with the time it was written).
 */
export function describeIndex(index: DirIndex, keeps: { modes: boolean; mtimes: boolean }): Map<string, string> {
  return new Map(
    [...index.entries.values()].map((e) => [
      e.path,
      JSON.stringify([e.type, e.size, keeps.modes ? e.mode : "-", keeps.mtimes ? e.mtimeMs : "-", e.hash, e.target]),
    ]),
  );
}

/**
 * What two runtimes must agree on. `content` holds, for files and directories only, what every
 * adapter keeps (path, type, size, hash), and the file-level changes; `full` adds what only an
 * adapter with symlinks, modes and mtimes keeps: the index ids and every change.
 */
export interface RoundTripFingerprint {
  content: { v1: string[]; v2: string[]; changes: Record<string, string[]> };
  full?: { v1Id: string; v2Id: string; summary: string; deltas: number; wholeFiles: number; groups: number };
}

export interface RoundTripReport {
  fingerprint: RoundTripFingerprint;
  /** Archive size in bytes. */
  archiveBytes: number;
  /** Size of v2's files in bytes. */
  treeBytes: number;
}

export interface RoundTripOptions {
  /** Empty and writable: v1 is built here, then edited into v2. */
  source: FsAdapter;
  /** Empty and writable: gets a copy of v1, then the diff is applied to it. */
  target: FsAdapter;
  /** Empty and writable: holds the saved index and the diff archive. */
  store: FsAdapter;
  /** Called once the archive "diff.zip" is in `store`, while `target` still holds v1. */
  beforeApply?: () => Promise<void>;
  /**
   * Files in the fixture's "many" folder (default MANY_FILES). Fewer only where writing 2000
   * files is slow (OPFS takes about 20 ms per file); compare with a reference made the same way.
   */
  manyFiles?: number;
  /** The archive's deflate codec (default fflate). */
  deflate?: DeflateCodec;
}

/**
 * Index v1 and store the index, load it, edit the tree into v2, index it, diff, write the archive,
 * apply it to the copy of v1: the copy then indexes exactly as v2 does. The checks that hold on
 * every adapter are made here; the report lets the caller compare runtimes.
 */
export async function directoryRoundTrip({ source, target, store, beforeApply, manyFiles, deflate }: RoundTripOptions): Promise<RoundTripReport> {
  const full = source.capabilities.symlinks && source.capabilities.modes && source.capabilities.mtimes;
  await makeV1(source, manyFiles);
  await copyTree(source, target);
  const v1 = await DirIndex.build(source);
  await saveIndex(store, "v1.ibtindex", v1);
  const old = await loadIndex(store, "v1.ibtindex");
  assert.equal(old.id, v1.id, "the index survives being stored and loaded");
  if (full) assert.equal((await DirIndex.build(target)).id, v1.id, "the copy of v1 indexes as v1");

  await makeV2(source, manyFiles);
  const now = await DirIndex.build(source);
  const diff = new DiffIndex(now, old).compute();
  const stats = await new DiffData(diff, { source, deflate }).createArchive(store, "diff.zip");
  await beforeApply?.();
  await applyDiff(target, await openArchive(store, "diff.zip"));

  const got = await DirIndex.build(target);
  const want = describeIndex(now, target.capabilities);
  const have = describeIndex(got, target.capabilities);
  assert.deepEqual([...have.keys()], [...want.keys()]);
  for (const [path, line] of want) assert.equal(have.get(path), line, path);
  if (full) assert.equal(got.id, now.id);
  assert.ok(!(await target.list("")).some((n) => n.startsWith(".ibt-staging")), "staging removed");

  const s = summarize(diff);
  assert.ok(s.moved.some((m) => m.to === "docs/moved here.txt"), "the move is found");
  assert.ok(s.copied.some((m) => m.to === "docs/copy of run.sh"), "the copy is found");
  assert.ok(s.deletedDirs.includes("old subtree/a/b"));
  assert.ok(s.updatedFiles.includes("src/nested/big.bin"));
  assert.ok(stats.deltas >= 2, "the big file and the edited small one went as deltas");
  assert.ok(stats.groups >= 1, "small files and small deltas were packed into groups (archive format v2)");
  assert.ok(stats.bytesOut < 200_000, `archive is ${stats.bytesOut} bytes for a 3 MiB file with 10 small edits`);

  const contentLines = (index: DirIndex): string[] =>
    [...index.entries.values()].filter((e) => e.type !== "symlink").map((e) => `${e.type} ${e.path} ${e.type === "file" ? `${e.size} ${e.hash}` : ""}`);
  const fileChanges: Record<string, string[]> = {
    createdFiles: s.createdFiles,
    updatedFiles: s.updatedFiles,
    deletedFiles: s.deletedFiles,
    createdDirs: s.createdDirs,
    deletedDirs: s.deletedDirs,
    moved: s.moved.map((m) => `${m.from} -> ${m.to}`),
    copied: s.copied.map((m) => `${m.from} -> ${m.to}`),
  };
  const fingerprint: RoundTripFingerprint = { content: { v1: contentLines(v1), v2: contentLines(now), changes: fileChanges } };
  if (full) {
    fingerprint.full = { v1Id: v1.id, v2Id: now.id, summary: JSON.stringify(s), deltas: stats.deltas, wholeFiles: stats.wholeFiles, groups: stats.groups };
  }
  const treeBytes = [...now.entries.values()].reduce((a, e) => a + (e.type === "file" ? e.size : 0), 0);
  return { fingerprint, archiveBytes: stats.bytesOut, treeBytes };
}

/**
 * Checks a round trip's fingerprint against one made by another runtime (Node, in memory, with
 * every capability). An adapter without symlinks, modes or mtimes has no `full` part and is
 * compared on its files and directories only (`content` leaves symlinks out everywhere).
 */
export function assertSameAsReference(got: RoundTripFingerprint, reference: RoundTripFingerprint): void {
  if (got.full) assert.deepEqual(got.full, reference.full, "index ids, every change, archive members");
  assert.deepEqual(got.content.v1, reference.content.v1, "v1 files and directories");
  assert.deepEqual(got.content.v2, reference.content.v2, "v2 files and directories");
  assert.deepEqual(got.content.changes, reference.content.changes, "file-level changes");
}
