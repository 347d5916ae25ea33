import { test } from "node:test";
import assert from "node:assert/strict";
import { FsStore, IbtError, MemoryStore, Repository, isIbtError, type FsAdapter, type Progress } from "../../src/index.js";
import { randomBytes, rng } from "../support/helpers.js";
import { memoryFactory, treeId, type AdapterFactory } from "../support/repo-kit.js";

const factory: AdapterFactory = memoryFactory;

async function sourceOf(files: number, size: number, seed = 1): Promise<FsAdapter> {
  const fs = await factory.make();
  await fs.mkdir("d");
  for (let i = 0; i < files; i++) await fs.writeFile(`d/f${i}`, randomBytes(rng(seed + i), size));
  return fs;
}

test("maxChain bounds the chain however small the incrementals; full: true forces a full", async () => {
  const source = await sourceOf(3, 1000);
  const repo = await Repository.init(new MemoryStore(), { maxChain: 4, fullShare: Infinity });
  const kinds: string[] = [];
  for (let i = 0; i < 9; i++) kinds.push((await repo.backup(source)).kind);
  assert.deepEqual(kinds, ["full", "incremental", "incremental", "incremental", "full", "incremental", "incremental", "incremental", "full"]);
  assert.equal((await repo.backup(source, { full: true })).kind, "full");
  await assert.rejects(Repository.init(new MemoryStore(), { fullShare: -1 }), (e) => isIbtError(e, "BAD_ARGUMENT"));
});

test("a dry run reports what would be stored and writes nothing", async () => {
  const source = await sourceOf(5, 20_000);
  const store = await factory.make();
  const repo = await Repository.init(new FsStore(store));
  const before = await treeId(store);
  const dry = await repo.backup(source, { dryRun: true });
  assert.equal(await treeId(store), before, "the repository is unchanged");
  assert.equal(dry.id, "");
  assert.equal(dry.kind, "full");
  const real = await repo.backup(source);
  // The manifest holds a creation time, whose deflated size may differ by a few bytes.
  assert.ok(Math.abs(dry.bytesStored - real.bytesStored) < 16, `bytes stored ${dry.bytesStored} vs ${real.bytesStored}`);
  assert.deepEqual({ ...dry, id: real.id, time: real.time, bytesStored: real.bytesStored }, real, "the dry run predicted the snapshot");
});

test("progress reports every phase; onError skips a failing file or aborts; a signal cancels", async () => {
  const source = await sourceOf(6, 50_000);
  const broken = Object.create(source) as FsAdapter;
  broken.readStream = (path: string) => {
    if (path === "d/f3") throw new IbtError("IO", "injected read failure", { path });
    return source.readStream(path);
  };
  const store = await factory.make();
  const repo = await Repository.init(new FsStore(store));
  const seen: Progress[] = [];
  const skipped: string[] = [];
  const s = await repo.backup(broken, {
    onProgress: (p) => seen.push(p),
    onError: (e, path) => {
      skipped.push(`${e.code} ${path}`);
      return "skip";
    },
  });
  assert.deepEqual(skipped, ["IO d/f3"]);
  assert.equal(s.files, 5, "the failing file is left out, the rest backed up");
  assert.deepEqual([...new Set(seen.map((p) => p.phase))], ["index", "diff", "write", "commit"]);
  for (const p of seen) assert.ok(p.rate >= 0 && p.files >= 0 && p.bytes >= 0);
  const write = seen.filter((p) => p.phase === "write").at(-1)!;
  assert.equal(write.files, write.totalFiles);

  const older = await repo.backup(broken, { dryRun: true, onError: () => "continue" });
  assert.equal(older.files, 5, '"continue", the older word for "skip", still skips the path');
  await assert.rejects(repo.backup(broken, { onError: () => "abort" }), (e) => isIbtError(e, "IO"));
  await assert.rejects(repo.backup(broken), (e) => isIbtError(e, "IO"), "by default a failing file aborts");
  const controller = new AbortController();
  await assert.rejects(
    repo.backup(source, { onProgress: (p) => p.phase === "write" && controller.abort(), signal: controller.signal }),
    (e) => isIbtError(e, "ABORTED"),
  );
  assert.equal((await repo.snapshots()).length, 1, "failed and cancelled backups leave no snapshot");
  assert.deepEqual(await store.list("data"), [`${s.id}.zip`], "and no files");
  assert.equal((await repo.verify({ readData: true })).ok, true);
  await assert.rejects(store.lstat("lock"), (e) => isIbtError(e, "NOT_FOUND"), "the lock is released");
});
