#!/usr/bin/env node
/**
 * bench/codecs.mjs: what a bench:peers repository would store, and how fast it would compress
 * and decompress, if its archives held their data in bounded solid groups under another codec.
 * A what-if for issue 18's bytes goal, measured on the real archives ibt wrote; not a test.
 *
 *   node bench/peers.mjs --keep --tools ibt,duplicity      # leaves bench/data/peers-work/
 *   node bench/codecs.mjs [WORK_DIR] [--groups 2,8] [--runs 3] [--codecs deflate6,zstd6,brotli5,...]
 *
 * Needs a runtime whose node:zlib has zstd (Node 22.15 or later, Deno, Bun). For every ibt
 * snapshot of each series in WORK_DIR (default bench/data/peers-work): every data member of its
 * archive (groups, new files, deltas: all but the manifest), uncompressed with `unzip -p`, is
 * packed whole and in archive order into groups of at most G MiB (a member larger than G alone);
 * each group is compressed as one stream, the manifest as another. The snapshot then costs those
 * streams, the ZIP overhead the real archive has (its size less its members' compressed sizes),
 * and its index object as stored. With deflate level 6 and 2 MiB this reproduces today's
 * repository within 0.3%, which is the check on the method; the other rows change only the codec
 * and the group bound. Beside the bytes: the compress and decompress CPU of all the series' data
 * on this thread (medians of --runs), and duplicity's repository bytes when it is in WORK_DIR.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { fileURLToPath } from "node:url";
import { inflateSync } from "fflate";
import { members, readRecord } from "./peers-bytes.mjs";

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const C = zlib.constants;

function parseArgs(argv) {
  const opts = { work: path.join(BENCH, "data", "peers-work"), groups: [2, 8], runs: 3, codecs: "deflate6,deflate9,zstd3,zstd6,zstd9,brotli5" };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--groups") opts.groups = argv[++i].split(",").map(Number);
    else if (a === "--runs") opts.runs = Number(argv[++i]);
    else if (a === "--codecs") opts.codecs = argv[++i];
    else if (a.startsWith("--")) throw new Error(`unknown option ${a}`);
    else opts.work = a;
  }
  if (opts.groups.some((g) => !(g > 0)) || !(opts.runs >= 1)) throw new Error("--groups takes MiB above 0, --runs a count");
  return { ...opts, codecs: opts.codecs.split(",").map(codec) };
}

/** A codec by name: deflateN (node:zlib, raw), zstdN, brotliN (quality). */
function codec(spec) {
  const m = /^(deflate|zstd|brotli)(\d+)$/.exec(spec);
  if (!m) throw new Error(`unknown codec ${spec}: deflateN, zstdN or brotliN`);
  const level = Number(m[2]);
  if (m[1] === "deflate") {
    const c = { name: `deflate ${level}`, pack: (b) => zlib.deflateRawSync(b, { level }), unpack: (b) => zlib.inflateRawSync(b) };
    // fflate is what browsers and workerd inflate with today.
    return level === 6 ? { ...c, name: "deflate 6 (today)", unpackJs: (b) => inflateSync(b) } : c;
  }
  if (m[1] === "zstd") {
    return { name: `zstd ${level}`, pack: (b) => zlib.zstdCompressSync(b, { params: { [C.ZSTD_c_compressionLevel]: level } }), unpack: (b) => zlib.zstdDecompressSync(b) };
  }
  return {
    name: `brotli ${level}`,
    pack: (b) => zlib.brotliCompressSync(b, { params: { [C.BROTLI_PARAM_QUALITY]: level, [C.BROTLI_PARAM_SIZE_HINT]: b.length } }),
    unpack: (b) => zlib.brotliDecompressSync(b),
  };
}

/** Per snapshot of one ibt repository: its data members' bytes in archive order, manifest, fixed costs. */
function snapshots(repo) {
  const dir = path.join(repo, "snapshots");
  const recs = fs.readdirSync(dir).filter((n) => /^[0-9a-f]{16}\.json$/.test(n)).map((n) => readRecord(path.join(dir, n)));
  recs.sort((a, b) => a.seq - b.seq);
  return recs.map((rec) => {
    const zip = path.join(repo, "data", `${rec.id}.zip`);
    const list = members(zip);
    const data = [];
    let manifest;
    for (const m of list) {
      const bytes = execFileSync("unzip", ["-p", zip, m.name], { maxBuffer: 1 << 30 });
      if (bytes.length !== m.size) throw new Error(`${zip}: ${m.name} gave ${bytes.length} bytes, the directory says ${m.size}`);
      if (m.name === "ibt-manifest.json") manifest = bytes;
      else data.push(bytes);
    }
    const zipOverhead = rec.archive.size - list.reduce((a, m) => a + m.csize, 0);
    return { rec, data, manifest, fixed: zipOverhead + rec.index.size, actual: rec.archive.size + rec.index.size };
  });
}

function groupsOf(data, maxBytes) {
  const out = [];
  let cur = [];
  let size = 0;
  for (const b of data) {
    if (cur.length && size + b.length > maxBytes) {
      out.push(Buffer.concat(cur));
      cur = [];
      size = 0;
    }
    cur.push(b);
    size += b.length;
  }
  if (cur.length) out.push(Buffer.concat(cur));
  return out;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function cpuMs(fn) {
  const t = process.cpuUsage();
  fn();
  const d = process.cpuUsage(t);
  return (d.user + d.system) / 1000;
}

function main() {
  if (typeof zlib.zstdCompressSync !== "function") {
    console.error(`bench/codecs.mjs needs zstd in node:zlib (Node 22.15 or later, Deno, Bun); ${process.version} has none`);
    process.exit(2);
  }
  const opts = parseArgs(process.argv.slice(2));
  const series = fs.existsSync(opts.work) ? fs.readdirSync(opts.work).filter((s) => fs.existsSync(path.join(opts.work, s, "ibt", "repo", "snapshots"))) : [];
  if (!series.length) {
    console.error(`no ibt repositories under ${opts.work}: run node bench/peers.mjs --keep first`);
    process.exit(2);
  }
  console.log(`${process.version}; ${opts.work}; groups of ${opts.groups.join(", ")} MiB; CPU medians of ${opts.runs}\n`);
  for (const s of series) {
    const snaps = snapshots(path.join(opts.work, s, "ibt", "repo"));
    const actual = snaps.reduce((a, x) => a + x.actual, 0);
    const dupRepo = path.join(opts.work, s, "duplicity", "repo");
    const dup = fs.existsSync(dupRepo) ? fs.readdirSync(dupRepo).reduce((a, n) => a + fs.statSync(path.join(dupRepo, n)).size, 0) : undefined;
    const mb = (n) => (n / 1e6).toFixed(2);
    console.log(`${s}: ${snaps.length} snapshots, ibt's repository ${mb(actual)} MB${dup ? `, duplicity's ${mb(dup)} MB` : ""}`);
    const rows = [["codec", "group bound", "repository MB", "/ today", dup ? "/ duplicity" : "", "compress ms", "decompress ms", "JS decompress ms"]];
    for (const g of opts.groups) {
      const groups = snaps.map((x) => groupsOf(x.data, g * 1024 * 1024));
      for (const c of opts.codecs) {
        let total = 0;
        const packed = [];
        snaps.forEach((x, i) => {
          const streams = groups[i].map((b) => c.pack(b));
          packed.push(...streams);
          total += streams.reduce((a, b) => a + b.length, 0) + c.pack(x.manifest).length + x.fixed;
        });
        const all = groups.flat();
        packed.forEach((b) => c.unpack(b)); // the byte count above warmed up packing; this warms up unpacking
        const pack = median(Array.from({ length: opts.runs }, () => cpuMs(() => all.forEach((b) => c.pack(b)))));
        const unpack = median(Array.from({ length: opts.runs }, () => cpuMs(() => packed.forEach((b) => c.unpack(b)))));
        const unpackJs = c.unpackJs ? median(Array.from({ length: opts.runs }, () => cpuMs(() => packed.forEach((b) => c.unpackJs(b))))).toFixed(0) : "";
        rows.push([c.name, `${g} MiB`, mb(total), (total / actual).toFixed(2), dup ? (total / dup).toFixed(2) : "", pack.toFixed(0), unpack.toFixed(0), unpackJs]);
      }
    }
    console.log(rows.map((r) => `| ${r.join(" | ")} |`).join("\n").replace(/\n/, `\n|${"---|".repeat(rows[0].length)}\n`));
    console.log("");
  }
}

main();
