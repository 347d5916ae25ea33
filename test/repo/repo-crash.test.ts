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
import { REPO_PASSWORD, reopen } from "../support/encrypted-repo-kit.js";
import type { Store } from "../../src/store/types.js";

const CHILD = join(ROOT, "dist", "test", "support", "repo-child.js");
/** SIGKILL trials; `IBT_TRIALS=120 npm run test:crash` runs more. */
const TRIALS = Number(process.env.IBT_TRIALS ?? 30);
/** Trials on an encrypted repository: fewer in the quick run, as many under IBT_TRIALS. */
const ENCRYPTED_TRIALS = Number(process.env.IBT_TRIALS ?? 15);

/** Runs a child backup and kills it `delayMs` after it says it started (never, if undefined). */
function childBackup(repo: string, source: string, delayMs?: number, password?: string): Promise<{ ms: number; killed: boolean; out: string }> {
  return new Promise((resolve, reject) => {
    const env = password === undefined ? process.env : { ...process.env, IBT_CHILD_PASSWORD: password };
    const child = spawn(process.execPath, [CHILD, "backup", repo, source], { env });
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

async function crashTrials(trials: number, password: string | undefined, what: string): Promise<void> {
  const dir = tempDir();
  const sourceDir = join(dir, "source");
  const repoDir = join(dir, "repo");
  mkdirSync(sourceDir);
  const source = new NodeFs(sourceDir);
  const changer = new TreeChanger(source, rng(404));
  await changer.seed(12);
  // How long a child's backup takes here, so kills spread over all of it.
  const full = await childBackup(repoDir, sourceDir, undefined, password);
  assert.match(full.out, /"ok":true/);
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    await changer.change(4);
    times.push((await childBackup(repoDir, sourceDir, undefined, password)).ms);
  }
  const span = times.sort((a, b) => a - b)[1]!;

  const next = rng(77);
  const folder = new FsStore(new NodeFs(repoDir));
  const store: Store = password === undefined ? folder : await reopen(folder);
  let midway = 0;
  let committed = 0;
  const t = tally(`crashes: backup SIGKILL (${what})`);
  for (let trial = 0; trial < trials; trial++) {
    await changer.change(1 + Math.floor(next() * 6));
    const before = (await (await Repository.open(store)).snapshots()).length;
    const run = await childBackup(repoDir, sourceDir, Math.floor(next() * span), password);
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
    if (trial % 5 === 4 || trial === trials - 1) {
      const target = tempDir();
      await repo.restore(snap.id, new NodeFs(target));
      assert.equal(await treeId(new NodeFs(target)), await treeId(source), `trial ${trial}: the latest restores exactly`);
    }
    t.accepted++;
  }
  t.codes = { "killed mid-backup": midway, "committed before the kill": committed };
  assert.equal((await (await Repository.open(store)).verify({ readData: true })).ok, true);
  // Kills land before, during and after the commit point; most must land mid-backup.
  assert.ok(midway >= trials / 5, `${midway} of ${trials} kills landed mid-backup`);
  process.stderr.write(`crash trials (${what}): ${trials}, ${midway} killed mid-backup (lock or data left), ${committed} committed before the kill\n`);
}

test(`a backup killed by SIGKILL at random points leaves only complete snapshots, a verifiable repository, and a next backup that succeeds (${TRIALS} trials)`, () =>
  crashTrials(TRIALS, undefined, "repository"));

test(`the same on an encrypted repository: every kill leaves objects that open, a verifiable repository and a next backup that succeeds (${ENCRYPTED_TRIALS} trials)`, () =>
  crashTrials(ENCRYPTED_TRIALS, REPO_PASSWORD, "encrypted repository"));
