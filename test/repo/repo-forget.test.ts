import { test } from "node:test";
import assert from "node:assert/strict";
import { Repository, isIbtError } from "../../src/index.js";
import { rng } from "../support/helpers.js";
import { REPO_CASES, TreeChanger, treeId } from "../support/repo-kit.js";

for (const { name, trees: factory, store } of REPO_CASES) {
  test(`${name}: forget keeps what the policy says plus the chains it needs; verify passes; every kept snapshot restores`, async () => {
    const source = await factory.make();
    const changer = new TreeChanger(source, rng(31));
    await changer.seed(10);
    const repo = await Repository.init(await store.make(), { maxChain: 4, fullShare: Infinity });
    const trees = new Map<string, string>();
    const start = Date.UTC(2026, 9, 20, 9);
    for (let i = 0; i < 30; i++) {
      if (i) await changer.change(2);
      const s = await repo.backup(source, { time: new Date(start + i * 20 * 3600_000) });
      trees.set(s.id, await treeId(source));
    }
    const all = await repo.snapshots();
    const policy = { keepLast: 2, keepDaily: 3, keepWeekly: 2 };

    const dry = await repo.forget({ ...policy, dryRun: true });
    assert.equal((await repo.snapshots()).length, 30, "a dry run removes nothing");
    const result = await repo.forget(policy);
    assert.deepEqual(result, dry, "the dry run said what forget did");
    const left = await repo.snapshots();
    assert.deepEqual(left.map((s) => s.id), result.kept);
    assert.ok(result.removed.length >= 10, `${result.removed.length} removed`);

    // What the rules pick, computed here from the list.
    const newest = [...all].reverse();
    const picked = new Set(newest.slice(0, 2).map((s) => s.id));
    for (const [n, bucket] of [
      [3, (t: string) => t.slice(0, 10)],
      [2, (t: string) => { const d = new Date(t); const monday = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - ((d.getUTCDay() + 6) % 7))); return monday.toISOString().slice(0, 10); }],
    ] as const) {
      const seen = new Set<string>();
      for (const s of newest) {
        const b = bucket(s.time);
        if (seen.has(b)) continue;
        if (seen.size === n) break;
        seen.add(b);
        picked.add(s.id);
      }
    }
    const kept = new Set(result.kept);
    for (const id of picked) assert.ok(kept.has(id), `the policy keeps ${id}`);
    const byId = new Map(all.map((s) => [s.id, s]));
    for (const id of kept) {
      const parent = byId.get(id)!.parent;
      if (parent) assert.ok(kept.has(parent), `${id}'s parent ${parent} is kept`);
    }
    assert.ok([...kept].some((id) => !picked.has(id) && byId.get(id)!.kind === "full"), "a full is kept only because an incremental needs it");
    for (const id of kept) assert.ok(picked.has(id) || [...kept].some((k) => byId.get(k)!.parent === id), `${id} is kept for a reason`);

    const report = await repo.verify({ readData: true });
    assert.deepEqual(report.problems, []);
    for (const s of left) {
      const target = await factory.make();
      await repo.restore(s.id, target);
      assert.equal(await treeId(target), trees.get(s.id), `snapshot ${s.id} restores after forget`);
    }
    // The next backup goes on from what is left.
    await changer.change(2);
    const next = await repo.backup(source);
    const target = await factory.make();
    await repo.restore(next.id, target);
    assert.equal(await treeId(target), await treeId(source));
    await assert.rejects(repo.forget({}), (e) => isIbtError(e, "BAD_ARGUMENT"), "a policy that keeps nothing is refused");
  });
}
