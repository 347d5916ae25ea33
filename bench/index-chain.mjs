#!/usr/bin/env node
/**
 * bench/index-chain.mjs: what a series of backups stores, index and archive apart, and how long
 * loading the newest snapshot's tree takes.
 *
 * Usage: node bench/index-chain.mjs VERSION_DIR... (each a tree, oldest first: for example the
 * unpacked `npm pack` tarballs of consecutive releases). Each is synced into one working folder
 * with `rsync -a --delete -c` (tarballs give every file the same mtime, so rsync must compare
 * content) and backed up in turn into a fresh folder repository. Repository options come from
 * the environment as JSON (BENCH_REPO='{"fullShare":0.5}'); the report is one JSON object on
 * stdout: per snapshot its kind, archive and index bytes and index kind; totals; restore work
 * (archive bytes read to restore the newest snapshot, against its full's); and the median time
 * of loading the newest snapshot's tree (BENCH_LOADS runs, default 15).
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { FsStore, Repository } from "../dist/src/index.js";
import { NodeFs, nodeRepositoryOptions } from "../dist/src/node/index.js";
import { loadRecords, chainOf } from "../dist/src/repo/snapshot.js";
import { loadTree } from "../dist/src/repo/stored.js";

const versions = process.argv.slice(2);
if (versions.length === 0) {
  console.error("usage: node bench/index-chain.mjs VERSION_DIR...");
  process.exit(2);
}
const options = JSON.parse(process.env.BENCH_REPO ?? "{}");
const LOADS = Number.parseInt(process.env.BENCH_LOADS ?? "", 10) || 15;
const work = fs.mkdtempSync(path.join(os.tmpdir(), "ibt-index-chain-"));
const tree = path.join(work, "tree");
const repoDir = path.join(work, "repo");
fs.mkdirSync(tree);
fs.mkdirSync(repoDir);

try {
  const store = new FsStore(new NodeFs(repoDir));
  const repo = await Repository.init(store, nodeRepositoryOptions(options));
  const snapshots = [];
  for (const v of versions) {
    const r = spawnSync("rsync", ["-a", "--delete", "-c", `${v}/`, `${tree}/`], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`rsync failed: ${r.stderr}`);
    const t0 = performance.now();
    const s = await repo.backup(new NodeFs(tree), { source: path.basename(v) });
    snapshots.push({ version: path.basename(v), kind: s.kind, seconds: (performance.now() - t0) / 1000, id: s.id });
  }
  const { records } = await loadRecords(store);
  const byId = new Map(records.map((r) => [r.id, r]));
  for (const s of snapshots) {
    const r = byId.get(s.id);
    Object.assign(s, { archive: r.archive.size, index: r.index.size, indexKind: r.index.kind ?? "full", files: r.files });
    delete s.id;
  }
  const latest = records.at(-1);
  const chain = chainOf(records, latest.id);
  const times = [];
  for (let i = 0; i < LOADS; i++) {
    const t0 = performance.now();
    await loadTree(store, latest, records);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const sum = (k) => snapshots.reduce((n, s) => n + s[k], 0);
  const restoreRead = chain.reduce((n, r) => n + r.archive.size, 0);
  console.log(
    JSON.stringify(
      {
        options,
        snapshots,
        totals: { archive: sum("archive"), index: sum("index"), stored: sum("archive") + sum("index"), fulls: snapshots.filter((s) => s.kind === "full").length },
        restoreNewest: { chainLength: chain.length, archiveBytes: restoreRead, ofItsFull: +(restoreRead / chain[0].archive.size).toFixed(3) },
        loadNewestMs: +times[Math.floor(times.length / 2)].toFixed(2),
      },
      null,
      1,
    ),
  );
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
