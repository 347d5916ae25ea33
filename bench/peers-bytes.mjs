#!/usr/bin/env node
/**
 * bench/peers-bytes.mjs: where the bytes of a bench:peers repository are, snapshot by snapshot.
 *
 *   node bench/peers.mjs --keep            # leaves bench/data/peers-work/<series>/<tool>/repo
 *   node bench/peers-bytes.mjs bench/data/peers-work/small [--json]
 *
 * For ibt: per snapshot (creation order) its kind, the archive split into the manifest, the
 * groups (and, from the manifest, how many bytes of new files and of deltas they hold before
 * deflating), large new members, large delta members and the ZIP's own overhead (headers and
 * central directory); the index (whole or delta) and the record. For duplicity, when its
 * repository is beside ibt's: per backup its volumes, manifest and signatures. Needs `unzip`.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Members of a ZIP: name, uncompressed and compressed size, from `unzip -Zl`. */
export function members(zip) {
  const out = [];
  for (const line of execFileSync("unzip", ["-Zl", zip], { encoding: "utf8", maxBuffer: 1 << 28 }).split("\n")) {
    const m = line.match(/^\S{10}\s+\S+\s+\S+\s+(\d+)\s+\S+\s+(\d+)\s+\S+\s+\S+\s+\S+\s+(.+)$/);
    if (m) out.push({ name: m[3], size: Number(m[1]), csize: Number(m[2]) });
  }
  return out;
}

export function readRecord(file) {
  const text = fs.readFileSync(file, "utf8");
  return JSON.parse(text.slice(0, text.lastIndexOf("}") + 1));
}

export function ibtBreakdown(repo) {
  const snaps = fs
    .readdirSync(path.join(repo, "snapshots"))
    .filter((n) => /^[0-9a-f]{16}\.json$/.test(n))
    .map((n) => ({ rec: readRecord(path.join(repo, "snapshots", n)), recordBytes: fs.statSync(path.join(repo, "snapshots", n)).size }))
    .sort((a, b) => a.rec.seq - b.rec.seq);
  return snaps.map(({ rec, recordBytes }) => {
    const zip = path.join(repo, "data", `${rec.id}.zip`);
    const ms = members(zip);
    const manifest = JSON.parse(execFileSync("unzip", ["-p", zip, "ibt-manifest.json"], { encoding: "utf8", maxBuffer: 1 << 28 }));
    const row = { id: rec.id, kind: rec.kind, changed: rec.changed, archive: fs.statSync(zip).size, manifest: 0, manifestRaw: 0, groups: 0, groupsRaw: 0, groupNew: 0, groupDelta: 0, groupCount: 0, largeNew: 0, largeNewRaw: 0, largeDelta: 0, largeDeltaRaw: 0, index: rec.index.size, indexKind: rec.index.kind ?? "full", record: recordBytes };
    for (const m of ms) {
      if (m.name === "ibt-manifest.json") [row.manifest, row.manifestRaw] = [m.csize, m.size];
      else if (m.name.startsWith("group/")) {
        row.groups += m.csize;
        row.groupsRaw += m.size;
        row.groupCount++;
      } else if (m.name.startsWith("new/")) {
        row.largeNew += m.csize;
        row.largeNewRaw += m.size;
      } else if (m.name.startsWith("delta/")) {
        row.largeDelta += m.csize;
        row.largeDeltaRaw += m.size;
      }
    }
    for (const c of manifest.changes) {
      if (!c.member?.startsWith("group/")) continue;
      if (c.encoding === "delta") row.groupDelta += c.length;
      else row.groupNew += c.length;
    }
    row.zipOverhead = row.archive - row.manifest - row.groups - row.largeNew - row.largeDelta;
    return row;
  });
}

/** duplicity's files per backup, keyed by the backup's end time. */
export function duplicityBreakdown(repo) {
  const rows = new Map();
  for (const name of fs.readdirSync(repo)) {
    const m = name.match(/^duplicity-(full|inc|full-signatures|new-signatures)\.(?:\d{8}T\d{6}Z\.to\.)?(\d{8}T\d{6}Z)\.(.+)$/);
    if (!m) continue;
    const [, what, time, rest] = m;
    const row = rows.get(time) ?? { time, kind: "", volumes: 0, manifest: 0, signatures: 0 };
    const size = fs.statSync(path.join(repo, name)).size;
    if (what.endsWith("signatures")) row.signatures += size;
    else {
      row.kind = what === "full" ? "full" : "incremental";
      if (rest === "manifest") row.manifest += size;
      else row.volumes += size;
    }
    rows.set(time, row);
  }
  return [...rows.values()].sort((a, b) => (a.time < b.time ? -1 : 1));
}

const kb = (n) => (n / 1000).toFixed(1);

function main() {
  const args = process.argv.slice(2);
  const json = args.includes("--json");
  const dir = args.find((a) => !a.startsWith("--"));
  if (!dir) throw new Error("usage: node bench/peers-bytes.mjs bench/data/peers-work/<series> [--json]");
  const ibt = ibtBreakdown(path.join(dir, "ibt", "repo"));
  const dupRepo = path.join(dir, "duplicity", "repo");
  const dup = fs.existsSync(dupRepo) ? duplicityBreakdown(dupRepo) : [];
  if (json) {
    console.log(JSON.stringify({ ibt, duplicity: dup }, null, 2));
    return;
  }
  console.log("ibt, KB (deflated; raw = before deflating)");
  console.log("| # | kind | changed | archive | manifest (raw) | groups (n; raw new + raw delta) | large new (raw) | large delta (raw) | zip overhead | index (kind) | record | total |");
  console.log("|---|---|---|---|---|---|---|---|---|---|---|---|");
  const sum = {};
  ibt.forEach((r, i) => {
    for (const k of ["archive", "manifest", "groups", "largeNew", "largeDelta", "zipOverhead", "index", "record"]) sum[k] = (sum[k] ?? 0) + r[k];
    const total = r.archive + r.index + r.record;
    sum.total = (sum.total ?? 0) + total;
    console.log(`| ${i + 1} | ${r.kind} | ${r.changed} | ${kb(r.archive)} | ${kb(r.manifest)} (${kb(r.manifestRaw)}) | ${kb(r.groups)} (${r.groupCount}; ${kb(r.groupNew)} + ${kb(r.groupDelta)}) | ${kb(r.largeNew)} (${kb(r.largeNewRaw)}) | ${kb(r.largeDelta)} (${kb(r.largeDeltaRaw)}) | ${kb(r.zipOverhead)} | ${kb(r.index)} (${r.indexKind}) | ${kb(r.record)} | ${kb(total)} |`);
  });
  console.log(`| all | | | ${kb(sum.archive)} | ${kb(sum.manifest)} | ${kb(sum.groups)} | ${kb(sum.largeNew)} | ${kb(sum.largeDelta)} | ${kb(sum.zipOverhead)} | ${kb(sum.index)} | ${kb(sum.record)} | ${kb(sum.total)} |`);
  if (dup.length) {
    console.log("\nduplicity, KB");
    console.log("| # | kind | volumes | manifest | signatures | total |");
    console.log("|---|---|---|---|---|---|");
    const d = { volumes: 0, manifest: 0, signatures: 0 };
    dup.forEach((r, i) => {
      for (const k of Object.keys(d)) d[k] += r[k];
      console.log(`| ${i + 1} | ${r.kind} | ${kb(r.volumes)} | ${kb(r.manifest)} | ${kb(r.signatures)} | ${kb(r.volumes + r.manifest + r.signatures)} |`);
    });
    console.log(`| all | | ${kb(d.volumes)} | ${kb(d.manifest)} | ${kb(d.signatures)} | ${kb(d.volumes + d.manifest + d.signatures)} |`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
