import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync, readdirSync, rmSync, symlinkSync, renameSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { DirIndex, DiffIndex, DiffData, applyDiff, openArchive, IbtError } from "../../src/index.js";
import { NodeFs } from "../../src/node/index.js";
import { tempDir, rng, randomBytes } from "../support/helpers.js";
/** An adapter that fails the Nth call of one method, as a crash at that point would stop it. */
function failing(fs, method, n) {
    let calls = 0;
    const wrapped = Object.create(fs);
    const original = fs[method].bind(fs);
    wrapped[method] = async (...args) => {
        if (++calls === n)
            throw new IbtError("IO", `injected failure of ${method} #${n}`);
        return original(...args);
    };
    return wrapped;
}
async function ids(dir) {
    return (await DirIndex.build(new NodeFs(dir), { signatures: false })).id;
}
test("an apply interrupted at any step is finished by applying again, or never started", async () => {
    const root = tempDir();
    const v1 = join(root, "v1");
    mkdirSync(join(v1, "a/b"), { recursive: true });
    mkdirSync(join(v1, "gone/deep"), { recursive: true });
    for (let i = 0; i < 12; i++)
        writeFileSync(join(v1, "a", `f${i}`), randomBytes(rng(i), 3000 + i));
    writeFileSync(join(v1, "gone/deep/x"), "x");
    writeFileSync(join(v1, "becomes-dir"), "file");
    symlinkSync("a/f1", join(v1, "link"));
    const v2 = join(root, "v2");
    spawnSync("cp", ["-a", v1, v2]);
    for (let i = 0; i < 12; i += 2)
        writeFileSync(join(v2, "a", `f${i}`), randomBytes(rng(100 + i), 3000));
    rmSync(join(v2, "gone"), { recursive: true });
    rmSync(join(v2, "becomes-dir"));
    mkdirSync(join(v2, "becomes-dir"));
    writeFileSync(join(v2, "becomes-dir/inside"), "new");
    renameSync(join(v2, "a/f3"), join(v2, "a/b/f3-moved"));
    rmSync(join(v2, "link"));
    symlinkSync("a/f2", join(v2, "link"));
    chmodSync(join(v2, "a/f5"), 0o600);
    const store = new NodeFs(root);
    const diff = new DiffIndex(await DirIndex.build(new NodeFs(v2)), await DirIndex.build(new NodeFs(v1))).compute();
    await new DiffData(diff, { source: new NodeFs(v2) }).createArchive(store, "d.zip");
    const want = await ids(v2);
    const base = await ids(v1);
    let interrupted = 0;
    for (const method of ["writeFile", "rename", "remove", "symlink", "mkdir"]) {
        for (let n = 1; n <= 16; n++) {
            const copy = join(root, `t-${method}-${n}`);
            spawnSync("cp", ["-a", v1, copy]);
            const fs = new NodeFs(copy);
            let failed = false;
            try {
                await applyDiff(failing(fs, method, n), await openArchive(store, "d.zip"));
            }
            catch (e) {
                failed = true;
                assert.ok(e instanceof IbtError, String(e));
            }
            if (failed) {
                interrupted++;
                const now = await ids(copy);
                const journaled = readdirSync(copy).some((f) => f.startsWith(".ibt-staging"));
                // Before the commit point the tree is the base and nothing is left behind.
                if (!journaled)
                    assert.equal(now, base, `${method} #${n}: untouched before the commit point`);
                await applyDiff(fs, await openArchive(store, "d.zip"));
            }
            assert.equal(await ids(copy), want, `${method} #${n}`);
            assert.ok(!readdirSync(copy).some((f) => f.startsWith(".ibt-staging")), `${method} #${n}: staging removed`);
            rmSync(copy, { recursive: true });
        }
    }
    assert.ok(interrupted > 20, `${interrupted} interruptions were injected`);
});
test("an apply killed while removing its staging directory (journal already gone) is recognised as done by the next one", async () => {
    const root = tempDir();
    const v1 = join(root, "v1");
    mkdirSync(join(v1, "d"), { recursive: true });
    writeFileSync(join(v1, "d/old"), "old");
    writeFileSync(join(v1, "keep"), "keep");
    const v2 = join(root, "v2");
    spawnSync("cp", ["-a", v1, v2]);
    rmSync(join(v2, "d/old"));
    writeFileSync(join(v2, "d/new"), randomBytes(rng(7), 5000));
    chmodSync(join(v2, "keep"), 0o600);
    const store = new NodeFs(root);
    const diff = new DiffIndex(await DirIndex.build(new NodeFs(v2)), await DirIndex.build(new NodeFs(v1))).compute();
    await new DiffData(diff, { source: new NodeFs(v2) }).createArchive(store, "d.zip");
    const fs = new NodeFs(v1);
    const first = await applyDiff(fs, await openArchive(store, "d.zip"));
    assert.equal(first.alreadyApplied, false);
    const want = await ids(v2);
    assert.equal(await ids(v1), want);
    // What a kill part-way through the recursive removal leaves: the staging directory, no journal.
    mkdirSync(join(v1, `.ibt-staging-${first.manifest.target.slice(0, 16)}`));
    writeFileSync(join(v1, `.ibt-staging-${first.manifest.target.slice(0, 16)}`, "0"), "left over");
    chmodSync(join(v1, "keep"), 0o644); // and metadata not as the result has it
    const again = await applyDiff(fs, await openArchive(store, "d.zip"));
    assert.equal(again.alreadyApplied, true);
    assert.equal(await ids(v1), want, "modes set again");
    assert.deepEqual(readdirSync(v1).filter((f) => f.startsWith(".ibt-staging")), [], "staging removed");
    // Content that is neither base nor result is still refused.
    writeFileSync(join(v1, "d/new"), "something else");
    await assert.rejects(applyDiff(fs, await openArchive(store, "d.zip")), (e) => e instanceof IbtError && e.code === "BASE_MISMATCH");
});
//# sourceMappingURL=apply-resume.test.js.map