/**
 * A full backup writes its archive while the walk goes on (backup.ts, `fullAsWalked`). What it
 * stores is byte for byte what the whole-walk path makes of the same tree: the archive DiffData
 * writes for the diff against the empty tree, and the deflated whole index. It reads each file
 * once, even when the tree is larger than the content cache, and a backup that fails or is
 * cancelled while the walk goes on leaves nothing behind.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DiffData, DiffIndex, DirIndex, IbtError, MemoryFs, MemoryStore, Repository, isIbtError, type FsAdapter, type ReadStreamOptions } from "../../src/index.js";
import { nodeDeflate } from "../../src/node/index.js";
import { encodeIndex } from "../../src/dirindex/index-file.js";
import { compressionOptions } from "../../src/repo/backup-write.js";
import { deflatedIndex } from "../../src/repo/index-object.js";
import { archivePath, indexPath } from "../../src/repo/layout.js";
import { collect } from "../../src/bytes.js";
import type { DeflateCodec } from "../../src/archive/deflate.js";
import { makeV1, makeV2 } from "../shared/roundtrip-cases.js";
import { equalBytes, randomBytes, rng, textBytes } from "../support/helpers.js";

const T1 = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678));
const T2 = new Date(Date.UTC(2026, 0, 3, 3, 4, 5, 678));

/** The archive and index object the whole-walk path writes for a full backup of `fs` at `time`. */
async function wholeWalkFull(fs: FsAdapter, codec: DeflateCodec | undefined, time: Date): Promise<{ archive: Uint8Array; index: Uint8Array }> {
  const now = await DirIndex.build(fs);
  const diff = new DiffIndex(now, await DirIndex.fromEntries([])).compute();
  const parts: Uint8Array[] = [];
  await new DiffData(diff, { source: fs, time, ...compressionOptions(undefined), ...(codec ? { deflate: codec } : {}) }).write(async (c) => void parts.push(c.slice()));
  return { archive: await collect(parts), index: await collect(deflatedIndex(encodeIndex(now), codec)) };
}

test("a full backup stores byte for byte what the whole walk writes: first backup and a forced full, both codecs", async () => {
  for (const [name, codec] of [["fflate", undefined], ["node:zlib", nodeDeflate]] as const) {
    const fs = new MemoryFs();
    await makeV1(fs, 3000);
    const store = new MemoryStore();
    const repo = await Repository.init(store, codec ? { deflate: codec } : {});
    const first = await repo.backup(fs, { time: T1 });
    let want = await wholeWalkFull(fs, codec, T1);
    assert.ok(equalBytes(await store.load(archivePath(first.id)), want.archive), `${name}: first backup's archive`);
    assert.ok(equalBytes(await store.load(indexPath(first.id)), want.index), `${name}: first backup's index`);

    await makeV2(fs, 3000);
    const forced = await repo.backup(fs, { time: T2, full: true });
    assert.equal(forced.kind, "full");
    want = await wholeWalkFull(fs, codec, T2);
    assert.ok(equalBytes(await store.load(archivePath(forced.id)), want.archive), `${name}: forced full's archive`);
    assert.ok(equalBytes(await store.load(indexPath(forced.id)), want.index), `${name}: forced full's index`);
    assert.equal((await repo.verify({ readData: true })).ok, true, name);
  }
});

/** Counts how often each file's content is read. */
function countingReads(fs: FsAdapter): { fs: FsAdapter; reads: Map<string, number> } {
  const reads = new Map<string, number>();
  const counting = Object.create(fs) as FsAdapter;
  counting.readStream = (path: string, options?: ReadStreamOptions) => {
    reads.set(path, (reads.get(path) ?? 0) + 1);
    return fs.readStream(path, options);
  };
  return { fs: counting, reads };
}

test("a first backup of a tree larger than the content cache (64 MiB) reads each file once", async () => {
  const fs = new MemoryFs();
  await fs.mkdir("bin");
  await fs.mkdir("text");
  for (let i = 0; i < 72; i++) await fs.writeFile(`bin/${String(i).padStart(3, "0")}`, randomBytes(rng(i), 1 << 20));
  for (let i = 0; i < 300; i++) await fs.writeFile(`text/${String(i).padStart(3, "0")}.txt`, textBytes(rng(1000 + i), 3000 + i * 10));
  const { fs: counting, reads } = countingReads(fs);
  const repo = await Repository.init(new MemoryStore(), { deflate: nodeDeflate });
  const snap = await repo.backup(counting);
  assert.equal(snap.files, 372);
  assert.equal(reads.size, 372);
  const twice = [...reads].filter(([, n]) => n !== 1);
  assert.deepEqual(twice, [], "every file is read exactly once");
  assert.equal((await repo.verify({ readData: true })).ok, true);
  const out = new MemoryFs();
  await repo.restore(snap.id, out);
  for (const path of ["bin/071", "text/299.txt"]) assert.ok(equalBytes(await collect(out.readStream(path)), await collect(fs.readStream(path))), path);
});

test("a full backup that fails or is cancelled while the walk goes on leaves nothing behind: walk, archive and index failures", async () => {
  const fs = new MemoryFs();
  // 16 MB in 3,200 files: the archive's first group (2 MiB) goes to the store long before the walk ends.
  for (let d = 0; d < 8; d++) {
    await fs.mkdir(`d${d}`);
    for (let f = 0; f < 400; f++) await fs.writeFile(`d${d}/f${f}`, textBytes(rng(d * 1000 + f), 4000 + f * 5));
  }
  const store = new MemoryStore();
  const repo = await Repository.init(store);
  const empty = async (): Promise<void> => {
    assert.deepEqual(await repo.snapshots(), []);
    for (const prefix of ["data", "index", "snapshots"]) for await (const name of store.list(prefix)) assert.fail(`${name} left behind`);
  };

  // The walk fails: its error, not the archive's copy of it.
  const broken = Object.create(fs) as FsAdapter;
  broken.readStream = (path: string, options?: ReadStreamOptions) => {
    if (path === "d2/f7") throw new IbtError("IO", "injected read failure", { path });
    return fs.readStream(path, options);
  };
  await assert.rejects(repo.backup(broken), (e) => isIbtError(e, "IO") && (e as IbtError).path === "d2/f7");
  await empty();

  // Cancelled during the walk.
  const controller = new AbortController();
  await assert.rejects(
    repo.backup(fs, { signal: controller.signal, onProgress: (p) => p.phase === "index" && p.files === 1500 && controller.abort() }),
    (e) => isIbtError(e, "ABORTED"),
  );
  await empty();

  // The store fails while the walk goes on: the store's error; the walk stops.
  let reads = 0;
  const counted = Object.create(fs) as FsAdapter;
  counted.readStream = (path: string, options?: ReadStreamOptions) => {
    reads++;
    return fs.readStream(path, options);
  };
  const failing = Object.create(store) as MemoryStore;
  failing.save = async (name, data, options) => {
    if (name.startsWith("data/")) {
      for await (const _ of data as AsyncIterable<Uint8Array>) throw new IbtError("IO", "injected store failure", { path: name });
    }
    return store.save(name, data, options);
  };
  const failingRepo = await Repository.open(failing);
  await assert.rejects(failingRepo.backup(counted), (e) => isIbtError(e, "IO") && /injected store failure/.test((e as Error).message));
  // The walk runs ahead of the archive by a bounded number of entries (its window and queue), not to the end.
  assert.ok(reads < 2400, `${reads} of 3,200 files read though the store failed at the first group`);
  await empty();

  // Either save refused before it takes a byte: that error, the walk stopped, nothing left.
  for (const prefix of ["data/", "index/"]) {
    const refusing = Object.create(store) as MemoryStore;
    refusing.save = async (name, data, options) => {
      if (name.startsWith(prefix)) throw new IbtError("IO", `injected refusal of ${name}`, { path: name });
      return store.save(name, data, options);
    };
    await assert.rejects((await Repository.open(refusing)).backup(fs), (e) => isIbtError(e, "IO") && (e as Error).message.includes(`injected refusal of ${prefix}`), prefix);
    await empty();
  }

  // The index's save fails while the walk goes on: that error, nothing left.
  const indexFails = Object.create(store) as MemoryStore;
  indexFails.save = async (name, data, options) => {
    if (name.startsWith("index/")) {
      for await (const _ of data as AsyncIterable<Uint8Array>) throw new IbtError("IO", "injected index failure", { path: name });
    }
    return store.save(name, data, options);
  };
  await assert.rejects((await Repository.open(indexFails)).backup(fs), (e) => isIbtError(e, "IO") && /injected index failure/.test((e as Error).message));
  await empty();

  const snap = await repo.backup(fs);
  assert.equal(snap.files, 3200);
  assert.equal((await repo.verify({ readData: true })).ok, true);
});
