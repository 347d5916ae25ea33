// npm run test:deno — the Deno suite (dist/test/deno/*.test.js, node:test files run by Deno's
// Node layer) with the Deno that npm installed from the `deno` package.
//
// Finding Deno: npm 11 may not run the `deno` package's postinstall (it asks for install scripts
// to be approved), and that script only copies the binary out of the platform package
// (@deno/linux-x64-glibc and the like, an optionalDependency npm always installs). So this looks
// for node_modules/deno/deno first (there when the script ran) and else resolves the platform
// package from the `deno` package, as its own launcher does; IBT_DENO names another binary.
// Deno is a devDependency, so a missing Deno is a failure, never a skip.
//
// Before Deno starts, Node makes what Deno cannot (it gets no --allow-run): engine fixtures from
// the real rdiff, and the directory round trip's fingerprint in memory. Deno may read the package
// and a fresh work folder, write only the work folder, read one environment variable, and has no
// network and no subprocesses. Its caches go into the work folder too. The files that create
// symlinks on disk run in a second profile with read and write unscoped (see below).
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { arch, platform, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export function findDeno() {
  if (process.env.IBT_DENO) return existsSync(process.env.IBT_DENO) ? process.env.IBT_DENO : undefined;
  const exe = platform() === "win32" ? "deno.exe" : "deno";
  const require = createRequire(join(root, "package.json"));
  let denoPackage;
  try {
    denoPackage = require.resolve("deno/package.json");
  } catch {
    return undefined;
  }
  const copied = join(dirname(denoPackage), exe);
  if (existsSync(copied)) return copied;
  const target = platform() === "linux" ? `linux-${arch()}-glibc` : `${platform()}-${arch()}`;
  try {
    const platformPackage = createRequire(denoPackage).resolve(`@deno/${target}/package.json`);
    const binary = join(dirname(platformPackage), exe);
    return existsSync(binary) ? binary : undefined;
  } catch {
    return undefined;
  }
}

/** Runs a command, passing its output through as it comes and keeping a copy. */
function runTee(cmd, args, options) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => {
      output += d;
      process.stdout.write(d);
    });
    child.stderr.on("data", (d) => {
      output += d;
      process.stderr.write(d);
    });
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, output }));
  });
}

async function main() {
  const deno = findDeno();
  if (!deno) {
    console.error("✖ Deno suite: no Deno binary found (the `deno` devDependency or its platform package is missing; run npm ci, or set IBT_DENO)");
    return 1;
  }
  const version = spawnSync(deno, ["--version"], { encoding: "utf8" });
  if (version.status !== 0) {
    console.error(`✖ Deno suite: ${deno} --version failed: ${version.stderr || version.error}`);
    return 1;
  }
  console.log(`ℹ ${version.stdout.split("\n")[0]} (${deno})`);

  const work = mkdtempSync(join(tmpdir(), "ibt-deno-"));
  try {
    const dist = (p) => import(pathToFileURL(join(root, "dist", "test", "shared", p)).href);
    await (await dist("engine-fixtures.js")).makeEngineFixtures(join(work, "engine"));
    const { directoryRoundTrip } = await dist("roundtrip-cases.js");
    const { MemoryFs } = await import(pathToFileURL(join(root, "dist", "src", "index.js")).href);
    const reference = await directoryRoundTrip({ source: new MemoryFs(), target: new MemoryFs(), store: new MemoryFs() });
    writeFileSync(join(work, "roundtrip-reference.json"), JSON.stringify(reference.fingerprint));

    // Two permission profiles. Deno refuses to create a symlink unless read and write are
    // granted for every path (a link's target is only resolved when it is followed), so the
    // tests that need symlinks on disk (NodeFs conformance, the round trip on disk) run with
    // unscoped read and write; everything else runs with both scoped to the package and the work
    // folder. Neither gets network, subprocesses, or any environment variable but one.
    const scoped = [`--allow-read=${root},${work}`, `--allow-write=${work}`];
    const profiles = [
      { name: "scoped", permissions: scoped, files: ["entry.test.js", "memory.test.js", "node-fs-scoped.test.js"] },
      { name: "disk (symlinks need unscoped read/write)", permissions: ["--allow-read", "--allow-write"], files: ["node-fs.test.js"] },
    ];
    let status = 0;
    const totals = [];
    for (const profile of profiles) {
      console.log(`ℹ Deno suite, ${profile.name}: ${profile.permissions.join(" ")} --allow-env=IBT_DENO_WORK`);
      const r = await runTee(
        deno,
        [
          "test",
          "--no-check", // tsc has checked these files; Deno's checker reads the .d.ts files differently
          "--no-prompt",
          ...profile.permissions,
          "--allow-env=IBT_DENO_WORK",
          ...profile.files.map((f) => join(root, "dist", "test", "deno", f)),
        ],
        {
          cwd: root,
          env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: "1", DENO_DIR: join(work, "deno-dir"), IBT_DENO_WORK: work },
        },
      );
      if (r.status !== 0) status = r.status ?? 1;
      // Deno's last line: "ok | 12 passed (51 steps) | 0 failed (7s)".
      const m = /(\d+) passed(?: \((\d+) steps?\))? \| (\d+) failed(?: \((\d+) steps?\))?/.exec(r.output);
      if (m) totals.push([profile.name, `${m[1]} tests (${m[2] ?? 0} subtests) passed, ${m[3]} failed (${m[4] ?? 0} subtests)`]);
      else totals.push([profile.name, `no result line, exit ${r.status}`]);
    }
    for (const [name, line] of totals) console.log(`ℹ Deno ${name}: ${line}`);
    return status;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = await main();
