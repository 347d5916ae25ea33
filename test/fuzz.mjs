#!/usr/bin/env node
/**
 * `npm run fuzz`: the hostile-input, fault and crash tests with their case counts scaled up, and
 * a table of what they did. The generators are the test suite's own (test/*/hostile-*.test.ts,
 * test/archive/faults.test.ts, test/archive/crash-apply.test.ts, and the repository's
 * test/repo/repo-faults.test.ts, repo-crash.test.ts, repo-lock.test.ts); this script only raises IBT_FUZZ_SCALE
 * (default 5), IBT_CRASH_TRIALS (default 104) and IBT_TRIALS (repository kills, default 120),
 * collects the tallies each test file appends
 * to IBT_FUZZ_REPORT, and prints them per category. It exits non-zero if a test failed or any
 * case lost or changed data.
 *
 *   IBT_FUZZ_SCALE=5 IBT_CRASH_TRIALS=104 IBT_TRIALS=120 npm run fuzz
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { nodeTestFiles } from "./run-node.mjs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const files = nodeTestFiles().filter((f) => /\/(hostile-.*|faults|crash-apply|repo-faults|repo-crash|repo-lock)\.test\.js$/.test(f));
const work = mkdtempSync(join(tmpdir(), "ibt-fuzz-"));
const report = join(work, "report.jsonl");
const scale = process.env.IBT_FUZZ_SCALE ?? "5";
const trials = process.env.IBT_CRASH_TRIALS ?? "104";
const repoTrials = process.env.IBT_TRIALS ?? "120";
const started = Date.now();
const run = spawnSync(process.execPath, ["--test", "--test-timeout=3600000", "--test-reporter=dot", ...files], {
  stdio: "inherit",
  env: { ...process.env, IBT_FUZZ_SCALE: scale, IBT_FUZZ_REPORT: report, IBT_CRASH_TRIALS: trials, IBT_TRIALS: repoTrials },
});

let lines = [];
try {
  lines = readFileSync(report, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
} catch {
  // No report: every test file failed before its end; the status below says so.
}
rmSync(work, { recursive: true, force: true });

const sum = { tried: 0, refused: 0, accepted: 0, injected: 0, changed: 0 };
const rows = lines.sort((a, b) => a.category.localeCompare(b.category));
const width = Math.max(...rows.map((r) => r.category.length), 10);
console.log(`\nIBT_FUZZ_SCALE=${scale} IBT_CRASH_TRIALS=${trials} IBT_TRIALS=${repoTrials}, ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
console.log(`${"category".padEnd(width)}  ${["tried", "refused", "accepted", "injected", "changed"].map((h) => h.padStart(8)).join(" ")}  codes / where`);
for (const r of rows) {
  for (const k of Object.keys(sum)) sum[k] += r[k];
  const codes = Object.entries(r.codes).map(([c, n]) => `${c} ${n}`).join(", ");
  console.log(`${r.category.padEnd(width)}  ${[r.tried, r.refused, r.accepted, r.injected, r.changed].map((n) => String(n).padStart(8)).join(" ")}  ${codes}`);
}
console.log(`${"total".padEnd(width)}  ${[sum.tried, sum.refused, sum.accepted, sum.injected, sum.changed].map((n) => String(n).padStart(8)).join(" ")}`);
process.exitCode = run.status !== 0 || sum.changed > 0 ? 1 : 0;
