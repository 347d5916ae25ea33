import { test } from "node:test";
import assert from "node:assert/strict";
import { FsStore, Repository, IbtError, joinPath, type FsAdapter } from "../../src/index.js";
import { rng } from "../support/helpers.js";
import { memoryFactory, TreeChanger, treeId, type AdapterFactory } from "../support/repo-kit.js";

const factory: AdapterFactory = memoryFactory;
const CLEAR_CODES = new Set(["CORRUPT", "TRUNCATED", "BAD_MAGIC", "OUT_OF_RANGE", "NOT_FOUND", "UNSUPPORTED", "UNSAFE_PATH", "LIMIT"]);

async function filesOf(fs: FsAdapter, dir = ""): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await fs.list(dir)).sort()) {
    const path = joinPath(dir, name);
    if ((await fs.lstat(path)).type === "dir") out.push(...(await filesOf(fs, path)));
    else out.push(path);
  }
  return out;
}

test("one flipped byte anywhere in the repository fails verify --read-data, naming the file; restores fail cleanly or are exact", async () => {
  const source = await factory.make();
  const changer = new TreeChanger(source, rng(99));
  await changer.seed(8);
  const store = await factory.make();
  const repo = await Repository.init(new FsStore(store));
  const snaps: { id: string; tree: string }[] = [];
  for (let i = 0; i < 3; i++) {
    if (i) await changer.change(3);
    snaps.push({ id: (await repo.backup(source)).id, tree: await treeId(source) });
  }
  assert.equal((await repo.verify({ readData: true })).ok, true);
  const olderTree = snaps[0]!.tree;

  const next = rng(5);
  let flips = 0;
  let restoresFailed = 0;
  let archiveFlipsCaughtByRestore = 0;
  let archiveFlips = 0;
  const files = await filesOf(store);
  assert.equal(files.length, 1 + 3 * 3, files.join(" "));
  for (const file of files) {
    const original = await store.read(file, 0, 1 << 30);
    const n = original.length;
    const offsets = new Set([0, 1, n >> 1, n - 2, n - 1, ...[0, 1, 2].map(() => Math.floor(next() * n))]);
    for (const at of offsets) {
      // Existing targets to restore over, one per snapshot, made while the repository is sound.
      const olders: FsAdapter[] = [];
      for (let k = 0; k < snaps.length; k++) {
        olders.push(await factory.make());
        await repo.restore(snaps[0]!.id, olders[k]!);
      }
      const damaged = original.slice();
      damaged[at] ^= 1 + Math.floor(next() * 255);
      await store.writeFile(file, damaged);
      flips++;
      const where = `${file} @${at}`;

      const report = await repo.verify({ readData: true });
      assert.equal(report.ok, false, `verify misses ${where}`);
      assert.ok(report.problems.some((p) => p.path === file), `verify names ${file}: ${JSON.stringify(report.problems)}`);

      let caught = false;
      for (const [k, snap] of snaps.entries()) {
        // Into a new, empty target, and over an existing tree (an older snapshot).
        for (const existing of [false, true]) {
          const target = existing ? olders[k]! : await factory.make();
          const before = existing ? olderTree : await treeId(target);
          try {
            await repo.restore(snap.id, target, { delete: true });
          } catch (e) {
            assert.ok(e instanceof IbtError && CLEAR_CODES.has(e.code), `${where}: restore failed with ${String(e)}`);
            assert.equal(await treeId(target), before, `${where}: a failed restore left the target as it was`);
            assert.ok(!(await target.list("")).some((x) => x.startsWith(".ibt-staging")), `${where}: no staging left`);
            restoresFailed++;
            caught = true;
            continue;
          }
          // A restore that did not fail read nothing damaged: it must be exact.
          assert.equal(await treeId(target), snap.tree, `${where}: restore of ${snap.id} succeeded, so it must be exact`);
        }
      }
      if (file.startsWith("data/")) {
        archiveFlips++;
        if (caught) archiveFlipsCaughtByRestore++;
      } else if (file.startsWith("index/") || file.startsWith("snapshots/")) {
        assert.ok(caught, `${where}: a damaged record or index stops the restores that need it`);
      }
      await store.writeFile(file, original);
    }
  }
  assert.equal((await repo.verify({ readData: true })).ok, true, "undamaged again");
  assert.ok(flips >= 70, `${flips} flips`);
  // Most archive bytes are member data, checked by CRC-32 and content hash on the way out; a few
  // header bytes (times, attributes) do not change what is restored, and only verify sees them.
  assert.ok(archiveFlipsCaughtByRestore >= archiveFlips / 2, `restore caught ${archiveFlipsCaughtByRestore} of ${archiveFlips} archive flips`);
  process.stderr.write(`damage: ${flips} flips, ${restoresFailed} restores refused, restore caught ${archiveFlipsCaughtByRestore}/${archiveFlips} archive flips\n`);
});
