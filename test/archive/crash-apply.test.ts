/**
 * Crash trials for applyDiff: a child process applying a diff (260 files, a 4 MiB file patched
 * through a delta, deletions, new directories) is killed with SIGKILL, then the same archive is
 * applied again, and the target must be exactly the new tree. Before that re-run, the tree must
 * be the old one (plus, at most, a staging directory without a journal) unless the child passed
 * the commit point.
 *
 * Kill points come two ways, alternating: `ibt apply` killed after a random delay of up to a
 * clean run's duration, and test/crash-child.js killing itself just before its Nth
 * tree-changing operation, N drawn over the whole range a clean run performs. Where each kill
 * landed (before staging, while staging, after the commit point, after the end) is tallied and
 * printed. IBT_CRASH_TRIALS sets the number of trials (default 24 × IBT_FUZZ_SCALE).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DiffData, DiffIndex, DirIndex, applyDiff, openArchive } from "../../src/index.js";
import { NodeFs } from "../../src/node/index.js";
import { ROOT, edit, randomBytes, rng, tempDir, textBytes } from "../support/helpers.js";
import { assertSame, sameSnapshot, scaled, snapshot, tally, type Snapshot } from "../support/hostile-kit.js";

const TRIALS = Number(process.env.IBT_CRASH_TRIALS) || scaled(24);
const IBT = join(ROOT, "dist/cli/ibt.cjs");
const CHILD = join(ROOT, "dist/test/support/crash-child.js");

function copyTree(from: string, to: string): void {
  const r = spawnSync("cp", ["-a", from, to]);
  assert.equal(r.status, 0, r.stderr?.toString());
}

/** The tree without the staging directory, and whether a staging directory / journal exists. */
async function state(dir: string): Promise<{ tree: Snapshot; staging: boolean; journal: boolean }> {
  const tree = await snapshot(new NodeFs(dir));
  const staging = readdirSync(dir).filter((n) => n.startsWith(".ibt-staging-"));
  for (const p of [...tree.keys()]) if (p.startsWith(".ibt-staging-")) tree.delete(p);
  return { tree, staging: staging.length > 0, journal: staging.some((s) => existsSync(join(dir, s, "journal.json"))) };
}

/** Runs a child and kills it with SIGKILL after `delayMs` (if it is still running). */
function runAndKill(args: string[], delayMs: number | undefined): Promise<{ killed: boolean; ok: boolean; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = delayMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), delayMs);
    child.on("exit", (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ killed: signal === "SIGKILL", ok: code === 0, stdout, stderr });
    });
  });
}

test(`applyDiff killed at random points (${TRIALS} trials) ends, after a re-run, as the new tree`, async () => {
  const t = tally("crashes: applyDiff SIGKILL");
  const root = tempDir();
  const v1 = join(root, "v1");
  const next = rng(2024);
  for (let d = 0; d < 10; d++) {
    mkdirSync(join(v1, `d${d}`, "sub"), { recursive: true });
    for (let f = 0; f < 26; f++) writeFileSync(join(v1, `d${d}`, f % 2 ? "sub" : "", `f${f}.txt`), textBytes(next, 500 + f * 40));
  }
  const big = randomBytes(next, 4 << 20);
  writeFileSync(join(v1, "big.bin"), big);
  const v2 = join(root, "v2");
  copyTree(v1, v2);
  writeFileSync(join(v2, "big.bin"), edit(next, edit(next, big, "insert"), "overwrite"));
  for (let d = 0; d < 10; d++) {
    for (let f = 0; f < 26; f += 3) writeFileSync(join(v2, `d${d}`, f % 2 ? "sub" : "", `f${f}.txt`), textBytes(next, 700));
    mkdirSync(join(v2, `d${d}`, "new"));
    for (let f = 0; f < 3; f++) writeFileSync(join(v2, `d${d}`, "new", `n${f}`), randomBytes(next, 2000));
  }
  rmSync(join(v2, "d9"), { recursive: true });
  const diff = new DiffIndex(await DirIndex.build(new NodeFs(v2)), await DirIndex.build(new NodeFs(v1))).compute();
  await new DiffData(diff, { source: new NodeFs(v2) }).createArchive(new NodeFs(root), "d.zip");
  const archive = join(root, "d.zip");
  const old = (await state(v1)).tree;

  // A clean run of each child: the new tree, how long `ibt apply` takes, how many operations.
  const probe = join(root, "probe");
  copyTree(v1, probe);
  const started = Date.now();
  assert.equal(spawnSync(process.execPath, [IBT, "apply", probe, archive]).status, 0);
  const cleanMs = Date.now() - started;
  const want = (await state(probe)).tree;
  rmSync(probe, { recursive: true });
  copyTree(v1, probe);
  const ops = Number((await runAndKill([CHILD, probe, archive, "0"], undefined)).stdout);
  assert.ok(ops > 300, `${ops} operations`);
  assertSame((await state(probe)).tree, want, "crash child, clean run");
  rmSync(probe, { recursive: true });

  const landed: Record<string, number> = { "before staging": 0, "while staging": 0, "after the commit point": 0, "after the end": 0 };
  for (let i = 0; i < TRIALS; i++) {
    const dir = join(root, `t${i}`);
    copyTree(v1, dir);
    const byOp = i % 2 === 1;
    const args = byOp ? [CHILD, dir, archive, String(1 + Math.floor(next() * (ops + 2)))] : [IBT, "apply", dir, archive];
    const r = await runAndKill(args, byOp ? undefined : Math.floor(next() * cleanMs));
    const label = `trial ${i} (${args.slice(1).join(" ")})`;
    assert.ok(r.killed || r.ok, `${label}: ${r.stderr}`);
    t.tried++;
    if (r.killed) t.injected++;
    const s = await state(dir);
    // Without a journal the tree is the old one (nothing changes before the commit point) or the
    // new one (the journal goes with the staging directory, after the last change).
    const where = s.journal ? "after the commit point" : sameSnapshot(s.tree, want) ? "after the end" : s.staging ? "while staging" : "before staging";
    landed[where]!++;
    if (!r.killed) assert.equal(where, "after the end", label);
    if (where === "while staging" || where === "before staging") assertSame(s.tree, old, `${label}: ${where}`);
    const rerun = await applyDiff(new NodeFs(dir), await openArchive(new NodeFs(root), "d.zip")).catch((e: Error) => {
      throw new Error(`${label}: the re-run failed after a kill ${where} (staging ${s.staging}, journal ${s.journal}): ${e.message}`);
    });
    // A finished apply (or one killed while removing its staging directory) is recognised.
    assert.equal(rerun.alreadyApplied, where === "after the end", `${label}: alreadyApplied after a kill ${where}`);
    const after = await state(dir);
    if (!after.staging) t.accepted++;
    else t.changed++;
    assert.ok(!after.staging, `${label}: staging left after the re-run`);
    assertSame(after.tree, want, `${label}: after the re-run`);
    rmSync(dir, { recursive: true });
  }
  t.codes = landed;
  process.stderr.write(`# crash trials: ${TRIALS}, ${t.injected} killed; landed ${JSON.stringify(landed)}; clean apply ${cleanMs} ms, ${ops} changing operations\n`);
  assert.ok(t.injected >= TRIALS / 2, `${t.injected} of ${TRIALS} trials were killed mid-run`);
});
