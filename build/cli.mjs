// The command-line build: dist/cli/ibt.cjs, the file `bin.ibt` names, bundled by esbuild from the
// same TypeScript sources as dist/src, with fflate and ignore inside it.
//
// Why one file: a run of `ibt` is short, and Node's ES module loader costs about 1.5 ms per
// module here; the CLI's graph is 40 modules plus two packages, 100–140 ms of a backup step
// that rsync finishes in 0.6 s. One file loads in a fraction of that (bench/dirs.mjs measures the
// whole step). The library entries stay unbundled modules for callers that bundle themselves.
// CommonJS, not an ES module: Node starts a CommonJS main file without its ES module loader,
// and `ibt --version` went from 129.8 to 121.6 ms (perf stat, 30 runs each; `node -e 0` is
// about 100 ms here). The sources use no top-level await and no import.meta, so nothing else
// changes.
//   node build/cli.mjs          builds and prints the size
import { chmodSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const cliPath = join(root, "dist", "cli", "ibt.cjs");

export async function buildCli() {
  await esbuild.build({
    entryPoints: [join(root, "src", "cli", "main.ts")],
    outfile: cliPath,
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
  });
  chmodSync(cliPath, 0o755);
  return statSync(cliPath).size;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(`dist/cli/ibt.cjs: ${(await buildCli()) / 1024 | 0} KiB`);
}
