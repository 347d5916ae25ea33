#!/usr/bin/env node
/**
 * bench/cores.mjs: a first backup, where it spends its CPU and how much of it runs beside the
 * main thread, for two builds of ibt and for restic on the same trees. Not a test: it prints numbers.
 *
 * Trees (seeded, kept under bench/data/cores-*): "mixed", bench/s3.mjs's tree (BENCH_CORES_MIB,
 * default 80 MiB: text files of 10-310 KB, a random binary of 2-4 MiB every 40th file), and
 * "small", bench/small-tree.mjs's (BENCH_CORES_FILES, default 50,000 files of 0.2-3 KB).
 *
 * Whole backups: each tool backs each tree up into an empty folder repository (`init` not
 * timed), BENCH_RUNS times (default 3), the tools' order rotated from run to run; printed are
 * the medians of wall time, CPU time (user + sys, all threads) and peak RSS, by GNU time.
 * Tools: `--ibt NAME=CLI` (repeatable; default `this=dist/cli/ibt.cjs`) and restic when on PATH.
 *
 * The archive phase alone (`--phase`): the tree indexed once in this process, then its full
 * archive written by DiffData with nodeDeflate's synchronous forms only and with its
 * asynchronous ones, alternated. Printed: wall, CPU of the main thread (from /proc), CPU of
 * every thread, and their bound on an idle two-core machine, max(main, all / 2). On a shared
 * machine the wall time follows the load; the CPU columns do not. The archives must be
 * byte for byte the same (the manifest's time is fixed), else the script fails.
 *
 *   node bench/cores.mjs [--ibt NAME=CLI]... [--trees mixed,small] [--phase] [--no-backups]
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH_DIR);
const DATA = path.join(BENCH_DIR, "data");
const MiB = 1024 * 1024;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const MIXED_MIB = Number(process.env.BENCH_CORES_MIB ?? 80);
const SMALL_FILES = Number(process.env.BENCH_CORES_FILES ?? 50_000);

function parseArgs(argv) {
  const o = { ibt: [], trees: ["mixed", "small"], phase: false, backups: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--ibt") {
      const [name, cli] = argv[++i].split("=");
      o.ibt.push({ name, cli: path.resolve(cli) });
    } else if (a === "--trees") o.trees = argv[++i].split(",");
    else if (a === "--phase") o.phase = true;
    else if (a === "--no-backups") o.backups = false;
    else throw new Error(`unknown argument ${a}`);
  }
  if (o.ibt.length === 0) o.ibt.push({ name: "this", cli: path.join(ROOT, "dist/cli/ibt.cjs") });
  return o;
}

// ---- trees ----

/** bench/s3.mjs's generator: text of 10-310 KB, every 40th file 2-4 MiB of xorshift noise. */
function generateMixed(dir, mib) {
  let x = 42;
  const step = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  const next = () => step() / 2 ** 32;
  const words = ["backup", "delta", "tree", "file", "index", "change", "the", "of", "and", "data", "\n"];
  let total = 0;
  for (let i = 0; total < mib * MiB; i++) {
    const sub = path.join(dir, `d${i % 20}`, `e${i % 7}`);
    fs.mkdirSync(sub, { recursive: true });
    let body;
    if (i % 40 === 39) {
      body = Buffer.alloc(2 * MiB + Math.floor(next() * 2 * MiB));
      for (let k = 0; k + 4 <= body.length; k += 4) body.writeUInt32LE(step(), k);
    } else {
      const n = 10_000 + Math.floor(next() * 300_000);
      const parts = [];
      let len = 0;
      while (len < n) {
        const w = words[Math.floor(next() * words.length)] + " ";
        parts.push(w);
        len += w.length;
      }
      body = Buffer.from(parts.join(""));
    }
    fs.writeFileSync(path.join(sub, `f${i}`), body);
    total += body.length;
  }
}

/** The tree `name`, generated unless kept from an earlier run with the same size. */
function ensureTree(name) {
  const size = name === "mixed" ? MIXED_MIB : SMALL_FILES;
  const home = path.join(DATA, `cores-${name}-${size}`);
  const tree = path.join(home, "tree");
  if (fs.existsSync(path.join(home, "done"))) return tree;
  fs.rmSync(home, { recursive: true, force: true });
  fs.mkdirSync(home, { recursive: true });
  process.stderr.write(`generating ${name} (${size})…\n`);
  if (name === "mixed") generateMixed(tree, size);
  else sh(process.execPath, [path.join(BENCH_DIR, "small-tree.mjs"), tree, String(size)]);
  fs.writeFileSync(path.join(home, "done"), "");
  return tree;
}

// ---- whole backups ----

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 26, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** Runs a command under GNU time: wall s, CPU s (user + sys) and peak RSS MiB. */
function timed(cmd, args, opts = {}) {
  const out = path.join(DATA, `cores-time-${process.pid}`);
  return new Promise((resolve, reject) => {
    const child = spawn("/usr/bin/time", ["-f", "%e %U %S %M", "-o", out, cmd, ...args], { stdio: ["ignore", "ignore", "pipe"], ...opts });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr = (stderr + d).slice(-4000)));
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`${cmd} ${args.join(" ")} failed (${code}): ${stderr}`));
      const [wall, user, sys, rss] = fs.readFileSync(out, "utf8").trim().split("\n").at(-1).split(" ").map(Number);
      fs.rmSync(out, { force: true });
      resolve({ wall, cpu: user + sys, rss: rss / 1024 });
    });
  });
}

function toolsFor(o, work) {
  const tools = o.ibt.map(({ name, cli }) => ({
    name: `ibt ${name}`,
    backup: async (tree) => {
      const repo = fs.mkdtempSync(path.join(work, "repo-"));
      sh(process.execPath, [cli, "init", repo, "--insecure-no-password"]);
      return timed(process.execPath, [cli, "backup", tree, repo]);
    },
  }));
  if (spawnSync("sh", ["-c", "command -v restic"]).status === 0) {
    tools.push({
      name: "restic",
      backup: async (tree) => {
        const repo = fs.mkdtempSync(path.join(work, "restic-"));
        const env = { ...process.env, RESTIC_PASSWORD: "bench", RESTIC_CACHE_DIR: path.join(work, "restic-cache") };
        sh("restic", ["init", "--repo", repo], { env });
        return timed("restic", ["backup", "--repo", repo, "--quiet", "."], { cwd: tree, env });
      },
    });
  }
  return tools;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function backups(o, trees) {
  const work = fs.mkdtempSync(path.join(DATA, "cores-work-"));
  try {
    const tools = toolsFor(o, work);
    for (const [treeName, tree] of trees) {
      const runs = Object.fromEntries(tools.map((t) => [t.name, []]));
      for (let r = 0; r < RUNS; r++) {
        const order = tools.map((_, i) => tools[(i + r) % tools.length]);
        for (const t of order) {
          runs[t.name].push(await t.backup(tree));
          for (const f of fs.readdirSync(work)) if (!f.startsWith("restic-cache")) fs.rmSync(path.join(work, f), { recursive: true, force: true });
        }
      }
      const first = tools[0].name;
      const med = (name, key) => median(runs[name].map((x) => x[key]));
      console.log(`\nfirst backup of ${treeName} (${tree}), medians of ${RUNS}; ratios to ${first}`);
      console.log("| tool | wall s | CPU s | peak RSS MiB | wall ratio | CPU ratio | runs (wall/CPU s) |\n|---|---|---|---|---|---|---|");
      for (const t of tools) {
        const w = med(t.name, "wall");
        const c = med(t.name, "cpu");
        const runsText = runs[t.name].map((x) => `${x.wall.toFixed(2)}/${x.cpu.toFixed(2)}`).join(", ");
        console.log(`| ${t.name} | ${w.toFixed(2)} | ${c.toFixed(2)} | ${med(t.name, "rss").toFixed(0)} | ${(w / med(first, "wall")).toFixed(2)} | ${(c / med(first, "cpu")).toFixed(2)} | ${runsText} |`);
      }
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

// ---- the archive phase alone ----

/** CPU ms of this process's main thread (Linux /proc: utime + stime in clock ticks of 10 ms). */
function mainThreadCpuMs() {
  const fields = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function phase(treeName, tree) {
  const { DirIndex, DiffIndex, DiffData } = await import(path.join(ROOT, "dist/src/index.js"));
  const { NodeFs, nodeDeflate } = await import(path.join(ROOT, "dist/src/node/index.js"));
  const { ContentCache } = await import(path.join(ROOT, "dist/src/dirindex/content-cache.js"));
  const source = new NodeFs(tree, { sync: true });
  const cache = new ContentCache();
  const index = await DirIndex.build(source, { cache });
  const diff = new DiffIndex(index, await DirIndex.fromEntries([])).compute();
  const serial = {
    deflate: nodeDeflate.deflate,
    deflateStream: (level) => ({ push: nodeDeflate.deflateStream(level).push }),
  };
  const codecs = [
    ["synchronous", serial],
    ["asynchronous", nodeDeflate],
  ];
  const results = Object.fromEntries(codecs.map(([name]) => [name, []]));
  const digests = new Set();
  for (let r = 0; r < RUNS; r++) {
    for (const [name, deflate] of r % 2 ? [...codecs].reverse() : codecs) {
      const hash = createHash("sha256");
      const main0 = mainThreadCpuMs();
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await new DiffData(diff, { source, cache, deflate, time: new Date(0) }).write(async (chunk) => void hash.update(chunk));
      const wall = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      const all = (cpu.user + cpu.system) / 1000;
      const main = mainThreadCpuMs() - main0;
      results[name].push({ wall, main, all, bound: Math.max(main, all / 2) });
      digests.add(hash.digest("hex"));
    }
  }
  console.log(`\narchive phase of a first backup of ${treeName}, in process, medians of ${RUNS} (ms)`);
  console.log("| nodeDeflate | wall | main thread CPU | all threads CPU | two-core bound |\n|---|---|---|---|---|");
  for (const [name] of codecs) {
    const m = (k) => median(results[name].map((x) => x[k])).toFixed(0);
    console.log(`| ${name} | ${m("wall")} | ${m("main")} | ${m("all")} | ${m("bound")} |`);
  }
  console.log(digests.size === 1 ? "archives: byte for byte the same in every run" : `archives DIFFER: ${[...digests].join(" ")}`);
  if (digests.size !== 1) process.exitCode = 1;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  fs.mkdirSync(DATA, { recursive: true });
  const trees = o.trees.map((name) => [name, ensureTree(name)]);
  const cpuModel = (fs.readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/) ?? [])[1] ?? "?";
  console.log(`${new Date().toISOString()}: ${cpuModel}, ${os.cpus().length} cores, Node ${process.version}, load average ${os.loadavg().map((x) => x.toFixed(1)).join(" ")}`);
  if (o.backups) await backups(o, trees);
  if (o.phase) for (const [name, tree] of trees) await phase(name, tree);
  console.log(`\nload average at the end: ${os.loadavg().map((x) => x.toFixed(1)).join(" ")}`);
}

await main();
