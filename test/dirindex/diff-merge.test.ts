/**
 * The diff as a merge of two sorted entry streams (diffSorted, which DiffIndex.compute runs)
 * against the map-based diff it replaced, kept here as the reference: the same changes, the same
 * parents, and so the same archive bytes, on the round-trip fixture and on random trees whose
 * paths sort in the awkward ways ("a" < "a-b" < "a/b"), with moves, copies, twins and type changes.
 * Each case is also diffed as an incremental backup diffs: from what its walk keeps beside the
 * old tree (WalkChange: the changed paths, the old entries there, the new directories holding
 * them), with one more pass over the old tree for created content: it must give the same diff.
 */
import { test, mock } from "node:test";
import assert from "node:assert/strict";
import { MemoryFs, DirIndex, DiffIndex, DiffData, diffSorted, collect, isIbtError, type Diff, type Change, type IndexEntry } from "../../src/index.js";
import { pushToPull } from "../../src/archive/pipe.js";
import { parentPath } from "../../src/fs/paths.js";
import { comparePaths } from "../../src/dirindex/entry.js";
import { createdContent, diffPaired, placeContent, type ContentPlaces } from "../../src/dirindex/diff-index.js";
import { WalkChange } from "../../src/dirindex/walk-change.js";
import { ALIKE } from "../../src/dirindex/parent-tree.js";
import { makeV1, makeV2, copyTree } from "../shared/roundtrip-cases.js";
import { rng } from "../support/helpers.js";

/** The diff as main computed it before the merge: maps of both indexes, then a sort. */
function referenceDiff(newIdx: DirIndex, oldIdx: DirIndex): Diff {
  const changes: Change[] = [];
  const created: IndexEntry[] = [];
  for (const [path, old] of oldIdx.entries) {
    const now = newIdx.get(path);
    if (!now || now.type !== old.type) changes.push({ kind: "delete", path, old });
  }
  for (const [path, entry] of newIdx.entries) {
    const old = oldIdx.get(path);
    if (!old || old.type !== entry.type) {
      created.push(entry);
      continue;
    }
    const metaChanged = old.mode !== entry.mode || old.mtimeMs !== entry.mtimeMs;
    if (entry.type === "file" && old.hash !== entry.hash) changes.push({ kind: "update", path, old, entry });
    else if (entry.type === "symlink" && old.target !== entry.target) changes.push({ kind: "relink", path, old, entry });
    else if (metaChanged) changes.push({ kind: "metadata", path, old, entry });
  }
  const gone = new Map<string, string>();
  const anywhere = new Map<string, string>();
  for (const [path, old] of oldIdx.entries) {
    if (old.type !== "file" || old.size === 0 || old.hash === undefined) continue;
    const now = newIdx.get(path);
    const stays = now?.type === "file" && now.hash === old.hash;
    if (!anywhere.has(old.hash)) anywhere.set(old.hash, path);
    if (!stays && !gone.has(old.hash)) gone.set(old.hash, path);
  }
  for (const entry of created) {
    const path = entry.path;
    if (entry.type === "file" && entry.size > 0 && entry.hash !== undefined) {
      const movedFrom = gone.get(entry.hash);
      if (movedFrom !== undefined) {
        gone.delete(entry.hash);
        changes.push({ kind: "move", path, from: movedFrom, entry });
        continue;
      }
      const copyFrom = anywhere.get(entry.hash);
      if (copyFrom !== undefined) {
        changes.push({ kind: "copy", path, from: copyFrom, entry });
        continue;
      }
    }
    changes.push({ kind: "create", path, entry });
  }
  const order = (c: Change) => (c.kind === "delete" ? 0 : 1);
  changes.sort((a, b) => comparePaths(a.path, b.path) || order(a) - order(b));
  const changed = new Set(changes.filter((c) => c.kind !== "delete").map((c) => c.path));
  const parents = new Map<string, { path: string; mtimeMs: number; mode: number }>();
  for (const c of changes) {
    for (let dir = parentPath(c.path); dir !== ""; dir = parentPath(dir)) {
      const e = newIdx.get(dir);
      if (!e || e.type !== "dir" || changed.has(dir) || parents.has(dir)) continue;
      parents.set(dir, { path: dir, mtimeMs: e.mtimeMs, mode: e.mode });
    }
  }
  return { base: oldIdx.id, target: newIdx.id, changes, parents: [...parents.values()].sort((a, b) => comparePaths(a.path, b.path)) };
}

/** The archive DiffData writes for `diff`, at a fixed clock (the manifest records its time). */
async function archiveBytes(diff: Diff, source: MemoryFs): Promise<Uint8Array> {
  mock.timers.enable({ apis: ["Date"], now: 1_700_000_000_000 });
  try {
    return await collect(pushToPull((sink) => new DiffData(diff, { source }).write(sink).then(() => {})));
  } finally {
    mock.timers.reset();
  }
}

function assertSameDiff(newIdx: DirIndex, oldIdx: DirIndex, label: string): Diff {
  const got = new DiffIndex(newIdx, oldIdx).compute();
  const want = referenceDiff(newIdx, oldIdx);
  assert.deepStrictEqual(got, want, label);
  // An incremental backup's form: what its walk kept beside the old tree, and a pass over the old tree for created content.
  const change = walkedChange(newIdx, oldIdx);
  const pairs = change.pairs();
  const wanted = createdContent(pairs.pairs);
  const places: ContentPlaces = { gone: new Map(), anywhere: new Map() };
  if (wanted.size > 0) for (const old of oldIdx.sortedEntries) placeContent(wanted, change.nowAt(old), old, places);
  const changes: Change[] = [];
  const unread = () => assert.fail("the whole trees are not read");
  const parents = diffPaired(unread, (c) => changes.push(c), pairs, places);
  assert.deepStrictEqual({ base: oldIdx.id, target: newIdx.id, changes, parents }, want, `${label}, as a backup's walk keeps it`);
  return got;
}

/** Whether an index stores the two entries alike: every field, the signature's bytes included. */
function sameIndexEntry(a: IndexEntry, b: IndexEntry): boolean {
  const fields = ["type", "size", "mtimeMs", "mode", "ctimeMs", "ino", "hash", "target"] as const;
  if (fields.some((f) => a[f] !== b[f])) return false;
  if (a.signature === undefined || b.signature === undefined) return a.signature === b.signature;
  return a.signature.length === b.signature.length && a.signature.every((x, i) => x === b.signature![i]);
}

/** What an incremental backup's walk keeps: the entries not stored alike, the paths gone. */
/** What a backup's walk of `newIdx`'s tree beside `oldIdx` keeps: entries stored alike are not kept. */
function walkedChange(newIdx: DirIndex, oldIdx: DirIndex): WalkChange {
  const change = new WalkChange(oldIdx.id);
  const olds = oldIdx.sortedEntries;
  let i = 0;
  for (const e of newIdx.sortedEntries) {
    while (i < olds.length && olds[i]!.path < e.path) change.gone(olds[i++]!);
    const old = i < olds.length && olds[i]!.path === e.path ? olds[i++]! : undefined;
    change.walked(e, old && sameIndexEntry(old, e) ? ALIKE : old);
  }
  while (i < olds.length) change.gone(olds[i++]!);
  return change;
}

test("the merged diff and its archive are byte for byte the reference's on the round-trip fixture", async () => {
  const v1fs = new MemoryFs();
  await makeV1(v1fs, 300);
  const v2fs = new MemoryFs();
  await copyTree(v1fs, v2fs);
  await makeV2(v2fs, 300);
  const empty = await DirIndex.fromEntries([]);
  const v1 = await DirIndex.build(v1fs);
  const v2 = await DirIndex.build(v2fs, { previous: v1 });
  const cases: [DirIndex, DirIndex, MemoryFs, string][] = [
    [v1, empty, v1fs, "full v1"],
    [v2, v1, v2fs, "v1 -> v2"],
    [v1, v2, v1fs, "v2 -> v1"],
    [v2, v2, v2fs, "no change"],
    [empty, v2, v2fs, "everything deleted"],
  ];
  for (const [now, base, fs, label] of cases) {
    const diff = assertSameDiff(now, base, label);
    const want = referenceDiff(now, base);
    assert.deepStrictEqual(await archiveBytes(diff, fs), await archiveBytes(want, fs), `${label}: archive`);
  }
  // The fixture's edits all show up: a move, a copy, a type change (delete before create).
  const kinds = new Set(new DiffIndex(v2, v1).compute().changes.map((c) => c.kind));
  for (const k of ["move", "copy", "update", "delete", "create", "metadata"]) assert.ok(kinds.has(k as Change["kind"]), k);
});

/** A random tree of entries over a small alphabet, so paths share prefixes and sort around "/". */
function randomEntries(next: () => number, count: number, contents: number): IndexEntry[] {
  const names = ["a", "a-b", "a.b", "b", "a b", "é", "a0"];
  const pick = () => names[Math.floor(next() * names.length)]!;
  const byPath = new Map<string, IndexEntry>();
  const dir = (path: string): void => {
    if (path === "" || byPath.has(path)) return;
    dir(parentPath(path));
    byPath.set(path, { path, type: "dir", size: 0, mtimeMs: 1000 * Math.floor(next() * 3), mode: 0o755 });
  };
  for (let i = 0; i < count; i++) {
    const depth = 1 + Math.floor(next() * 3);
    const parts = Array.from({ length: depth }, pick);
    const path = parts.join("/");
    const parent = parentPath(path);
    if (byPath.has(path) || [...byPath.values()].some((e) => e.type !== "dir" && (parent === e.path || parent.startsWith(e.path + "/")))) continue;
    dir(parent);
    const r = next();
    if (r < 0.15) {
      dir(path);
      continue;
    }
    if (r < 0.25) {
      const target = pick();
      byPath.set(path, { path, type: "symlink", size: target.length, mtimeMs: 1000, mode: 0o777, hash: `${String(target.length).padStart(64, "f")}`, target });
      continue;
    }
    const c = Math.floor(next() * contents);
    const size = c === 0 ? 0 : 10 + c;
    byPath.set(path, { path, type: "file", size, mtimeMs: 1000 * Math.floor(next() * 2), mode: next() < 0.8 ? 0o644 : 0o600, hash: c.toString(16).padStart(64, "0") });
  }
  return [...byPath.values()];
}

test("the merged diff is the reference's on random trees with moves, copies, twins and type changes", async () => {
  const next = rng(16);
  const seen = new Set<string>();
  for (let round = 0; round < 300; round++) {
    const a = await DirIndex.fromEntries(randomEntries(next, 1 + Math.floor(next() * 40), 6));
    const b = await DirIndex.fromEntries(randomEntries(next, 1 + Math.floor(next() * 40), 6));
    for (const diff of [assertSameDiff(b, a, `round ${round}: a -> b`), assertSameDiff(a, b, `round ${round}: b -> a`)]) {
      for (const c of diff.changes) seen.add(c.kind);
      if (diff.parents.length > 0) seen.add("parents");
    }
  }
  // The rounds reach every kind of change, and directories whose metadata must be put back.
  for (const k of ["create", "update", "delete", "move", "copy", "relink", "metadata", "parents"]) assert.ok(seen.has(k), k);
});

test("diffSorted refuses entries out of path order", () => {
  const e = (path: string): IndexEntry => ({ path, type: "dir", size: 0, mtimeMs: 0, mode: 0o755 });
  const sorted = [e("a"), e("a/b")];
  const bad = [e("a/b"), e("a")];
  for (const [newer, older] of [[bad, sorted], [sorted, bad], [[e("a"), e("a")], []]]) {
    assert.throws(
      () => diffSorted(() => newer!, () => older!, () => {}),
      (err: unknown) => isIbtError(err) && err.code === "CORRUPT",
    );
  }
});
