import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryFs, isIbtError } from "../../src/index.js";
import { adapterConformance } from "../support/fs-conformance.js";
adapterConformance("MemoryFs", {
    make: async () => ({ fs: new MemoryFs() }),
    makeReadOnly: async (tree) => ({ fs: MemoryFs.from(tree, { readOnly: true }) }),
});
test("MemoryFs.from builds files, directories and symlinks", async () => {
    const fs = MemoryFs.from({ "a/b.txt": "text", "bytes.bin": new Uint8Array([1, 2, 3]), "dir/": null, "e": null, link: { symlink: "a/b.txt" } });
    assert.deepEqual((await fs.list("")).sort(), ["a", "bytes.bin", "dir", "e", "link"]);
    assert.equal(new TextDecoder().decode(await fs.read("a/b.txt", 0, 10)), "text");
    assert.deepEqual(await fs.read("bytes.bin", 0, 10), new Uint8Array([1, 2, 3]));
    assert.equal((await fs.lstat("dir")).type, "dir");
    assert.equal(await fs.readlink("link"), "a/b.txt");
    assert.equal((await fs.stat("link")).size, 4);
    assert.equal(fs.capabilities.writable, true);
    assert.throws(() => MemoryFs.from({ "../x": "no" }), (e) => isIbtError(e, "UNSAFE_PATH"));
    assert.throws(() => MemoryFs.from({ f: "file", "f/g": "under a file" }), (e) => isIbtError(e, "NOT_A_DIRECTORY"));
});
test("MemoryFs: ctime strictly increases and inodes are never reused", async () => {
    const fs = new MemoryFs();
    const seen = [];
    const inodes = new Set();
    for (let i = 0; i < 50; i++) {
        await fs.writeFile("f", new Uint8Array([i]));
        const st = await fs.lstat("f");
        seen.push(st.ctimeMs);
        inodes.add(st.ino);
    }
    for (let i = 1; i < seen.length; i++)
        assert.ok(seen[i] > seen[i - 1]);
    assert.equal(inodes.size, 50);
});
test("MemoryFs: a directory's mtime moves when its entries change", async () => {
    const fs = new MemoryFs();
    await fs.mkdir("d");
    await fs.utimes("d", 1000);
    await fs.writeFile("d/f", new Uint8Array(1));
    assert.notEqual((await fs.lstat("d")).mtimeMs, 1000);
});
//# sourceMappingURL=fs-memory.test.js.map