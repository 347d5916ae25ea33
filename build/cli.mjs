// The command-line build, bundled by esbuild from the same TypeScript sources as dist/src, with
// fflate and ignore inside:
//   dist/cli/ibt.cjs        the file `bin.ibt` names: a starter (src/cli/start.ts) that runs
//   dist/cli/ibt-main.cjs   the command line (src/cli/main.ts and all it uses),
//   dist/cli/ibt-main.cache from V8's code cache, made here by one training run (code-cache.mjs).
//
// Why one bundle: a run of `ibt` is short, and Node's ES module loader costs about 1.5 ms per
// module here; the CLI's graph is 40 modules plus two packages, 100–140 ms of a backup step
// that rsync finishes in 0.6 s. One file loads in a fraction of that (bench/dirs.mjs measures the
// whole step). The library entries stay unbundled modules for callers that bundle themselves.
// CommonJS, not an ES module: Node starts a CommonJS main file without its ES module loader,
// and `ibt --version` went from 129.8 to 121.6 ms (perf stat, 30 runs each; `node -e 0` is
// about 100 ms here). The sources use no top-level await and no import.meta, so nothing else
// changes.
//   node build/cli.mjs          builds, trains the cache and prints the size
import { chmodSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { trainCodeCache } from "./code-cache.mjs";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const cliPath = join(root, "dist", "cli", "ibt.cjs");
export const mainPath = join(root, "dist", "cli", "ibt-main.cjs");

const common = {
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  // Names are kept so that an INTERNAL error's stack still reads; whitespace and syntax are
  // minified, which is what makes parsing cheaper.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: true,
  legalComments: "eof",
  // fflate's Node build loads worker_threads (and, through it, perf and messaging modules) at
  // start for its asynchronous API, which ibt does not use: about 7 ms of every run. Its
  // browser build is the same synchronous code without that.
  alias: { fflate: "fflate/browser" },
  logLevel: "silent",
};

/** Builds the command line (ibt-main.cjs), its starter (ibt.cjs) and the starter's code cache. */
export async function buildCli() {
  await esbuild.build({ ...common, entryPoints: [join(root, "src", "cli", "main.ts")], outfile: mainPath });
  await esbuild.build({ ...common, entryPoints: [join(root, "src", "cli", "start.ts")], outfile: cliPath });
  chmodSync(cliPath, 0o755);
  const cache = trainCodeCache(cliPath);
  return { size: statSync(mainPath).size + statSync(cliPath).size, cache };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { size, cache } = await buildCli();
  console.log(`dist/cli/ibt.cjs + ibt-main.cjs: ${(size / 1024) | 0} KiB; code cache ${cache}`);
}
