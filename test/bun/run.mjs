// npm run test:bun — the Bun suite (dist/test/bun/*.test.js, node:test files run by `bun test`,
// which implements node:test) with the Bun that npm installed from the `bun` package.
//
// Finding Bun: npm 11 may not run the `bun` package's postinstall (it asks for install scripts
// to be approved). That script moves the binary out of the platform package
// (@oven/bun-linux-x64 and the like, an optionalDependency npm always installs) to
// node_modules/bun/bin/bun.exe, which is otherwise a stub that only prints an error. So this
// tries the platform package first, then bun.exe, and takes the first that answers --version;
// IBT_BUN names another binary. Bun is a devDependency, so a missing Bun is a failure, never a
// skip.
//
// Before Bun starts, Node makes the engine fixtures with the real rdiff and the directory round
// trip's fingerprints, in memory and on disk; the Bun tests must match them. Bun gets a fresh
// work folder (IBT_BUN_WORK) and its own cache inside it. Prints Bun's report, then one line with
// the counts (as the Node suite's "ℹ pass N" / "ℹ fail N").
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { arch, platform, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Bun's binary and its version line, or why there is none. */
export function findBun() {
  const candidates = [];
  if (process.env.IBT_BUN) candidates.push(process.env.IBT_BUN);
  else {
    const require = createRequire(join(root, "package.json"));
    let bunPackage;
    try {
      bunPackage = require.resolve("bun/package.json");
    } catch {
      return { missing: "the `bun` devDependency is not installed (run npm ci, or set IBT_BUN)" };
    }
    const os = platform() === "win32" ? "windows" : platform();
    const cpu = arch() === "arm64" ? "aarch64" : arch();
    const exe = platform() === "win32" ? "bun.exe" : "bun";
    for (const suffix of ["", "-musl"]) {
      try {
        const pkg = createRequire(bunPackage).resolve(`@oven/bun-${os}-${cpu}${suffix}/package.json`);
        candidates.push(join(dirname(pkg), "bin", exe));
      } catch {
        // not installed for this platform
      }
    }
    candidates.push(join(dirname(bunPackage), "bin", "bun.exe"));
  }
  for (const path of candidates) {
    if (!existsSync(path)) continue;
    const r = spawnSync(path, ["--version"], { encoding: "utf8" });
    if (r.status === 0) return { path, version: r.stdout.trim() };
  }
  return { missing: `none of ${candidates.join(", ")} runs (the platform package is missing and the postinstall did not run: run npm ci, or set IBT_BUN)` };
}

/** Runs a command, passing its output through as it comes and keeping a copy. */
function runTee(cmd, args, options) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    for (const [from, to] of [[child.stdout, process.stdout], [child.stderr, process.stderr]]) {
      from.on("data", (d) => {
        output += d;
        to.write(d);
      });
    }
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, output }));
  });
}

async function main() {
  const bun = findBun();
  if (!bun.path) {
    console.error(`✖ Bun suite: no Bun binary: ${bun.missing}`);
    return 1;
  }
  console.log(`ℹ Bun ${bun.version} (${bun.path})`);
  const files = readdirSync(join(root, "dist", "test", "bun")).filter((f) => f.endsWith(".test.js")).sort();
  if (!files.length) {
    console.error("✖ Bun suite: no test files in dist/test/bun: run the build first (npm run build:test)");
    return 1;
  }

  const work = mkdtempSync(join(tmpdir(), "ibt-bun-"));
  try {
    const dist = (p) => import(pathToFileURL(join(root, "dist", "test", "shared", p)).href);
    await (await dist("engine-fixtures.js")).makeEngineFixtures(join(work, "engine"));
    const { directoryRoundTrip } = await dist("roundtrip-cases.js");
    const { MemoryFs } = await import(pathToFileURL(join(root, "dist", "src", "index.js")).href);
    const { NodeFs } = await import(pathToFileURL(join(root, "dist", "src", "node", "index.js")).href);
    const memory = await directoryRoundTrip({ source: new MemoryFs(), target: new MemoryFs(), store: new MemoryFs() });
    writeFileSync(join(work, "roundtrip-memory.json"), JSON.stringify(memory.fingerprint));
    const disk = join(work, "node-disk");
    const dirs = ["source", "target", "store"].map((d) => join(disk, d));
    for (const d of dirs) mkdirSync(d, { recursive: true });
    const [source, target, store] = dirs.map((d) => new NodeFs(d));
    const onDisk = await directoryRoundTrip({ source, target, store });
    writeFileSync(join(work, "roundtrip-disk.json"), JSON.stringify(onDisk.fingerprint));
    rmSync(disk, { recursive: true, force: true });

    const r = await runTee(bun.path, ["test", "--timeout", "600000", ...files.map((f) => join(root, "dist", "test", "bun", f))], {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: "1", BUN_INSTALL_CACHE_DIR: join(work, "bun-cache"), TMPDIR: work, IBT_BUN_WORK: work },
    });
    // Bun's summary: " 86 pass", " 0 fail", "Ran 86 tests across 3 files."
    const pass = /^\s*(\d+) pass$/m.exec(r.output)?.[1];
    const fail = /^\s*(\d+) fail$/m.exec(r.output)?.[1];
    if (pass === undefined || fail === undefined) {
      console.error(`✖ Bun suite: no result line from bun test (exit ${r.status})`);
      return 1;
    }
    console.log(`ℹ pass ${pass}`);
    console.log(`ℹ fail ${fail}`);
    return r.status === 0 && Number(pass) > 0 && Number(fail) === 0 ? 0 : 1;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = await main();
