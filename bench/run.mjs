#!/usr/bin/env node
/**
 * bench/run.mjs: ibt (this package's CLI) against rdiff (librsync), side by side.
 *
 * What it measures: wall time and peak memory (max RSS) of signature, delta and patch on
 * the same inputs, for both tools. Each tool is run as a whole process, so Node's start-up
 * is part of ibt's time: that is what a user of either command pays. Every measurement is
 * the median of BENCH_RUNS runs, and the order (ibt first / rdiff first) alternates between
 * runs so neither tool always gets the warmer cache. The machine is shared and noisy: the
 * absolute seconds move from run to run, so compare the ibt/rdiff ratios of one run.
 *
 * It also checks correctness (exit status 1 if any check fails): ibt's signature is
 * byte-identical to rdiff's, both patch outputs equal the edited file, and ibt's deltas
 * applied by rdiff rebuild the new files. Finally it runs a 1 GiB memory check (skip with
 * BENCH_SKIP_1G=1): ibt's peak RSS must stay under 100 MB whatever the file size.
 *
 * Environment: BENCH_MB (default 256), BENCH_RUNS (default 3), BENCH_SKIP_1G=1.
 * Data files stay in bench/data for reuse; temporary outputs are deleted at the end.
 */
import { spawnSync } from "node:child_process";
import { randomFillSync } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { writeReport } from "./report.mjs";
// The seeded generator the tests use (test/shared/data.ts), so benchmark data is reproducible too.
import { rng as seededRandom } from "../dist/test/shared/data.js";

const MiB = 1 << 20;
const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH_DIR);
const DATA = path.join(BENCH_DIR, "data");
const TMP = path.join(DATA, `tmp-${process.pid}`);
const IBT_CLI = path.join(ROOT, "dist/cli/ibt.cjs");
const RDIFF = "rdiff";
const SIZE_MB = positiveInt(process.env.BENCH_MB, 256);
const RUNS = positiveInt(process.env.BENCH_RUNS, 3);
const SKIP_1G = process.env.BENCH_SKIP_1G === "1";
const EDITS = 100;
const CHUNK = 8 * MiB;
const MEMORY_GOAL_MB = 100;

const TOOLS = {
  ibt: (args) => [process.execPath, IBT_CLI, ...args],
  rdiff: (args) => [RDIFF, ...args],
};

function positiveInt(text, fallback) {
  const n = Number.parseInt(text ?? "", 10);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function fileSize(file) {
  try {
    return fs.statSync(file).size;
  } catch {
    return -1;
  }
}

function sh(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : "";
}

// ---------------------------------------------------------------- data generation


/** Writes `file` through a temporary name so an interrupted run leaves no half file. */
function writeAtomically(file, fill) {
  const part = `${file}.part`;
  const fd = fs.openSync(part, "w");
  try {
    fill(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(part, file);
}

function generateRandom(file, size) {
  const buf = Buffer.allocUnsafe(CHUNK);
  writeAtomically(file, (fd) => {
    for (let done = 0; done < size; ) {
      const n = Math.min(CHUNK, size - done);
      randomFillSync(buf, 0, n);
      fs.writeSync(fd, buf, 0, n);
      done += n;
    }
  });
}

/**
 * 100 small edits at sorted, non-overlapping positions: overwrite, insert or delete of
 * 1..100 bytes. Seeded, so the plan (and the edited file's size) is the same every run.
 */
function editPlan(size, seed) {
  const rnd = seededRandom(seed);
  const positions = Array.from({ length: EDITS }, () => Math.floor(rnd() * size)).sort((a, b) => a - b);
  const kinds = ["overwrite", "insert", "delete"];
  const plan = [];
  let end = 0;
  for (const p of positions) {
    const pos = Math.max(p, end);
    const len = Math.min(1 + Math.floor(rnd() * 100), size - pos);
    if (len <= 0) break;
    const kind = kinds[Math.floor(rnd() * 3)];
    const bytes = Buffer.from(Array.from({ length: len }, () => Math.floor(rnd() * 256)));
    plan.push({ pos, len, kind, bytes });
    end = kind === "insert" ? pos : pos + len;
  }
  return plan;
}

function editedSize(size, plan) {
  let s = size;
  for (const e of plan) s += e.kind === "insert" ? e.len : e.kind === "delete" ? -e.len : 0;
  return s;
}

/** Streams basis into out, copying the ranges between edits and applying each edit. */
function generateEdited(basis, out, plan) {
  const buf = Buffer.allocUnsafe(CHUNK);
  const src = fs.openSync(basis, "r");
  const copy = (fd, from, to) => {
    for (let at = from; at < to; ) {
      const n = fs.readSync(src, buf, 0, Math.min(CHUNK, to - at), at);
      if (n <= 0) throw new Error(`short read in ${basis}`);
      fs.writeSync(fd, buf, 0, n);
      at += n;
    }
  };
  try {
    writeAtomically(out, (fd) => {
      let cursor = 0;
      for (const e of plan) {
        copy(fd, cursor, e.pos);
        if (e.kind !== "delete") fs.writeSync(fd, e.bytes);
        cursor = e.kind === "insert" ? e.pos : e.pos + e.len;
      }
      copy(fd, cursor, fs.fstatSync(src).size);
    });
  } finally {
    fs.closeSync(src);
  }
}

/** Makes `name` (random) and `editedName` unless both exist with the right sizes. */
function ensurePair(name, editedName, sizeMb, seed) {
  const size = sizeMb * MiB;
  const file = path.join(DATA, name);
  const edited = path.join(DATA, editedName);
  const plan = editPlan(size, seed);
  let fresh = false;
  if (fileSize(file) !== size) {
    console.error(`generating ${name} (${sizeMb} MiB)...`);
    generateRandom(file, size);
    fresh = true;
  }
  const stale = fresh || fileSize(edited) !== editedSize(size, plan) || fs.statSync(edited).mtimeMs < fs.statSync(file).mtimeMs;
  if (stale) {
    console.error(`generating ${editedName} (${plan.length} edits)...`);
    generateEdited(file, edited, plan);
  }
  return { file, edited };
}

function ensureRandom(name, sizeMb) {
  const file = path.join(DATA, name);
  if (fileSize(file) !== sizeMb * MiB) {
    console.error(`generating ${name} (${sizeMb} MiB)...`);
    generateRandom(file, sizeMb * MiB);
  }
  return file;
}

// ---------------------------------------------------------------- running and measuring

/** Picks the way to read a child's peak RSS: GNU time if it works, else python3. */
function memoryWrapper() {
  const probe = spawnSync("/usr/bin/time", ["-f", "%M", "true"], { encoding: "utf8" });
  if (probe.status === 0 && /^\d+$/.test(lastLine(probe.stderr))) {
    return { name: "/usr/bin/time -f %M", prefix: ["/usr/bin/time", "-f", "%M"] };
  }
  const py =
    "import resource,subprocess,sys\n" +
    "r=subprocess.call(sys.argv[1:])\n" +
    "sys.stderr.write('\\n%d\\n'%resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n" +
    "sys.exit(r if r>=0 else 128-r)";
  return { name: "python3 resource.getrusage", prefix: ["python3", "-c", py] };
}

function lastLine(text) {
  const lines = (text ?? "").trim().split("\n");
  return lines[lines.length - 1].trim();
}

let WRAPPER;

/** Runs one whole command; returns wall seconds and peak RSS in MB. Throws on failure. */
function timed(tool, args) {
  const argv = [...WRAPPER.prefix, ...TOOLS[tool](args)];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { stdio: ["ignore", "ignore", "pipe"], encoding: "utf8", maxBuffer: 16 * MiB });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) {
    throw new Error(`${tool} ${args.join(" ")} failed (status ${r.status}, signal ${r.signal}):\n${r.stderr}`);
  }
  const kb = Number.parseInt(lastLine(r.stderr), 10);
  return { seconds, peakMb: kb / 1024 };
}

/**
 * Runs an operation RUNS times for both tools, alternating which goes first.
 * `args(tool)` gives the tool's arguments; its output file is removed before each run.
 */
function measure(label, args, output) {
  const runs = { ibt: [], rdiff: [] };
  for (let i = 0; i < RUNS; i++) {
    const order = i % 2 === 0 ? ["ibt", "rdiff"] : ["rdiff", "ibt"];
    for (const tool of order) {
      fs.rmSync(output(tool), { force: true });
      runs[tool].push(timed(tool, args(tool)));
    }
  }
  const line = (tool) => runs[tool].map((r) => r.seconds.toFixed(3)).join(" ");
  console.error(`  ${label}: ibt ${line("ibt")} s | rdiff ${line("rdiff")} s`);
  return runs;
}

// ---------------------------------------------------------------- correctness

/** Streams both files and compares them. */
function sameFile(a, b) {
  if (fileSize(a) !== fileSize(b)) return false;
  const fa = fs.openSync(a, "r");
  const fb = fs.openSync(b, "r");
  const ba = Buffer.allocUnsafe(CHUNK);
  const bb = Buffer.allocUnsafe(CHUNK);
  try {
    for (;;) {
      const na = fs.readSync(fa, ba, 0, CHUNK, null);
      const nb = fs.readSync(fb, bb, 0, CHUNK, null);
      if (na !== nb || !ba.subarray(0, na).equals(bb.subarray(0, nb))) return false;
      if (na === 0) return true;
    }
  } finally {
    fs.closeSync(fa);
    fs.closeSync(fb);
  }
}

const checks = [];

function check(name, ok) {
  checks.push({ name, ok });
  console.error(`  check ${ok ? "ok    " : "FAILED"} ${name}`);
}

/** Runs `rdiff patch basis delta` once and compares the result with `expected`. */
function rdiffRebuilds(basis, delta, expected) {
  const out = path.join(TMP, "check.out");
  fs.rmSync(out, { force: true });
  timed("rdiff", ["patch", basis, delta, out]);
  const ok = sameFile(out, expected);
  fs.rmSync(out, { force: true });
  return ok;
}

// ---------------------------------------------------------------- the benchmark

function tmp(name, tool) {
  return path.join(TMP, `${name}.${tool}`);
}

function row(operation, runs, bytesRead, goalRatio) {
  const ibtS = median(runs.ibt.map((r) => r.seconds));
  const rdiffS = median(runs.rdiff.map((r) => r.seconds));
  const ratio = rdiffS / ibtS;
  return {
    operation,
    bytesRead,
    ibtSeconds: ibtS,
    rdiffSeconds: rdiffS,
    ibtMBps: bytesRead / MiB / ibtS,
    rdiffMBps: bytesRead / MiB / rdiffS,
    ratio,
    ibtPeakMb: median(runs.ibt.map((r) => r.peakMb)),
    rdiffPeakMb: median(runs.rdiff.map((r) => r.peakMb)),
    goalRatio,
    met: ratio >= goalRatio,
    runs: {
      ibt: runs.ibt.map((r) => round(r.seconds, 3)),
      rdiff: runs.rdiff.map((r) => round(r.seconds, 3)),
    },
  };
}

function speedBench(basis, edited, unrelated) {
  const rows = [];
  // a. signature of basis
  let runs = measure("signature", (t) => ["signature", basis, tmp("sig", t)], (t) => tmp("sig", t));
  rows.push(row("signature", runs, fileSize(basis), 1.0));
  check("ibt signature is byte-identical to rdiff's", sameFile(tmp("sig", "ibt"), tmp("sig", "rdiff")));
  const sig = tmp("sig", "rdiff");

  // b. delta after 100 small edits
  runs = measure("delta edited", (t) => ["delta", sig, edited, tmp("delta-edited", t)], (t) => tmp("delta-edited", t));
  rows.push(row("delta after 100 small edits", runs, fileSize(edited), 1.0));
  check("rdiff patch of ibt's edited delta equals edited", rdiffRebuilds(basis, tmp("delta-edited", "ibt"), edited));

  // c. delta, nothing matches
  runs = measure("delta unrelated", (t) => ["delta", sig, unrelated, tmp("delta-unrelated", t)], (t) => tmp("delta-unrelated", t));
  rows.push(row("delta, nothing matches", runs, fileSize(unrelated), 4.0));
  check("rdiff patch of ibt's nothing-matches delta equals unrelated", rdiffRebuilds(basis, tmp("delta-unrelated", "ibt"), unrelated));

  // d. patch: both tools apply rdiff's edited delta
  const delta = tmp("delta-edited", "rdiff");
  runs = measure("patch", (t) => ["patch", basis, delta, tmp("patched", t)], (t) => tmp("patched", t));
  rows.push(row("patch (rdiff's edited delta)", runs, fileSize(edited), 1.0));
  check("ibt patch output equals edited", sameFile(tmp("patched", "ibt"), edited));
  check("rdiff patch output equals edited", sameFile(tmp("patched", "rdiff"), edited));
  return rows;
}

/** 1 GiB: one run of each operation per tool, for peak memory. */
function memoryBench() {
  const { file: big, edited: bigEdited } = ensurePair("big", "big-edited", 1024, 0x1b16);
  const steps = [
    ["signature", (t) => ["signature", big, tmp("big-sig", t)]],
    ["delta after 100 small edits", (t) => ["delta", tmp("big-sig", t), bigEdited, tmp("big-delta", t)]],
    ["patch", (t) => ["patch", big, tmp("big-delta", t), tmp("big-out", t)]],
  ];
  const rows = [];
  for (const [operation, args] of steps) {
    const r = {};
    for (const tool of ["ibt", "rdiff"]) r[tool] = timed(tool, args(tool));
    console.error(`  1 GiB ${operation}: ibt ${r.ibt.seconds.toFixed(3)} s ${r.ibt.peakMb.toFixed(1)} MB | rdiff ${r.rdiff.seconds.toFixed(3)} s ${r.rdiff.peakMb.toFixed(1)} MB`);
    rows.push({
      operation,
      ibtSeconds: r.ibt.seconds,
      rdiffSeconds: r.rdiff.seconds,
      ibtPeakMb: r.ibt.peakMb,
      rdiffPeakMb: r.rdiff.peakMb,
      met: r.ibt.peakMb < MEMORY_GOAL_MB,
    });
  }
  check("1 GiB: ibt signature is byte-identical to rdiff's", sameFile(tmp("big-sig", "ibt"), tmp("big-sig", "rdiff")));
  check("1 GiB: ibt delta + ibt patch rebuilds big-edited", sameFile(tmp("big-out", "ibt"), bigEdited));
  for (const t of ["ibt", "rdiff"]) fs.rmSync(tmp("big-out", t), { force: true });
  return rows;
}

// ---------------------------------------------------------------- reporting

function round(x, digits) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function machine() {
  const cpuinfo = fs.existsSync("/proc/cpuinfo") ? fs.readFileSync("/proc/cpuinfo", "utf8") : "";
  return {
    cpu: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? "unknown",
    nproc: Number(sh("nproc", [])) || os.availableParallelism(),
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    node: process.version,
    rdiff: sh(RDIFF, ["--version"]).split("\n")[0],
    date: new Date().toISOString(),
  };
}

function table(header, rows) {
  const lines = [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`];
  for (const r of rows) lines.push(`| ${r.join(" | ")} |`);
  return lines.join("\n");
}

function report(info, speedRows, memoryRows) {
  console.log("## Machine\n");
  console.log(`- CPU: ${info.cpu}\n- nproc: ${info.nproc}\n- memory: ${info.memoryGiB} GiB`);
  console.log(`- node: ${info.node}\n- rdiff: ${info.rdiff}\n- date: ${info.date}`);
  console.log(`- data: ${SIZE_MB} MiB, median of ${RUNS} run(s), peak RSS via ${WRAPPER.name}\n`);
  console.log(`## Speed (${SIZE_MB} MiB)\n`);
  const header = ["operation", "ibt median s", "rdiff median s", "ibt MB/s", "rdiff MB/s", "speed ratio ibt/rdiff", "ibt peak MB", "rdiff peak MB", "goal", "met?"];
  console.log(
    table(
      header,
      speedRows.map((r) => [
        r.operation,
        r.ibtSeconds.toFixed(3),
        r.rdiffSeconds.toFixed(3),
        r.ibtMBps.toFixed(1),
        r.rdiffMBps.toFixed(1),
        r.ratio.toFixed(2),
        r.ibtPeakMb.toFixed(1),
        r.rdiffPeakMb.toFixed(1),
        `ratio >= ${r.goalRatio.toFixed(1)}`,
        r.met ? "yes" : "no",
      ]),
    ),
  );
  console.log("\nRuns (s): " + speedRows.map((r) => `${r.operation}: ibt ${r.runs.ibt.join(" ")} / rdiff ${r.runs.rdiff.join(" ")}`).join("; "));
  if (memoryRows) {
    console.log("\n## Memory, 1 GiB files (one run each)\n");
    console.log(
      table(
        ["operation", "ibt peak MB", "rdiff peak MB", `goal < ${MEMORY_GOAL_MB} MB`, "met?"],
        memoryRows.map((r) => [r.operation, r.ibtPeakMb.toFixed(1), r.rdiffPeakMb.toFixed(1), `< ${MEMORY_GOAL_MB} MB`, r.met ? "yes" : "no"]),
      ),
    );
  }
  const failed = checks.filter((c) => !c.ok);
  console.log(`\n## Correctness: ${failed.length === 0 ? `all ${checks.length} checks passed` : `${failed.length} FAILED: ${failed.map((c) => c.name).join("; ")}`}`);
}

function writeJson(info, speedRows, memoryRows) {
  const r2 = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === "number" ? round(v, 3) : v]));
  const json = {
    machine: info,
    config: { sizeMb: SIZE_MB, runs: RUNS, peakRss: WRAPPER.name },
    speed: speedRows.map(r2),
    memory1GiB: memoryRows ? memoryRows.map(r2) : null,
    checks,
  };
  // Keep the file small and readable: short number arrays on one line.
  const text = JSON.stringify(json, null, 2).replace(/\[\s*([-\d.,\s]+?)\s*\]/g, (_, xs) => `[${xs.replace(/\s+/g, " ")}]`);
  fs.writeFileSync(path.join(BENCH_DIR, "results.json"), text + "\n");
}

/** The CLI may be missing for a moment while someone rebuilds: wait a little. */
async function waitForCli() {
  for (let i = 0; i < 10; i++) {
    const r = spawnSync(process.execPath, [IBT_CLI, "--version"], { encoding: "utf8" });
    if (r.status === 0) return;
    console.error(`ibt CLI not usable at ${IBT_CLI}; retrying in 30 s...`);
    await new Promise((done) => setTimeout(done, 30_000));
  }
  throw new Error(`ibt CLI not usable at ${IBT_CLI}`);
}

async function main() {
  await waitForCli();
  if (spawnSync(RDIFF, ["--version"]).status !== 0) throw new Error("rdiff not found on PATH");
  WRAPPER = memoryWrapper();
  fs.mkdirSync(TMP, { recursive: true });
  try {
    const info = machine();
    const { file: basis, edited } = ensurePair("basis", "edited", SIZE_MB, 0xba515);
    const unrelated = ensureRandom("unrelated", SIZE_MB);
    console.error(`speed, ${SIZE_MB} MiB, ${RUNS} run(s):`);
    const speedRows = speedBench(basis, edited, unrelated);
    let memoryRows = null;
    if (!SKIP_1G) {
      console.error("memory, 1 GiB:");
      memoryRows = memoryBench();
    }
    report(info, speedRows, memoryRows);
    writeJson(info, speedRows, memoryRows);
    writeReport();
  } finally {
    fs.rmSync(TMP, { recursive: true, force: true });
  }
  if (checks.some((c) => !c.ok)) {
    console.error("bench: correctness checks FAILED");
    process.exitCode = 1;
  }
}

main().catch((e) => {
  console.error(`bench: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
