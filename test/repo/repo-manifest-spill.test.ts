/**
 * A backup whose manifest passes `manifestMemory` keeps the rest in the store as it is made
 * (repo/manifest-spill.ts) and stores exactly the archive it would have stored without: on every
 * kind of store (memory, folders, the strict S3 server, encrypted). The objects it kept aside are
 * gone after the backup, after a backup that failed, and, left by a backup that died, after the
 * next writer's start.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DirIndex, MemoryFs, MemoryStore, Repository, isIbtError, type Store } from "../../src/index.js";
import { nodeDeflate, nodeRepositoryOptions } from "../../src/node/index.js";
import { MANIFEST_NAME, ZipReader, type RandomAccessFile } from "../../src/index.js";
import { METHOD_DEFLATED, METHOD_ZSTD } from "../../src/archive/zip-format.js";
import { archivePath } from "../../src/repo/layout.js";
import { STORES } from "../support/repo-kit.js";
import { equalBytes, randomBytes, rng, textBytes } from "../support/helpers.js";

function memoryFile(bytes: Uint8Array): RandomAccessFile {
  return { size: bytes.length, read: async (offset, length) => bytes.slice(offset, offset + length) };
}

const T1 = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678));
const SPILLED = /^data\/[0-9a-f]{16}\.zip\.manifest-\d+$/;

async function tree(files: number): Promise<MemoryFs> {
  const fs = new MemoryFs();
  const next = rng(41);
  for (let d = 0; d < files / 100; d++) await fs.mkdir(`dir-${d}`);
  for (let i = 0; i < files; i++) await fs.writeFile(`dir-${Math.floor(i / 100)}/file-${i}.txt`, textBytes(next, 20 + Math.floor(next() * 200)));
  return fs;
}

/** A store that records the names it saves, can fail the save of a name that matches, and can be slow to save and remove what is kept aside. */
function watched(inner: Store, failOn?: RegExp, slowSpill = 0): { store: Store; saved: string[] } {
  const saved: string[] = [];
  const store = Object.create(inner) as Store;
  store.save = async (name, data, options) => {
    saved.push(name);
    if (failOn?.test(name)) throw new Error(`refused ${name}`);
    if (slowSpill && SPILLED.test(name)) await new Promise((resolve) => setTimeout(resolve, slowSpill));
    return inner.save(name, data, options);
  };
  store.remove = async (name, options) => {
    if (slowSpill && SPILLED.test(name)) await new Promise((resolve) => setTimeout(resolve, slowSpill));
    return inner.remove(name, options);
  };
  return { store, saved };
}

async function names(store: Store, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of store.list(prefix)) out.push(o.name);
  return out;
}

test("a backup past manifestMemory keeps the manifest in the store as it goes and stores the same archive, on every store", async () => {
  const source = await tree(4000);
  const reference = new MemoryStore();
  // Without zstd: a manifest within manifestMemory would otherwise be one zstd frame, and one
  // past it deflated (the next test), so the two archives would differ by design.
  const deflateOnly = { deflate: { ...nodeDeflate, zstd: undefined } };
  const plain = await (await Repository.init(reference, nodeRepositoryOptions({ ...deflateOnly, unsafeNoConditionalWrites: true }))).backup(source, { time: T1 });
  const want = await reference.load(archivePath(plain.id));
  for (const factory of STORES) {
    const { store, saved } = watched(await factory.make());
    const repo = await Repository.init(store, nodeRepositoryOptions({ ...deflateOnly, manifestMemory: 0, unsafeNoConditionalWrites: true }));
    const snap = await repo.backup(source, { time: T1 });
    const spilled = saved.filter((n) => SPILLED.test(n));
    assert.ok(spilled.length >= 3, `${factory.name}: ${spilled.length} objects kept aside`);
    assert.ok(equalBytes(await store.load(archivePath(snap.id)), want), `${factory.name}: the archive is the one stored without`);
    assert.deepEqual((await names(store, "data/")).filter((n) => SPILLED.test(n)), [], `${factory.name}: nothing kept aside is left`);
    const restored = new MemoryFs();
    await repo.restore(snap.id, restored);
    assert.equal((await DirIndex.build(restored, { signatures: false })).id, (await DirIndex.build(source, { signatures: false })).id, factory.name);
    assert.equal((await repo.verify({ readData: true })).ok, true, factory.name);
  }
});

test("with zstd, a manifest within manifestMemory is one zstd frame kept whole, and one past it is deflated and kept aside as it goes", { skip: nodeDeflate.zstd === undefined ? "node:zlib has no zstd before Node 22.15 (npm test runs this on Node 24)" : false }, async () => {
  const source = await tree(4000);
  for (const [manifestMemory, method, aside] of [[undefined, METHOD_ZSTD, false], [0, METHOD_DEFLATED, true], [64 * 1024, METHOD_DEFLATED, true]] as const) {
    const { store, saved } = watched(new MemoryStore());
    const repo = await Repository.init(store, nodeRepositoryOptions(manifestMemory === undefined ? {} : { manifestMemory }));
    const snap = await repo.backup(source, { time: T1 });
    const reader = await ZipReader.from(memoryFile(await store.load(archivePath(snap.id))));
    assert.equal(reader.get(MANIFEST_NAME)!.method, method, `manifestMemory ${manifestMemory}`);
    assert.ok(reader.get(MANIFEST_NAME)!.size > 64 * 1024, "the manifest is larger than the smaller bound");
    assert.equal(saved.some((n) => SPILLED.test(n)), aside, `manifestMemory ${manifestMemory}: kept aside`);
    const restored = new MemoryFs();
    await repo.restore(snap.id, restored);
    assert.equal((await DirIndex.build(restored, { signatures: false })).id, (await DirIndex.build(source, { signatures: false })).id);
  }
});

test("what a backup kept aside is removed when the backup fails, and by the next writer when it died", async () => {
  const source = await tree(3000);
  const inner = new MemoryStore();
  const repo = await Repository.init(inner, nodeRepositoryOptions({ manifestMemory: 0 }));
  // The third object kept aside cannot be saved: the backup fails and leaves nothing.
  const failing = watched(inner, /\.zip\.manifest-2$/);
  const broken = await Repository.open(failing.store, nodeRepositoryOptions({ manifestMemory: 0 }));
  await assert.rejects(broken.backup(source), /refused data\/[0-9a-f]{16}\.zip\.manifest-2/);
  assert.ok(failing.saved.filter((n) => SPILLED.test(n)).length >= 3);
  assert.deepEqual(await names(inner, "data/"), [], "no archive and nothing kept aside");
  assert.deepEqual(await repo.snapshots(), []);

  // A backup that died leaves what it kept aside; the next writer removes it before it writes.
  const deadId = "0123456789abcdef";
  await inner.save(`data/${deadId}.zip.manifest-0`, textBytes(rng(3), 5000));
  await inner.save(`data/${deadId}.zip.manifest-1`, textBytes(rng(4), 5000));
  const snap = await repo.backup(source);
  assert.deepEqual(await names(inner, "data/"), [archivePath(snap.id)]);
  await assert.rejects(inner.load(`data/${deadId}.zip.manifest-0`), (e) => isIbtError(e, "NOT_FOUND"));
});

test("an incremental abandoned past its budget keeps nothing aside and leaves room for the full written in its place under the same id", async () => {
  // One large random file passes the budget; thousands of mode changes make manifest, kept aside
  // before the archive passes its budget. Saves and removes of what is kept aside are slow, as a
  // remote store's: the abandoned writer is still removing its objects when the full written in
  // its place under the same id keeps its own manifest aside.
  const source = new MemoryFs();
  const next = rng(61);
  await source.mkdir("a");
  await source.mkdir("z");
  await source.writeFile("a/big", randomBytes(next, 300_000));
  for (let i = 0; i < 3000; i++) await source.writeFile(`z/small-${String(i).padStart(5, "0")}.txt`, textBytes(next, 50));
  const inner = new MemoryStore();
  const { store, saved } = watched(inner, undefined, 20);
  const repo = await Repository.init(store, nodeRepositoryOptions({ manifestMemory: 0, fullShare: 0.2 }));
  await repo.backup(source);
  await source.writeFile("a/big", randomBytes(next, 300_000));
  for (let i = 0; i < 3000; i++) await source.chmod(`z/small-${String(i).padStart(5, "0")}.txt`, 0o600);
  saved.length = 0;
  const snap = await repo.backup(source);
  assert.equal(snap.kind, "full", "the incremental passed its budget and was replaced");
  assert.ok(saved.filter((n) => SPILLED.test(n)).length >= 10, "manifests were kept aside");
  await new Promise((resolve) => setTimeout(resolve, 300)); // what an abandoned writer might still do
  assert.deepEqual((await names(inner, "data/")).filter((n) => SPILLED.test(n)), [], "nothing kept aside is left");
  const restored = new MemoryFs();
  await repo.restore(snap.id, restored);
  assert.equal((await DirIndex.build(restored, { signatures: false })).id, (await DirIndex.build(source, { signatures: false })).id);
  assert.equal((await repo.verify({ readData: true })).ok, true);
});
