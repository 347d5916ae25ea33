import { test } from "node:test";
import assert from "node:assert/strict";
import { DirIndex, MemoryFs, MemoryStore, Repository, isIbtError, type FsAdapter } from "../../src/index.js";
import { appliedIndex, decodeIndexDelta, encodeIndexDelta, encodedDelta, indexDelta } from "../../src/dirindex/index-delta.js";
import { applyIndexDelta } from "../../src/dirindex/delta-apply.js";
import { encodeRecord, indexPath, recordPath } from "../../src/repo/layout.js";
import { loadRecords } from "../../src/repo/snapshot.js";
import { loadTree } from "../../src/repo/stored.js";
import { collect } from "../../src/bytes.js";
import { decodeIndex, encodeIndex } from "../../src/dirindex/index-file.js";
import { Hasher } from "../../src/rsync/hashes.js";
import { randomBytes, rng } from "../support/helpers.js";
import { streamedTree, treeId } from "../support/repo-kit.js";

async function sourceOf(files: number, size: number): Promise<FsAdapter> {
  const fs = new MemoryFs();
  await fs.mkdir("d");
  for (let i = 0; i < files; i++) await fs.writeFile(`d/f${i}`, randomBytes(rng(1 + i), size));
  return fs;
}

/** One file rewritten, one added, one removed: a small change to a larger tree. */
async function change(fs: FsAdapter, i: number): Promise<void> {
  await fs.writeFile(`d/f${i % 20}`, randomBytes(rng(500 + i), 3000));
  await fs.writeFile(`d/new${i}`, randomBytes(rng(900 + i), 2000));
  if (i > 1) await fs.remove(`d/new${i - 1}`);
}

test("index deltas: bytes in proportion to the change, a whole index every fullIndexEvery snapshots and with every full; loaded with or without signatures", async () => {
  const source = await sourceOf(40, 3000);
  const store = new MemoryStore();
  const repo = await Repository.init(store, { fullIndexEvery: 3, fullShare: Infinity });
  const trees: string[] = [];
  for (let i = 0; i < 8; i++) {
    if (i) await change(source, i);
    await repo.backup(source, { full: i === 5 });
    trees.push(await treeId(source));
  }
  const { records } = await loadRecords(store);
  assert.deepEqual(
    records.map((r) => `${r.kind[0]}${r.index.kind === "delta" ? "d" : "w"}`),
    ["fw", "id", "id", "iw", "id", "fw", "id", "id"],
  );
  for (const [i, r] of records.entries()) {
    if (r.index.kind === "delta") {
      assert.equal(r.index.base, r.parent);
      assert.ok(r.index.size * 5 < records[0]!.index.size, `delta ${i} (${r.index.size} bytes) is a fraction of the whole index (${records[0]!.index.size})`);
    } else assert.equal(r.index.base, undefined);
    assert.equal((await loadTree(store, r)).id, r.tree, `snapshot ${i}'s tree`);
    const signed = await loadTree(store, r, records);
    assert.equal(signed.id, r.tree);
    // Without signatures (what a restore loads): the same tree, with no signature from the whole index or a delta.
    const bare = await loadTree(store, r, records, undefined, { signatures: false });
    assert.equal(bare.id, r.tree, `snapshot ${i}'s tree without signatures`);
    const signatures = (t: DirIndex) => [...t.entries.values()].filter((e) => e.signature !== undefined).length;
    assert.ok(signatures(signed) > 30, `snapshot ${i} has signatures`);
    assert.equal(signatures(bare), 0, `snapshot ${i} loaded without signatures`);
    const target = new MemoryFs();
    await repo.restore(r.id, target);
    assert.equal(await treeId(target), trees[i], `snapshot ${i} restores`);
  }
  assert.equal((await repo.verify({ readData: true })).ok, true);
});

test("index deltas: a metadata-only change stores no signatures; an index that drops a kept signature is not a delta", async () => {
  const fs = await sourceOf(5, 5000);
  const before = await DirIndex.build(fs);
  await fs.utimes("d/f1", 1_000_000);
  await fs.writeFile("d/f2", randomBytes(rng(77), 5000));
  await fs.remove("d/f3");
  await fs.writeFile("d/g", randomBytes(rng(78), 100));
  const after = await DirIndex.build(fs, { previous: before });
  const delta = indexDelta(before, after)!;
  assert.deepEqual(delta.removed, ["d/f3"]);
  assert.deepEqual(delta.upserts.map((e) => e.path), ["d", "d/f1", "d/f2", "d/g"]);
  assert.equal(delta.upserts[1]!.signature, undefined, "a touched file inherits its signature");
  assert.ok(delta.upserts[2]!.signature, "a rewritten file carries its new one");

  const bytes = await encodedDelta(delta);
  const whole = (await collect(encodeIndex(after))).length;
  assert.ok(bytes.length < whole, `${bytes.length} < ${whole}`);
  const rebuilt = await appliedIndex(before, await decodeIndexDelta([bytes]));
  assert.equal(rebuilt.id, after.id);
  for (const e of after.entries.values()) assert.deepEqual(rebuilt.get(e.path), e, e.path);

  await assert.rejects(appliedIndex(after, await decodeIndexDelta([bytes])), (e) => isIbtError(e, "CORRUPT"));
  const flipped = bytes.slice();
  flipped[bytes.length - 40]! ^= 1;
  await assert.rejects(decodeIndexDelta([flipped]), (e) => isIbtError(e, "CORRUPT"));

  const unsigned = await DirIndex.build(fs, { signatures: false });
  assert.equal(indexDelta(after, unsigned), undefined, "a file keeping its hash but losing its signature");
});

test("index deltas: a file that kept its content is written without its hash or signature and takes the base's; version 2 deltas keep a file without a hash as it is", async () => {
  const fs = await sourceOf(30, 5000);
  const before = await DirIndex.build(fs);
  for (let i = 0; i < 30; i++) await fs.chmod(`d/f${i}`, i % 2 ? 0o755 : 0o600);
  await fs.writeFile("d/f0", randomBytes(rng(4242), 5000));
  const after = await DirIndex.build(fs, { previous: before });
  const delta = indexDelta(before, after)!;
  const files = delta.upserts.filter((e) => e.type === "file");
  assert.equal(files.length, 30);
  assert.equal(files[0]!.path, "d/f0");
  assert.ok(files[0]!.hash && files[0]!.signature, "a rewritten file carries its hash and signature");
  for (const e of files.slice(1)) {
    assert.equal(e.hash, undefined, `${e.path}: no hash`);
    assert.equal(e.signature, undefined, `${e.path}: no signature`);
    assert.equal(e.mode & 0o777, after.get(e.path)!.mode & 0o777);
  }
  // The same delta with every hash written out, as version 2 wrote it: 32 bytes more per kept file.
  const bytes = await encodedDelta(delta);
  const spelled = await encodedDelta({ ...delta, upserts: delta.upserts.map((e) => (e.type === "file" ? { ...e, hash: after.get(e.path)!.hash! } : e)) });
  assert.ok(spelled.length - bytes.length >= 29 * 32, `${spelled.length} - ${bytes.length} >= ${29 * 32}`);
  const rebuilt = await appliedIndex(before, await decodeIndexDelta([bytes]));
  assert.equal(rebuilt.id, after.id);
  for (const e of after.entries.values()) assert.deepEqual(rebuilt.get(e.path), e, e.path);
  // The hashes come from the base the delta is applied to: on another base, that base's (and
  // the identity check then refuses the result).
  const other = await DirIndex.fromSorted(before.sortedEntries.map((e) => (e.path === "d/f7" ? { ...e, hash: "0".repeat(64), signature: undefined } : e)));
  const onOther = applyIndexDelta(other.sortedEntries, await decodeIndexDelta([bytes]));
  assert.equal(onOther.find((e) => e.path === "d/f7")!.hash, "0".repeat(64));
  assert.equal(onOther.find((e) => e.path === "d/f7")!.mode, after.get("d/f7")!.mode, "with the delta's mode");
  await assert.rejects(appliedIndex(other, { ...(await decodeIndexDelta([bytes])), base: other.id }), (e) => isIbtError(e, "CORRUPT"));

  // A file that kept its content but has a new signature: written with the signature, without the hash.
  const resigned = await DirIndex.fromSorted(after.sortedEntries.map((e) => (e.path === "d/f5" ? { ...e, signature: after.get("d/f6")!.signature! } : e)));
  const r = indexDelta(after, resigned)!;
  assert.deepEqual(r.upserts.map((e) => [e.path, e.hash, e.signature?.length]), [["d/f5", undefined, after.get("d/f6")!.signature!.length]]);
  const rebuiltResigned = await appliedIndex(after, await decodeIndexDelta([await encodedDelta(r)]));
  assert.deepEqual(rebuiltResigned.get("d/f5"), resigned.get("d/f5"));
  // Decoded as version 2 and encoded again, a delta keeps version 2's meaning.
  const v2 = { ...r, upserts: r.upserts.map((e) => ({ ...e, hash: after.get(e.path)!.hash! })), ownHashes: true };
  const v2Bytes = await encodedDelta(v2);
  assert.equal(new DataView(v2Bytes.buffer, v2Bytes.byteOffset).getUint32(8), 2);
  assert.deepEqual(await decodeIndexDelta([v2Bytes]), v2);

  // A file without a hash: in a delta of version 2 it has none, in version 4 it takes the base's.
  const old = before.get("d/f3")!;
  const { hash: _, signature: __, ...hashless } = old;
  assert.equal(applyIndexDelta([old], { removed: [], upserts: [hashless], ownHashes: true })[0]!.hash, undefined);
  assert.deepEqual(applyIndexDelta([old], { removed: [], upserts: [hashless] })[0], old);
  // A target whose file lost its hash cannot be said as a delta.
  const dropped = await DirIndex.fromSorted(after.sortedEntries.map((e) => (e.path === "d/f3" ? hashless : e)));
  assert.equal(indexDelta(after, dropped), undefined, "a file keeping its content but losing its hash");
});

test("index deltas: backups after a mode change of every file store indexes without the files' hashes, and every snapshot restores", async () => {
  const source = await sourceOf(60, 3000);
  const store = new MemoryStore();
  const repo = await Repository.init(store, { fullShare: Infinity });
  await repo.backup(source);
  const trees = [await treeId(source)];
  for (let i = 0; i < 60; i++) await source.chmod(`d/f${i}`, 0o700);
  await repo.backup(source);
  trees.push(await treeId(source));
  await change(source, 1);
  await repo.backup(source);
  trees.push(await treeId(source));
  const { records } = await loadRecords(store);
  assert.deepEqual(records.map((r) => r.index.kind), [undefined, "delta", "delta"].map((k, i) => (i === 0 ? records[0]!.index.kind : k)));
  // 60 entries of path, size, times, mode and inode: about 11 bytes each once deflated, where a hash alone is 32.
  assert.ok(records[1]!.index.size < 60 * 20, `the mode change's index delta takes ${records[1]!.index.size} bytes`);
  for (const [i, r] of records.entries()) {
    assert.equal((await loadTree(store, r)).id, r.tree, `snapshot ${i}'s tree`);
    assert.equal((await loadTree(store, r, records, undefined, { signatures: false })).id, r.tree, `snapshot ${i}'s tree without signatures`);
    const target = new MemoryFs();
    await repo.restore(r.id, target);
    assert.equal(await treeId(target), trees[i], `snapshot ${i} restores`);
  }
  assert.equal((await repo.verify({ readData: true })).ok, true);
});

test("index deltas: a repository of whole indexes (records without an index kind) keeps working and grows deltas", async () => {
  const source = await sourceOf(20, 3000);
  const store = new MemoryStore();
  let repo = await Repository.init(store, { fullIndexEvery: 1 });
  for (let i = 0; i < 3; i++) {
    if (i) await change(source, i);
    await repo.backup(source);
  }
  // Records as the code before index deltas wrote them.
  for (const r of (await loadRecords(store)).records) {
    const { kind: _, ...index } = r.index;
    await store.save(recordPath(r.id), await encodeRecord({ ...r, index }));
  }
  repo = await Repository.open(store);
  await change(source, 3);
  await repo.backup(source);
  const { records } = await loadRecords(store);
  assert.deepEqual(records.map((r) => r.index.kind), [undefined, undefined, undefined, "delta"]);
  const target = new MemoryFs();
  await repo.restore("latest", target);
  assert.equal(await treeId(target), await treeId(source));
  assert.equal((await repo.verify({ readData: true })).ok, true);
});

test("index deltas: verify names a damaged delta and every snapshot built on it; forget keeps what kept snapshots need", async () => {
  const source = await sourceOf(20, 3000);
  const store = new MemoryStore();
  const repo = await Repository.init(store, { fullShare: Infinity, maxChain: 4 });
  for (let i = 0; i < 8; i++) {
    if (i) await change(source, i);
    await repo.backup(source, { time: new Date(Date.UTC(2026, 0, 1 + i)) });
  }
  const { records } = await loadRecords(store);
  const damaged = records[1]!;
  assert.equal(damaged.index.kind, "delta");
  const path = indexPath(damaged.id);
  const good = await store.load(path);
  const bad = good.slice();
  bad[bad.length - 50]! ^= 0x10;
  await store.save(path, bad);
  const report = await repo.verify({ readData: true });
  assert.equal(report.ok, false);
  const named = new Set(report.problems.filter((p) => p.path === path || p.message.includes(damaged.id)).map((p) => p.snapshot));
  for (const r of records.slice(1, 4)) assert.ok(named.has(r.id), `snapshot ${r.id} is named: ${JSON.stringify(report.problems)}`);
  await assert.rejects(repo.restore(records[2]!.id, new MemoryFs()), (e) => isIbtError(e, "CORRUPT"));
  await store.save(path, good);

  // Keep the newest of the second chain's incrementals: its chain (and its index chain) stays.
  await repo.forget({ keepLast: 1 });
  const left = (await loadRecords(store)).records;
  assert.deepEqual(left.map((r) => r.id), records.slice(4).map((r) => r.id));
  const target = new MemoryFs();
  await repo.restore("latest", target);
  assert.equal(await treeId(target), await treeId(source));
  assert.equal((await repo.verify({ readData: true })).ok, true);
});

test("index deltas: a delta damaged or put in another's place fails both loaders, naming the delta's file", async () => {
  const source = await sourceOf(20, 3000);
  const store = new MemoryStore();
  const repo = await Repository.init(store, { fullShare: Infinity, maxChain: 8 });
  for (let i = 0; i < 4; i++) {
    if (i) await change(source, i);
    await repo.backup(source, { time: new Date(Date.UTC(2026, 0, 1 + i)) });
  }
  const { records } = await loadRecords(store);
  assert.deepEqual(records.map((r) => r.index.kind ?? "whole"), ["full", "delta", "delta", "delta"]);
  const newest = records[3]!;
  for (const load of [loadTree, streamedTree]) assert.equal((await load(store, newest, records)).id, newest.tree);
  const middle = indexPath(records[2]!.id);
  const good = await store.load(middle);
  const damaged = good.slice();
  damaged[damaged.length - 50]! ^= 0x10;
  // A valid delta, but of the snapshot after: it does not lead from the tree before it.
  for (const bad of [damaged, await store.load(indexPath(newest.id))]) {
    await store.save(middle, bad);
    for (const load of [loadTree, streamedTree]) {
      await assert.rejects(load(store, newest, records), (e) => isIbtError(e, "CORRUPT") && (e as Error).message.startsWith(middle), `${load.name}`);
    }
  }
  await store.save(middle, good);
});

test("fullIndexEvery is an integer >= 1", async () => {
  await assert.rejects(Repository.init(new MemoryStore(), { fullIndexEvery: 0 }), (e) => isIbtError(e, "BAD_ARGUMENT"));
  await assert.rejects(Repository.init(new MemoryStore(), { fullIndexEvery: 1.5 }), (e) => isIbtError(e, "BAD_ARGUMENT"));
});

test("files shorter than one signature block get no signature, and the quick check still passes them over", async () => {
  const fs = new MemoryFs();
  for (let i = 0; i < 10; i++) await fs.writeFile(`s${i}`, randomBytes(rng(i), 100 + 150 * i));
  await fs.writeFile("big", randomBytes(rng(99), 50_000));
  const first = await DirIndex.build(fs);
  for (const e of first.entries.values()) assert.equal(e.signature !== undefined, e.size >= 2048, e.path);
  const again = await DirIndex.build(fs, { previous: first });
  assert.equal(again.stats.filesRead, 0, "nothing read again");
  assert.equal(again.id, first.id);
});

test("an index delta carries the index file's magic and version 4: a whole-index reader refuses it as UNSUPPORTED, a whole index read as a delta is CORRUPT; deltas of version 2 and with the older header still read", async () => {
  const source = await sourceOf(10, 3000);
  const base = await DirIndex.build(source);
  await change(source, 1);
  const next = await DirIndex.build(source);
  const bytes = await collect(encodeIndexDelta(indexDelta(base, next)!));
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 8)), "IBTINDEX");
  assert.equal(new DataView(bytes.buffer, bytes.byteOffset).getUint32(8), 4);
  // What a library that predates deltas runs on an index object.
  await assert.rejects(decodeIndex([bytes]), (e) => isIbtError(e, "UNSUPPORTED") && /version 4/.test((e as Error).message));
  const decoded = await decodeIndexDelta([bytes]);
  assert.equal((await appliedIndex(base, decoded)).id, next.id);

  /** The same delta under another header, its checksum made again. */
  const reheaded = async (magic: string, version: number): Promise<Uint8Array> => {
    const out = bytes.slice();
    out.set(new TextEncoder().encode(magic), 0);
    new DataView(out.buffer).setUint32(8, version);
    const h = await Hasher.create();
    h.update(out.subarray(0, out.length - 32));
    out.set(h.digest(), out.length - 32);
    h.dispose();
    return out;
  };
  // Every file of this change has new content, so each carries its hash and the older versions
  // (whose files all carry their own) say the same.
  const legacy = await decodeIndexDelta([await reheaded("IBTIDXDL", 1)]);
  assert.deepEqual(legacy, { ...decoded, ownHashes: true }, "a delta written with the older header reads the same");
  const version2 = await decodeIndexDelta([await reheaded("IBTINDEX", 2)]);
  assert.deepEqual(version2, { ...decoded, ownHashes: true }, "a delta of version 2 reads the same");
  assert.equal((await appliedIndex(base, version2)).id, next.id);
  await assert.rejects(decodeIndexDelta([await reheaded("IBTINDEX", 5)]), (e) => isIbtError(e, "UNSUPPORTED"));
  await assert.rejects(decodeIndexDelta([await reheaded("IBTIDXDL", 2)]), (e) => isIbtError(e, "UNSUPPORTED"));
  // A whole index where the record says a delta is: damage (CORRUPT), not a newer format.
  await assert.rejects(decodeIndexDelta([await reheaded("IBTINDEX", 1)]), (e) => isIbtError(e, "CORRUPT"), "a whole index's version is not a delta");
  await assert.rejects(decodeIndexDelta([await collect(encodeIndex(base))]), (e) => isIbtError(e, "CORRUPT") && /whole index/.test((e as Error).message));
});

test("index deltas: a backup's parent tree asks for the whole index at once with the deltas, not after them (each is a round trip on a remote store)", async () => {
  class SlowIndexStore extends MemoryStore {
    events: string[] = [];
    override async *loadStream(name: string, options: { signal?: AbortSignal } = {}): AsyncGenerator<Uint8Array> {
      if (!name.startsWith("index/")) return yield* super.loadStream(name, options);
      this.events.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, 15));
      yield* super.loadStream(name, options);
      this.events.push(`end ${name}`);
    }
  }
  const source = await sourceOf(40, 3000);
  const store = new SlowIndexStore();
  const repo = await Repository.init(store, { fullIndexEvery: 10, fullShare: Infinity });
  for (let i = 0; i < 4; i++) {
    if (i) await change(source, i);
    await repo.backup(source);
  }
  const { records } = await loadRecords(store);
  assert.deepEqual(records.map((r) => r.index.kind === "delta"), [false, true, true, true]);
  store.events = [];
  const tree = await streamedTree(store, records.at(-1)!, records);
  assert.equal(tree.id, records.at(-1)!.tree);
  const whole = `start ${indexPath(records[0]!.id)}`;
  const firstEnd = store.events.findIndex((e) => e.startsWith("end "));
  assert.ok(store.events.indexOf(whole) >= 0 && store.events.indexOf(whole) < firstEnd, `the whole index is asked for before any delta has arrived: ${store.events.join(", ")}`);
});
