#!/usr/bin/env node
/**
 * bench/dirs.mjs: a directory backup step, ibt against rsync's batch mode, side by side.
 *
 * One generated tree (BENCH_DIR_FILES files, default 5,000: mostly small text files, some
 * random binaries, a few multi-MiB files) and one generated change made to it in place (small
 * edits inside large and small files, new files, deleted files, a renamed directory, mode
 * changes), as a live folder changes between two backups. Both tools start from what they keep
 * of the last backup: ibt the old index (made beforehand, not timed); rsync a mirror of the old
 * tree as its destination. Timed, median of BENCH_RUNS runs with the order alternated:
 *   ibt:      `ibt diff NEW OLD_INDEX ARCHIVE --index NEW_INDEX` (re-index with the quick check, diff,
 *             archive, and save the new index the next backup starts from: the whole step)
 *   rsync:    `rsync -a --only-write-batch=BATCH NEW/ OLD/` and the same with -z
 * and the size of what each would store: the diff archive, the batch file. Goals: the archive
 * no larger than rsync's compressed batch; ibt no slower than rsync -z. The archive is then
 * applied to a copy of the old tree and checked against the new tree, and the batch is checked
 * with `rsync --read-batch` (both must reproduce the new tree).
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import os from "node:os";
import { fileURLToPath } from "node:url";
// The seeded generator the tests use (test/shared/data.ts), so benchmark data is reproducible too.
import { rng as seededRandom } from "../dist/test/shared/data.js";

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH_DIR);
const IBT = path.join(ROOT, "dist/cli/ibt.cjs");
const WORK = path.join(BENCH_DIR, "data", `dirs-${process.pid}`);
const FILES = Number.parseInt(process.env.BENCH_DIR_FILES ?? "", 10) || 5000;
const RUNS = Number.parseInt(process.env.BENCH_RUNS ?? "", 10) || 3;

const next = seededRandom(42);
const WORDS = ["backup", "delta", "tree", "file", "index", "change", "the", "of", "and", "data", "\n"];
const text = (n) => {
  let s = "";
  while (s.length < n) s += WORDS[Math.floor(next() * WORDS.length)] + " ";
  return s.slice(0, n);
};
const random = (n) => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i += 4) b.writeUInt32LE((next() * 2 ** 32) >>> 0, Math.min(i, n - 4 < 0 ? 0 : n - 4));
  return n < 4 ? b.subarray(0, n) : b;
};

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 26, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

function generate(dir) {
  for (let i = 0; i < FILES; i++) {
    const sub = path.join(dir, `d${i % 50}`, `e${i % 7}`);
    fs.mkdirSync(sub, { recursive: true });
    const kind = next();
    const data = kind < 0.85 ? text(200 + Math.floor(next() * 8000)) : kind < 0.995 ? random(1000 + Math.floor(next() * 60000)) : random(2_000_000 + Math.floor(next() * 6_000_000));
    fs.writeFileSync(path.join(sub, `f${i}${kind < 0.85 ? ".txt" : ".bin"}`), data);
  }
}

function listFiles(dir) {
  return sh("find", [dir, "-type", "f"]).split("\n").filter(Boolean).sort();
}

function change(dir) {
  const files = listFiles(dir);
  const pick = () => files[Math.floor(next() * files.length)];
  for (let k = 0; k < 100; k++) {
    const f = pick();
    if (!fs.existsSync(f)) continue;
    const b = fs.readFileSync(f);
    for (let e = 0; e < 3; e++) b.write(text(20), Math.floor(next() * Math.max(1, b.length - 20)));
    fs.writeFileSync(f, b);
  }
  for (let k = 0; k < 200; k++) fs.writeFileSync(path.join(dir, `d${k % 50}`, `new${k}.txt`), text(3000));
  for (let k = 0; k < 100; k++) fs.rmSync(pick(), { force: true });
  fs.renameSync(path.join(dir, "d7"), path.join(dir, "d7-renamed"));
  for (let k = 0; k < 30; k++) {
    const f = pick();
    if (fs.existsSync(f)) fs.chmodSync(f, 0o600);
  }
}

function time(cmd, args) {
  const t = process.hrtime.bigint();
  sh(cmd, args);
  return Number(process.hrtime.bigint() - t) / 1e9;
}

const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function du(dir) {
  return Number(sh("du", ["-sb", dir]).split("\t")[0]);
}

function main() {
  fs.rmSync(WORK, { recursive: true, force: true });
  fs.mkdirSync(WORK, { recursive: true });
  const live = path.join(WORK, "live");
  const v1 = path.join(WORK, "mirror"); // the old tree: rsync's destination, and the base to apply to
  const v2 = live;
  try {
    process.stderr.write(`generating ${FILES} files…\n`);
    generate(live);
    const idx = path.join(WORK, "v1.idx");
    sh(process.execPath, [IBT, "index", live, idx]);
    sh("cp", ["-a", live, v1]);
    change(live);

    const runs = { ibt: [], rsync: [], rsyncZ: [] };
    const archive = path.join(WORK, "d.zip");
    const newIdx = path.join(WORK, "v2.idx");
    const batch = path.join(WORK, "batch");
    const batchZ = path.join(WORK, "batchz");
    const tools = {
      ibt: () => time(process.execPath, [IBT, "diff", v2, idx, archive, "--index", newIdx]),
      rsync: () => time("rsync", ["-a", "--delete", `--only-write-batch=${batch}`, `${v2}/`, `${v1}/`]),
      rsyncZ: () => time("rsync", ["-az", "--delete", `--only-write-batch=${batchZ}`, `${v2}/`, `${v1}/`]),
    };
    for (let r = 0; r < RUNS; r++) {
      const order = r % 2 ? ["rsyncZ", "rsync", "ibt"] : ["ibt", "rsync", "rsyncZ"];
      const outputs = { ibt: [archive, newIdx], rsync: [batch, `${batch}.sh`], rsyncZ: [batchZ, `${batchZ}.sh`] };
      for (const name of order) {
        for (const f of outputs[name]) fs.rmSync(f, { force: true });
        runs[name].push(tools[name]());
      }
    }
    const sizes = { ibt: fs.statSync(archive).size, rsync: fs.statSync(batch).size, rsyncZ: fs.statSync(batchZ).size };

    // Both must reproduce the new tree.
    const checkIbt = path.join(WORK, "check-ibt");
    sh("cp", ["-a", v1, checkIbt]);
    sh(process.execPath, [IBT, "apply", checkIbt, archive]);
    const same = (a, b) => spawnSync("diff", ["-r", "--no-dereference", a, b]).status === 0;
    const ibtOk = same(checkIbt, v2);
    // The new index describes the new tree: a diff of the tree against it finds nothing.
    const again = JSON.parse(sh(process.execPath, [IBT, "diff", v2, newIdx, path.join(WORK, "none.zip"), "--json"]));
    const indexOk = ["created", "updated", "deleted", "createdDirs", "deletedDirs", "symlinks", "moved", "copied", "metadata"].every((k) => again[k] === 0);
    const checkRsync = path.join(WORK, "check-rsync");
    sh("cp", ["-a", v1, checkRsync]);
    sh("rsync", ["-az", "--delete", `--read-batch=${batchZ}`, `${checkRsync}/`]);
    const rsyncOk = same(checkRsync, v2);

    const t = { ibt: median(runs.ibt), rsync: median(runs.rsync), rsyncZ: median(runs.rsyncZ) };
    const cpu = (fs.readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/) ?? [])[1] ?? "?";
    const lines = [
      "## Directory backup step (bench/dirs.mjs)",
      "",
      `- machine: ${cpu}, ${os.cpus().length} cores, node ${process.version}, ${sh("rsync", ["--version"]).split("\n")[0]}`,
      `- tree: ${FILES} files, ${(du(v2) / 2 ** 20).toFixed(1)} MiB; change: 100 files edited in place, 200 new, 100 deleted, one directory renamed, 30 mode changes`,
      `- median of ${RUNS} runs`,
      "",
      "| tool | time s | stored bytes | vs rsync -z batch |",
      "|---|---|---|---|",
      `| ibt diff --index (index with quick check + diff + archive + new index) | ${t.ibt.toFixed(3)} | ${sizes.ibt} | ${(sizes.ibt / sizes.rsyncZ).toFixed(2)}× |`,
      `| rsync --only-write-batch | ${t.rsync.toFixed(3)} | ${sizes.rsync} | ${(sizes.rsync / sizes.rsyncZ).toFixed(2)}× |`,
      `| rsync -z --only-write-batch | ${t.rsyncZ.toFixed(3)} | ${sizes.rsyncZ} | 1.00× |`,
      "",
      `Goals: archive ≤ rsync -z batch: ${sizes.ibt <= sizes.rsyncZ ? "met" : "MISSED"}; ibt time ≤ rsync -z time: ${t.ibt <= t.rsyncZ ? "met" : "MISSED"} (ratio ${(t.rsyncZ / t.ibt).toFixed(2)}).`,
      `Runs (s): ibt ${runs.ibt.map((x) => x.toFixed(3)).join(" ")} | rsync ${runs.rsync.map((x) => x.toFixed(3)).join(" ")} | rsync -z ${runs.rsyncZ.map((x) => x.toFixed(3)).join(" ")}`,
      `Checks: ibt apply reproduces the new tree: ${ibtOk ? "ok" : "FAILED"}; the new index finds no change in it: ${indexOk ? "ok" : "FAILED"}; rsync --read-batch reproduces it: ${rsyncOk ? "ok" : "FAILED"}`,
    ];
    process.stdout.write(lines.join("\n") + "\n");
    if (!ibtOk || !indexOk || !rsyncOk) process.exitCode = 1;
  } finally {
    if (!process.env.BENCH_KEEP) fs.rmSync(WORK, { recursive: true, force: true });
  }
}

main();
