import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { ROOT } from "../support/helpers.js";
function files(dir) {
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
            assert.doesNotMatch(m[1], /(^|\/)(node|cli)\//, `${relative(ROOT, f)} imports ${m[1]}`);
        }
    }
});
test("package exports name a types file for every entry", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    assert.equal(pkg.type, "module");
    assert.equal(pkg.sideEffects, false);
    for (const [entry, target] of Object.entries(pkg.exports)) {
        if (entry === "./package.json")
            continue;
        const t = target;
        assert.ok(statSync(join(ROOT, t.types)).isFile(), `${entry} types`);
        assert.ok(statSync(join(ROOT, t.default)).isFile(), `${entry} default`);
    }
});
//# sourceMappingURL=layers.test.js.map