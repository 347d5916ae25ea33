// The code cache of the command line (dist/cli/ibt-main.cache; src/cli/start.ts reads it): made
// by one `ibt diff --index` over a small generated tree, the step a backup runs most, so that
// what V8 compiles for it is what the cache holds. Only the diff trains it: V8 keeps a cache
// only under the flags it was made with, and the diff of a small tree is a command that leaves
// the starter's V8 flags as they were (see src/cli/v8-tuning.ts).
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync, appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Deterministic bytes: a training tree is the same at every build. */
function bytes(seed, n) {
  const out = new Uint8Array(n);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    // Text-like: compressible, as most backed-up files are.
    out[i] = 97 + ((x >>> 16) % 20);
  }
  return out;
}

function makeTree(dir) {
  for (let d = 0; d < 10; d++) {
    mkdirSync(join(dir, `d${d}`), { recursive: true });
    for (let f = 0; f < 30; f++) writeFileSync(join(dir, `d${d}`, `f${f}.txt`), bytes(d * 100 + f, (f * 997) % 12000));
  }
  for (let b = 0; b < 4; b++) writeFileSync(join(dir, `big${b}.bin`), bytes(5000 + b, 300_000));
}

function changeTree(dir) {
  for (let b = 0; b < 4; b++) appendFileSync(join(dir, `big${b}.bin`), bytes(7000 + b, 100));
  for (let f = 0; f < 10; f++) writeFileSync(join(dir, "d1", `f${f}.txt`), bytes(9000 + f, 3000));
  for (let f = 0; f < 20; f++) writeFileSync(join(dir, "d2", `new${f}.txt`), bytes(9100 + f, 2000));
  for (let f = 0; f < 10; f++) rmSync(join(dir, "d3", `f${f}.txt`));
  renameSync(join(dir, "d4"), join(dir, "d4-moved"));
  for (let f = 0; f < 5; f++) chmodSync(join(dir, "d5", `f${f}.txt`), 0o600);
}

/**
 * The Node the cache is made for: V8 takes a cache only from its own version. Under npm that is
 * npm's own Node, the machine's, even where node_modules/.bin/node (the Node 24 the test matrix
 * installs) is the `node` that npm scripts run.
 */
export const cacheNode = process.env.npm_node_execpath || process.execPath;

function ibt(cli, args, env = {}) {
  // Without NODE_OPTIONS: V8 keeps a cache only under the flags it was made with, so one made
  // under extra flags would be refused by every run of the installed ibt.
  const { NODE_OPTIONS: _ignored, ...inherited } = process.env;
  const r = spawnSync(cacheNode, [cli, ...args], { encoding: "utf8", env: { ...inherited, ...env } });
  if (r.status !== 0) throw new Error(`ibt ${args.join(" ")} failed: ${r.stderr}`);
  return r;
}

/**
 * Trains the cache beside `cli` and returns what a run then makes of it ("used" when V8 takes
 * it). A cache V8 would not take is removed rather than shipped.
 */
export function trainCodeCache(cli) {
  const cacheFile = join(cli, "..", "ibt-main.cache");
  rmSync(cacheFile, { force: true });
  const work = mkdtempSync(join(tmpdir(), "ibt-code-cache-"));
  try {
    const tree = join(work, "tree");
    makeTree(tree);
    ibt(cli, ["index", tree, join(work, "old.idx")]);
    changeTree(tree);
    ibt(cli, ["diff", tree, join(work, "old.idx"), join(work, "out.zip"), "--index", join(work, "new.idx")], { IBT_CODE_CACHE: "write" });
    const state = /code cache (\w+)/.exec(ibt(cli, ["--version"], { IBT_CODE_CACHE: "report" }).stderr)?.[1] ?? "unknown";
    if (state !== "used") rmSync(cacheFile, { force: true });
    return state;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
