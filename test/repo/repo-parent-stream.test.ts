/**
 * A backup reads its parent's index as a stream (ParentTree), checked only once read to the end:
 * a parent that fails that check must still stop the backup before anything is committed, a
 * backup that stops early must close its read of the parent, and the passes that need the parent
 * whole (where created content already is) must still find moves and copies.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { MANIFEST_NAME, MemoryFs, MemoryStore, Repository, ZipReader, isIbtError, parseManifest, type Store } from "../../src/index.js";
import { encodeEntries } from "../../src/dirindex/index-file.js";
import { deflatedIndex } from "../../src/repo/index-object.js";
import { archivePath, indexPath } from "../../src/repo/layout.js";
import { loadRecords } from "../../src/repo/snapshot.js";
import { loadTree } from "../../src/repo/stored.js";
import { collect } from "../../src/bytes.js";

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

async function treeOf(files: number): Promise<MemoryFs> {
  const fs = new MemoryFs();
  for (let d = 0; d < 10; d++) {
    await fs.mkdir(`d${d}`);
    for (let i = 0; i < files / 10; i++) await fs.writeFile(`d${d}/f${String(i).padStart(4, "0")}.txt`, text(`file ${d}/${i} `.repeat(1 + (i % 7))));
  }
  return fs;
}

async function names(store: Store): Promise<string[]> {
  const out: string[] = [];
  for (const prefix of ["data/", "index/", "snapshots/"]) for await (const o of store.list(prefix)) out.push(o.name);
  return out.sort();
}

test("a parent index whose entries do not make the parent's tree fails the backup at the end of its read, and nothing is committed", async () => {
  const fs = await treeOf(3000);
  const store = new MemoryStore();
  const repo = await Repository.init(store);
  const first = await repo.backup(fs, { time: new Date(Date.UTC(2026, 0, 1)) });
  // The last file's entry changed and the index written again whole: every checksum holds, only
  // the tree is not the one the record names. The walk meets the changed entry last.
  const { records } = await loadRecords(store);
  const tree = await loadTree(store, records[0]!, records);
  const last = tree.sortedEntries.at(-1)!;
  assert.equal(last.path, "d9/f0299.txt");
  const forged = tree.sortedEntries.map((e) => (e === last ? { ...e, mtimeMs: e.mtimeMs + 1000 } : e));
  await store.save(indexPath(first.id), await collect(deflatedIndex(encodeEntries(forged))));
  await fs.writeFile("d0/f0000.txt", text("changed"));
  const before = await names(store);
  await assert.rejects(
    repo.backup(fs, { time: new Date(Date.UTC(2026, 0, 2)) }),
    (e) => isIbtError(e, "CORRUPT") && (e as Error).message.includes("cannot read the latest snapshot's index") && (e as Error).message.includes(`${indexPath(first.id)}: not the tree of snapshot ${first.id}`),
  );
  assert.deepEqual(await names(store), before, "no object was left behind");
  assert.deepEqual((await repo.snapshots()).map((s) => s.id), [first.id]);
});

test("a backup stopped during its walk closes its read of the parent's index", async () => {
  class CountingStore extends MemoryStore {
    open = 0;
    override async *loadStream(name: string, options?: Parameters<MemoryStore["loadStream"]>[1]): AsyncGenerator<Uint8Array> {
      this.open++;
      try {
        yield* super.loadStream(name, options);
      } finally {
        this.open--;
      }
    }
  }
  const fs = await treeOf(5000);
  const store = new CountingStore();
  const repo = await Repository.init(store);
  await repo.backup(fs);
  await fs.writeFile("d9/f0499.txt", text("changed"));
  const stop = new AbortController();
  let seen = 0;
  await assert.rejects(
    repo.backup(fs, {
      signal: stop.signal,
      onProgress: (p) => {
        if (p.phase === "index" && ++seen === 200) stop.abort();
      },
    }),
    (e) => isIbtError(e, "ABORTED"),
  );
  assert.ok(seen >= 200, "the walk had begun");
  assert.equal(store.open, 0, "no read of the store is left open");
  // The same backup, not stopped, reads the parent to its end.
  const snap = await repo.backup(fs);
  assert.equal(snap.changed, 2, "the file and its directory");
  assert.equal(store.open, 0);
});

test("created content the parent holds elsewhere is stored as copies and moves, found by a second read of the parent", async () => {
  const fs = await treeOf(2000);
  const store = new MemoryStore();
  const repo = await Repository.init(store, { fullShare: Infinity });
  await repo.backup(fs, { time: new Date(Date.UTC(2026, 0, 1)) });
  await fs.rename("d3", "moved");
  await fs.writeFile("d0/copy.txt", await collect(fs.readStream("d7/f0005.txt")));
  const snap = await repo.backup(fs, { time: new Date(Date.UTC(2026, 0, 2)) });
  assert.equal(snap.kind, "incremental");
  const archive = await store.load(archivePath(snap.id));
  const reader = await ZipReader.from({ size: archive.length, read: async (o, n) => archive.slice(o, o + n) });
  const manifest = parseManifest(await reader.bytes(reader.entries().find((e) => e.name === MANIFEST_NAME)!));
  const kinds = new Map<string, number>();
  for (const c of manifest.changes) kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + 1);
  assert.equal(kinds.get("move"), 200, "every file of the renamed directory");
  assert.equal(kinds.get("copy"), 1);
  assert.equal(manifest.changes.find((c) => c.kind === "copy")!.path, "d0/copy.txt");
  const target = new MemoryFs();
  await repo.restore(snap.id, target);
  assert.deepEqual(await collect(target.readStream("d0/copy.txt")), await collect(fs.readStream("d7/f0005.txt")));
  assert.equal((await collect(target.readStream("moved/f0001.txt"))).length, (await collect(fs.readStream("moved/f0001.txt"))).length);
  assert.equal((await repo.verify({ readData: true })).ok, true);
});
