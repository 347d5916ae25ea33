/**
 * SIGKILL trials of a backup to S3: a child process (../support/repo-s3-child.ts) backs up a
 * folder to the strict S3 server running in this process and is killed at a random moment of
 * its backup, spread over how long a backup takes here, so kills land before the lock, among
 * the parts of a multipart upload, between archive and record, and after the commit. Afterwards
 * no partial snapshot is listed (one more than before, or as many), the repository verifies with
 * readData, and the next backup, in this process with Node's repository options, takes over the
 * dead child's lock (its pid is dead on this host), removes the data and index objects no record
 * names, aborts the unfinished multipart uploads (the server holds none after it), and succeeds.
 * Forget between trials keeps verify's reading bounded and puts forget in the loop too.
 *
 * Trials: IBT_S3_TRIALS, default 50 (about a minute and a half on a loaded two-core machine).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Repository } from "../../src/index.js";
import { NodeFs, nodeRepositoryOptions } from "../../src/node/index.js";
import { ROOT, randomBytes, rng, tempDir } from "../support/helpers.js";
import { TreeChanger, treeId } from "../support/repo-kit.js";
import { tally } from "../support/hostile-kit.js";
import { BUCKET, repoStoreOn, serverForThisTest, uploadsUnder } from "../support/s3-repo-kit.js";

const CHILD = join(ROOT, "dist", "test", "support", "repo-s3-child.js");
const TRIALS = Number(process.env.IBT_S3_TRIALS ?? 50);
const PART = 32 * 1024;
const PREFIX = "crash";

/** Runs a child backup and kills it `delayMs` after it says it started (never, if undefined). */
function childBackup(endpoint: string, source: string, delayMs?: number): Promise<{ ms: number; killed: boolean; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, "backup", endpoint, PREFIX, source], { env: { ...process.env, IBT_PART_SIZE: String(PART) } });
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

test(`a backup to S3 killed by SIGKILL at random points leaves no partial snapshot, and the next backup takes over, sweeps and succeeds (${TRIALS} trials)`, async () => {
  const server = await serverForThisTest(PART);
  const dir = tempDir();
  const sourceDir = join(dir, "source");
  mkdirSync(sourceDir);
  const source = new NodeFs(sourceDir);
  const changer = new TreeChanger(source, rng(405));
  await changer.seed(12);
  const next = rng(78);
  // New content in a few hundred KiB each time: every backup has an archive of several parts.
  let fresh = 0;
  const grow = async () => {
    const path = `big${fresh++ % 3}.bin`;
    // The random changes may have made it a directory, or moved it away.
    await source.remove(path, { recursive: true }).catch(() => {});
    await source.writeFile(path, randomBytes(next, 150_000 + Math.floor(next() * 150_000)));
  };
  await grow();
  const full = await childBackup(server.endpoint, sourceDir);
  assert.match(full.out, /"ok":true/);
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    await changer.change(3);
    await grow();
    times.push((await childBackup(server.endpoint, sourceDir)).ms);
  }
  const span = times.sort((a, b) => a - b)[1]!;

  const store = repoStoreOn(server, PREFIX, { partSize: PART, minPartSize: PART });
  const dataObjects = () => server.objects(BUCKET).filter((o) => o.key.startsWith(`${PREFIX}/data/`)).length;
  let midway = 0;
  let midMultipart = 0;
  let committed = 0;
  const t = tally("crashes: backup SIGKILL (repository on S3)");
  for (let trial = 0; trial < TRIALS; trial++) {
    await changer.change(1 + Math.floor(next() * 4));
    await grow();
    const before = (await (await Repository.open(store)).snapshots()).length;
    const run = await childBackup(server.endpoint, sourceDir, Math.floor(next() * span));
    const repo = await Repository.open(store, nodeRepositoryOptions());
    const listed = await repo.snapshots();
    assert.ok(listed.length === before || listed.length === before + 1, `trial ${trial}: ${before} -> ${listed.length}`);
    if (listed.length === before + 1) committed++;
    const uploads = uploadsUnder(server, PREFIX).length;
    const locked = (await repo.lockOwner()) !== undefined;
    if (run.killed && (locked || uploads > 0 || dataObjects() > listed.length)) midway++;
    if (run.killed && uploads > 0) midMultipart++;
    t.tried++;
    if (run.killed) t.injected++;
    const report = await repo.verify({ readData: true });
    assert.deepEqual(report.problems, [], `trial ${trial}: verify after a kill`);

    // The next backup takes over the dead writer's lock, removes its leftovers and succeeds.
    const snap = await repo.backup(source);
    assert.equal(dataObjects(), listed.length + 1, `trial ${trial}: leftovers removed`);
    assert.deepEqual(uploadsUnder(server, PREFIX), [], `trial ${trial}: unfinished multipart uploads aborted`);
    assert.equal((await repo.snapshots()).at(-1)!.id, snap.id);
    assert.equal(await repo.lockOwner(), undefined, "lock released");
    await repo.forget({ keepLast: 2 });
    if (trial % 5 === 4 || trial === TRIALS - 1) {
      const target = tempDir();
      await repo.restore(snap.id, new NodeFs(target));
      assert.equal(await treeId(new NodeFs(target)), await treeId(source), `trial ${trial}: the latest restores exactly`);
    }
    t.accepted++;
  }
  t.codes = { "killed mid-backup": midway, "killed mid-multipart": midMultipart, "committed before the kill": committed };
  assert.equal((await (await Repository.open(store)).verify({ readData: true })).ok, true);
  assert.ok(midway >= TRIALS / 5, `${midway} of ${TRIALS} kills landed mid-backup`);
  assert.ok(midMultipart >= 1 || TRIALS < 10, "no kill landed mid-multipart");
  process.stderr.write(`# S3 crash trials: ${TRIALS}, ${midway} killed mid-backup (lock, data or upload left), ${midMultipart} mid-multipart, ${committed} committed before the kill\n`);
});
