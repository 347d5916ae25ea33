import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync, readFileSync, rmSync, symlinkSync, chmodSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { DirIndex } from "../../src/index.js";
import { NodeFs } from "../../src/node/index.js";
import { ibt, tempDir, rng, randomBytes } from "../support/helpers.js";
function cp(from, to) {
    const r = spawnSync("cp", ["-a", from, to]);
    assert.equal(r.status, 0, r.stderr.toString());
}
async function id(dir) {
    return (await DirIndex.build(new NodeFs(dir), { signatures: false })).id;
}
test("ibt index, diff and apply round-trip a tree, with --json summaries and --exclude", async () => {
    const root = tempDir();
    const v1 = join(root, "v1");
    mkdirSync(join(v1, "a/b"), { recursive: true });
    mkdirSync(join(v1, "node_modules/x"), { recursive: true });
    writeFileSync(join(v1, "a/b/data.bin"), randomBytes(rng(1), 500_000));
    writeFileSync(join(v1, "notes.txt"), "hello");
    writeFileSync(join(v1, "node_modules/x/index.js"), "excluded");
    writeFileSync(join(v1, ".gitignore"), "*.tmp\n");
    writeFileSync(join(v1, "scratch.tmp"), "ignored by .gitignore");
    symlinkSync("notes.txt", join(v1, "link"));
    const target = join(root, "target");
    cp(v1, target);
    const idx = ibt(["index", v1, join(root, "v1.idx"), "--exclude", "node_modules", "--json"]);
    assert.equal(idx.status, 0, idx.stderr.toString());
    const indexed = JSON.parse(idx.stdout.toString());
    assert.equal(indexed.command, "index");
    assert.equal(indexed.files, 3, "data.bin, notes.txt, .gitignore");
    const data = readFileSync(join(v1, "a/b/data.bin"));
    data[1000] ^= 0xff;
    writeFileSync(join(v1, "a/b/data.bin"), data);
    writeFileSync(join(v1, "new.txt"), "new file");
    rmSync(join(v1, "notes.txt"));
    rmSync(join(v1, "link"));
    chmodSync(join(v1, ".gitignore"), 0o600);
    const diff = ibt(["diff", v1, join(root, "v1.idx"), join(root, "d.zip"), "--index", join(root, "v2.idx"), "--exclude", "node_modules", "--json"]);
    assert.equal(diff.status, 0, diff.stderr.toString());
    const summary = JSON.parse(diff.stdout.toString());
    assert.equal(summary.updated, 1);
    assert.equal(summary.created, 1);
    assert.equal(summary.deleted, 1);
    assert.equal(summary.metadata, 1);
    assert.equal(summary.deltas, 1);
    assert.ok(summary.archiveBytes < 20_000, `archive of ${summary.archiveBytes} bytes`);
    assert.equal(typeof summary.ms, "number");
    const apply = ibt(["apply", target, join(root, "d.zip"), "--json"]);
    assert.equal(apply.status, 0, apply.stderr.toString());
    assert.equal(JSON.parse(apply.stdout.toString()).target, summary.target);
    const exclude = { exclude: ["node_modules"], signatures: false };
    assert.equal((await DirIndex.build(new NodeFs(target), exclude)).id, (await DirIndex.build(new NodeFs(v1), exclude)).id);
    assert.equal(readFileSync(join(target, "node_modules/x/index.js"), "utf8"), "excluded", "excluded files are left alone");
    // Applying again: the target already is the result, so only metadata is set (an mtime
    // touched since comes back); a target that is neither base nor result is refused.
    const applied = await DirIndex.build(new NodeFs(target), exclude);
    const touched = "new.txt"; // created by the diff
    utimesSync(join(target, touched), new Date(2_000_000_000_000), new Date(2_000_000_000_000));
    const again = ibt(["apply", target, join(root, "d.zip"), "--json"]);
    assert.equal(again.status, 0, again.stderr.toString());
    assert.equal(JSON.parse(again.stdout.toString()).alreadyApplied, true);
    assert.equal((await DirIndex.build(new NodeFs(target), exclude)).id, applied.id, `${touched}: mtime set again`);
    writeFileSync(join(target, touched), "neither base nor result\n");
    const wrong = ibt(["apply", target, join(root, "d.zip")]);
    assert.equal(wrong.status, 1);
    assert.match(wrong.stderr.toString(), /^ibt: BASE_MISMATCH: .*\n$/);
});
test("directory commands report bad input in one line and change nothing", async () => {
    const root = tempDir();
    mkdirSync(join(root, "t"));
    writeFileSync(join(root, "t/f"), "x");
    const before = await id(join(root, "t"));
    writeFileSync(join(root, "junk.zip"), "not a zip at all");
    const r = ibt(["apply", join(root, "t"), join(root, "junk.zip")]);
    assert.equal(r.status, 1);
    assert.match(r.stderr.toString(), /^ibt: (CORRUPT|TRUNCATED|BAD_MAGIC): [^\n]*\n$/);
    assert.equal(await id(join(root, "t")), before);
    const missing = ibt(["index", join(root, "nope"), join(root, "x.idx")]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr.toString(), /^ibt: NOT_FOUND: /);
    const usage = ibt(["diff", join(root, "t")]);
    assert.equal(usage.status, 2);
    writeFileSync(join(root, "bad.idx"), "IBTINDEX garbage");
    const bad = ibt(["diff", join(root, "t"), join(root, "bad.idx"), join(root, "o.zip")]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr.toString(), /^ibt: (CORRUPT|TRUNCATED|UNSUPPORTED): /);
});
test("ibt diff --index writes the new index only once the archive is whole", async () => {
    const root = tempDir();
    const tree = join(root, "t");
    mkdirSync(tree);
    writeFileSync(join(tree, "f"), "one");
    assert.equal(ibt(["index", tree, join(root, "v1.idx")]).status, 0);
    writeFileSync(join(tree, "g"), "two");
    // The archive's folder does not exist, so the archive cannot be written: no index either.
    const failed = ibt(["diff", tree, join(root, "v1.idx"), join(root, "missing/d.zip"), "--index", join(root, "v2.idx")]);
    assert.equal(failed.status, 1);
    assert.match(failed.stderr.toString(), /^ibt: NOT_FOUND: [^\n]*\n$/);
    assert.throws(() => readFileSync(join(root, "v2.idx")), /ENOENT/);
    // The same diff into a folder that exists writes both, and the new index finds no change.
    const ok = ibt(["diff", tree, join(root, "v1.idx"), join(root, "d.zip"), "--index", join(root, "v2.idx"), "--json"]);
    assert.equal(ok.status, 0, ok.stderr.toString());
    assert.equal(JSON.parse(ok.stdout.toString()).created, 1);
    const again = JSON.parse(ibt(["diff", tree, join(root, "v2.idx"), join(root, "none.zip"), "--json"]).stdout.toString());
    assert.equal(again.created + again.updated + again.deleted + again.metadata, 0);
});
//# sourceMappingURL=cli-dirs.test.js.map