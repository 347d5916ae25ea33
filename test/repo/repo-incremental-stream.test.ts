/**
 * An incremental backup walks the tree as a stream against its parent's packed tree and keeps
 * only what changed (backup.ts, `walkAgainst`). What it stores is byte for byte what the
 * in-memory path makes of the same trees: the archive DiffData writes for DiffIndex of the two
 * whole indexes, and the index delta (or whole index) of the new tree against the parent's.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DiffData, DiffIndex, DirIndex, MemoryFs, MemoryStore, Repository, type FsAdapter, type Store } from "../../src/index.js";
import { nodeDeflate } from "../../src/node/index.js";
import { encodeIndex } from "../../src/dirindex/index-file.js";
import { encodeIndexDelta, estimatedDeltaSize, estimatedSize, indexDelta } from "../../src/dirindex/index-delta.js";
import { compressionOptions } from "../../src/repo/backup-write.js";
import { deflatedIndex } from "../../src/repo/index-object.js";
import { archivePath, indexPath } from "../../src/repo/layout.js";
import { loadRecords } from "../../src/repo/snapshot.js";
import { loadTree } from "../../src/repo/stored.js";
import { collect } from "../../src/bytes.js";
import type { DeflateCodec } from "../../src/archive/deflate.js";
import { makeV1, makeV2 } from "../shared/roundtrip-cases.js";
import { equalBytes, randomBytes, rng, textBytes } from "../support/helpers.js";
import { streamedTree } from "../support/repo-kit.js";

const time = (day: number) => new Date(Date.UTC(2026, 0, day, 3, 4, 5, 678));

/** What the in-memory path writes for an incremental of `fs` against the latest snapshot's tree. */
async function inMemoryIncremental(store: Store, fs: FsAdapter, codec: DeflateCodec | undefined, at: Date): Promise<{ archive: Uint8Array; index: Uint8Array }> {
  const { records } = await loadRecords(store);
  const previous = await loadTree(store, records.at(-1)!, records);
  const now = await DirIndex.build(fs, { previous });
  const diff = new DiffIndex(now, previous).compute();
  const parts: Uint8Array[] = [];
  await new DiffData(diff, { source: fs, time: at, ...compressionOptions(undefined), ...(codec ? { deflate: codec } : {}) }).write(async (c) => void parts.push(c.slice()));
  const delta = indexDelta(previous, now);
  const whole = !delta || estimatedDeltaSize(delta) >= estimatedSize(now.sortedEntries);
  const index = await collect(deflatedIndex(whole ? encodeIndex(now) : encodeIndexDelta(delta), codec));
  return { archive: await collect(parts), index };
}

/** A third version of the round-trip tree: edits, a directory moved, files deleted and added. */
async function makeV3(fs: FsAdapter): Promise<void> {
  const put = async (path: string, text: string | Uint8Array) => fs.writeFile(path, typeof text === "string" ? new TextEncoder().encode(text) : text);
  await fs.rename("new", "renamed new");
  for (let i = 2; i < 300; i += 11) await put(`many/f${i}.txt`, `third edit ${i}\n`);
  await fs.remove("docs/copy of run.sh");
  await put("docs/added later.txt", textBytes(rng(5), 9000));
  await put("src/notes.txt", textBytes(rng(6), 21_000));
}

/**
 * Directories whose names are prefixes of their siblings' ("pre", "pre.d", "pre-x.txt"): in path
 * order "pre" comes before its siblings and "pre/..." after them, so what holds a change in
 * "pre/" is not next to it.
 */
async function addPrefixSiblings(fs: FsAdapter): Promise<void> {
  const put = async (path: string, text: string) => fs.writeFile(path, new TextEncoder().encode(text));
  for (const dir of ["pre", "pre/sub", "pre.d", "pre.d/in", "pre-x"]) await fs.mkdir(dir);
  for (const dir of ["pre", "pre/sub", "pre.d", "pre.d/in", "pre-x"]) for (let i = 0; i < 3; i++) await put(`${dir}/f${i}.txt`, `${dir} ${i}\n`.repeat(40));
  await put("pre.txt", "beside\n");
  await put("pre!", "beside too\n");
}

/**
 * Edits two levels under "pre/" and "pre.d/", past their prefix siblings: "pre" and "pre.d" are
 * left alone (their children change, not their listings), so they hold changes without being
 * changed, and the archive must give their times back.
 */
async function editUnderPrefix(fs: FsAdapter): Promise<void> {
  await fs.writeFile("pre/sub/f1.txt", new TextEncoder().encode("rewritten\n"));
  await fs.writeFile("pre.d/in/f2.txt", new TextEncoder().encode("and this\n"));
}

test("incremental backups store byte for byte what the in-memory path writes, and the packed tree is the loaded tree", async () => {
  for (const [name, codec] of [["fflate", undefined], ["node:zlib", nodeDeflate]] as const) {
    const fs = new MemoryFs();
    await makeV1(fs, 600);
    const store = new MemoryStore();
    const repo = await Repository.init(store, codec ? { deflate: codec } : {});
    await repo.backup(fs, { time: time(1) });
    let day = 2;
    for (const [step, change] of [
      ["v2", (f: FsAdapter) => makeV2(f, 600)],
      ["v3", makeV3],
      ["no change", async () => {}],
      ["prefix siblings added", addPrefixSiblings],
      ["edits under a directory past its prefix siblings", editUnderPrefix],
    ] as const) {
      await change(fs);
      const at = time(day++);
      const want = await inMemoryIncremental(store, fs, codec, at);
      const snap = await repo.backup(fs, { time: at });
      assert.equal(snap.kind, "incremental", `${name} ${step}`);
      assert.ok(equalBytes(await store.load(archivePath(snap.id)), want.archive), `${name} ${step}: archive`);
      assert.ok(equalBytes(await store.load(indexPath(snap.id)), want.index), `${name} ${step}: index`);
    }
    const { records } = await loadRecords(store);
    assert.equal(records.length, 6);
    for (const rec of records) {
      const packed = await streamedTree(store, rec, records);
      const loaded = await loadTree(store, rec, records);
      assert.equal(packed.id, loaded.id);
      assert.deepEqual(packed.sortedEntries, loaded.sortedEntries, `${name}: snapshot ${rec.seq}'s tree`);
    }
    assert.equal((await repo.verify({ readData: true })).ok, true, name);
  }
});

test("an incremental that outgrows its budget is written as a full, byte for byte the in-memory full", async () => {
  const fs = new MemoryFs();
  await makeV1(fs, 300);
  const store = new MemoryStore();
  const repo = await Repository.init(store, { fullShare: 0.01 });
  await repo.backup(fs, { time: time(1) });
  await makeV2(fs, 300);
  // New content for most of the tree's bytes: the incremental passes its budget of a hundredth of the full as it is written.
  await fs.writeFile("src/nested/big.bin", randomBytes(rng(9), 3 * 1024 * 1024));
  const { records } = await loadRecords(store);
  const previous = await loadTree(store, records.at(-1)!, records);
  const now = await DirIndex.build(fs, { previous });
  const diff = new DiffIndex(now, await DirIndex.fromEntries([])).compute();
  const parts: Uint8Array[] = [];
  await new DiffData(diff, { source: fs, time: time(2) }).write(async (c) => void parts.push(c.slice()));
  const snap = await repo.backup(fs, { time: time(2) });
  assert.equal(snap.kind, "full");
  assert.ok(equalBytes(await store.load(archivePath(snap.id)), await collect(parts)), "archive");
  assert.ok(equalBytes(await store.load(indexPath(snap.id)), await collect(deflatedIndex(encodeIndex(now)))), "index");
});
