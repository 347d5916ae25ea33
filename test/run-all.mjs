// npm test — every runtime's suite in turn, each run even if one before it failed, then one line
// per runtime with its count of passed tests, and a non-zero exit if any failed:
//   test:node     node:test files in dist/test with the machine's Node (the build ran first: pretest)
//   test:node24   the same files with Node 24, from the `node-<os>-<cpu>` devDependency
//   test:deno     the Deno suite, with Deno from the `deno` devDependency
//   test:browser  the browser suite in the system's headless Chromium
//   test:workerd  test Workers in Cloudflare's workerd, through the `miniflare` devDependency
//   test:bun      the Bun suite, with Bun from the `bun` devDependency
// Every runtime but Chromium comes from node_modules. One that cannot be found is a failure in
// CI (CI=true or IBT_REQUIRE_BROWSER=1, which .ci/run sets) and elsewhere one line saying it was
// skipped. Suites can be named to run only those: `npm test -- deno browser`.
import { spawn } from "node:child_process";
import { findChromium } from "./browser/chromium.mjs";
import { findBun } from "./bun/run.mjs";
import { findDeno } from "./deno/run.mjs";
import { findNode24 } from "./run-node.mjs";
import { findWorkerd } from "./workerd/run.mjs";

const required = process.env.CI === "true" || process.env.IBT_REQUIRE_BROWSER === "1";

/** Sums node:test's "ℹ pass N" / "ℹ fail N" lines (the Node, browser, workerd and Bun runners print them). */
function nodeTestCounts(output) {
  const sum = (what) => [...output.matchAll(new RegExp(`^ℹ ${what} (\\d+)$`, "gm"))].reduce((a, m) => a + Number(m[1]), 0);
  return /^ℹ pass \d+$/m.test(output) ? `${sum("pass")} passed, ${sum("fail")} failed` : undefined;
}

/** Sums Deno's "ok | 12 passed (51 steps) | 0 failed" lines, one per permission profile. */
function denoCounts(output) {
  const lines = [...output.matchAll(/(\d+) passed(?: \((\d+) steps?\))? \| (\d+) failed(?: \((\d+) steps?\))?/g)];
  if (!lines.length) return undefined;
  const sum = (i) => lines.reduce((a, m) => a + Number(m[i] ?? 0), 0);
  return `${sum(1)} passed (${sum(2)} subtests), ${sum(3)} failed (${sum(4)} subtests)`;
}

const SUITES = [
  { script: "test:node", runtime: "Node (machine)", find: () => ({ path: process.env.npm_node_execpath || process.execPath }), counts: nodeTestCounts },
  { script: "test:node24", runtime: "Node 24", find: () => (findNode24() ? { path: findNode24() } : { missing: "no Node 24 (the node-<os>-<cpu> devDependency)" }), counts: nodeTestCounts },
  { script: "test:deno", runtime: "Deno", find: () => (findDeno() ? { path: findDeno() } : { missing: "no Deno (the `deno` devDependency)" }), counts: denoCounts },
  { script: "test:browser", runtime: "Chromium", find: () => findChromium(), counts: nodeTestCounts },
  { script: "test:workerd", runtime: "workerd", find: () => findWorkerd(), counts: nodeTestCounts },
  { script: "test:bun", runtime: "Bun", find: () => findBun(), counts: nodeTestCounts },
];

const npm = process.env.npm_execpath;
/** Runs `npm run <name>` (with the npm running this), passing its output through and keeping a copy. */
function runScript(name) {
  const [cmd, args] = npm ? [process.env.npm_node_execpath || process.execPath, [npm, "run", "--silent", name]] : ["npm", ["run", "--silent", name]];
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    for (const [from, to] of [[child.stdout, process.stdout], [child.stderr, process.stderr]]) {
      from.on("data", (d) => {
        output += d;
        to.write(d);
      });
    }
    child.on("error", (e) => resolve({ status: 1, output: String(e) }));
    child.on("close", (status) => resolve({ status: status ?? 1, output: output.replace(/\x1b\[[0-9;]*m/g, "") }));
  });
}

const names = SUITES.map((s) => s.script);
const asked = process.argv.slice(2).map((a) => (a.startsWith("test:") ? a : `test:${a}`));
const unknown = asked.filter((a) => !names.includes(a));
if (unknown.length) {
  console.error(`unknown suite ${unknown.join(", ")}; the suites are ${names.map((n) => n.slice(5)).join(", ")}`);
  process.exit(2);
}

const outcomes = [];
for (const suite of SUITES.filter((s) => !asked.length || asked.includes(s.script))) {
  const found = suite.find();
  if (!found.path) {
    const line = required ? `✖ FAILED: ${found.missing}, and CI requires every runtime` : `﹣ SKIPPED: ${found.missing}`;
    console.log(`\n${suite.runtime}: ${line}`);
    outcomes.push([suite, line, required]);
    continue;
  }
  const started = performance.now();
  console.log(`\n▶ npm run ${suite.script}`);
  const { status, output } = await runScript(suite.script);
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  const counts = suite.counts(output) ?? "no result line";
  outcomes.push([suite, status === 0 ? `passed: ${counts} (${seconds} s)` : `FAILED, exit ${status}: ${counts} (${seconds} s)`, status !== 0]);
}

console.log("\nRuntimes:");
for (const [suite, what] of outcomes) console.log(`  ${suite.runtime.padEnd(15)} ${suite.script.padEnd(13)} ${what}`);
process.exit(outcomes.some(([, , failed]) => failed) ? 1 : 0);
