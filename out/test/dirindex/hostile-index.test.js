/**
 * Hostile index files (the binary form of a DirIndex that `ibt diff` reads as its old index):
 * truncated at every boundary, bit-flipped, a bad version, and entries with unsafe, duplicate or
 * unordered paths carrying a correct checksum (so the checks behind the checksum are reached).
 * loadIndex must refuse each with an index code; `ibt diff` given one must exit 1 with one error
 * line and write no archive.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DirIndex, MemoryFs, blake2b, collect, encodeIndex, loadIndex } from "../../src/index.js";
import { ROOT, rng, tempDir } from "../support/helpers.js";
import { countRefusal, refusal, scaled, tally } from "../support/hostile-kit.js";
import { BASE_SPEC, memoryTree } from "../support/hostile-fixture.js";
const INDEX_CODES = ["BAD_MAGIC", "UNSUPPORTED", "UNSAFE_PATH", "TRUNCATED", "CORRUPT"];
async function encoded(index) {
    return new Uint8Array(Buffer.concat(await collect(encodeIndex(index)).then((b) => [b])));
}
async function load(bytes) {
    const fs = new MemoryFs();
    await fs.writeFile("index", bytes);
    return loadIndex(fs, "index");
}
/** Re-seals an edited index: the last 32 bytes are the BLAKE2b-256 of everything before. */
async function reseal(bytes) {
    const out = bytes.slice();
    out.set(await blake2b(out.subarray(0, out.length - 32)), out.length - 32);
    return out;
}
function replaceOnce(bytes, from, to) {
    const at = Buffer.from(bytes).indexOf(Buffer.from(from));
    assert.ok(at >= 0 && from.length === to.length);
    const out = bytes.slice();
    out.set(to, at);
    return out;
}
const real = await encoded(await DirIndex.build(await memoryTree(BASE_SPEC)));
test("a real index loads, so the cases below fail for their own reason", async () => {
    assert.ok((await load(real)).entries.size > 5);
});
test("an index truncated at every boundary or bit-flipped is refused", async () => {
    const t = tally("index: truncated and flipped");
    for (let n = 0; n < real.length; n++) {
        t.tried++;
        countRefusal(t, await refusal(() => load(real.subarray(0, n)), INDEX_CODES, `cut at ${n}`));
    }
    const next = rng(31);
    for (let i = 0; i < scaled(1000); i++) {
        const bad = real.slice();
        bad[Math.floor(next() * bad.length)] ^= 1 << Math.floor(next() * 8);
        t.tried++;
        countRefusal(t, await refusal(() => load(bad), INDEX_CODES, `flip ${i}`));
    }
    t.tried++;
    countRefusal(t, await refusal(() => load(new Uint8Array([...real, 0])), INDEX_CODES, "trailing byte"));
});
test("bad versions and unsafe, duplicate or unordered paths are refused behind a valid checksum", async () => {
    const t = tally("index: fields");
    for (const version of [0, 2, 0xffffffff]) {
        const bad = real.slice();
        new DataView(bad.buffer).setUint32(8, version);
        t.tried++;
        const e = await refusal(async () => load(await reseal(bad)), ["UNSUPPORTED"], `version ${version}`);
        countRefusal(t, e);
    }
    const bad = ["../x", "/abs", "a\\b", "a\0b", "a//b", "a/", "./a", "..", "C:x", "cafe\u0301", "a/../b"];
    for (const p of bad) {
        const placeholder = "q".repeat(new TextEncoder().encode(p).length);
        const entry = { path: placeholder, type: "dir", size: 0, mtimeMs: 0, mode: 0o755 };
        const bytes = await encoded(await DirIndex.fromEntries([entry]));
        const edited = await reseal(replaceOnce(bytes, new TextEncoder().encode(placeholder), new TextEncoder().encode(p)));
        t.tried++;
        countRefusal(t, await refusal(() => load(edited), ["UNSAFE_PATH"], `path ${JSON.stringify(p)}`));
    }
    // "b" renamed "a" after "a": a duplicate; "a" renamed "c" before "b": out of order.
    const two = await encoded(await DirIndex.fromEntries(["a", "b"].map((path) => ({ path, type: "dir", size: 0, mtimeMs: 0, mode: 0o755 }))));
    for (const [from, to] of [["b", "a"], ["a", "c"]]) {
        const at = Buffer.from(two).indexOf(Buffer.from([1, from.charCodeAt(0)]), 12);
        const edited = two.slice();
        edited[at + 1] = to.charCodeAt(0);
        t.tried++;
        countRefusal(t, await refusal(async () => load(await reseal(edited)), ["CORRUPT"], `${from} -> ${to}`));
    }
});
test("ibt diff refuses a bad old index with one error line and writes no archive", async () => {
    const t = tally("cli: ibt diff with a bad index");
    const dir = tempDir();
    const tree = join(dir, "tree");
    spawnSync("mkdir", ["-p", tree]);
    writeFileSync(join(tree, "f"), "content");
    const next = rng(5);
    const cases = [real.subarray(0, 100), new Uint8Array(0), new TextEncoder().encode("IBTINDEX")];
    for (let i = 0; i < scaled(4); i++) {
        const b = real.slice();
        b[Math.floor(next() * b.length)] ^= 0x10;
        cases.push(b);
    }
    for (const [i, bytes] of cases.entries()) {
        const index = join(dir, `i${i}`);
        const out = join(dir, `o${i}.zip`);
        writeFileSync(index, bytes);
        t.tried++;
        const r = spawnSync(process.execPath, [join(ROOT, "dist/cli/ibt.cjs"), "diff", tree, index, out], { encoding: "utf8" });
        assert.equal(r.status, 1, r.stderr);
        const lines = r.stderr.trimEnd().split("\n");
        assert.equal(lines.length, 1, r.stderr);
        const code = /^ibt: ([A-Z_]+): /.exec(lines[0])?.[1];
        assert.ok(code && INDEX_CODES.includes(code), lines[0]);
        assert.ok(!existsSync(out), "no archive written");
        t.refused++;
        t.codes[code] = (t.codes[code] ?? 0) + 1;
    }
});
//# sourceMappingURL=hostile-index.test.js.map