/**
 * The installed command line: the starter bin.ibt names (dist/cli/ibt.cjs), the bundle it runs
 * (ibt-main.cjs) and the code cache beside it. A cache must speed a run up or be ignored, never
 * run code other than the bundle's.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join } from "node:path";
import { IBT, tempDir } from "../support/helpers.js";

const CLI_DIR = dirname(IBT);
const FILES = ["ibt.cjs", "ibt-main.cjs", "ibt-main.cache"];

function run(starter: string, args: string[]) {
  const r = spawnSync(process.execPath, [starter, ...args], { encoding: "utf8", env: { ...process.env, IBT_CODE_CACHE: "report" } });
  return { status: r.status, stdout: r.stdout, cache: /ibt: code cache (\w+)/.exec(r.stderr)?.[1], stderr: r.stderr };
}

/** A copy of the installed CLI files in a directory of their own. */
function copyCli(): string {
  const dir = tempDir();
  for (const f of FILES) copyFileSync(join(CLI_DIR, f), join(dir, f));
  return dir;
}

test("the installed ibt runs by itself and requires nothing but Node's built-ins", () => {
  const r = spawnSync(IBT, ["--version"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^ibt \d+\.\d+\.\d+/);
  const builtin = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
  for (const file of ["ibt.cjs", "ibt-main.cjs"]) {
    const text = readFileSync(join(CLI_DIR, file), "utf8");
    assert.ok(text.startsWith("#!/usr/bin/env node\n"), file);
    // CommonJS bundles: fflate, ignore and every module of ours are inside, nothing is imported.
    const imports = [...text.matchAll(/\brequire\(\s*"([^"]+)"\s*\)|\bimport\s*[\w$*{},\s]*?\s*from\s*"([^"]+)"|\bimport\s*\(\s*"([^"]+)"\s*\)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
    assert.ok(imports.includes(file === "ibt.cjs" ? "node:vm" : "node:zlib"), `${file}: the scan finds the requires: ${imports.join(", ")}`);
    assert.deepEqual(imports.filter((s) => !builtin.has(s)), [], file);
  }
});

// The build makes the cache for npm's Node (build/code-cache.mjs); another Node (the Node 24 run
// of this suite) has another V8, which must refuse it, as the test below checks.
const otherNode = process.env.npm_node_execpath !== undefined && process.execPath !== process.env.npm_node_execpath;

test("the build's code cache is the one V8 takes for the built bundle", { skip: otherNode && `the cache is made for ${process.env.npm_node_execpath}, not this Node` }, () => {
  const r = run(IBT, ["--version"]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.cache, "used");
});

test("a bundle changed after the cache was made runs its own code: the cache is stale", () => {
  const dir = copyCli();
  const main = join(dir, "ibt-main.cjs");
  const text = readFileSync(main, "utf8");
  const version = (JSON.parse(readFileSync(join(CLI_DIR, "..", "..", "package.json"), "utf8")) as { version: string }).version;
  assert.equal(text.split(`"${version}"`).length, 2, "the bundle holds its version string once");
  // Same length, so V8's own check (the source length) would take the old bytecode.
  const changed = text.replace(`"${version}"`, `"${"9".repeat(version.length - 4)}.9.9"`);
  assert.equal(changed.length, text.length);
  writeFileSync(main, changed);
  const r = run(join(dir, "ibt.cjs"), ["--version"]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.cache, "stale");
  assert.match(r.stdout, /^ibt 9+\.9\.9 /);
});

test("a damaged or missing cache is ignored and the command still runs, with the right output", () => {
  const dir = copyCli();
  const cache = join(dir, "ibt-main.cache");
  const good = readFileSync(cache);
  const signature = (starter: string) => spawnSync(process.execPath, [starter, "signature", "-"], { input: new Uint8Array(3000).fill(7), env: { ...process.env, IBT_CODE_CACHE: "report" } });
  const expected = signature(join(CLI_DIR, "ibt.cjs")).stdout;
  // Damage inside V8's data (not its magic number, which V8 checks itself), in several places,
  // as a disk or a copy could: the header still names the bundle, the data's own CRC does not match.
  for (const at of [0.1, 0.5, 0.9]) {
    const bytes = Buffer.from(good);
    const i = 16 + Math.floor((bytes.length - 16) * at);
    for (let k = i; k < i + 64; k++) bytes[k] ^= 0x5a;
    writeFileSync(cache, bytes);
    const r = signature(join(dir, "ibt.cjs"));
    assert.equal(r.status, 0, r.stderr.toString());
    assert.match(r.stderr.toString(), /ibt: code cache damaged/);
    assert.deepEqual(r.stdout, expected, `damage at ${at}: the same signature as the installed ibt`);
  }

  writeFileSync(cache, good.subarray(0, 5));
  assert.equal(run(join(dir, "ibt.cjs"), ["--version"]).cache, "stale");

  rmSync(cache);
  const missing = run(join(dir, "ibt.cjs"), ["--help"]);
  assert.equal(missing.status, 0, missing.stderr);
  assert.equal(missing.cache, "missing");
  assert.match(missing.stdout, /ibt \[OPTIONS\] signature/);
});

test("a cache V8 refuses (made under other flags) is rejected by V8, and the command still runs", () => {
  const dir = copyCli();
  const r = spawnSync(process.execPath, ["--stack-size=900", join(dir, "ibt.cjs"), "--version"], { encoding: "utf8", env: { ...process.env, IBT_CODE_CACHE: "report" } });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /ibt: code cache rejected/);
  assert.match(r.stdout, /^ibt \d+\.\d+\.\d+/);
});
