// npm run test:node — every dist/test/<area>/*.test.js (the tests tsc compiled from test/) with
// Node's test runner. The Deno and browser folders hold other runtimes' suites and are left out.
//   node test/run-node.mjs [--node24] [FILTER]   FILTER keeps only files whose path contains it
//
// Which Node runs them: IBT_NODE if set; with --node24, Node 24 from the `node-<os>-<cpu>`
// devDependency (npm run test:node24); else the machine's Node, the one running npm. That is
// npm_node_execpath, not `node` on PATH: npm puts node_modules/.bin first, and the Node 24 package
// links its binary there as `node`. A missing Node 24 is a failure, never a skip.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { arch, platform } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const OTHER_RUNTIMES = new Set(["deno", "browser", "bun", "workerd"]);

/** Test files under dist/test, sorted, without the other runtimes' folders. */
export function nodeTestFiles(filter = "") {
  const top = join(root, "dist", "test");
  const found = [];
  for (const entry of readdirSync(top, { withFileTypes: true, recursive: true })) {
    const dir = entry.parentPath ?? entry.path;
    const area = relative(top, dir).split("/")[0];
    if (!entry.isFile() || !entry.name.endsWith(".test.js") || OTHER_RUNTIMES.has(area)) continue;
    const file = join(dir, entry.name);
    if (file.includes(filter)) found.push(file);
  }
  return found.sort();
}

/** Node 24's binary from the `node-<os>-<cpu>` devDependency, or undefined. */
export function findNode24() {
  const require = createRequire(join(root, "package.json"));
  try {
    const pkg = require.resolve(`node-${platform()}-${arch()}/package.json`);
    const binary = join(dirname(pkg), "bin", platform() === "win32" ? "node.exe" : "node");
    return existsSync(binary) ? binary : undefined;
  } catch {
    return undefined;
  }
}

function chooseNode(node24) {
  if (process.env.IBT_NODE) return process.env.IBT_NODE;
  if (node24) return findNode24();
  return process.env.npm_node_execpath || process.execPath;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const node24 = args.includes("--node24");
  const files = nodeTestFiles(args.find((a) => a !== "--node24"));
  if (!files.length) {
    console.error("no test files found under dist/test: run the build first (npm run build:test)");
    process.exit(1);
  }
  const node = chooseNode(node24);
  if (!node) {
    console.error(`✖ Node 24 suite: no node-${platform()}-${arch()} package with a bin/node (a devDependency: run npm ci, or set IBT_NODE)`);
    process.exit(1);
  }
  const version = spawnSync(node, ["--version"], { encoding: "utf8" });
  if (version.status !== 0) {
    console.error(`✖ Node suite: ${node} --version failed: ${version.stderr || version.error}`);
    process.exit(1);
  }
  if (node24 && !version.stdout.startsWith("v24.")) {
    console.error(`✖ Node 24 suite: ${node} is Node ${version.stdout.trim()}`);
    process.exit(1);
  }
  console.log(`ℹ Node ${version.stdout.trim()} (${node})`);
  // The spec reporter, piped or not, so that run-all can read its "ℹ pass N" line.
  const r = spawnSync(node, ["--test", "--test-reporter=spec", "--test-timeout=600000", ...files], { stdio: "inherit", cwd: root });
  process.exit(r.status ?? 1);
}
