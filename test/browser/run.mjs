// npm run test:browser — the browser suite in headless Chromium (the system's, found by
// chromium.mjs; never a downloaded one), driven by playwright-core:
//   1. Node makes what the page cannot: engine fixtures with the real rdiff, and the directory
//      round trip's fingerprint in memory.
//   2. esbuild bundles the page suite (suite.browser.ts) with node:test and node:assert/strict
//      mapped to the shims beside this file, and with the library left out: every import of
//      src/index becomes /lib/incremental-backups-tools.js, the browser build in dist/browser,
//      so the page tests what users load. Any other import of src/ fails the bundle.
//   3. A server on 127.0.0.1 (a secure context, which OPFS needs) serves the page, the two
//      scripts and the fixtures; the page runs every test and reports each one here.
// Prints a node:test-like report with counts; exits non-zero if any test failed or none ran.
// Without Chromium it prints one line and exits 0, or 1 with IBT_REQUIRE_BROWSER=1.
import { createServer } from "node:http";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { findChromium, skipLine } from "./chromium.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const LIB = "/lib/incremental-backups-tools.js";
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"];

const chromiumFound = findChromium();
if (!chromiumFound.path) {
  const line = skipLine(chromiumFound.missing);
  (line.startsWith("✖") ? console.error : console.log)(line);
  process.exit(line.startsWith("✖") ? 1 : 0);
}
const bundleFile = join(root, "dist", "browser", "incremental-backups-tools.js");
if (!existsSync(bundleFile)) {
  console.error(`✖ browser suite: ${bundleFile} is missing; run npm run build`);
  process.exit(1);
}

const esbuild = await import("esbuild");
const { chromium } = await import("playwright-core");

const shims = {
  name: "node-shims-and-library",
  setup(build) {
    const map = { "node:test": "node-test-shim.ts", "node:assert/strict": "assert-shim.ts" };
    build.onResolve({ filter: /^node:/ }, (args) => {
      const file = map[args.path];
      if (!file) return { errors: [{ text: `${args.path} has no browser shim (imported by ${args.importer})` }] };
      return { path: join(here, file) };
    });
    build.onResolve({ filter: /\/src\// }, (args) => {
      const target = resolve(args.resolveDir, args.path).replace(/\.js$/, "");
      if (target === join(root, "src", "index")) return { path: LIB, external: true };
      return { errors: [{ text: `${args.path} (from ${args.importer}): the browser suite takes the library only from its entry, src/index.js` }] };
    });
  },
};

const work = mkdtempSync(join(tmpdir(), "ibt-browser-"));
let results = [];
let exitCode = 1;
const started = performance.now();
let server;
let browser;
try {
  const dist = (p) => import(pathToFileURL(join(root, "dist", "test", "shared", p)).href);
  await (await dist("engine-fixtures.js")).makeEngineFixtures(join(work, "engine"));
  const { directoryRoundTrip } = await dist("roundtrip-cases.js");
  const { MemoryFs } = await import(pathToFileURL(join(root, "dist", "src", "index.js")).href);
  const fingerprint = async (manyFiles) =>
    (await directoryRoundTrip({ source: new MemoryFs(), target: new MemoryFs(), store: new MemoryFs(), manyFiles })).fingerprint;
  const OPFS_MANY_FILES = 300; // OPFS writes about 50 files a second: the full 2000 would take minutes
  const reference = { full: await fingerprint(), opfs: { manyFiles: OPFS_MANY_FILES, fingerprint: await fingerprint(OPFS_MANY_FILES) } };

  const bundle = await esbuild.build({
    entryPoints: [join(here, "suite.browser.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    sourcemap: "inline",
    write: false,
    plugins: [shims],
    logLevel: "warning",
  });
  const files = new Map([
    ["/", ["text/html; charset=utf-8", `<!doctype html><meta charset="utf-8"><title>ibt browser suite</title><script type="module" src="/suite.js"></script>`]],
    ["/suite.js", ["text/javascript; charset=utf-8", bundle.outputFiles[0].text]],
    [LIB, ["text/javascript; charset=utf-8", readFileSync(bundleFile)]],
    [`${LIB}.map`, ["application/json", readFileSync(`${bundleFile}.map`)]],
  ]);
  server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    const known = files.get(path);
    if (known) return res.writeHead(200, { "content-type": known[0] }).end(known[1]);
    const name = path.startsWith("/fixtures/engine/") ? path.slice("/fixtures/engine/".length) : "";
    if (/^[\w.-]+$/.test(name) && existsSync(join(work, "engine", name))) {
      return res.writeHead(200, { "content-type": "application/octet-stream" }).end(readFileSync(join(work, "engine", name)));
    }
    res.writeHead(404).end();
  });
  await new Promise((done) => server.listen(0, "127.0.0.1", done));
  const url = `http://127.0.0.1:${server.address().port}/`;

  browser = await chromium.launch({ executablePath: chromiumFound.path, args: FLAGS });
  const tab = await browser.newPage();
  tab.on("pageerror", (e) => console.error(`page error: ${e.message}`));
  await tab.exposeFunction("ibtReport", (r) => {
    const ms = `(${r.ms.toFixed(1)}ms)`;
    if (r.status === "pass") console.log(`✔ ${r.name} ${ms}`);
    else if (r.status === "skip") console.log(`﹣ ${r.name} ${ms} # SKIP ${r.detail}`);
    else console.log(`✖ ${r.name} ${ms}\n${indent(r.detail)}`);
    for (const d of r.diagnostics) console.log(`  ℹ ${d}`);
  });
  await tab.goto(url);
  await tab.waitForFunction(() => typeof globalThis.ibtRun === "function", null, { timeout: 60_000 });
  console.log(`ℹ ${await tab.evaluate(() => navigator.userAgent)} (${chromiumFound.path})`);
  results = await tab.evaluate((ref) => globalThis.ibtRun(ref, (r) => globalThis.ibtReport(r)), reference);
  const count = (status) => results.filter((r) => r.status === status).length;
  console.log(`ℹ tests ${results.length}`);
  console.log(`ℹ pass ${count("pass")}`);
  console.log(`ℹ fail ${count("fail")}`);
  console.log(`ℹ skipped ${count("skip")}`);
  console.log(`ℹ duration_ms ${(performance.now() - started).toFixed(0)}`);
  exitCode = results.length > 0 && count("fail") === 0 ? 0 : 1;
} catch (e) {
  console.error(`✖ browser suite: ${e.errors ? e.errors.map((x) => x.text).join("\n") : (e.stack ?? e)}`);
} finally {
  await browser?.close();
  server?.close();
  rmSync(work, { recursive: true, force: true });
}
process.exit(exitCode);

function indent(text = "") {
  return text.split("\n").map((l) => `  ${l}`).join("\n");
}
