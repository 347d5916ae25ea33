import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { ROOT } from "../support/helpers.js";

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".js") ? [p] : [];
  });
}

test("the core entry point reaches no Node-only module or global", () => {
  const src = join(ROOT, "dist", "src");
  const core = files(src).filter((f) => !/^(node|cli)[/\\]/.test(relative(src, f)));
  assert.ok(core.length > 5, "found the core files");
  for (const f of core) {
    const text = readFileSync(f, "utf8");
    assert.doesNotMatch(text, /from\s+["']node:|require\(|import\(["']node:/, relative(ROOT, f));
    assert.doesNotMatch(text, /\bBuffer\.|\bprocess\./, relative(ROOT, f));
    for (const m of text.matchAll(/from\s+["'](\.[^"']+)["']/g)) {
      assert.doesNotMatch(m[1]!, /(^|\/)(node|cli)\//, `${relative(ROOT, f)} imports ${m[1]}`);
    }
  }
});

test("package exports name a types file for every code entry, and the engine file", () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  assert.equal(pkg.type, "module");
  // Only the /workerd entry does something on import (it hands the engine its module).
  assert.deepEqual(pkg.sideEffects, ["./dist/src/workerd.js"]);
  for (const [entry, target] of Object.entries(pkg.exports as Record<string, unknown>)) {
    if (typeof target === "string") {
      assert.ok(statSync(join(ROOT, target)).isFile(), entry);
      continue;
    }
    const t = target as Record<string, string>;
    for (const [condition, file] of Object.entries(t)) assert.ok(statSync(join(ROOT, file)).isFile(), `${entry} ${condition}`);
    assert.ok(t.types && t.default, `${entry} has types and default`);
  }
  assert.equal(pkg.exports["./engine.wasm"], "./dist/src/rsync/engine.wasm");
  assert.equal(pkg.exports["."].workerd, pkg.exports["./workerd"].default, "workerd resolves the main entry to the precompiled one");
});
