#!/usr/bin/env node
/**
 * bench/encrypted.mjs: what encryption costs a repository, in one process.
 *
 * One generated tree (seeded; ~100 MiB by default, BENCH_ENC_MIB: small text files, random
 * binaries, a few large files) and a changed copy of it (edits inside large and small files,
 * new and deleted files). Per run, into a fresh repository on FsStore(NodeFs): a full backup
 * of the tree, an incremental backup of the changed copy, and a restore of the latest snapshot
 * into an empty folder; once unencrypted and once on an EncryptedStore over the same kind of
 * store, alternating which goes first, BENCH_RUNS runs (default 3). Prints the medians and the
 * ratio encrypted / unencrypted per step (the goal is ≤ 1.15). Key derivation is left out of
 * those times (small parameters) and measured on its own at the default parameters (64 MiB,
 * 3 passes): its time and how much the process's resident memory grew.
 *
 * Build first (`node build/build.mjs && npx tsc -b tsconfig.test.json`). Not a test.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { EncryptedStore, FsStore, Repository, argon2id, ARGON2ID_DEFAULTS } from "../dist/src/index.js";
import { NodeFs } from "../dist/src/node/index.js";
import { rng } from "../dist/test/shared/data.js";

const MIB = Number.parseInt(process.env.BENCH_ENC_MIB ?? "", 10) || 100;
const RUNS = Number.parseInt(process.env.BENCH_RUNS ?? "", 10) || 3;
const WORK = fs.mkdtempSync(path.join(os.tmpdir(), "ibt-bench-enc-"));
const PASSWORD = "benchmark password";
const SMALL = { memoryKiB: 256, passes: 1, parallelism: 1, tagLength: 32 };

const next = rng(4711);
const WORDS = ["backup", "delta", "tree", "file", "index", "change", "the", "of", "and", "data", "\n"];
const text = (n) => {
  let s = "";
  while (s.length < n) s += WORDS[Math.floor(next() * WORDS.length)] + " ";
  return Buffer.from(s.slice(0, n));
};
const random = (n) => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i += 4) b.writeUInt32LE((next() * 2 ** 32) >>> 0, Math.min(i, n - 4));
  return b;
};

/** About MIB MiB: a fifth in small text files, two fifths in 1 MiB binaries, the rest in 8 MiB files. */
function generate(dir) {
  const total = MIB << 20;
  let made = 0;
  let i = 0;
  const put = (name, data) => {
    const file = path.join(dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, data);
    made += data.length;
  };
  while (made < total * 0.2) put(`text/d${i % 40}/t${i++}.txt`, text(2000 + Math.floor(next() * 18000)));
  while (made < total * 0.6) put(`bin/b${i++}.bin`, random(1 << 20));
  while (made < total) put(`large/l${i++}.dat`, Buffer.concat([text(4 << 20), random(4 << 20)]));
}

/** Edits in place, as a live folder changes between two backups. */
function change(dir) {
  const files = fs.readdirSync(dir, { recursive: true }).map(String).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort();
  for (let k = 0; k < files.length / 20; k++) {
    const file = path.join(dir, files[Math.floor(next() * files.length)]);
    if (!fs.existsSync(file)) continue;
    const data = fs.readFileSync(file);
    const at = Math.floor(next() * data.length);
    fs.writeFileSync(file, Buffer.concat([data.subarray(0, at), text(100), data.subarray(at)]));
  }
  for (let k = 0; k < 30; k++) fs.writeFileSync(path.join(dir, "text", `new${k}.txt`), text(5000));
  for (let k = 0; k < 10; k++) fs.rmSync(path.join(dir, files[Math.floor(next() * files.length)]), { force: true });
}

async function oneRun(encrypted, source, changed, n) {
  const repoDir = path.join(WORK, `repo-${encrypted ? "enc" : "plain"}-${n}`);
  const target = path.join(WORK, `restore-${encrypted ? "enc" : "plain"}-${n}`);
  fs.mkdirSync(repoDir);
  fs.mkdirSync(target);
  const folder = new FsStore(new NodeFs(repoDir));
  const store = encrypted ? await EncryptedStore.create(folder, PASSWORD, argon2id, SMALL) : folder;
  const repo = await Repository.init(store);
  const t = {};
  let s = performance.now();
  await repo.backup(new NodeFs(source), { source: "bench" });
  t.full = performance.now() - s;
  s = performance.now();
  await repo.backup(new NodeFs(changed), { source: "bench" });
  t.incremental = performance.now() - s;
  s = performance.now();
  await repo.restore("latest", new NodeFs(target));
  t.restore = performance.now() - s;
  fs.rmSync(repoDir, { recursive: true, force: true });
  fs.rmSync(target, { recursive: true, force: true });
  return t;
}

const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

async function main() {
  const source = path.join(WORK, "source");
  const changed = path.join(WORK, "changed");
  generate(source);
  fs.cpSync(source, changed, { recursive: true, preserveTimestamps: true });
  change(changed);
  console.log(`tree: ${MIB} MiB generated in ${WORK}; ${RUNS} runs each, alternating`);
  const results = { plain: [], encrypted: [] };
  for (let n = 0; n < RUNS; n++) {
    for (const encrypted of n % 2 ? [true, false] : [false, true]) results[encrypted ? "encrypted" : "plain"].push(await oneRun(encrypted, source, changed, n));
  }
  console.log("step          unencrypted   encrypted   ratio");
  for (const step of ["full", "incremental", "restore"]) {
    const p = median(results.plain.map((r) => r[step]));
    const e = median(results.encrypted.map((r) => r[step]));
    console.log(`${step.padEnd(12)} ${(p / 1000).toFixed(2).padStart(9)} s ${(e / 1000).toFixed(2).padStart(9)} s   ${(e / p).toFixed(3)}`);
  }
  const total = (rs) => median(rs.map((r) => r.full + r.incremental + r.restore));
  console.log(`all three    ${(total(results.plain) / 1000).toFixed(2).padStart(9)} s ${(total(results.encrypted) / 1000).toFixed(2).padStart(9)} s   ${(total(results.encrypted) / total(results.plain)).toFixed(3)}  (goal ≤ 1.15)`);

  const kdf = [];
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  for (let i = 0; i < 3; i++) {
    const s = performance.now();
    await argon2id(new TextEncoder().encode(PASSWORD), new Uint8Array(32).fill(i), { ...ARGON2ID_DEFAULTS });
    kdf.push(performance.now() - s);
    peak = Math.max(peak, process.memoryUsage().rss);
  }
  console.log(`key derivation (Argon2id ${ARGON2ID_DEFAULTS.memoryKiB / 1024} MiB, ${ARGON2ID_DEFAULTS.passes} passes, ${ARGON2ID_DEFAULTS.parallelism} lane): median ${median(kdf).toFixed(0)} ms of ${kdf.length}; resident memory grew ${((peak - rss0) / 2 ** 20).toFixed(1)} MiB`);
}

try {
  await main();
} finally {
  fs.rmSync(WORK, { recursive: true, force: true });
}
