// Runs the FsAdapter conformance suite against HandleFs on OPFS in headless Chromium:
// bundles test/browser/fs-handle.browser.ts with esbuild (node:test and node:assert/strict
// mapped to the shims beside it), serves it from http://127.0.0.1 (OPFS needs a secure
// context), runs it through playwright-core with the system Chromium (never a downloaded one),
// prints a node:test-like report and exits non-zero on failure.
//   CHROMIUM=/path/to/chromium node test/browser/run-fs.mjs
import { createServer } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { existsSync } from "node:fs";
import * as esbuild from "esbuild";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
if (!existsSync(executablePath)) {
  console.error(`no Chromium at ${executablePath} (set CHROMIUM=...; apt-get install chromium)`);
  process.exit(2);
}

const shims = {
  name: "node-shims",
  setup(build) {
    const map = { "node:test": "node-test-shim.ts", "node:assert/strict": "assert-shim.ts" };
    build.onResolve({ filter: /^node:/ }, (args) => {
      const file = map[args.path];
      if (!file) return { errors: [{ text: `${args.path} has no browser shim (imported by ${args.importer})` }] };
      return { path: join(here, file) };
    });
  },
};

const bundle = await esbuild.build({
  entryPoints: [join(here, "fs-handle.browser.ts")],
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  sourcemap: "inline",
  write: false,
  plugins: [shims],
  logLevel: "warning",
});
const script = bundle.outputFiles[0].text;
const page = `<!doctype html><meta charset="utf-8"><title>ibt fs conformance</title><script type="module" src="/suite.js"></script>`;

const server = createServer((req, res) => {
  if (req.url === "/") res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(page);
  else if (req.url === "/suite.js") res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" }).end(script);
  else res.writeHead(404).end();
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const url = `http://127.0.0.1:${server.address().port}/`;

const browser = await chromium.launch({
  executablePath,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
});
let results = [];
const started = performance.now();
try {
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
  await tab.waitForFunction(() => typeof globalThis.ibtRun === "function", null, { timeout: 30_000 });
  console.log(`ℹ ${await tab.evaluate(() => navigator.userAgent)}`);
  results = await tab.evaluate(() => globalThis.ibtRun((r) => globalThis.ibtReport(r)));
} finally {
  await browser.close();
  server.close();
}

function indent(text = "") {
  return text.split("\n").map((l) => `  ${l}`).join("\n");
}

const count = (status) => results.filter((r) => r.status === status).length;
console.log(`ℹ tests ${results.length}`);
console.log(`ℹ pass ${count("pass")}`);
console.log(`ℹ fail ${count("fail")}`);
console.log(`ℹ skipped ${count("skip")}`);
console.log(`ℹ duration_ms ${(performance.now() - started).toFixed(0)}`);
process.exit(results.length > 0 && count("fail") === 0 ? 0 : 1);
