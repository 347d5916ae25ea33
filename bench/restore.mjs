#!/usr/bin/env node
/**
 * bench/restore.mjs: how long a full restore takes, on real files nobody here wrote.
 *
 * Two trees, copied from node_modules so the data is real: "large" (typescript/lib: ~120 files,
 * ~23 MB, a few of them multi-MB) and "small" (lodash: ~1,050 files, most under 20 KB). Each is
 * backed up once into an unencrypted folder repository with `ibt backup` (not timed), then
 * restored BENCH_RUNS times (default 5) into an empty folder with `ibt restore --json`, as a user
 * would. Timed: the command's wall time and CPU time (user + system, from /usr/bin/time, which
 * is steadier than wall time on a busy machine) and the restore's own time as it reports it
 * (opening the repository and restoring, without Node's start-up). Every restored tree is
 * compared with its source, byte for byte, modes and mtimes. Medians, with min and max.
 *
 * BENCH_ROOTS=dirA:dirB compares builds: each a checkout with dist/ built (default: this one),
 * runs alternated between them. BENCH_PROFILE=dir writes one --cpu-prof profile per build and
 * tree there (from one extra run each). Needs /usr/bin/time (GNU time).
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH_DIR);

const RUNS = Number.parseInt(process.env.BENCH_RUNS ?? "", 10) || 5;
const ROOTS = (process.env.BENCH_ROOTS ?? ROOT).split(":").map((r) => path.resolve(r));
const PROFILE = process.env.BENCH_PROFILE ? path.resolve(process.env.BENCH_PROFILE) : undefined;
const WORK = path.join(BENCH_DIR, "data", `restore-${process.pid}`);
const TREES = {
  large: path.join(ROOT, "node_modules/typescript/lib"),
  small: path.join(ROOT, "node_modules/lodash"),
};

function sh(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** path → [mode, mtime, size, bytes] for every entry under `dir`. */
function listing(dir, rel = "", out = new Map()) {
  for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
    const p = path.join(rel, name);
    const st = fs.lstatSync(path.join(dir, p));
    const what = st.isDirectory() ? "dir" : st.isSymbolicLink() ? `-> ${fs.readlinkSync(path.join(dir, p))}` : fs.readFileSync(path.join(dir, p)).toString("base64");
    out.set(p, `${st.mode} ${Math.round(st.mtimeMs)} ${what}`);
    if (st.isDirectory()) listing(dir, p, out);
  }
  return out;
}

function sameTree(a, b) {
  const x = listing(a);
  const y = listing(b);
  if (x.size !== y.size) return `${x.size} entries, restored ${y.size}`;
  for (const [p, v] of x) if (y.get(p) !== v) return `differs at ${p}`;
  return undefined;
}

function restoreOnce(root, repo, source, label, profile) {
  const target = path.join(WORK, `out-${label}`);
  fs.rmSync(target, { recursive: true, force: true });
  const flags = profile ? ["--cpu-prof", `--cpu-prof-dir=${PROFILE}`, `--cpu-prof-name=${profile}.cpuprofile`] : [];
  const r = spawnSync("/usr/bin/time", ["-f", "TIME %e %U %S", process.execPath, ...flags, path.join(root, "dist/cli/ibt.cjs"), "restore", repo, target, "--json"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${label}: ibt restore failed: ${r.stderr}`);
  const [wall, user, system] = /TIME ([\d.]+) ([\d.]+) ([\d.]+)/.exec(r.stderr).slice(1).map(Number);
  const json = JSON.parse(r.stdout.trim().split("\n").at(-1));
  const wrong = sameTree(source, target);
  if (wrong) throw new Error(`${label}: the restored tree is not the source: ${wrong}`);
  return { wall: wall * 1000, cpu: (user + system) * 1000, ms: json.ms, files: json.files, bytes: json.bytes };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

fs.mkdirSync(WORK, { recursive: true });
if (PROFILE) fs.mkdirSync(PROFILE, { recursive: true });
const rows = [];
try {
  for (const [tree, dir] of Object.entries(TREES)) {
    const source = path.join(WORK, `src-${tree}`);
    sh("cp", ["-a", dir, source]);
    // One repository per build: each restores what it wrote itself.
    const repos = ROOTS.map((root, i) => {
      const repo = path.join(WORK, `repo-${tree}-${i}`);
      const ibt = path.join(root, "dist/cli/ibt.cjs");
      sh(process.execPath, [ibt, "init", repo, "--insecure-no-password"]);
      sh(process.execPath, [ibt, "backup", source, repo]);
      return repo;
    });
    const times = ROOTS.map(() => ({ wall: [], cpu: [], ms: [] }));
    let info;
    for (let run = 0; run < RUNS; run++) {
      const order = run % 2 ? [...ROOTS.keys()].reverse() : [...ROOTS.keys()];
      for (const i of order) {
        info = restoreOnce(ROOTS[i], repos[i], source, `${tree}-${i}`);
        for (const k of ["wall", "cpu", "ms"]) times[i][k].push(info[k]);
      }
    }
    if (PROFILE) for (const i of ROOTS.keys()) restoreOnce(ROOTS[i], repos[i], source, `${tree}-${i}`, `${tree}-${path.basename(ROOTS[i])}`);
    for (const i of ROOTS.keys()) rows.push({ tree, files: info.files, mb: info.bytes / 1e6, build: ROOTS[i], ...times[i] });
  }
} finally {
  fs.rmSync(WORK, { recursive: true, force: true });
}

const cell = (xs) => `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;
console.log(`ibt restore into an empty folder, ms, median of ${RUNS} (min–max)`);
console.log("| tree | files | MB | build | restore (reported) | command, wall | command, CPU |");
console.log("|---|---|---|---|---|---|---|");
for (const r of rows) {
  console.log(`| ${r.tree} | ${r.files} | ${r.mb.toFixed(1)} | ${r.build} | ${cell(r.ms)} | ${cell(r.wall)} | ${cell(r.cpu)} |`);
}
