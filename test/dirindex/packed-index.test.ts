/**
 * A PackedIndex holds entries as their stored records and makes objects of them when asked: it
 * must give back every entry as it was given, find entries by path whatever order they are
 * asked in, find files by inode, and have the identity and counts a DirIndex of the same entries
 * has.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DirIndex, IbtError, MemoryFs } from "../../src/index.js";
import type { IndexEntry } from "../../src/dirindex/entry.js";
import { PackedIndex } from "../../src/dirindex/packed-index.js";
import { makeV1 } from "../shared/roundtrip-cases.js";
import { encodeIndex } from "../../src/dirindex/index-file.js";
import { appliedEntries, applyIndexDelta, changedPairs, pairedWithDelta } from "../../src/dirindex/delta-apply.js";
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

test("a packed index gives back every entry as given, with a DirIndex's identity and counts", async () => {
  const entries = sampleEntries();
  const packed = await PackedIndex.from(entries);
  const index = await DirIndex.fromSorted(entries);
  assert.equal(packed.count, entries.length);
  assert.equal(packed.id, index.id);
  const { files, dirs, symlinks, bytes } = index.stats;
  assert.deepEqual(packed.stats, { files, dirs, symlinks, bytes });
  // Twice: each iteration starts over.
  for (let round = 0; round < 2; round++) assert.deepEqual([...packed.sortedEntries], entries);
  // From entries streamed in.
  async function* streamed() {
    yield* entries;
  }
  assert.equal((await PackedIndex.from(streamed())).id, index.id);
});

test("a packed index finds entries by path asked in any order, and says when a path is not there", async () => {
  const entries = sampleEntries();
  const packed = await PackedIndex.from(entries);
  const orders = [entries, [...entries].reverse(), [...entries].sort(() => rng(3)() - 0.5)];
  const shuffled = [...entries];
  const next = rng(11);
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  orders.push(shuffled);
  for (const order of orders) for (const e of order) assert.deepEqual(packed.get(e.path), e, e.path);
  for (const missing of ["", "0", "a/", "a/bi", "a/big0", "a.tx", "b/x", "c/日本 00000 ", "zzz", "c/日本 03000"]) {
    assert.equal(packed.get(missing), undefined, missing);
  }
  // Asked in path order with absent paths between, as a walk asks.
  for (const e of entries) {
    assert.equal(packed.get(`${e.path}\u0000`), undefined);
    assert.deepEqual(packed.get(e.path), e);
  }
  const empty = await PackedIndex.from([]);
  assert.equal(empty.get("a"), undefined);
  assert.deepEqual([...empty.sortedEntries], []);
});

test("a packed index finds files by inode, never a directory or a symlink", async () => {
  const entries = sampleEntries();
  const packed = await PackedIndex.from(entries);
  for (const e of entries) {
    if (e.ino === undefined) continue;
    const found = packed.fileWithInode(e.ino);
    if (e.type !== "file") assert.equal(found, undefined, `${e.path} is no file`);
    else assert.equal(found?.ino, e.ino, e.path);
  }
  assert.equal(packed.fileWithInode(10), undefined, "the directory's inode");
  assert.equal(packed.fileWithInode(99_999), undefined);
  assert.deepEqual(packed.fileWithInode(11), entries[2]);
});

test("hard links: a packed index and a DirIndex both answer an inode with its first file in path order", async () => {
  const file = (path: string, ino: number): IndexEntry => ({ path, type: "file", size: 5, mtimeMs: 1, mode: 0o644, ctimeMs: 2, ino, hash: "ab".repeat(32) });
  const entries = [file("a", 7), file("b", 9), file("c", 7), file("d", 9), file("e", 7)];
  const packed = await PackedIndex.from(entries);
  const index = await DirIndex.fromSorted(entries);
  assert.equal(packed.fileWithInode(7)?.path, "a");
  assert.equal(index.fileWithInode(7)?.path, "a");
  assert.equal(packed.fileWithInode(9)?.path, "b");
  assert.equal(index.fileWithInode(9)?.path, "b");
});

test("a packed index refuses entries out of path order or repeated", async () => {
  const entries = sampleEntries();
  for (const bad of [[entries[2]!, entries[1]!], [entries[0]!, entries[0]!]]) {
    await assert.rejects(PackedIndex.from(bad), (e: unknown) => e instanceof IbtError && e.code === "CORRUPT");
  }
});

test("a packed walk of the round-trip tree is the walk's index", async () => {
  const fs = new MemoryFs();
  await makeV1(fs, 500);
  const index = await DirIndex.build(fs);
  const packed = await PackedIndex.from(index.sortedEntries);
  assert.equal(packed.id, index.id);
  assert.deepEqual([...packed.sortedEntries], index.sortedEntries);
  for (const e of index.sortedEntries) assert.deepEqual(packed.get(e.path), e);
});

test("beside a walk's entries, a packed index says which are stored alike and which of its paths are gone", async () => {
  const entries = sampleEntries();
  const packed = await PackedIndex.from(entries);
  const next = rng(21);
  const walked: IndexEntry[] = [];
  const wantGone: string[] = [];
  const wantSame: boolean[] = [];
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
        wantSame.push(false);
      }
    }
    if (r < 0.25) {
      walked.push({ ...e, mtimeMs: e.mtimeMs + 1 });
      wantSame.push(false);
    } else if (r < 0.3 && e.signature) {
      const signature = e.signature.slice();
      signature[signature.length - 1]! ^= 1;
      walked.push({ ...e, signature });
      wantSame.push(false);
    } else {
      walked.push({ ...e });
      wantSame.push(true);
    }
  }
  walked.push({ path: "zzz", type: "dir", size: 0, mtimeMs: 1, mode: 0o755 });
  wantSame.push(false);
  const gone: string[] = [];
  const beside = packed.alongside((path) => gone.push(path));
  const same = walked.map((e) => beside.take(e));
  beside.end();
  assert.deepEqual(same, wantSame);
  assert.deepEqual(gone, wantGone);
  assert.ok(wantGone.length > 100 && wantSame.filter((x) => !x).length > 100 && wantSame.filter((x) => x).length > 1000);
});

test("an index file packed as it is read keeps its records as written, however the file is cut into chunks", async () => {
  const entries = sampleEntries();
  const index = await DirIndex.fromSorted(entries);
  const file = await collect(encodeIndex(index));
  for (const cut of [file.length, 65_536, 4096, 7]) {
    const chunks: Uint8Array[] = [];
    for (let at = 0; at < file.length; at += cut) chunks.push(file.slice(at, at + cut));
    const packed = await PackedIndex.fromFile(chunks);
    assert.equal(packed.id, index.id, `chunks of ${cut}`);
    assert.deepEqual([...packed.sortedEntries], entries, `chunks of ${cut}`);
  }
  const damaged = file.slice();
  damaged[damaged.length - 40] ^= 1;
  await assert.rejects(PackedIndex.fromFile([damaged]), (e: unknown) => e instanceof IbtError && e.code === "CORRUPT");
});

test("an index file packed with deltas applied on the way is the tree the deltas make; a delta that does not fit is named by its place", async () => {
  const entries = sampleEntries();
  const file = await collect(encodeIndex(await DirIndex.fromSorted(entries)));
  const d1 = {
    base: "",
    target: "",
    removed: ["a/link", "c/日本 00007"],
    upserts: [
      { path: "a/new", type: "dir" as const, size: 0, mtimeMs: 1, mode: 0o700 },
      { ...entries[4]!, mtimeMs: 99 },
      { path: "zz", type: "file" as const, size: 1, mtimeMs: 2, mode: 0o600, hash: "ab".repeat(32) },
    ],
  };
  const after1 = applyIndexDelta(entries, d1);
  const d2 = { base: "", target: "", removed: ["a/new", "zz"], upserts: [{ ...after1[10]!, size: 12345 }] };
  const want = applyIndexDelta(after1, d2);
  const packed = await PackedIndex.fromFile([file], [d1, d2]);
  assert.deepEqual([...packed.sortedEntries], want);
  assert.equal(packed.id, (await DirIndex.fromSorted(want)).id);
  // The second delta removes a path the first already removed.
  const bad = { removed: ["a/link"], upserts: [] };
  const named: number[] = [];
  await assert.rejects(
    PackedIndex.fromFile([file], [d1, bad], (k, e) => {
      named.push(k);
      throw e;
    }),
    (e: unknown) => e instanceof IbtError && e.code === "CORRUPT",
  );
  assert.deepEqual(named, [1]);
});

test("damage to the index file is reported as such, not as a delta that does not fit it", async () => {
  const entries = sampleEntries();
  const file = await collect(encodeIndex(await DirIndex.fromSorted(entries)));
  const at = indexOfBytes(file, new TextEncoder().encode("a/link"));
  assert.ok(at > 0);
  const damaged = file.slice();
  damaged[at + 5] ^= 0x01; // "a/link" becomes "a/linj": the delta's removal no longer fits
  const named: number[] = [];
  await assert.rejects(
    PackedIndex.fromFile([damaged], [{ removed: ["a/link"], upserts: [] }], (k, e) => {
      named.push(k);
      throw e;
    }),
    (e: unknown) => e instanceof IbtError && e.code === "CORRUPT" && /checksum/.test(e.message),
  );
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
    const whole: (IndexEntry | undefined)[] = [];
    pairedWithDelta(base, change)((now) => whole.push(now));
    const few: (IndexEntry | undefined)[] = [];
    changedPairs({ get: (p) => base.find((e) => e.path === p) }, change).pairs((now) => few.push(now));
    assert.deepEqual(whole, [want]);
    assert.deepEqual(few, [want]);
  }
});

function indexOfBytes(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
