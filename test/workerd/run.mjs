// npm run test:workerd — the workerd suite: test Workers run in Cloudflare's workerd, started
// through Miniflare (the `miniflare` devDependency; workerd's binary comes from its platform
// package, @cloudflare/workerd-<os>-<cpu>, which the `workerd` package resolves without any
// install script).
//   1. Node makes what a Worker cannot: engine fixtures with the real rdiff, and the directory
//      round trip's fingerprint in memory.
//   2. esbuild bundles each test Worker (WORKERS below) with node:test and node:assert/strict
//      mapped to the browser suite's shims, and the library taken from the package as users get
//      it: every import of src/index.js becomes `import "incremental-backups-tools"`, resolved
//      through package.json's exports with the conditions that Worker's bundler would use
//      (wrangler's: workerd, worker, browser). The engine's `.wasm` import stays a module of its
//      own, which Miniflare hands to workerd as "CompiledWasm", compiled ahead of time as wrangler
//      deploys it.
//   3. One Miniflare on 127.0.0.1 runs every Worker; the runner POSTs /run to each. A Worker
//      reports each result through a service binding as it finishes and reads fixtures through
//      another, so no server is needed. Miniflare is disposed of at the end.
// Prints a node:test-like report with counts; exits non-zero if any test failed or none ran.
// A Worker that needs more bindings (an R2 bucket for the R2 store) declares them in its entry
// of WORKERS (for example `r2Buckets: ["BUCKET"]`), and a new test Worker is one more entry.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const wasmFile = join(root, "dist", "src", "rsync", "engine.wasm");
const COMPATIBILITY_DATE = "2025-09-01";

/** The export conditions wrangler bundles a Worker with. */
const WRANGLER_CONDITIONS = ["workerd", "worker", "browser"];

/**
 * The Workers: each a bundle of `entry` (relative to this folder) with the package resolved under
 * `conditions`, and any extra Miniflare worker options (bindings) in `options`. A test Worker has
 * `input`, what its POST /run gets, and the harness's REPORT and FIXTURES bindings; a Worker
 * without it is only served, for test Workers to call through a service binding.
 * "embedded" is bundled without the workerd condition, as a bundler that does not know it would.
 * "example" is examples/worker as a user deploys it; its bucket is the example test's BUCKET too.
 */
const WORKERS = [
  { name: "suite", entry: "suite.worker.ts", conditions: WRANGLER_CONDITIONS, input: (ref) => ({ reference: ref.roundTrip }) },
  { name: "embedded", entry: "embedded.worker.ts", conditions: [], input: () => ({}) },
  { name: "r2", entry: "r2.worker.ts", conditions: WRANGLER_CONDITIONS, input: () => ({}), options: { r2Buckets: ["BUCKET"] } },
  { name: "example", entry: "../../examples/worker/worker.ts", conditions: WRANGLER_CONDITIONS, options: { r2Buckets: { BACKUPS: "example-backups" } } },
  {
    name: "example-test",
    entry: "example.worker.ts",
    conditions: WRANGLER_CONDITIONS,
    input: () => ({}),
    options: { r2Buckets: { BUCKET: "example-backups" }, serviceBindings: { EXAMPLE: "example" } },
  },
];

/** workerd's binary, found as Miniflare finds it (the `workerd` package's main), or why not. */
export function findWorkerd() {
  let path;
  try {
    path = createRequire(join(root, "package.json"))("workerd").default;
  } catch (e) {
    return { missing: `the \`workerd\` package (from the \`miniflare\` devDependency) cannot find its binary: ${e.message.split("\n").find((l) => l.trim())}` };
  }
  return existsSync(path) ? { path } : { missing: `${path} is missing (run npm ci)` };
}

const shims = { "node:test": join(here, "..", "browser", "node-test-shim.ts"), "node:assert/strict": join(here, "..", "browser", "assert-shim.ts") };
const entries = { [join(root, "src", "index")]: "incremental-backups-tools", [join(root, "src", "workerd")]: "incremental-backups-tools/workerd" };

const bundlePlugin = {
  name: "workerd-shims-and-library",
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) => {
      if (shims[args.path]) return { path: shims[args.path] };
      return { errors: [{ text: `${args.path} has no Worker shim (imported by ${args.importer})` }] };
    });
    // Every .wasm import is the engine, a module of its own beside the bundle.
    build.onResolve({ filter: /\.wasm$/ }, () => ({ path: "./engine.wasm", external: true }));
    build.onResolve({ filter: /\/src\// }, async (args) => {
      const entry = entries[resolve(args.resolveDir, args.path).replace(/\.js$/, "")];
      if (!entry) return { errors: [{ text: `${args.path} (from ${args.importer}): a test Worker takes the library only from the package's entries` }] };
      const found = await build.resolve(entry, { kind: args.kind, resolveDir: root });
      return found.errors.length ? { errors: found.errors } : { path: found.path };
    });
  },
};

async function main() {
  const workerd = findWorkerd();
  if (!workerd.path) {
    console.error(`✖ workerd suite: no workerd binary: ${workerd.missing}`);
    return 1;
  }
  if (!existsSync(wasmFile)) {
    console.error(`✖ workerd suite: ${wasmFile} is missing; run npm run build`);
    return 1;
  }
  const esbuild = await import("esbuild");
  const { Miniflare } = await import("miniflare");
  const { execFileSync } = await import("node:child_process");
  console.log(`ℹ ${execFileSync(workerd.path, ["--version"], { encoding: "utf8" }).trim()} (${workerd.path})`);

  const work = mkdtempSync(join(tmpdir(), "ibt-workerd-"));
  const started = performance.now();
  let mf;
  const results = [];
  try {
    const dist = (p) => import(pathToFileURL(join(root, "dist", "test", "shared", p)).href);
    await (await dist("engine-fixtures.js")).makeEngineFixtures(join(work, "engine"));
    const { directoryRoundTrip } = await dist("roundtrip-cases.js");
    const { MemoryFs } = await import(pathToFileURL(join(root, "dist", "src", "index.js")).href);
    const roundTrip = (await directoryRoundTrip({ source: new MemoryFs(), target: new MemoryFs(), store: new MemoryFs() })).fingerprint;
    const reference = { roundTrip };

    const wasm = readFileSync(wasmFile);
    const fixtures = async (request) => {
      const path = decodeURIComponent(new URL(request.url).pathname).slice(1);
      if (path === "engine.wasm") return new Response(wasm);
      const [dir, name, ...rest] = path.split("/");
      if (dir !== "engine" || rest.length || !/^[\w.-]+$/.test(name ?? "") || !existsSync(join(work, "engine", name))) return new Response("", { status: 404 });
      return new Response(readFileSync(join(work, "engine", name)));
    };
    const report = async (request) => {
      const r = await request.json();
      if (r.status === "pass") console.log(`✔ ${r.name} (${Math.round(r.ms)} ms)`);
      else if (r.status === "skip") console.log(`﹣ ${r.name} # SKIP ${r.detail}`);
      else console.log(`✖ ${r.name}\n${indent(r.detail)}`);
      for (const d of r.diagnostics) console.log(`  ℹ ${d}`);
      return new Response("ok");
    };

    const workers = [];
    for (const w of WORKERS) {
      const bundle = await esbuild.build({
        entryPoints: [join(here, w.entry)],
        bundle: true,
        format: "esm",
        platform: "neutral",
        mainFields: ["module", "main"],
        conditions: w.conditions,
        target: "es2022",
        write: false,
        plugins: [bundlePlugin],
        logLevel: "warning",
      });
      workers.push({
        name: w.name,
        compatibilityDate: COMPATIBILITY_DATE,
        modulesRoot: "/worker",
        modules: [
          { type: "ESModule", path: "/worker/worker.js", contents: bundle.outputFiles[0].text },
          { type: "CompiledWasm", path: "/worker/engine.wasm", contents: wasm },
        ],
        ...w.options,
        ...(w.input ? { serviceBindings: { ...w.options?.serviceBindings, REPORT: report, FIXTURES: fixtures } } : {}),
      });
    }
    mf = new Miniflare({ host: "127.0.0.1", port: 0, workers });
    await mf.ready;
    for (const w of WORKERS.filter((w) => w.input)) {
      const worker = await mf.getWorker(w.name);
      const response = await worker.fetch("http://worker/run", { method: "POST", body: JSON.stringify(w.input(reference)) });
      if (!response.ok) throw new Error(`Worker ${w.name}: HTTP ${response.status}: ${await response.text()}`);
      results.push(...(await response.json()));
    }
  } catch (e) {
    console.error(`✖ workerd suite: ${e.errors ? e.errors.map((x) => x.text).join("\n") : (e.stack ?? e)}`);
    results.push({ status: "fail" });
  } finally {
    await mf?.dispose();
    rmSync(work, { recursive: true, force: true });
  }
  const count = (status) => results.filter((r) => r.status === status).length;
  console.log(`ℹ tests ${results.length}`);
  console.log(`ℹ pass ${count("pass")}`);
  console.log(`ℹ fail ${count("fail")}`);
  console.log(`ℹ skipped ${count("skip")}`);
  console.log(`ℹ duration_ms ${(performance.now() - started).toFixed(0)}`);
  return results.length > 0 && count("fail") === 0 ? 0 : 1;
}

function indent(text = "") {
  return text.split("\n").map((l) => `  ${l}`).join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = await main();
