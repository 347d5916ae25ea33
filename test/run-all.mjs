// npm test — the three suites in turn, each run even if one before it failed, then one line per
// suite and a non-zero exit if any failed:
//   test:node     node:test files in dist/test (the build ran first: pretest)
//   test:deno     the Deno suite, with Deno from the `deno` devDependency (never skipped)
//   test:browser  the browser suite in the system's headless Chromium; where there is none it
//                 prints one line and is skipped, unless IBT_REQUIRE_BROWSER=1 makes that a failure
// Suites can be named to run only those: `npm test -- deno browser`.
import { spawnSync } from "node:child_process";
import { findChromium, skipLine } from "./browser/chromium.mjs";

const npm = process.env.npm_execpath;
const runScript = (name) => {
  // Through npm so each suite runs exactly as `npm run <name>` does, with the same npm.
  const r = npm
    ? spawnSync(process.execPath, [npm, "run", "--silent", name], { stdio: "inherit" })
    : spawnSync("npm", ["run", "--silent", name], { stdio: "inherit" });
  return r.status ?? 1;
};

const all = ["test:node", "test:deno", "test:browser"];
const asked = process.argv.slice(2).map((a) => (a.startsWith("test:") ? a : `test:${a}`));
const unknown = asked.filter((a) => !all.includes(a));
if (unknown.length) {
  console.error(`unknown suite ${unknown.join(", ")}; the suites are node, deno and browser`);
  process.exit(2);
}

const outcomes = [];
for (const suite of asked.length ? all.filter((s) => asked.includes(s)) : all) {
  const started = performance.now();
  if (suite === "test:browser") {
    const found = findChromium();
    if (!found.path) {
      // The one line about it, in the summary below.
      const line = skipLine(found.missing);
      outcomes.push([suite, line, line.startsWith("✖")]);
      continue;
    }
  }
  console.log(`\n▶ npm run ${suite}`);
  const status = runScript(suite);
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  outcomes.push([suite, status === 0 ? `passed (${seconds} s)` : `FAILED, exit ${status} (${seconds} s)`, status !== 0]);
}

console.log("\nSuites:");
for (const [suite, what] of outcomes) console.log(`  ${suite.padEnd(13)} ${what}`);
process.exit(outcomes.some(([, , failed]) => failed) ? 1 : 0);
