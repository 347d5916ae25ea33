#!/usr/bin/env node
/**
 * bench/peers.mjs (`npm run bench:peers`): ibt beside the backup tools people use instead, on
 * real release histories. Not a test: it prints tables, and exits non-zero when any tool's
 * restore is not exact.
 *
 * A series is consecutive published versions of one npm package, fetched once with `npm pack`
 * and cached under bench/data/peers/ (gitignored). Each version's package/ folder is synced in
 * turn into one working folder and every tool backs that folder up before the next version
 * arrives, so all tools see the same bytes, modes and times. The sync is
 * `rsync -a --delete --checksum --no-times`: npm tarballs give every file the same 1985 mtime,
 * so with times kept a changed file of unchanged size would look untouched to rsync and to every
 * tool's size-and-mtime check; instead a file is rewritten exactly when its content changed and
 * then carries the time of that sync, as in a folder someone edits.
 *
 * Per tool and series: the first backup's time, the mean of the later backups' times, the
 * repository's bytes after all versions (apparent sizes of every file in it; caches the tool can
 * rebuild are not counted), the times to restore the oldest and the newest snapshot into an empty
 * folder, and whether both restores equal the version backed up (every path, type, content, and
 * mode where the tool keeps modes). With `--runs N` each number is the median of N runs, shown
 * with its range; the tool order rotates between steps so no tool always runs on a cold or warm
 * cache. The goals of issue 18 are checked on the medians.
 *
 *   node bench/peers.mjs [--runs N] [--series small,large] [--tools ibt,restic,...]
 *                        [--profile] [--json FILE] [--keep]
 *
 * `--profile` then restores the newest snapshot of each series once more with
 * `node --cpu-prof` and prints ibt's top self-time functions and what its repository holds by
 * top-level folder. `--json FILE` writes every run's raw numbers. Tools not on PATH are left out
 * (ibt needs `node build/build.mjs` first); nothing is installed.
 */
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { TOOLS, run } from "./peers-tools.mjs";
import { profileRestore } from "./peers-profile.mjs";

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH);
const DATA = path.join(BENCH, "data", "peers");

/**
 * The series. Neither is one of issue 18's (kept aside to check the result). ramda ships its
 * functions one per file three times over (src/, es/, dist/), so a release touches from a handful
 * to nearly all of ~700 small files; prettier ships ~50 bundles of 50 KB to 1.5 MB, most rebuilt
 * with small changes in every release.
 */
export const SERIES = [
  { key: "small", title: "many small files", pkg: "ramda", versions: ["0.27.0", "0.27.1", "0.27.2", "0.28.0", "0.29.0", "0.29.1", "0.30.0", "0.30.1"] },
  { key: "large", title: "few large files", pkg: "prettier", versions: ["3.3.0", "3.3.1", "3.3.2", "3.3.3", "3.4.0", "3.4.1", "3.4.2"] },
];

function parseArgs(argv) {
  const opts = { runs: 1, series: SERIES.map((s) => s.key), tools: null, profile: false, json: null, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--runs") opts.runs = Math.max(1, Number.parseInt(value(), 10) || 1);
    else if (a === "--series") opts.series = value().split(",");
    else if (a === "--tools") opts.tools = value().split(",");
    else if (a === "--profile") opts.profile = true;
    else if (a === "--json") opts.json = path.resolve(value());
    else if (a === "--keep") opts.keep = true;
    else if (a === "--help" || a === "-h") {
      console.log(fs.readFileSync(fileURLToPath(import.meta.url), "utf8").match(/\/\*\*([\s\S]*?)\*\//)[1].replace(/^ \* ?/gm, ""));
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  for (const k of opts.series) if (!SERIES.some((s) => s.key === k)) throw new Error(`unknown series ${k}`);
  return opts;
}

/** The version's package folder, fetched with `npm pack` and unpacked once. */
function versionTree(pkg, version) {
  const dir = path.join(DATA, `${pkg.replace("/", "+")}-${version}`);
  const tree = path.join(dir, "package");
  if (fs.existsSync(path.join(dir, ".complete"))) return tree;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const packed = JSON.parse(run("npm", ["pack", `${pkg}@${version}`, "--json", "--pack-destination", dir], { cwd: dir }));
  const tgz = path.join(dir, packed[0].filename);
  const unpacked = path.join(dir, "unpacked");
  fs.mkdirSync(unpacked);
  run("tar", ["xzf", tgz, "-C", unpacked, "--no-same-owner"]);
  const [top] = fs.readdirSync(unpacked);
  fs.renameSync(path.join(unpacked, top), tree);
  fs.rmSync(unpacked, { recursive: true });
  fs.writeFileSync(path.join(dir, ".complete"), `${pkg}@${version}\n`);
  return tree;
}

/** Every entry under `dir` by relative path: type, mode bits, and content digest or link target. */
function snapshotOf(dir) {
  const out = new Map();
  const walk = (rel) => {
    for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const full = path.join(dir, r);
      const st = fs.lstatSync(full);
      const mode = st.mode & 0o7777;
      if (st.isDirectory()) {
        out.set(r, { type: "dir", mode });
        walk(r);
      } else if (st.isSymbolicLink()) out.set(r, { type: "symlink", target: fs.readlinkSync(full) });
      else if (st.isFile()) out.set(r, { type: "file", mode, size: st.size, sha: crypto.createHash("sha256").update(fs.readFileSync(full)).digest("hex") });
      else out.set(r, { type: "other" });
    }
  };
  walk("");
  return out;
}

/** Differences between the expected and the restored tree, at most `limit` of them. */
function treeDifferences(expected, restoredDir, keepsModes, limit = 5) {
  const got = snapshotOf(restoredDir);
  const problems = [];
  for (const [p, e] of expected) {
    const g = got.get(p);
    if (!g) problems.push(`missing ${p}`);
    else if (g.type !== e.type) problems.push(`${p}: ${g.type}, expected ${e.type}`);
    else if (e.type === "file" && g.sha !== e.sha) problems.push(`${p}: content differs`);
    else if (e.type === "symlink" && g.target !== e.target) problems.push(`${p}: link target differs`);
    else if (keepsModes && e.mode !== undefined && g.mode !== e.mode) problems.push(`${p}: mode ${g.mode.toString(8)}, expected ${e.mode.toString(8)}`);
  }
  for (const p of got.keys()) if (!expected.has(p)) problems.push(`extra ${p}`);
  return problems.length > limit ? [...problems.slice(0, limit), `… ${problems.length - limit} more`] : problems;
}

function bytesUnder(dir) {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += bytesUnder(p);
    else total += fs.lstatSync(p).size;
  }
  return total;
}

function timed(fn) {
  const started = process.hrtime.bigint();
  const value = fn();
  return { value, s: Number(process.hrtime.bigint() - started) / 1e9 };
}

/** One run of one series: every tool backs up every version, then restores oldest and newest. */
function runSeries(series, trees, tools, work, runIndex) {
  fs.rmSync(work, { recursive: true, force: true });
  const src = path.join(work, "src");
  fs.mkdirSync(src, { recursive: true });
  const t0 = Math.floor(Date.now() / 1000) - 86400;
  const ctxs = new Map();
  const results = new Map();
  for (const tool of tools) {
    const base = path.join(work, tool.name);
    const ctx = { repo: path.join(base, "repo"), cache: path.join(base, "cache"), src, t0, env: { HOME: path.join(base, "home") } };
    fs.mkdirSync(ctx.cache, { recursive: true });
    fs.mkdirSync(ctx.env.HOME, { recursive: true });
    ctxs.set(tool, ctx);
    results.set(tool.name, { backups: [], snapshots: [], kinds: [], restoreOldest: NaN, restoreNewest: NaN, bytes: NaN, problems: [] });
  }
  const failed = (tool, err) => results.get(tool.name).problems.push(`failed: ${String(err.message ?? err).split("\n").join(" | ")}`);
  for (const tool of tools) {
    try {
      tool.init(ctxs.get(tool));
    } catch (err) {
      failed(tool, err);
    }
  }
  const rotate = (k) => tools.map((_, j) => tools[(j + k) % tools.length]);
  series.versions.forEach((version, i) => {
    run("rsync", ["-a", "--delete", "--checksum", "--no-times", `${trees[i]}/`, `${src}/`]);
    for (const tool of rotate(i + runIndex)) {
      const r = results.get(tool.name);
      if (r.problems.length) continue;
      try {
        const { value, s } = timed(() => tool.backup(ctxs.get(tool), i));
        r.backups.push(s);
        r.snapshots.push(value.id);
        if (value.kind) r.kinds.push(value.kind);
      } catch (err) {
        failed(tool, err);
      }
    }
  });
  const last = series.versions.length - 1;
  const expected = { oldest: snapshotOf(trees[0]), newest: snapshotOf(trees[last]) };
  for (const tool of rotate(runIndex)) {
    const r = results.get(tool.name);
    if (r.problems.length) continue;
    const ctx = ctxs.get(tool);
    try {
      r.bytes = bytesUnder(ctx.repo);
      for (const [which, index] of [["oldest", 0], ["newest", last]]) {
        const target = path.join(work, tool.name, `restore-${which}`);
        const { s } = timed(() => tool.restore(ctx, r.snapshots[index], target));
        r[which === "oldest" ? "restoreOldest" : "restoreNewest"] = s;
        for (const p of treeDifferences(expected[which], target, tool.keepsModes)) r.problems.push(`${which}: ${p}`);
        fs.rmSync(target, { recursive: true, force: true });
      }
    } catch (err) {
      failed(tool, err);
    }
  }
  return { results, ctxs };
}

const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Per tool: the median, minimum and maximum over runs of each measured quantity. */
function summarize(runs, toolNames) {
  const rows = new Map();
  for (const name of toolNames) {
    const per = runs.map((r) => r.get(name));
    const stat = (f) => {
      const xs = per.map(f).filter(Number.isFinite);
      return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
    };
    rows.set(name, {
      first: stat((r) => r.backups[0]),
      later: stat((r) => (r.backups.length > 1 ? mean(r.backups.slice(1)) : NaN)),
      bytes: stat((r) => r.bytes),
      restoreOldest: stat((r) => r.restoreOldest),
      restoreNewest: stat((r) => r.restoreNewest),
      fulls: per[0].kinds.length ? per[0].kinds.filter((k) => k === "full").length : null,
      problems: per.flatMap((r, i) => r.problems.map((p) => (runs.length > 1 ? `run ${i + 1}: ${p}` : p))),
    });
  }
  return rows;
}

function cell(stat, format, runs) {
  if (!Number.isFinite(stat.median)) return "–";
  const [mid, low, high] = [stat.median, stat.min, stat.max].map(format);
  return runs < 2 || low === high ? mid : `${mid} (${low}–${high})`;
}
const seconds = (s) => s.toFixed(2);
const megabytes = (b) => (b / 1e6).toFixed(2);

/** The markdown table for one series, the ratio row, and the goals with their margins. */
function report(series, rows, runs) {
  const lines = [];
  const n = series.versions.length;
  lines.push(`| ${series.title}: ${series.pkg} ${series.versions[0]}…${series.versions.at(-1)} | first backup s | later backups (mean) s | repository after ${n}, MB | restore oldest s | restore newest s | exact |`);
  lines.push("|---|---|---|---|---|---|---|");
  for (const [name, r] of rows) {
    const label = r.fulls !== null ? `${name} (${r.fulls} full${r.fulls === 1 ? "" : "s"})` : name;
    lines.push(`| ${label} | ${cell(r.first, seconds, runs)} | ${cell(r.later, seconds, runs)} | ${cell(r.bytes, megabytes, runs)} | ${cell(r.restoreOldest, seconds, runs)} | ${cell(r.restoreNewest, seconds, runs)} | ${r.problems.length ? "**no**" : "yes"} |`);
  }
  const ibt = rows.get("ibt");
  const peers = [...rows].filter(([name, r]) => name !== "ibt" && !r.problems.length);
  const goals = [];
  if (ibt && peers.length) {
    const best = (key) => peers.reduce((b, [name, r]) => (r[key].median < b.value ? { name, value: r[key].median } : b), { name: "", value: Infinity });
    const ratio = (key) => ibt[key].median / best(key).value;
    const fmt = (key) => `${ratio(key).toFixed(2)}× ${best(key).name}`;
    lines.push(`| ibt / best peer | ${fmt("first")} | ${fmt("later")} | ${fmt("bytes")} | ${fmt("restoreOldest")} | ${fmt("restoreNewest")} | |`);
    const goal = (text, key, limit) => {
      const r = ratio(key);
      const met = r <= limit;
      goals.push(`${met ? "met" : "MISSED"}: ${text}: ibt ${r.toFixed(2)}× ${best(key).name}${met ? "" : ` (goal ≤ ${limit}×, ${((r / limit - 1) * 100).toFixed(0)}% over)`}`);
    };
    const absent = TOOLS.filter((t) => t.name !== "ibt" && !rows.has(t.name)).map((t) => t.name);
    if (absent.length) goals.push(`note: judged against the peers that ran; ${absent.join(", ")} did not`);
    goal("repository bytes ≤ 0.8× the smallest peer's", "bytes", 0.8);
    goal("mean later-backup time ≤ the fastest peer's", "later", 1);
    goal("restore oldest ≤ the fastest peer's", "restoreOldest", 1);
    goal("restore newest ≤ the fastest peer's", "restoreNewest", 1);
  }
  return { table: lines.join("\n"), goals };
}

function describeMachine() {
  const cpus = os.cpus();
  const tool = (cmd, args) => {
    const r = spawnSync(cmd, args, { encoding: "utf8" });
    return r.status === 0 ? `${r.stdout}${r.stderr}`.trim().split("\n")[0] : null;
  };
  const commit = tool("git", ["-C", ROOT, "rev-parse", "--short", "HEAD"]);
  const dirty = tool("git", ["-C", ROOT, "status", "--porcelain", "--untracked-files=no"]);
  const versions = [tool("duplicity", ["--version"]), tool("restic", ["version"]), tool("borg", ["--version"]), tool("rdiff-backup", ["--version"])].filter(Boolean);
  return `commit ${commit}${dirty ? " (with uncommitted changes)" : ""}, ${cpus[0]?.model.trim()} × ${cpus.length}, Node ${process.version}, load ${os.loadavg()[0].toFixed(1)}; ${versions.join(", ")}`;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const tools = TOOLS.filter((t) => (opts.tools ? opts.tools.includes(t.name) : true)).filter((t) => {
    if (t.available()) return true;
    console.error(`${t.name}: not found, left out${t.name === "ibt" ? " (run node build/build.mjs)" : ""}`);
    return false;
  });
  if (!spawnSync("rsync", ["--version"]).stdout) throw new Error("rsync is needed to sync each version into the working folder");
  console.log(`# Peer benchmark, ${new Date().toISOString()}\n${describeMachine()}; ${opts.runs} run${opts.runs > 1 ? "s" : ""}, cells are medians (range)\n`);
  const raw = [];
  let exact = true;
  for (const series of SERIES.filter((s) => opts.series.includes(s.key))) {
    const trees = series.versions.map((v) => versionTree(series.pkg, v));
    const counts = trees.map((t) => [...snapshotOf(t).values()].filter((e) => e.type === "file").length);
    const sizes = trees.map((t) => bytesUnder(t));
    console.log(`${series.title}: ${series.pkg} ${series.versions.join(", ")}; ${Math.min(...counts)}–${Math.max(...counts)} files, ${megabytes(Math.min(...sizes))}–${megabytes(Math.max(...sizes))} MB per version`);
    const work = path.join(BENCH, "data", "peers-work", series.key);
    const runs = [];
    let lastCtxs;
    for (let k = 0; k < opts.runs; k++) {
      const { results, ctxs } = runSeries(series, trees, tools, work, k);
      runs.push(results);
      lastCtxs = ctxs;
      process.stderr.write(`  ${series.key} run ${k + 1}/${opts.runs} done\n`);
    }
    const rows = summarize(runs, tools.map((t) => t.name));
    const { table, goals } = report(series, rows, opts.runs);
    console.log(`\n${table}\n`);
    for (const g of goals) console.log(`- ${g}`);
    for (const [name, r] of rows) {
      if (!r.problems.length) continue;
      exact = false;
      console.log(`- NOT EXACT or failed, ${name}:\n    ${r.problems.slice(0, 12).join("\n    ")}`);
    }
    const ibtTool = tools.find((t) => t.name === "ibt");
    if (opts.profile && ibtTool && !rows.get("ibt").problems.length) {
      const ctx = lastCtxs.get(ibtTool);
      const newest = runs.at(-1).get("ibt").snapshots.at(-1);
      console.log(`\n${profileRestore(ctx.repo, newest, path.join(work, "profile"))}`);
    }
    console.log("");
    raw.push({ series: series.key, pkg: series.pkg, versions: series.versions, runs: runs.map((m) => Object.fromEntries(m)) });
    if (!opts.keep) fs.rmSync(work, { recursive: true, force: true });
  }
  if (opts.json) fs.writeFileSync(opts.json, JSON.stringify({ when: new Date().toISOString(), machine: describeMachine(), series: raw }, null, 2));
  if (!exact) {
    console.error("some restores were not exact (listed above)");
    process.exitCode = 1;
  }
}

main().catch((err) => {
  console.error(err.stack ?? String(err));
  process.exitCode = 2;
});
