// The browser bundle (build/browser.mjs → dist/browser/): no Node-only API reaches it. Three
// guards, each tested here: the build refuses Node built-ins, the scan finds Node-only code in
// text, and the bundle on disk passes the scan and exports the same API as the package's entry.
// The browser suite (test/browser/run.mjs) then loads it in Chromium.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { ROOT, tempDir } from "../support/helpers.js";

interface BrowserBuild {
  bundlePath: string;
  browserOptions(entry?: string, outfile?: string): object;
  check(text: string): string[];
}
const build = (await import(pathToFileURL(join(ROOT, "build", "browser.mjs")).href)) as BrowserBuild;
const esbuild = (await import("esbuild")) as { build(options: object): Promise<unknown> };

test("the bundle on disk has no Node-only API in it, and its size is reported", (t) => {
  const text = readFileSync(build.bundlePath, "utf8");
  assert.deepEqual(build.check(text), []);
  const size = statSync(build.bundlePath).size;
  t.diagnostic(`dist/browser/incremental-backups-tools.js: ${size} bytes, ${gzipSync(text).length} gzipped`);
  assert.ok(text.includes("sourceMappingURL=incremental-backups-tools.js.map"), "has a source map");
});

test("the scan finds each kind of Node-only code", () => {
  const samples = [
    'import{readFile}from"node:fs";',
    'const fs=require("fs");',
    "if(process.env.X)f();",
    "Buffer.from(x)",
    "join(__dirname,'x')",
    "global.setTimeout(f)",
    "setImmediate(f)",
  ];
  for (const s of samples) assert.equal(build.check(s).length, 1, s);
  assert.deepEqual(build.check("globalThis.crypto;typeof process;const buffered=1;"), []);
});

test("the build refuses a Node built-in, by node: name or bare, and the Node adapter", async () => {
  const dir = mkdtempSync(join(tempDir(), "entry-"));
  const entries: [string, string][] = [
    ["node-prefix.ts", 'import { readFile } from "node:fs/promises"; export const f = readFile;'],
    ["bare.ts", 'import { Buffer } from "buffer"; export const b = Buffer;'],
    ["node-adapter.ts", `export { NodeFs } from ${JSON.stringify(join(ROOT, "src", "node", "index.ts"))};`],
  ];
  for (const [name, source] of entries) {
    writeFileSync(join(dir, name), source);
    await assert.rejects(
      esbuild.build(build.browserOptions(join(dir, name), join(dir, `${name}.js`))),
      (e: { errors?: { text: string }[] }) => (e.errors ?? []).some((x) => /Node built-in .* the browser build takes none/.test(x.text)),
      name,
    );
  }
  rmSync(dir, { recursive: true });
});

test("the bundle exports what the package's entry exports", async () => {
  const bundle = (await import(pathToFileURL(build.bundlePath).href)) as Record<string, unknown>;
  const entry = (await import(pathToFileURL(join(ROOT, "dist", "src", "index.js")).href)) as Record<string, unknown>;
  assert.deepEqual(Object.keys(bundle).sort(), Object.keys(entry).sort());
  const { signatureOf, MAGIC_RABINKARP_BLAKE2 } = bundle as { signatureOf(d: Uint8Array): Promise<Uint8Array>; MAGIC_RABINKARP_BLAKE2: number };
  const sig = await signatureOf(new Uint8Array(1000));
  assert.equal(new DataView(sig.buffer, sig.byteOffset).getUint32(0), MAGIC_RABINKARP_BLAKE2);
});
