/**
 * A ParentTree reads a backup's parent index as a stream: it must give back every entry as the
 * index file (and the deltas after it) make it, answer a walk's lookups in path order once it has
 * read that far, tell a walk's entries stored alike from changed ones and hand on the paths gone,
 * and hold only the entries between the walk's two positions, never the whole tree.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DirIndex, IbtError, MemoryFs } from "../../src/index.js";
import type { IndexEntry } from "../../src/dirindex/entry.js";
import { ALIKE, ParentTree, appliedBatches } from "../../src/dirindex/parent-tree.js";
import type { TreeChange } from "../../src/dirindex/delta-apply.js";
import { encodeIndex } from "../../src/dirindex/index-file.js";
import { appliedEntries, applyIndexDelta, changedPairs } from "../../src/dirindex/delta-apply.js";
import { collect } from "../../src/bytes.js";
import { randomBytes, rng } from "../support/helpers.js";

/** Entries of every shape, in path order: files with and without ctime, inode and signature, directories, symlinks, non-ASCII paths. */
function sampleEntries(): IndexEntry[] {
  const next = rng(7);
  const hash = (i: number) => i.toString(16).padStart(64, "0");
  const out: IndexEntry[] = [
    { path: "a", type: "dir", size: 0, mtimeMs: 1.5, mode: 0o755, ctimeMs: 2.25, ino: 10 },
    { path: "a.txt", type: "file", size: 3, mtimeMs: 7, mode: 0o644, ctimeMs: 8, ino: 12, hash: hash(4), signature: randomBytes(next, 40) },
    { path: "a/big", type: "file", size: 1 << 30, mtimeMs: 3, mode: 0o644, ctimeMs: 4, ino: 11, hash: hash(1), signature: randomBytes(next, 5 * 1024 * 1024 + 3) },
    { path: "a/link", type: "symlink", size: 7, mtimeMs: 5, mode: 0o777, hash: hash(2), target: "../café" },
    { path: "a/plain", type: "file", size: 12, mtimeMs: 6, mode: 0o600, hash: hash(3) },
    { path: "b", type: "dir", size: 0, mtimeMs: 9, mode: 0o700 },
  ];
  for (let i = 0; i < 3000; i++) {
    out.push({ path: `c/日本 ${String(i).padStart(5, "0")}`, type: "file", size: i, mtimeMs: 1_700_000_000_000 + i, mode: 0o644, ctimeMs: 1_700_000_000_500 + i, ino: 100_000 + ((i * 7919) % 3000), hash: hash(i + 10), ...(i % 3 === 0 ? { signature: randomBytes(next, 20 + (i % 50)) } : {}) });
  }
  return out;
}

/** An index file's bytes cut into pieces of `cut` bytes, as a store hands them on. */
function pieces(file: Uint8Array, cut: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < file.length; at += cut) out.push(file.slice(at, at + cut));
  return out;
}

async function fileOf(entries: IndexEntry[]): Promise<Uint8Array> {
  return collect(encodeIndex(await DirIndex.fromSorted(entries)));
}

/** A ParentTree over an index file, with deltas applied, counting the passes made over it. */
function treeOf(file: Uint8Array, deltas: TreeChange[] = [], cut = 65_536): { tree: ParentTree; passes: () => number } {
  let passes = 0;
  const tree = new ParentTree("", () => {
    passes++;
    return appliedBatches(pieces(file, cut), deltas);
  });
  return { tree, passes: () => passes };
}

async function all(tree: ParentTree): Promise<IndexEntry[]> {
  const out: IndexEntry[] = [];
  for await (const e of tree.entries()) out.push(e);
  return out;
}

test("a parent tree gives back every entry of its index file, on every pass, however the file is cut", async () => {
  const entries = sampleEntries();
  const file = await fileOf(entries);
  for (const cut of [file.length, 65_536, 4096, 7]) {
    const { tree, passes } = treeOf(file, [], cut);
    for (let round = 0; round < 2; round++) assert.deepEqual(await all(tree), entries, `chunks of ${cut}`);
    assert.equal(passes(), 2, "each pass reads the source again");
  }
  const damaged = file.slice();
  damaged[damaged.length - 40] ^= 1;
  await assert.rejects(all(treeOf(damaged).tree), (e: unknown) => e instanceof IbtError && e.code === "CORRUPT");
});

test("a parent tree answers paths asked in path order once read that far, and refuses to answer before", async () => {
  const entries = sampleEntries();
  const { tree } = treeOf(await fileOf(entries), [], 4096);
  assert.equal(tree.ready("a"), false);
  assert.throws(() => tree.get("a"), (e: unknown) => e instanceof IbtError && e.code === "INTERNAL");
  // Asked in path order with absent paths between, as a walk asks; now and then an earlier one again.
  for (const [i, e] of entries.entries()) {
    if (!tree.ready(`${e.path}\u0000`)) await tree.fill(`${e.path}\u0000`);
    assert.equal(tree.get(`${e.path}\u0000`), undefined);
    assert.deepEqual(tree.get(e.path), e, e.path);
    if (i > 0 && i % 97 === 0) assert.deepEqual(tree.get(entries[i - 1]!.path), entries[i - 1]);
  }
  for (const missing of ["zzz", "c/日本 03000"]) {
    await tree.fill(missing);
    assert.equal(tree.get(missing), undefined, missing);
  }
  assert.equal(tree.fileWithInode(), undefined, "a moved file is not looked for");
});

test("beside a walk's entries, a parent tree says which are stored alike, gives its entry where not, and hands on the entries gone", async () => {
  const entries = sampleEntries();
  const { tree } = treeOf(await fileOf(entries), [], 4096);
  const next = rng(21);
  const walked: IndexEntry[] = [];
  const wantGone: string[] = [];
  const want: (IndexEntry | typeof ALIKE | undefined)[] = [];
  for (const e of entries) {
    const r = next();
    if (r < 0.1) {
      wantGone.push(e.path);
      continue;
    }
    if (r < 0.15) {
      // A path the index does not hold, just before this one.
      const added: IndexEntry = { path: `${e.path.slice(0, -1)}${String.fromCharCode(e.path.charCodeAt(e.path.length - 1) - 1)}\uffff`, type: "dir", size: 0, mtimeMs: 1, mode: 0o755 };
      if (walked.length === 0 || walked.at(-1)!.path < added.path) {
        walked.push(added);
        want.push(undefined);
      }
    }
    if (r < 0.25) {
      walked.push({ ...e, mtimeMs: e.mtimeMs + 1 });
      want.push(e);
    } else if (r < 0.3 && e.signature) {
      const signature = e.signature.slice();
      signature[signature.length - 1]! ^= 1;
      walked.push({ ...e, signature });
      want.push(e);
    } else {
      walked.push({ ...e });
      want.push(ALIKE);
    }
  }
  walked.push({ path: "zzz", type: "dir", size: 0, mtimeMs: 1, mode: 0o755 });
  want.push(undefined);
  const gone: IndexEntry[] = [];
  const beside = tree.alongside((old) => gone.push(old));
  const got: (IndexEntry | typeof ALIKE | undefined)[] = [];
  for (const e of walked) got.push(await beside.take(e));
  await beside.end();
  assert.deepEqual(got, want);
  assert.deepEqual(
    gone.map((e) => e.path),
    wantGone,
  );
  assert.deepEqual(gone, entries.filter((e) => wantGone.includes(e.path)), "the gone entries are the index's own");
  assert.ok(wantGone.length > 100 && want.filter((x) => x !== ALIKE).length > 100 && want.filter((x) => x === ALIKE).length > 1000);
});

test("a walk of a wide tree beside its parent holds a bounded part of the parent, and reads it once", async () => {
  const fs = new MemoryFs();
  for (let d = 0; d < 4; d++) {
    await fs.mkdir(`d${d}`);
    for (let i = 0; i < 10_000; i++) await fs.writeFile(`d${d}/f${String(i).padStart(5, "0")}`, new TextEncoder().encode(`${d} ${i}`));
  }
  const before = await DirIndex.build(fs);
  await fs.writeFile("d1/f00100", new TextEncoder().encode("changed"));
  await fs.remove("d2/f00200");
  const { tree, passes } = treeOf(await collect(encodeIndex(before)));
  const stream = DirIndex.stream(fs, { previous: tree }, { released: false });
  const changed: string[] = [];
  const gone: string[] = [];
  const beside = tree.alongside((old) => gone.push(old.path));
  for await (const e of stream.entries) if ((await beside.take(e)) !== ALIKE) changed.push(e.path);
  await beside.end();
  const done = await stream.done;
  assert.equal(done.filesRead, 1, "only the changed file was read");
  const after = await DirIndex.build(fs);
  const differs = after.sortedEntries.filter((e) => JSON.stringify(e) !== JSON.stringify(before.get(e.path)));
  assert.deepEqual(changed, differs.map((e) => e.path));
  assert.ok(changed.includes("d1/f00100"));
  assert.deepEqual(gone, ["d2/f00200"]);
  assert.equal(passes(), 1);
  // The walk's window (1,024), its queue (256) and one 64 KiB piece of the index (about 1,100
  // entries here) bound what is held: a small part of the 40,005 entries.
  assert.ok(tree.peakHeld > 0 && tree.peakHeld < 4000, `held at most ${tree.peakHeld} entries`);
});

test("a parent tree with deltas applied on the way is the tree the deltas make; a delta that does not fit is named by its place", async () => {
  const entries = sampleEntries();
  const file = await fileOf(entries);
  const d1 = {
    removed: ["a/link", "c/日本 00007"],
    upserts: [
      { path: "a/new", type: "dir" as const, size: 0, mtimeMs: 1, mode: 0o700 },
      { ...entries[4]!, mtimeMs: 99 },
      { path: "zz", type: "file" as const, size: 1, mtimeMs: 2, mode: 0o600, hash: "ab".repeat(32) },
    ],
  };
  const after1 = applyIndexDelta(entries, d1);
  const d2 = { removed: ["a/new", "zz"], upserts: [{ ...after1[10]!, size: 12345 }] };
  const want = applyIndexDelta(after1, d2);
  assert.deepEqual(await all(treeOf(file, [d1, d2]).tree), want);
  // Beside the entries the deltas make, every one is alike: records a delta made anew are compared as encoded.
  const { tree } = treeOf(file, [d1, d2]);
  const beside = tree.alongside(() => assert.fail("nothing is gone"));
  for (const e of want) assert.equal(await beside.take({ ...e }), ALIKE, e.path);
  await beside.end();
  // The second delta removes a path the first already removed.
  const bad = { removed: ["a/link"], upserts: [] };
  const named: number[] = [];
  const failing = appliedBatches([file], [d1, bad], (k, e) => {
    named.push(k);
    throw e;
  });
  await assert.rejects(drain(failing), (e: unknown) => e instanceof IbtError && e.code === "CORRUPT");
  assert.deepEqual(named, [1]);
});

test("damage to the index file is reported as such, not as a delta that does not fit it", async () => {
  const file = await fileOf(sampleEntries());
  const at = indexOfBytes(file, new TextEncoder().encode("a/link"));
  assert.ok(at > 0);
  const damaged = file.slice();
  damaged[at + 5] ^= 0x01; // "a/link" becomes "a/linj": the delta's removal no longer fits
  const named: number[] = [];
  const failing = appliedBatches([damaged], [{ removed: ["a/link"], upserts: [] }], (k, e) => {
    named.push(k);
    throw e;
  });
  await assert.rejects(drain(failing), (e: unknown) => e instanceof IbtError && e.code === "CORRUPT" && /checksum/.test(e.message));
  assert.deepEqual(named, [], "no delta is blamed");
});

test("a walk's change stands as it is; an index delta's file without a signature takes the base's", () => {
  const hash = "cd".repeat(32);
  const signature = new Uint8Array([1, 2, 3, 4]);
  const base: IndexEntry[] = [{ path: "f", type: "file", size: 3000, mtimeMs: 1, mode: 0o644, hash, signature }];
  const walked: IndexEntry = { path: "f", type: "file", size: 3000, mtimeMs: 2, mode: 0o644, hash };
  const asWalked = { removed: [], upserts: [walked], whole: true };
  const asDelta = { removed: [], upserts: [walked] };
  assert.deepEqual([...appliedEntries(base, asWalked)], [walked]);
  assert.deepEqual([...appliedEntries(base, asDelta)], [{ ...walked, signature }]);
  for (const [change, want] of [
    [asWalked, walked],
    [asDelta, { ...walked, signature }],
  ] as const) {
    const few: (IndexEntry | undefined)[] = [];
    changedPairs({ get: (p) => base.find((e) => e.path === p) }, change).pairs((now) => few.push(now));
    assert.deepEqual(few, [want]);
  }
});

async function drain(source: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of source);
}

function indexOfBytes(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
