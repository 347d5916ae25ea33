#!/usr/bin/env node
/**
 * bench/peers-chain.mjs: chain policies compared on real release series, offline.
 *
 *   node bench/peers-chain.mjs [--series ramda,prettier,...] [--json FILE]
 *
 * An incremental is always made against the snapshot before it, whatever that snapshot's kind,
 * so what each version costs as a full (F_i: its archive and whole index) and as an incremental
 * (I_i: archive and index delta) does not depend on the policy. The script backs each series up
 * twice with the built library (every snapshot full; every snapshot incremental), each version
 * synced into one folder as bench:peers does it, then replays policies on those costs: stored
 * bytes (archives + indexes) and restore work (archive bytes a restore of each snapshot reads,
 * against its full's archive). Series are npm releases cached in bench/data/peers/ by
 * bench/peers.mjs (fetched with `npm pack` when missing).
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { FsStore, Repository } from "../dist/src/index.js";
import { NodeFs, nodeRepositoryOptions } from "../dist/src/node/index.js";
import { loadRecords } from "../dist/src/repo/snapshot.js";

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const DATA = path.join(BENCH, "data", "peers");

export const CHAIN_SERIES = {
  ramda: ["0.27.0", "0.27.1", "0.27.2", "0.28.0", "0.29.0", "0.29.1", "0.30.0", "0.30.1"],
  prettier: ["3.3.0", "3.3.1", "3.3.2", "3.3.3", "3.4.0", "3.4.1", "3.4.2"],
  "prettier-3.2": ["3.2.0", "3.2.1", "3.2.2", "3.2.3", "3.2.4", "3.2.5", "3.3.0"],
  lodash: ["4.17.15", "4.17.16", "4.17.17", "4.17.18", "4.17.19", "4.17.20", "4.17.21"],
  "core-js": ["3.37.0", "3.37.1", "3.38.0", "3.38.1", "3.39.0", "3.40.0", "3.41.0"],
  eslint: ["9.0.0", "9.1.0", "9.1.1", "9.2.0", "9.3.0", "9.4.0", "9.5.0", "9.6.0", "9.7.0", "9.8.0", "9.9.0", "9.9.1", "9.10.0", "9.11.0", "9.11.1", "9.12.0", "9.13.0", "9.14.0", "9.15.0", "9.16.0"],
};

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 26, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

function versionTree(name, version) {
  const pkg = name.replace(/-\d.*$/, "");
  const dir = path.join(DATA, `${pkg}-${version}`);
  const tree = path.join(dir, "package");
  if (fs.existsSync(path.join(dir, ".complete"))) return tree;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const packed = JSON.parse(run("npm", ["pack", `${pkg}@${version}`, "--json", "--pack-destination", dir], { cwd: dir }));
  const unpacked = path.join(dir, "unpacked");
  fs.mkdirSync(unpacked);
  run("tar", ["xzf", path.join(dir, packed[0].filename), "-C", unpacked, "--no-same-owner"]);
  fs.renameSync(path.join(unpacked, fs.readdirSync(unpacked)[0]), tree);
  fs.rmSync(unpacked, { recursive: true });
  fs.writeFileSync(path.join(dir, ".complete"), `${pkg}@${version}\n`);
  return tree;
}

/** Backs every version up in turn; `full` makes every snapshot full, else all are incremental. */
async function costs(trees, full, work) {
  const src = path.join(work, "src");
  const repoDir = path.join(work, full ? "full" : "inc");
  fs.rmSync(repoDir, { recursive: true, force: true });
  fs.rmSync(src, { recursive: true, force: true });
  fs.mkdirSync(src, { recursive: true });
  fs.mkdirSync(repoDir, { recursive: true });
  const store = new FsStore(new NodeFs(repoDir));
  const repo = await Repository.init(store, nodeRepositoryOptions({ fullShare: Infinity, maxChain: 1e6, fullIndexEvery: 1e6 }));
  const ids = [];
  for (const t of trees) {
    run("rsync", ["-a", "--delete", "--checksum", "--no-times", `${t}/`, `${src}/`]);
    ids.push((await repo.backup(new NodeFs(src), { full })).id);
  }
  const byId = new Map((await loadRecords(store)).records.map((r) => [r.id, r]));
  return ids.map((id) => ({ archive: byId.get(id).archive.size, index: byId.get(id).index.size }));
}

/**
 * Replays a policy. `decide(chain, i)` sees the chain so far (its full's archive F, the sum C of
 * its incrementals' archives, its length) and the version's costs, and says "full" or "incremental".
 */
function replay(F, I, decide, fullIndexEvery = 8) {
  let stored = 0;
  let chain = null;
  const kinds = [];
  const work = [];
  let sinceWholeIndex = 0;
  for (let i = 0; i < F.length; i++) {
    const full = i === 0 || decide(chain, F[i], I[i]) === "full";
    if (full) {
      chain = { F: F[i].archive, C: 0, length: 1 };
      stored += F[i].archive + F[i].index;
      sinceWholeIndex = 0;
    } else {
      chain.C += I[i].archive;
      chain.length++;
      sinceWholeIndex++;
      const whole = sinceWholeIndex >= fullIndexEvery || I[i].index >= F[i].index;
      if (whole) sinceWholeIndex = 0;
      stored += I[i].archive + (whole ? F[i].index : I[i].index);
    }
    kinds.push(full ? "F" : "i");
    work.push((chain.F + chain.C) / chain.F);
  }
  return { stored, kinds: kinds.join(""), maxWork: Math.max(...work), newestWork: work.at(-1), meanWork: work.reduce((a, b) => a + b, 0) / work.length };
}

export const POLICIES = [
  { name: "one chain", decide: () => "incremental" },
  ...[0.5, 1, 2].map((s) => ({ name: `before: C > ${s}F`, decide: (c) => (c.C > s * c.F ? "full" : "incremental") })),
  ...[0.5, 1, 1.5, 2, 3, 4].flatMap((s) =>
    [1, 0.8].map((lambda) => ({
      name: `after: C+I > ${s}F or I > ${lambda}F'`,
      decide: (c, f, inc) => (c.C + inc.archive > s * c.F || inc.archive > lambda * f.archive ? "full" : "incremental"),
    })),
  ),
];

async function main() {
  const argv = process.argv.slice(2);
  const pick = argv.includes("--series") ? argv[argv.indexOf("--series") + 1].split(",") : Object.keys(CHAIN_SERIES);
  const jsonOut = argv.includes("--json") ? argv[argv.indexOf("--json") + 1] : null;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "ibt-peers-chain-"));
  const measured = {};
  try {
    for (const name of pick) {
      const trees = CHAIN_SERIES[name].map((v) => versionTree(name, v));
      const F = await costs(trees, true, work);
      const I = await costs(trees, false, work);
      I[0] = F[0];
      measured[name] = { F, I };
      process.stderr.write(`${name}: measured\n`);
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(measured, null, 1));
  const kb = (n) => (n / 1000).toFixed(0);
  for (const [name, { F, I }] of Object.entries(measured)) {
    console.log(`\n${name}: per version, KB: full archive+index / incremental archive+index`);
    console.log(F.map((f, i) => `${kb(f.archive)}+${kb(f.index)} / ${kb(I[i].archive)}+${kb(I[i].index)}`).join(", "));
  }
  console.log("\n| policy | " + Object.keys(measured).map((n) => `${n} KB (kinds; max / newest restore work)`).join(" | ") + " | sum KB |");
  console.log("|---|" + Object.keys(measured).map(() => "---|").join("") + "---|");
  for (const p of POLICIES) {
    let sum = 0;
    const cells = Object.values(measured).map(({ F, I }) => {
      const r = replay(F, I, p.decide);
      sum += r.stored;
      return `${kb(r.stored)} (${r.kinds}; ${r.maxWork.toFixed(2)} / ${r.newestWork.toFixed(2)})`;
    });
    console.log(`| ${p.name} | ${cells.join(" | ")} | ${kb(sum)} |`);
  }
}

main().catch((e) => {
  console.error(e.stack ?? String(e));
  process.exitCode = 1;
});
