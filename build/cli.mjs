// The command-line build: what `bin.ibt` names and what it runs.
//   dist/cli/ibt.cjs       the executable, copied from src/cli/ibt.cjs: it turns on Node's
//                          compile cache and requires
//   dist/cli/ibt-main.cjs  the command line (src/cli/main.ts and all it uses), bundled by esbuild
//                          from the same TypeScript sources as dist/src, fflate and ignore inside.
//
// One bundle because a run of `ibt` is short and Node's module loader pays per module: one file
// loads far faster than the CLI's forty modules and two packages. CommonJS because Node starts a
// CommonJS main file without its ES module loader; the sources use no top-level await and no
// import.meta, so nothing else changes. The library entries stay unbundled modules for callers
// that bundle themselves.
//   node build/cli.mjs          builds and prints the size
import { chmodSync, copyFileSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const cliPath = join(root, "dist", "cli", "ibt.cjs");
export const mainPath = join(root, "dist", "cli", "ibt-main.cjs");

/** Builds the command line (ibt-main.cjs) and the executable that runs it (ibt.cjs). */
export async function buildCli() {
  // A fresh folder: nothing from an earlier build's layout is shipped with this one.
  rmSync(dirname(cliPath), { recursive: true, force: true });
  await esbuild.build({
    entryPoints: [join(root, "src", "cli", "main.ts")],
    outfile: mainPath,
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
    // fflate's Node build loads worker_threads at start for its asynchronous API, which ibt does
    // not use; its browser build is the same synchronous code without that.
    alias: { fflate: "fflate/browser" },
    logLevel: "silent",
  });
  copyFileSync(join(root, "src", "cli", "ibt.cjs"), cliPath);
  chmodSync(cliPath, 0o755);
  return statSync(mainPath).size + statSync(cliPath).size;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const size = await buildCli();
  console.log(`dist/cli/ibt.cjs + ibt-main.cjs: ${(size / 1024) | 0} KiB`);
}
