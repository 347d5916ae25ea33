import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { FsStore, Repository } from "../../src/index.js";
import { NodeFs, nodeRepositoryOptions } from "../../src/node/index.js";
import { ROOT, rng, tempDir } from "../support/helpers.js";
import { TreeChanger, treeId } from "../support/repo-kit.js";
import { tally } from "../support/hostile-kit.js";

const CHILD = join(ROOT, "dist", "test", "support", "repo-child.js");
/** SIGKILL trials; `IBT_TRIALS=120 npm run test:crash` runs more. */
const TRIALS = Number(process.env.IBT_TRIALS ?? 30);

/** Runs a child backup and kills it `delayMs` after it says it started (never, if undefined). */
function childBackup(repo: string, source: string, delayMs?: number): Promise<{ ms: number; killed: boolean; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, "backup", repo, source]);
    let out = "";
    let started = 0;
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (!started && out.includes("started")) {
        started = Date.now();
        if (delayMs !== undefined) setTimeout(() => child.kill("SIGKILL"), delayMs);
      }
    });
    child.on("error", reject);
    child.on("exit", (_code, signal) => resolve({ ms: Date.now() - started, killed: signal === "SIGKILL", out }));
  });
}

test(`a backup killed by SIGKILL at random points leaves only complete snapshots, a verifiable repository, and a next backup that succeeds (${TRIALS} trials)`, async () => {
  const dir = tempDir();
  const sourceDir = join(dir, "source");
  const repoDir = join(dir, "repo");
  mkdirSync(sourceDir);
  const source = new NodeFs(sourceDir);
  const changer = new TreeChanger(source, rng(404));
  await changer.seed(12);
  // How long a child's backup takes here, so kills spread over all of it.
  const full = await childBackup(repoDir, sourceDir);
  assert.match(full.out, /"ok":true/);
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    await changer.change(4);
    times.push((await childBackup(repoDir, sourceDir)).ms);
  }
  const span = times.sort((a, b) => a - b)[1]!;

  const next = rng(77);
  const store = new FsStore(new NodeFs(repoDir));
  let midway = 0;
  let committed = 0;
  const t = tally("crashes: backup SIGKILL (repository)");
  for (let trial = 0; trial < TRIALS; trial++) {
    await changer.change(1 + Math.floor(next() * 6));
    const before = (await (await Repository.open(store)).snapshots()).length;
    const run = await childBackup(repoDir, sourceDir, Math.floor(next() * span));
    const repo = await Repository.open(store, nodeRepositoryOptions());
    const listed = await repo.snapshots();
    assert.ok(listed.length === before || listed.length === before + 1, `trial ${trial}: ${before} -> ${listed.length}`);
    if (listed.length === before + 1) committed++;
    const leftovers = existsSync(join(repoDir, "lock")) || readdirSync(join(repoDir, "data")).length > listed.length;
    if (run.killed && leftovers) midway++;
    t.tried++;
    if (run.killed) t.injected++;
    if (process.env.IBT_DEBUG) process.stderr.write(`trial ${trial}: span ${span} ms=${run.ms} killed=${run.killed} leftovers=${leftovers} committed=${listed.length - before}\n`);
    const report = await repo.verify({ readData: true });
    assert.deepEqual(report.problems, [], `trial ${trial}: verify after a kill`);

    // The next backup takes over the dead writer's lock, removes its leftovers and succeeds.
    const snap = await repo.backup(source);
    assert.equal(readdirSync(join(repoDir, "data")).length, listed.length + 1, `trial ${trial}: leftovers removed`);
    assert.equal((await repo.snapshots()).at(-1)!.id, snap.id);
    assert.ok(!existsSync(join(repoDir, "lock")), "lock released");
    // Forget between trials keeps verify's reading bounded, and puts forget in the loop too.
    await repo.forget({ keepLast: 2 });
    if (trial % 5 === 4 || trial === TRIALS - 1) {
      const target = tempDir();
      await repo.restore(snap.id, new NodeFs(target));
      assert.equal(await treeId(new NodeFs(target)), await treeId(source), `trial ${trial}: the latest restores exactly`);
    }
    t.accepted++;
  }
  t.codes = { "killed mid-backup": midway, "committed before the kill": committed };
  assert.equal((await (await Repository.open(store)).verify({ readData: true })).ok, true);
  // Kills land before, during and after the commit point; most must land mid-backup.
  assert.ok(midway >= TRIALS / 5, `${midway} of ${TRIALS} kills landed mid-backup`);
  process.stderr.write(`crash trials: ${TRIALS}, ${midway} killed mid-backup (lock or data left), ${committed} committed before the kill\n`);
});
