#!/usr/bin/env node
/**
 * bench/s3.mjs: backup and restore over S3 on loopback, beside the same on a local folder and
 * beside restic's S3 backend. Not a test: it prints numbers.
 *
 * A seeded tree (BENCH_S3_MIB, default 80 MiB: text files that deflate well and random binaries
 * that do not) is backed up and restored by ibt, each run in a child process so its peak memory
 * is its own, to (a) the strict S3 test server (test/support/s3-server.ts, signatures checked,
 * running in this process on 127.0.0.1) and (b) a folder, medians of BENCH_RUNS (default 3).
 * Requests go over node:http and bodies are hashed by node:crypto, as the CLI does;
 * BENCH_S3_TRANSPORT=fetch takes fetch and WebCrypto instead; IBT_COMPRESSION sets ibt's
 * compression mode (auto, max, fastest, off), as for the CLI; BENCH_NO_ZSTD=1 takes zstd away
 * from ibt's codec, so its groups are deflated as in runtimes without zstd (an A/B on one Node).
 * Restic (`restic` on PATH) backs up and restores the same tree to the same server. Printed:
 * ibt S3 / ibt folder (goal ≤ 1.2), ibt S3 / restic S3 (goal ≤ 1.0), and ibt's peak RSS for
 * several part sizes. Each run does every variant in turn, so a change in the machine's load
 * falls on all of them; beside wall time it prints CPU time: ibt's and restic's own, and the S3
 * server's (this process) while each ran. Needs the test build (dist/test) for the server.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const KEY = { accessKeyId: "AKIDBENCHSTORE", secretAccessKey: "bench-secret-key" };
const BUCKET = "bench";
const MiB = 1024 * 1024;

/** One ibt backup or restore, timed, in this (child) process: prints {ms, rssMiB}. */
async function child([op, kind, location, dir, part]) {
  const { Repository, FsStore } = await import(path.join(ROOT, "dist/src/index.js"));
  const { NodeFs, nodeDeflate, nodeRepositoryOptions, nodeS3Options } = await import(path.join(ROOT, "dist/src/node/index.js"));
  // What the CLI uses in Node (node:http, node:crypto) unless BENCH_S3_TRANSPORT=fetch asks for the portable defaults.
  const transport = process.env.BENCH_S3_TRANSPORT === "fetch" ? {} : nodeS3Options();
  const { S3Store } = await import(path.join(ROOT, "dist/src/store/index.js"));
  const store = kind === "s3"
    ? new S3Store({ endpoint: location.split("|")[0], bucket: BUCKET, prefix: location.split("|")[1], credentials: KEY, partSize: Number(part), ...transport })
    : new FsStore(new NodeFs(location));
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const options = nodeRepositoryOptions(process.env.BENCH_NO_ZSTD === "1" ? { deflate: { ...nodeDeflate, zstd: undefined } } : {});
  const repo = await Repository.openOrInit(store, options);
  // IBT_COMPRESSION picks the backup's compression mode, as it does for the CLI.
  if (op === "backup") await repo.backup(new NodeFs(dir), process.env.IBT_COMPRESSION ? { compression: process.env.IBT_COMPRESSION } : {});
  else await repo.restore((await repo.snapshots()).at(-1).id, new NodeFs(dir));
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  process.stdout.write(JSON.stringify({ ms, cpuMs: (cpu.user + cpu.system) / 1000, rssMiB: peakRssMiB() }) + "\n");
}

/**
 * This process's peak RSS. Linux's getrusage maxRSS (process.resourceUsage) keeps the high-water
 * mark of the process image before exec, which here is a fork of the bench holding the server's
 * objects, so it is read from /proc/self/status (VmHWM) where there is one.
 */
function peakRssMiB() {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync("/proc/self/status", "utf8"));
    if (hwm) return Number(hwm[1]) / 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS / 1024;
}

/** CPU time of this process (the S3 server's, while a child runs), in ms. */
const ownCpuMs = (since) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
};

function runChild(args) {
  const since = process.cpuUsage();
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [fileURLToPath(import.meta.url), "--child", ...args]);
    let out = "";
    let err = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    p.on("exit", (code) => (code === 0 ? resolve({ ...JSON.parse(out.trim().split("\n").at(-1)), serverCpuMs: ownCpuMs(since) }) : reject(new Error(`child ${args[0]} ${args[1]}: ${err}`))));
  });
}

/** One restic command, timed; bash's `time` gives its CPU time (user + system) on the last line of stderr. */
function runRestic(args, env) {
  const since = process.cpuUsage();
  return new Promise((resolve) => {
    const started = performance.now();
    const p = spawn("bash", ["-c", 'TIMEFORMAT="%U %S"; time restic "$@"', "restic", ...args], { env });
    let err = "";
    p.stderr.on("data", (d) => (err += d));
    p.stdout.resume();
    p.on("exit", (code) => {
      const times = err.trim().split("\n").at(-1).split(" ").map(Number);
      resolve({ ms: performance.now() - started, cpuMs: (times[0] + times[1]) * 1000, serverCpuMs: ownCpuMs(since), ok: code === 0, err });
    });
    p.on("error", (e) => resolve({ ms: 0, ok: false, err: String(e) }));
  });
}

/** A seeded tree of about `mib` MiB: three quarters text in many files, a quarter random binaries. */
function generate(dir, mib) {
  // xorshift32: integer arithmetic throughout, so the sequence does not collapse into a short cycle
  // (a float multiply loses the low bits) and the binaries do not deflate nor repeat.
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
  const goal = mib * MiB;
  for (let i = 0; total < goal; i++) {
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
  return total;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const { startS3Server } = await import(path.join(ROOT, "dist/test/support/s3-server.js"));
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  const mib = Number(process.env.BENCH_S3_MIB ?? 80);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "ibt-bench-s3-"));
  const server = await startS3Server({ credentials: [KEY], buckets: [BUCKET] });
  try {
    const src = path.join(work, "src");
    const bytes = generate(src, mib);
    console.log(`tree: ${(bytes / MiB).toFixed(1)} MiB; S3 server ${server.endpoint}; ${runs} runs each`);
    const results = {};
    const record = (name, r) => (results[name] ??= []).push(r);
    const fresh = (name) => fs.mkdtempSync(path.join(work, name + "-"));
    const part = 16 * MiB;
    // restic against the same server, its runs interleaved with ibt's.
    const env = { ...process.env, AWS_ACCESS_KEY_ID: KEY.accessKeyId, AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey, RESTIC_PASSWORD: "bench", RESTIC_CACHE_DIR: path.join(work, "restic-cache") };
    let resticNote = "";
    for (let run = 0; run < runs; run++) {
      const folder = fresh("repo");
      const prefix = `ibt-${run}`;
      const restic = ["-r", `s3:${server.endpoint}/${BUCKET}/restic-${run}`, "-o", "s3.region=us-east-1"];
      let resticOk = !resticNote;
      if (resticOk) {
        const init = await runRestic([...restic, "init"], env);
        if (!init.ok) {
          const refused = server.log.filter((e) => e.status >= 400).at(-1);
          resticNote = `restic init failed against the strict server (last refusal: ${refused ? `${refused.op} ${refused.status} ${refused.error}` : "none"}): ${init.err.trim().split("\n").at(-2)}`;
          resticOk = false;
        }
      }
      record("ibt folder backup", await runChild(["backup", "folder", folder, src, part]));
      record("ibt S3 backup", await runChild(["backup", "s3", `${server.endpoint}|${prefix}`, src, part]));
      if (resticOk) {
        const b = await runRestic([...restic, "backup", "--no-cache", src], env);
        if (b.ok) record("restic S3 backup", b);
        else resticNote = `restic backup failed: ${b.err.trim().split("\n").at(-2)}`;
      }
      record("ibt folder restore", await runChild(["restore", "folder", folder, fresh("out"), part]));
      record("ibt S3 restore", await runChild(["restore", "s3", `${server.endpoint}|${prefix}`, fresh("out"), part]));
      if (resticOk && !resticNote) {
        const r = await runRestic([...restic, "restore", "latest", "--no-cache", "--target", fresh("restic-out")], env);
        if (r.ok) record("restic S3 restore", r);
        else resticNote = `restic restore failed: ${r.err.trim().split("\n").at(-2)}`;
      }
    }
    // Peak memory against part size (backups to S3).
    const memory = [];
    for (const mibPart of [5, 16, 64]) {
      const r = await runChild(["backup", "s3", `${server.endpoint}|mem-${mibPart}`, src, mibPart * MiB]);
      memory.push({ partMiB: mibPart, rssMiB: r.rssMiB });
    }
    const m = (name) => (results[name] ? median(results[name].map((r) => r.ms)) : NaN);
    const seconds = (name, field) => (median(results[name].map((r) => r[field])) / 1000).toFixed(2);
    for (const name of Object.keys(results)) {
      const r = results[name][0];
      const cpu = r.cpuMs === undefined ? "" : `  CPU ${seconds(name, "cpuMs")} s`;
      const server = name.includes("S3") ? `  server CPU ${seconds(name, "serverCpuMs")} s` : "";
      const rss = r.rssMiB === undefined ? "" : `  peak RSS ${median(results[name].map((x) => x.rssMiB)).toFixed(0)} MiB`;
      console.log(`${name.padEnd(20)} ${(m(name) / 1000).toFixed(2)} s  (runs: ${results[name].map((x) => (x.ms / 1000).toFixed(2)).join(", ")})${cpu}${server}${rss}`);
    }
    for (const op of ["backup", "restore"]) {
      console.log(`${op}: ibt S3 / ibt folder = ${(m(`ibt S3 ${op}`) / m(`ibt folder ${op}`)).toFixed(2)} (goal <= 1.2); ibt S3 / restic S3 = ${(m(`ibt S3 ${op}`) / m(`restic S3 ${op}`)).toFixed(2)} (goal <= 1.0)`);
    }
    console.log(`peak RSS of an ibt backup to S3 by part size (2 parts in flight, at most 3 part buffers): ${memory.map((x) => `${x.partMiB} MiB parts: ${x.rssMiB.toFixed(0)} MiB`).join("; ")}`);
    if (resticNote) console.log(resticNote);
  } finally {
    await server.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--child") await child(process.argv.slice(3));
else await main();
