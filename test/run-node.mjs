// npm run test:node — every dist/test/<area>/*.test.js (the tests tsc compiled from test/) with
// Node's test runner. The Deno and browser folders hold other runtimes' suites and are left out.
// IBT_NODE names another Node binary to run them with (run-all uses it for Node 24).
//   node test/run-node.mjs [FILTER]   FILTER keeps only files whose path contains it
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
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

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const files = nodeTestFiles(process.argv[2]);
  if (!files.length) {
    console.error("no test files found under dist/test: run the build first (npm run build:test)");
    process.exit(1);
  }
  const node = process.env.IBT_NODE || process.execPath;
  const r = spawnSync(node, ["--test", "--test-timeout=600000", ...files], { stdio: "inherit", cwd: root });
  process.exit(r.status ?? 1);
}
