// The commit point of a backup is the save of its record. A save that fails may still have taken
// effect (the store applied it and the answer was lost): the backup must not then remove the
// snapshot's data and index, or the record would point at nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { IbtError, MemoryFs, MemoryStore, Repository, isIbtError, type ByteSource, type SaveOptions } from "../../src/index.js";
import { treeId } from "../support/repo-kit.js";

/** A MemoryStore whose next record save fails: after it took effect (`applied`), or before. */
class LostAnswerStore extends MemoryStore {
  strike: "applied" | "refused" | undefined;
  override async save(name: string, data: Uint8Array | ByteSource, options?: SaveOptions): Promise<void> {
    const strike = name.startsWith("snapshots/") ? this.strike : undefined;
    if (strike) this.strike = undefined;
    if (strike !== "refused") await super.save(name, data, options);
    if (strike) throw new IbtError("IO", `${name}: the connection closed before the answer`);
  }
}

async function tree(text: string): Promise<MemoryFs> {
  const fs = new MemoryFs();
  await fs.writeFile("a.txt", new TextEncoder().encode(text));
  await fs.writeFile("b.bin", new Uint8Array(5000).fill(7));
  return fs;
}

test("backup: a record save that took effect though its answer was lost makes the snapshot, whole", async () => {
  const store = new LostAnswerStore();
  const repo = await Repository.init(store);
  await repo.backup(await tree("first\n"));
  const second = await tree("second\n");
  store.strike = "applied";
  const made = await repo.backup(second);
  assert.deepEqual((await repo.snapshots()).map((s) => s.id).at(-1), made.id);
  const report = await repo.verify({ readData: true });
  assert.deepEqual(report.problems, []);
  const restored = new MemoryFs();
  await repo.restore(made.id, restored);
  assert.equal(await treeId(restored), await treeId(second));
});

test("backup: a record save that did not take effect fails the backup; its data and index wait for the next writer, who removes them", async () => {
  const store = new LostAnswerStore();
  const repo = await Repository.init(store);
  await repo.backup(await tree("first\n"));
  store.strike = "refused";
  await assert.rejects(repo.backup(await tree("second\n")), (e) => isIbtError(e, "IO"));
  assert.equal((await repo.snapshots()).length, 1, "no snapshot was made");
  const names = async (dir: string) => {
    const out: string[] = [];
    for await (const o of store.list(`${dir}/`)) out.push(o.name);
    return out;
  };
  assert.equal((await names("data")).length, 2, "the failed backup's archive is left for the next writer");
  assert.deepEqual((await repo.verify()).problems, []);
  await repo.backup(await tree("third\n"));
  assert.equal((await names("data")).length, 2, "the next writer removed it (the first and the third remain)");
  assert.equal((await names("index")).length, 2);
  assert.deepEqual((await repo.verify({ readData: true })).problems, []);
});
