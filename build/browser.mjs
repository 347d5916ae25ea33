// The browser build: one ESM file, dist/browser/incremental-backups-tools.js (minified, with a
// source map), bundled by esbuild from the same TypeScript sources as dist/src, starting at the
// runtime-neutral entry src/index.ts. The browser test suite and the web example import it.
//
// A Node-only API must never reach it, so the bundle is made for platform "browser" with every
// Node built-in refused by name (a `node:` import, or a bare "fs", "buffer", ... that esbuild
// would otherwise try to resolve from node_modules), and `check` scans the output for what
// would only work under Node. The test suite calls both (test/browser-bundle.test.ts).
//   node build/browser.mjs          builds, checks, prints the size
import { builtinModules } from "node:module";
import { readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const bundlePath = join(root, "dist", "browser", "incremental-backups-tools.js");

const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** An esbuild plugin that fails the build on any import of a Node built-in. */
export const noNodeBuiltins = {
  name: "no-node-builtins",
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => {
      const bare = args.path.split("/")[0];
      if (!args.path.startsWith("node:") && !builtins.has(args.path) && !builtins.has(bare)) return undefined;
      return { errors: [{ text: `Node built-in "${args.path}" imported by ${args.importer || "the entry"}: the browser build takes none` }] };
    });
  },
};

/** The esbuild options for a browser bundle of `entry` (the package's core entry by default). */
export function browserOptions(entry = join(root, "src", "index.ts"), outfile = bundlePath) {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    sourcemap: true,
    legalComments: "eof",
    // The `ignore` package switches to Windows paths when `process.platform` is "win32", behind
    // a `typeof process` guard; a browser has no process, so the branch is dead there. Saying so
    // at build time removes the only `process.` the bundle would hold, so the scan stays strict.
    define: { "process.platform": JSON.stringify("browser") },
    plugins: [noNodeBuiltins],
    logLevel: "silent",
  };
}

/** Things in bundled code that only Node provides; each is a pattern and what it means. */
export const NODE_ONLY = [
  [/\bnode:[a-z_/]+/, "a node: import"],
  [/\brequire\s*\(/, "require()"],
  [/\bprocess\s*\.\s*[a-zA-Z_$]/, "the process global"],
  [/\bBuffer\b/, "Buffer"],
  [/\b__dirname\b|\b__filename\b/, "__dirname / __filename"],
  [/\bglobal\s*\./, "the global object by its Node name"],
  [/\bsetImmediate\b/, "setImmediate"],
];

/** The Node-only uses found in bundled code, as "what: excerpt" lines (empty when clean). */
export function check(text) {
  const found = [];
  for (const [pattern, what] of NODE_ONLY) {
    const m = pattern.exec(text);
    if (m) found.push(`${what}: …${text.slice(Math.max(0, m.index - 40), m.index + 40)}…`);
  }
  return found;
}

export async function buildBrowser() {
  await esbuild.build(browserOptions());
  const found = check(readFileSync(bundlePath, "utf8"));
  if (found.length) throw new Error(`the browser bundle uses Node-only APIs:\n${found.join("\n")}`);
  return statSync(bundlePath).size;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const size = await buildBrowser();
    console.log(`browser bundle: ${bundlePath.slice(root.length + 1)} ${(size / 1024).toFixed(1)} KiB`);
  } catch (e) {
    console.error(e.errors ? e.errors.map((x) => x.text).join("\n") : e.message);
    process.exit(1);
  }
}
