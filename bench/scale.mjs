#!/usr/bin/env node
/**
 * bench/scale.mjs: backups of many small files, ibt against restic and borg, at growing sizes.
 *
 * For each size (`--sizes 50k,200k,1m`, default 50k,200k) a seeded tree of small text files
 * (0.2–3 KB of word-like text, 200 files per directory, 50 directories per top-level directory,
 * so 200,000 files sit in 1,020 directories) is generated once under bench/data/ and kept for the
 * next run. Each tool then starts from an empty repository and is timed as a whole process on
 * four steps: the first backup, a backup with nothing changed, a backup after 1% of the files were
 * edited (seeded, the same edits for every tool), and a full restore of that last backup into an
 * empty folder, followed by `cp -a` of the same tree beside it: the file system's own cost of
 * making that many files, which no restore can go under and which on some file systems grows
 * faster than the tree. Each step's wall time and peak RSS (`/usr/bin/time -f %M` when present, else
 * VmHWM polled from /proc) are printed with the repository's bytes, ibt/restic ratios, and the
 * growth of time and RSS from one size to the next. Every restore is compared with the source
 * tree (contents by `diff -r`, then each entry's type, mode, size and file mtime); the script exits
 * non-zero if any differs. `--runs N` repeats everything and reports medians with the spread
 * (default 3 up to 50,000 files, 1 above); `--tools ibt,restic` picks tools; `--steps
 * first,noChange` measures only those steps (the first backup always runs); `--clean` removes
 * the generated trees afterwards; `--ibt FILE` runs another build of the CLI (a copy of dist/cli,
 * so that rebuilding during a long run does not change what is measured).
 *
 * Tools: ibt (the CLI build, an unencrypted repository), restic (repository format 2, its
 * default, with its cache under bench/data) and borg (`-e none`, `-C zstd,3`), the last two only
 * when installed. The tree stays in the page cache between tools, as it would between two
 * backups of a live folder.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH_DIR);
const DATA = path.join(BENCH_DIR, "data");
let IBT = path.join(ROOT, "dist/cli/ibt.cjs");
const SEED = 20261204;
const FILES_PER_DIR = 200;
const DIRS_PER_TOP = 50;
const TREE_FORMAT = 1; // bump when the generator changes, so kept trees are made again
const ALL_STEPS = ["first", "noChange", "changed", "restore"];
/** The steps measured (`--steps`); the first backup always runs, as the others need it. */
let STEPS = ALL_STEPS;
const STEP_NAMES = { first: "first backup", noChange: "no-change backup", changed: "1% changed backup", restore: "restore", copy: "`cp -a` of the tree, after the restore" };
/** The rows measured: the steps, and with a restore the copy that measures the file system's own cost of making the tree. */
const measuredSteps = () => (STEPS.includes("restore") ? [...STEPS, "copy"] : STEPS);

// ---- arguments ----

function parseArgs(argv) {
  const o = { sizes: [50_000, 200_000], runs: undefined, tools: ["ibt", "restic", "borg"], clean: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i] ?? fail(`${a} needs a value`);
    if (a === "--sizes") o.sizes = next().split(",").map(parseCount);
    else if (a === "--runs") o.runs = Number.parseInt(next(), 10);
    else if (a === "--tools") o.tools = next().split(",");
    else if (a === "--steps") {
      const want = new Set(next().split(","));
      for (const w of want) if (!ALL_STEPS.includes(w)) fail(`unknown step ${w} (${ALL_STEPS.join(", ")})`);
      STEPS = ALL_STEPS.filter((x) => x === "first" || want.has(x));
    }
    else if (a === "--clean") o.clean = true;
    else if (a === "--ibt") IBT = path.resolve(next());
    else if (a === "--help") fail("usage: node bench/scale.mjs [--sizes 50k,200k,1m] [--runs N] [--tools ibt,restic,borg] [--steps first,noChange,changed,restore] [--ibt CLI] [--clean]", 0);
    else fail(`unknown argument ${a}`);
  }
  return o;
}

function parseCount(s) {
  const m = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(s.trim());
  if (!m) fail(`not a size: ${s}`);
  return Math.round(Number(m[1]) * { "": 1, k: 1e3, m: 1e6 }[m[2].toLowerCase()]);
}

function fail(message, code = 2) {
  process.stderr.write(message + "\n");
  process.exit(code);
}

// ---- the tree ----

/** mulberry32: a seeded PRNG, so every run builds the same bytes. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Word-like tokens with a skewed frequency, as prose and source code have: compressible, not trivially.
const VOCABULARY = (() => {
  const next = rng(SEED);
  const letters = "etaoinshrdlucmfwypvbgkjqxz";
  return Array.from({ length: 3000 }, () => {
    let w = "";
    const n = 2 + Math.floor(next() * next() * 10);
    for (let k = 0; k < n; k++) w += letters[Math.floor(next() * next() * letters.length)];
    return w;
  });
})();

function text(next, bytes) {
  let s = "";
  let line = 0;
  while (s.length < bytes) {
    const r = next();
    const word = r < 0.03 ? String(Math.floor(next() * 100000)) : VOCABULARY[Math.floor(VOCABULARY.length * r * r * r)];
    s += word;
    line += word.length + 1;
    if (line > 60 + next() * 40) {
      s += next() < 0.3 ? ".\n" : "\n";
      line = 0;
    } else s += " ";
  }
  return s.slice(0, bytes);
}

const fileSeed = (i) => (SEED ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0;
const pristine = (i) => {
  const next = rng(fileSeed(i));
  return text(next, 200 + Math.floor(next() * 2800));
};
/** File i after the 1% edit: a line rewritten in the middle and one appended. */
const edited = (i) => {
  const s = pristine(i);
  const next = rng(fileSeed(i) ^ 0x5bd1e995);
  const at = Math.floor(s.length / 2);
  return s.slice(0, at) + text(next, 60) + s.slice(at + 60) + "\n" + text(next, 80) + "\n";
};

function relPath(i) {
  const leaf = Math.floor(i / FILES_PER_DIR);
  const top = Math.floor(leaf / DIRS_PER_TOP);
  return path.join(`t${String(top).padStart(3, "0")}`, `d${String(leaf).padStart(5, "0")}`, `f${String(i).padStart(7, "0")}.txt`);
}

function changedIndices(files) {
  const next = rng(SEED + files);
  const picked = new Set();
  const want = Math.max(1, Math.round(files / 100));
  while (picked.size < want) picked.add(Math.floor(next() * files));
  return [...picked].sort((a, b) => a - b);
}

/** The tree for `files` files under bench/data, generated unless a kept one matches; returns its folder and bytes. */
function ensureTree(files) {
  const home = path.join(DATA, `scale-${files}`);
  const tree = path.join(home, "tree");
  const markerPath = path.join(home, "tree.json");
  const marker = fs.existsSync(markerPath) ? JSON.parse(fs.readFileSync(markerPath, "utf8")) : undefined;
  if (marker?.format === TREE_FORMAT && marker.seed === SEED && marker.files === files) {
    if (marker.edited) setEdited(home, files, false);
    return { home, tree, bytes: marker.bytes, dirs: marker.dirs };
  }
  fs.rmSync(home, { recursive: true, force: true });
  const started = Date.now();
  let bytes = 0;
  const dirs = new Set();
  for (let i = 0; i < files; i++) {
    const file = path.join(tree, relPath(i));
    const dir = path.dirname(file);
    if (!dirs.has(dir)) {
      fs.mkdirSync(dir, { recursive: true });
      dirs.add(dir);
      dirs.add(path.dirname(dir));
    }
    const data = pristine(i);
    fs.writeFileSync(file, data);
    bytes += data.length;
    if (i % 50_000 === 49_999) log(`  generated ${i + 1} files`);
  }
  const info = { format: TREE_FORMAT, seed: SEED, files, bytes, dirs: dirs.size, edited: false };
  fs.writeFileSync(markerPath, JSON.stringify(info));
  log(`  generated ${files} files in ${dirs.size} dirs, ${mb(bytes)} MB, in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return { home, tree, bytes, dirs: dirs.size };
}

/** Applies or reverts the 1% edit, recording which in the marker so an interrupted run is undone next time. */
function setEdited(home, files, on) {
  const tree = path.join(home, "tree");
  for (const i of changedIndices(files)) fs.writeFileSync(path.join(tree, relPath(i)), on ? edited(i) : pristine(i));
  const markerPath = path.join(home, "tree.json");
  fs.writeFileSync(markerPath, JSON.stringify({ ...JSON.parse(fs.readFileSync(markerPath, "utf8")), edited: on }));
}

// ---- measuring a process ----

const HAS_GNU_TIME = spawnSync("/usr/bin/time", ["-f", "%M", "true"], { encoding: "utf8" }).status === 0;

/** Runs a command to completion; returns wall seconds and peak RSS in MB. Throws if it fails. */
async function measure(cmd, args, opts = {}) {
  const rssFile = path.join(DATA, `rss-${process.pid}`);
  const [file, argv] = HAS_GNU_TIME ? ["/usr/bin/time", ["-f", "%M", "-o", rssFile, cmd, ...args]] : [cmd, args];
  const started = process.hrtime.bigint();
  const child = spawn(file, argv, { stdio: ["ignore", "ignore", "pipe"], ...opts });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr = (stderr + d).slice(-4000)));
  let hwm = 0;
  // Without GNU time, poll the child's high-water mark; it is kept by the kernel, so a late poll still sees the peak.
  const poll = HAS_GNU_TIME ? undefined : setInterval(() => (hwm = Math.max(hwm, vmHwmKiB(child.pid))), 50);
  const code = await new Promise((resolve) => child.on("close", resolve));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (poll) clearInterval(poll);
  if (code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${code}): ${stderr}`);
  const kib = HAS_GNU_TIME ? Number(fs.readFileSync(rssFile, "utf8").trim().split("\n").pop()) : hwm;
  return { seconds, rss: kib / 1024 };
}

function vmHwmKiB(pid) {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 28, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

const installed = (cmd) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;
const du = (dir) => Number(sh("du", ["-sb", dir]).split("\t")[0]);

// ---- the tools ----

/** Each tool: how to make a repository, back up a tree (run from inside it) and restore the latest snapshot. */
function toolsFor(work) {
  const resticEnv = { ...process.env, RESTIC_PASSWORD: "bench", RESTIC_CACHE_DIR: path.join(work, "restic-cache") };
  const borgHome = path.join(work, "borg-home");
  const borgEnv = {
    ...process.env,
    BORG_BASE_DIR: borgHome,
    BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: "yes",
    BORG_RELOCATED_REPO_ACCESS_IS_OK: "yes",
  };
  let borgArchive = 0;
  return {
    ibt: {
      version: () => `ibt ${JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).version} (${IBT === path.join(ROOT, "dist/cli/ibt.cjs") ? `built from ${gitCommit()}` : IBT})`,
      init: (repo) => sh(process.execPath, [IBT, "init", repo, "--insecure-no-password"]),
      backup: (repo, tree) => measure(process.execPath, [IBT, "backup", tree, repo]),
      restore: (repo, target) => measure(process.execPath, [IBT, "restore", repo, target]),
    },
    restic: {
      version: () => sh("restic", ["version"]).trim().split(" compiled")[0],
      init: (repo) => sh("restic", ["init", "--repo", repo], { env: resticEnv }),
      backup: (repo, tree) => measure("restic", ["backup", "--repo", repo, "--quiet", "."], { cwd: tree, env: resticEnv }),
      restore: (repo, target) => measure("restic", ["restore", "latest", "--repo", repo, "--target", target], { env: resticEnv }),
    },
    borg: {
      version: () => sh("borg", ["--version"]).trim(),
      init: (repo) => sh("borg", ["init", "-e", "none", repo], { env: borgEnv }),
      backup: (repo, tree) => measure("borg", ["create", "-C", "zstd,3", `${repo}::a${borgArchive++}`, "."], { cwd: tree, env: borgEnv }),
      restore: (repo, target) => {
        fs.mkdirSync(target, { recursive: true });
        return measure("borg", ["extract", `${repo}::a${borgArchive - 1}`], { cwd: target, env: borgEnv });
      },
    },
  };
}

let commit;
function gitCommit() {
  commit ??= spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).stdout.trim() || "?";
  return commit;
}

/** One tool on one tree: the four steps from an empty repository; returns times, RSS, repository bytes and whether the restore matched. */
async function runTool(name, tool, t, files, work) {
  const repo = path.join(work, `${name}-repo`);
  const target = path.join(work, `${name}-restore`);
  fs.rmSync(repo, { recursive: true, force: true });
  fs.rmSync(target, { recursive: true, force: true });
  for (const d of ["restic-cache", "borg-home"]) fs.rmSync(path.join(work, d), { recursive: true, force: true });
  tool.init(repo);
  const out = { same: true };
  out.first = await tool.backup(repo, t.tree);
  out.repoFirst = du(repo);
  if (STEPS.includes("noChange")) out.noChange = await tool.backup(repo, t.tree);
  const edit = STEPS.includes("changed");
  if (edit) setEdited(t.home, files, true);
  try {
    if (edit) {
      out.changed = await tool.backup(repo, t.tree);
      out.repoChanged = du(repo);
    }
    if (STEPS.includes("restore")) {
      out.restore = await tool.restore(repo, target);
      out.same = sameTree(t.tree, target);
      // The same tree made by cp on the same file system at the same moment: what no restore can go under.
      const copy = path.join(work, `${name}-copy`);
      out.copy = await measure("cp", ["-a", t.tree, copy]);
      fs.rmSync(copy, { recursive: true, force: true });
    }
  } finally {
    if (edit) setEdited(t.home, files, false);
    fs.rmSync(repo, { recursive: true, force: true });
    fs.rmSync(target, { recursive: true, force: true });
  }
  log(`  ${name}: ${measuredSteps().map((s) => `${s} ${out[s].seconds.toFixed(1)} s ${out[s].rss.toFixed(0)} MB`).join(", ")}, ${STEPS.includes("restore") ? `restore ${out.same ? "exact" : "DIFFERS"}` : "not restored"}`);
  return out;
}

/** Contents by `diff -r`, then each entry's type, mode and size, and each file's mtime to the second. */
function sameTree(a, b) {
  if (spawnSync("diff", ["-r", "-q", "--no-dereference", a, b], { stdio: "ignore" }).status !== 0) return false;
  const listing = (dir) => sh("find", [".", "-mindepth", "1", "-printf", "%P %y %m %s %Ts\\n"], { cwd: dir }).split("\n").sort().map((l) => (l.includes(" d ") ? l.replace(/ \d+ \d+$/, "") : l)).join("\n");
  return listing(a) === listing(b);
}

// ---- reporting ----

const log = (s) => process.stderr.write(s + "\n");
const mb = (bytes) => (bytes / 1e6).toFixed(1);
const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const cell = (v, digits) => {
  const m = median(v).toFixed(digits);
  return v.length > 1 ? `${m} (${Math.min(...v).toFixed(digits)}–${Math.max(...v).toFixed(digits)})` : m;
};
const ratio = (a, b) => (a !== undefined && b !== undefined && b > 0 ? `${(a / b).toFixed(2)}×` : "–");

function sizeTable(result, names) {
  const { files, t, runs } = result;
  const per = (name, step, key) => runs[name].map((r) => r[step][key]);
  const med = (name, step, key) => (runs[name] ? median(per(name, step, key)) : undefined);
  const head = ["step", ...names.flatMap((n) => [`${n} s`, `${n} MB RSS`]), ...(names.includes("restic") && names.includes("ibt") ? ["ibt/restic time", "ibt/restic RSS"] : [])];
  const table = measuredSteps().map((step) => [
    STEP_NAMES[step],
    ...names.flatMap((n) => [cell(per(n, step, "seconds"), 1), cell(per(n, step, "rss"), 0)]),
    ...(head.length > 1 + 2 * names.length ? [ratio(med("ibt", step, "seconds"), med("restic", step, "seconds")), ratio(med("ibt", step, "rss"), med("restic", step, "rss"))] : []),
  ]);
  for (const [key, label] of [["repoFirst", "repository MB after the first backup"], ["repoChanged", "repository MB after all three"]].filter(([key]) => key === "repoFirst" || STEPS.includes("changed"))) {
    const vals = names.map((n) => mb(median(runs[n].map((r) => r[key]))));
    const extra = head.length > 1 + 2 * names.length ? [ratio(median(runs.ibt.map((r) => r[key])), median(runs.restic.map((r) => r[key]))), ""] : [];
    table.push([label, ...vals.flatMap((v) => [v, ""]), ...extra]);
  }
  const n = runs[names[0]].length;
  return [
    `### ${files.toLocaleString("en-US")} files in ${t.dirs.toLocaleString("en-US")} dirs, ${mb(t.bytes)} MB (${n === 1 ? "one run" : `median of ${n} runs, (min–max)`})`,
    "",
    `| ${head.join(" | ")} |`,
    `|${head.map(() => "---").join("|")}|`,
    ...table.map((r) => `| ${r.join(" | ")} |`),
    ...(STEPS.includes("restore") ? ["", `Restore / \`cp -a\` of the tree: ${names.map((n) => `${n} ${ratio(med(n, "restore", "seconds"), med(n, "copy", "seconds"))}`).join(", ")}.`] : []),
  ].join("\n");
}

function growthTable(results, names) {
  if (results.length < 2) return "";
  const head = ["tool", "step", ...results.slice(1).map((r, i) => `${short(results[i].files)} → ${short(r.files)} time, RSS`)];
  const rows = names.flatMap((n) =>
    measuredSteps().map((step) => [n, STEP_NAMES[step], ...results.slice(1).map((r, i) => {
      const a = results[i].runs[n].map((x) => x[step]);
      const b = r.runs[n].map((x) => x[step]);
      return `${ratio(median(b.map((x) => x.seconds)), median(a.map((x) => x.seconds)))}, ${ratio(median(b.map((x) => x.rss)), median(a.map((x) => x.rss)))}`;
    })]),
  );
  return ["Growth from one size to the next (median time and peak RSS, larger size / smaller):", "", `| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}

const short = (n) => (n >= 1e6 ? `${n / 1e6}m` : n >= 1e3 ? `${n / 1e3}k` : String(n));

// ---- main ----

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(IBT)) fail("dist/cli/ibt.cjs is missing: run `node build/build.mjs` first");
  fs.mkdirSync(DATA, { recursive: true });
  const work = path.join(DATA, `scale-work-${process.pid}`);
  const all = toolsFor(work);
  const names = o.tools.filter((n) => {
    if (!all[n]) fail(`unknown tool ${n}`);
    const ok = n === "ibt" || installed(n);
    if (!ok) log(`${n} is not installed: left out`);
    return ok;
  });
  const cpu = (fs.readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/) ?? [])[1] ?? os.arch();
  const header = [
    `Measured ${new Date().toISOString()} with the worktree at commit ${gitCommit()}, on ${cpu}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}; load average ${os.loadavg().map((x) => x.toFixed(1)).join(" ")} at the start.`,
    `Tools: ${names.map((n) => all[n].version()).join("; ")}. Peak RSS by ${HAS_GNU_TIME ? "`/usr/bin/time -f %M`" : "VmHWM polled from /proc"}.`,
  ];
  const results = [];
  let allSame = true;
  const started = Date.now();
  try {
    for (const files of o.sizes) {
      log(`${files} files:`);
      const t = ensureTree(files);
      const runs = Object.fromEntries(names.map((n) => [n, []]));
      const count = o.runs ?? (files > 50_000 ? 1 : 3);
      for (let r = 0; r < count; r++) {
        fs.mkdirSync(work, { recursive: true });
        // Alternate the order, so no tool always runs with a cache warmed by another.
        for (const n of r % 2 ? [...names].reverse() : names) {
          const out = await runTool(n, all[n], t, files, work);
          allSame &&= out.same;
          runs[n].push(out);
        }
      }
      results.push({ files, t, runs });
      log(sizeTable(results.at(-1), names));
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
    fs.rmSync(path.join(DATA, `rss-${process.pid}`), { force: true });
    if (o.clean) for (const files of o.sizes) fs.rmSync(path.join(DATA, `scale-${files}`), { recursive: true, force: true });
  }
  const restores = results.flatMap((r) => names.map((n) => `${n} ${short(r.files)}: ${r.runs[n].every((x) => x.same) ? "exact" : "DIFFERS"}`));
  process.stdout.write(
    [...header, "", ...results.map((r) => sizeTable(r, names) + "\n"), growthTable(results, names), "", `Restores compared with the source tree: ${restores.join(", ")}.`, `Whole benchmark: ${((Date.now() - started) / 60000).toFixed(1)} min.`].join("\n") + "\n",
  );
  if (!allSame) process.exitCode = 1;
}

await main();
