import { test } from "node:test";
import assert from "node:assert/strict";
import { Repository, type Snapshot } from "../../src/index.js";
import { rng } from "../support/helpers.js";
import { REPO_CASES, TreeChanger, listing, treeId } from "../support/repo-kit.js";

for (const { name, trees: factory, store } of REPO_CASES) {
  test(`${name}: every snapshot of a 20-snapshot chain under random changes restores to exactly its tree`, async () => {
    const source = await factory.make();
    const repo = await Repository.init(await store.make());
    const changer = new TreeChanger(source, rng(20261129));
    await changer.seed();
    const taken: { snapshot: Snapshot; tree: string; listing: string; changes: string[] }[] = [];
    for (let i = 0; i < 20; i++) {
      const changes = i === 0 ? [] : await changer.change(6);
      const snapshot = await repo.backup(source, { source: "tree" });
      taken.push({ snapshot, tree: await treeId(source), listing: await listing(source), changes });
    }

    const kinds = taken.map((t) => t.snapshot.kind);
    assert.equal(kinds[0], "full");
    assert.ok(kinds.filter((k) => k === "incremental").length >= 10, `mostly incrementals: ${kinds.join(" ")}`);
    for (const [i, t] of taken.entries()) {
      if (t.snapshot.kind === "incremental") assert.equal(t.snapshot.parent, taken[i - 1]!.snapshot.id, "an incremental's parent is the snapshot before");
    }
    assert.deepEqual((await repo.snapshots()).map((s) => s.id), taken.map((t) => t.snapshot.id), "listed oldest first");

    for (const [i, t] of taken.entries()) {
      const target = await factory.make();
      const result = await repo.restore(t.snapshot.id, target);
      assert.equal(result.files, t.snapshot.files);
      assert.equal(await treeId(target), t.tree, `snapshot ${i} (${t.changes.join("; ")})\nwant:\n${t.listing}\ngot:\n${await listing(target)}`);
    }

    // Into one target, newest to oldest: each restore writes only what differs.
    const target = await factory.make();
    let unchanged = 0;
    for (const t of taken.slice().reverse()) {
      const result = await repo.restore(t.snapshot.id, target, { delete: true });
      unchanged += result.unchanged;
      assert.equal(await treeId(target), t.tree, `restore over an existing tree to ${t.snapshot.id}`);
    }
    assert.ok(unchanged > 19 * 10, `files already right were not written again (${unchanged} kept)`);

    const report = await repo.verify({ readData: true });
    assert.deepEqual(report.problems, []);
    assert.equal(report.snapshots, 20);
  });
}
