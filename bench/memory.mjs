#!/usr/bin/env node --expose-gc
/**
 * bench/memory.mjs: where the memory of one backup goes, phase by phase.
 *
 *   node --expose-gc bench/memory.mjs TREE REPO [--snapshot PHASE]
 *   node --expose-gc bench/memory.mjs --restore TARGET REPO [--snapshot start]
 *
 * Backs TREE up into the unencrypted repository REPO (made if missing) through the library, as
 * `ibt backup` does, and at each phase boundary the backup reports (index, diff, write, commit)
 * collects garbage and prints the live heap, external and array-buffer bytes and RSS, then the
 * peak RSS (VmHWM) at the end. Run it twice on one repository for a first and a no-change backup.
 * `--snapshot PHASE` writes a heap snapshot at the start of that phase and prints the ten largest
 * constructors by self size (slow on large heaps: use it on the 50k tree).
 *
 * `--restore TARGET` restores REPO's latest snapshot into TARGET (an empty folder, made if
 * missing) as `ibt restore` does, with a row once planning is done (the first file staged) and
 * at each quarter of the files; `--snapshot start` writes the heap snapshot at the first of those.
 */
import fs from "node:fs";
import path from "node:path";
import v8 from "node:v8";
import { fileURLToPath } from "node:url";

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const lib = await import(path.join(ROOT, "dist/src/index.js"));
const node = await import(path.join(ROOT, "dist/src/node/index.js"));

const args = process.argv.slice(2);
const restoreInto = args[0] === "--restore" ? (args.shift(), args.shift()) : undefined;
const [tree, repoDir, ...rest] = restoreInto ? [undefined, ...args] : args;
if (!(tree || restoreInto) || !repoDir) {
  process.stderr.write("usage: node --expose-gc bench/memory.mjs TREE REPO [--snapshot PHASE]\n       node --expose-gc bench/memory.mjs --restore TARGET REPO [--snapshot start]\n");
  process.exit(2);
}
const snapshotAt = rest[0] === "--snapshot" ? rest[1] : undefined;
if (typeof globalThis.gc !== "function") {
  process.stderr.write("run with --expose-gc\n");
  process.exit(2);
}

const mb = (n) => (n / 2 ** 20).toFixed(0).padStart(5);
const hwm = () => Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync("/proc/self/status", "utf8"))[1]) * 1024;
const started = Date.now();
function row(label) {
  globalThis.gc();
  const m = process.memoryUsage();
  process.stdout.write(`${label.padEnd(14)} ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s  heap ${mb(m.heapUsed)} (of ${mb(m.heapTotal)})  external ${mb(m.external)}  arrayBuffers ${mb(m.arrayBuffers)}  rss ${mb(m.rss)}  peak ${mb(hwm())} MB\n`);
}

function summarize(file) {
  const snap = JSON.parse(fs.readFileSync(file, "utf8"));
  const f = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = f.length;
  const [ti, ni, si] = ["type", "name", "self_size"].map((k) => f.indexOf(k));
  const by = new Map();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + ti]];
    const name = type === "object" || type === "native" ? snap.strings[snap.nodes[i + ni]] : `(${type})`;
    const e = by.get(name) ?? { count: 0, bytes: 0 };
    e.count++;
    e.bytes += snap.nodes[i + si];
    by.set(name, e);
  }
  const top = [...by].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 12);
  for (const [name, e] of top) process.stdout.write(`    ${name.slice(0, 40).padEnd(40)} ${String(e.count).padStart(9)} objects ${mb(e.bytes)} MB\n`);
}

const store = new lib.FsStore(new node.NodeFs(path.resolve(repoDir)));
fs.mkdirSync(repoDir, { recursive: true });
const repo = fs.existsSync(path.join(repoDir, "ibt-repo.json"))
  ? await lib.Repository.open(store, node.nodeRepositoryOptions())
  : await lib.Repository.init(store, node.nodeRepositoryOptions());
row("start");
if (restoreInto) {
  fs.mkdirSync(restoreInto, { recursive: true });
  let quarter = -1;
  const result = await repo.restore("latest", new node.NodeFs(path.resolve(restoreInto), { sync: true, createInWorker: true }), {
    onProgress: (p) => {
      const q = p.totalFiles ? Math.floor((4 * p.files) / p.totalFiles) : 0;
      if (q <= quarter || q >= 4) return;
      row(quarter < 0 ? "planned" : `restore ${q * 25}%`);
      if (quarter < 0 && snapshotAt === "start") {
        const file = v8.writeHeapSnapshot();
        summarize(file);
        fs.rmSync(file);
      }
      quarter = q;
    },
  });
  row("restore done");
  process.stdout.write(`restored ${result.files} files, ${result.bytes} bytes, ${((Date.now() - started) / 1000).toFixed(1)} s, peak RSS ${mb(hwm())} MB\n`);
  process.exit(0);
}
let phase;
let quarter = 0;
const snapshot = await repo.backup(new node.NodeFs(path.resolve(tree), { sync: true }), {
  source: "memory",
  onProgress: (p) => {
    if (p.phase === phase) {
      // Inside the write phase, a row at each quarter of the changes: its peak is the manifest's.
      const q = p.totalFiles ? Math.floor((4 * p.files) / p.totalFiles) : 0;
      if (phase === "write" && q > quarter && q < 4) row(`write ${(quarter = q) * 25}%`);
      return;
    }
    row(`${phase ?? "load"} done`);
    phase = p.phase;
    if (phase === snapshotAt) {
      const file = v8.writeHeapSnapshot();
      summarize(file);
      fs.rmSync(file);
    }
  },
});
row(`${phase} done`);
process.stdout.write(`${snapshot.kind} snapshot: ${snapshot.files} files, ${snapshot.changed} changes, ${snapshot.bytesStored} bytes stored, ${((Date.now() - started) / 1000).toFixed(1)} s, peak RSS ${mb(hwm())} MB\n`);
