// Under Deno, with the scoped permissions: NodeFs works on files and directories inside the
// folder Deno may write, and what the sandbox forbids fails as an IbtError that leaves nothing
// behind: a write outside that folder, and a symlink (Deno creates symlinks only with read and
// write permission for every path, since a link's target is resolved later).
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { mkdir, readdir } from "node:fs/promises";
import { DirIndex, isIbtError } from "../../src/index.js";
import { NodeFs } from "../../src/node/index.js";
import { freshFolder } from "./work.js";
test("Deno (scoped): NodeFs writes, reads, renames and indexes inside the work folder", async () => {
    const { dir, cleanup } = await freshFolder();
    try {
        const fs = new NodeFs(dir);
        await fs.mkdir("a/b", { recursive: true });
        await fs.writeFile("a/b/f.txt", new TextEncoder().encode("under Deno"));
        await fs.rename("a/b/f.txt", "a/g.txt");
        assert.equal(new TextDecoder().decode(await fs.read("a/g.txt", 0, 100)), "under Deno");
        await fs.chmod("a/g.txt", 0o600);
        await fs.utimes("a/g.txt", 1_500_000_000_000);
        const st = await fs.lstat("a/g.txt");
        assert.deepEqual([st.mode & 0o777, st.mtimeMs, st.size], [0o600, 1_500_000_000_000, 10]);
        assert.deepEqual([...(await DirIndex.build(fs)).entries.keys()], ["a", "a/b", "a/g.txt"]);
    }
    finally {
        await cleanup();
    }
});
test("Deno (scoped): a symlink is refused with an IbtError and nothing is created", async () => {
    const { dir, cleanup } = await freshFolder();
    try {
        const fs = new NodeFs(dir);
        await fs.writeFile("target", new Uint8Array(1));
        await assert.rejects(fs.symlink("target", "link"), (e) => isIbtError(e) && /symlink/.test(e.message));
        assert.deepEqual(await readdir(dir), ["target"]);
    }
    finally {
        await cleanup();
    }
});
test("Deno (scoped): writing outside the work folder is refused with an IbtError and nothing is created", async () => {
    const pkg = new URL("../../..", import.meta.url).pathname;
    const before = await readdir(pkg);
    const fs = new NodeFs(pkg);
    await assert.rejects(fs.writeFile("ibt-deno-should-not-exist", new Uint8Array(1)), (e) => isIbtError(e));
    await assert.rejects(mkdir(join(pkg, "ibt-deno-should-not-exist-dir")));
    assert.deepEqual(await readdir(pkg), before);
});
//# sourceMappingURL=node-fs-scoped.test.js.map