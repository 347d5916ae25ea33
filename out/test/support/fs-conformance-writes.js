/**
 * The write side of the FsAdapter conformance suite (see fs-conformance.ts): writeFile's
 * whole-or-nothing promise, mkdir, remove, rename, symlinks, modes and times, and confinement:
 * no call may read or write through a symlinked directory, whatever it points at.
 */
import assert from "node:assert/strict";
import { collect } from "../../src/index.js";
import { SECRET, chunks, dec, describeTree, enc, fails, pseudoRandom, sleep, sorted } from "./fs-conformance-kit.js";
async function text(fs, path) {
    return dec(await collect(fs.readStream(path)));
}
export function writeTests(it) {
    writeFileTests(it);
    mkdirRemoveTests(it);
    renameTests(it);
    linkTests(it);
    metadataTests(it);
    confinementTests(it);
}
function writeFileTests(it) {
    it("writeFile: bytes in, the same bytes out; the adapter keeps no reference", { write: true }, async (fs) => {
        const data = enc("first version");
        await fs.writeFile("a.txt", data);
        data.fill(0);
        assert.equal(await text(fs, "a.txt"), "first version");
        const st = await fs.lstat("a.txt");
        assert.equal(st.type, "file");
        assert.equal(st.size, 13);
        assert.ok(Math.abs(st.mtimeMs - Date.now()) < 60_000, "a new file's mtime is now");
        assert.deepEqual(await fs.list(""), ["a.txt"]);
    });
    it("writeFile: every kind of source", { write: true }, async (fs) => {
        await fs.writeFile("array.txt", [enc("sync "), enc("iterable")]);
        assert.equal(await text(fs, "array.txt"), "sync iterable");
        await fs.writeFile("async.txt", (async function* () {
            yield enc("async ");
            yield new Uint8Array(0);
            yield enc("generator");
        })());
        assert.equal(await text(fs, "async.txt"), "async generator");
        const stream = new ReadableStream({
            start(c) {
                c.enqueue(enc("readable "));
                c.enqueue(enc("stream"));
                c.close();
            },
        });
        await fs.writeFile("stream.txt", stream);
        assert.equal(await text(fs, "stream.txt"), "readable stream");
        await fs.writeFile("empty-source.txt", []);
        await fs.writeFile("empty-bytes.txt", new Uint8Array(0));
        assert.equal((await fs.lstat("empty-source.txt")).size, 0);
        assert.equal((await fs.lstat("empty-bytes.txt")).size, 0);
        const big = pseudoRandom(3, 2_500_000);
        const parts = [];
        for (let at = 0; at < big.length; at += 65_537)
            parts.push(big.subarray(at, at + 65_537));
        await fs.writeFile("big.bin", parts);
        assert.deepEqual(await fs.read("big.bin", 0, big.length), big);
    });
    it("writeFile: a source that reuses its buffer between chunks", { write: true }, async (fs) => {
        const buf = new Uint8Array(4);
        await fs.writeFile("reused.txt", (async function* () {
            for (const letter of "ABC") {
                buf.fill(letter.charCodeAt(0));
                yield buf;
            }
        })());
        assert.equal(await text(fs, "reused.txt"), "AAAABBBBCCCC");
    });
    it("writeFile: replaces a file, longer, shorter or empty", { write: true }, async (fs) => {
        await fs.writeFile("f.txt", enc("medium"));
        await fs.writeFile("f.txt", enc("a good deal longer"));
        assert.equal(await text(fs, "f.txt"), "a good deal longer");
        await fs.writeFile("f.txt", enc("short"));
        assert.equal(await text(fs, "f.txt"), "short");
        assert.equal((await fs.lstat("f.txt")).size, 5);
        await fs.writeFile("f.txt", new Uint8Array(0));
        assert.equal((await fs.lstat("f.txt")).size, 0);
        assert.deepEqual(await fs.list(""), ["f.txt"]);
    });
    it("writeFile: readers see the old content until the write resolves", { write: true }, async (fs) => {
        await fs.writeFile("f.txt", enc("old"));
        let release;
        const gate = new Promise((r) => (release = r));
        let started;
        const inFlight = new Promise((r) => (started = r));
        const writing = fs.writeFile("f.txt", (async function* () {
            yield enc("new ");
            started();
            await gate;
            yield enc("content");
        })());
        await inFlight;
        assert.equal(dec(await fs.read("f.txt", 0, 100)), "old");
        assert.equal(await text(fs, "f.txt"), "old");
        release();
        await writing;
        assert.equal(await text(fs, "f.txt"), "new content");
        assert.deepEqual(await fs.list(""), ["f.txt"]);
    });
    it("writeFile: a failing source leaves the old file (or nothing) and no temporary entry", { write: true }, async (fs) => {
        await fs.mkdir("d");
        await fs.writeFile("d/keep.txt", enc("old content"));
        const before = await describeTree(fs, "", false);
        const boom = new Error("the source failed");
        const failing = () => (async function* () {
            yield enc("partial ");
            yield pseudoRandom(1, 300_000);
            throw boom;
        })();
        await assert.rejects(fs.writeFile("d/keep.txt", failing()), (e) => e === boom, "the source's own error comes back");
        await assert.rejects(fs.writeFile("d/new.txt", failing()), (e) => e === boom);
        await assert.rejects(fs.writeFile("top.txt", failing()), (e) => e === boom);
        assert.equal(await text(fs, "d/keep.txt"), "old content");
        assert.deepEqual(await fs.list("d"), ["keep.txt"]);
        assert.deepEqual(await fs.list(""), ["d"]);
        assert.equal(await describeTree(fs, "", false), before);
    });
    it("writeFile: errors", { write: true }, async (fs) => {
        await fs.mkdir("dir");
        await fs.writeFile("file.txt", enc("x"));
        await fails("NOT_FOUND", () => fs.writeFile("nope/f.txt", enc("x")));
        await fails("NOT_FOUND", () => fs.writeFile("dir/nope/f.txt", enc("x")));
        await fails("NOT_A_DIRECTORY", () => fs.writeFile("file.txt/f.txt", enc("x")));
        await fails("IS_A_DIRECTORY", () => fs.writeFile("dir", enc("x")));
        await fails("IS_A_DIRECTORY", () => fs.writeFile("", enc("x")));
        await fails("BAD_ARGUMENT", () => fs.writeFile("m.txt", enc("x"), { mode: 0o10000 }));
        await fails("BAD_ARGUMENT", () => fs.writeFile("m.txt", enc("x"), { mode: -1 }));
        assert.deepEqual(await sorted(fs.list("")), ["dir", "file.txt"]);
        assert.deepEqual(await fs.list("dir"), []);
    });
    it("writeFile: a symlink at the path is replaced, never written through", { write: true, caps: ["symlinks"] }, async (fs) => {
        await fs.writeFile("target.txt", enc("target"));
        await fs.symlink("target.txt", "link");
        await fs.writeFile("link", enc("new file"));
        assert.equal((await fs.lstat("link")).type, "file");
        assert.equal(await text(fs, "link"), "new file");
        assert.equal(await text(fs, "target.txt"), "target");
    });
    it("writeFile: the mode option sets the new file's bits", { write: true, caps: ["modes"] }, async (fs) => {
        for (const mode of [0o600, 0o755, 0o640, 0o444]) {
            await fs.writeFile(`m${mode.toString(8)}`, enc("x"), { mode });
            assert.equal((await fs.lstat(`m${mode.toString(8)}`)).mode, mode);
        }
        await fs.writeFile("m600", enc("replaced"), { mode: 0o604 });
        assert.equal((await fs.lstat("m600")).mode, 0o604);
    });
}
function mkdirRemoveTests(it) {
    it("mkdir: creates one directory; refuses an existing path or a missing parent", { write: true }, async (fs) => {
        await fs.mkdir("d");
        assert.equal((await fs.lstat("d")).type, "dir");
        assert.deepEqual(await fs.list("d"), []);
        await fs.mkdir("d/e");
        await fs.writeFile("file.txt", enc("x"));
        await fails("EXISTS", () => fs.mkdir("d"));
        await fails("EXISTS", () => fs.mkdir("file.txt"));
        await fails("EXISTS", () => fs.mkdir(""));
        await fails("NOT_FOUND", () => fs.mkdir("nope/e"));
        await fails("NOT_A_DIRECTORY", () => fs.mkdir("file.txt/e"));
        assert.deepEqual(await sorted(fs.list("")), ["d", "file.txt"]);
    });
    it("mkdir recursive: creates parents, accepts existing directories, refuses files in the way", { write: true }, async (fs) => {
        await fs.mkdir("a/b/c", { recursive: true });
        assert.equal((await fs.lstat("a/b/c")).type, "dir");
        await fs.mkdir("a/b/c", { recursive: true });
        await fs.mkdir("a", { recursive: true });
        await fs.mkdir("", { recursive: true });
        await fs.writeFile("a/f", enc("x"));
        await fails("EXISTS", () => fs.mkdir("a/f", { recursive: true }));
        await fails("NOT_A_DIRECTORY", () => fs.mkdir("a/f/g/h", { recursive: true }));
        assert.deepEqual(await sorted(fs.list("a")), ["b", "f"]);
    });
    it("mkdir: a symlink in the way is not a directory", { write: true, caps: ["symlinks"] }, async (fs) => {
        await fs.mkdir("real");
        await fs.symlink("real", "link");
        await fails("EXISTS", () => fs.mkdir("link"));
        await fails("EXISTS", () => fs.mkdir("link", { recursive: true }));
        await fails("NOT_A_DIRECTORY", () => fs.mkdir("link/sub", { recursive: true }));
        assert.deepEqual(await fs.list("real"), []);
    });
    it("remove: a file, an empty directory; NOT_FOUND when missing", { write: true }, async (fs) => {
        await fs.writeFile("f", enc("x"));
        await fs.mkdir("d/e", { recursive: true });
        await fs.remove("f");
        await fs.remove("d/e");
        assert.deepEqual(await fs.list(""), ["d"]);
        assert.deepEqual(await fs.list("d"), []);
        await fs.remove("d");
        assert.deepEqual(await fs.list(""), []);
        await fails("NOT_FOUND", () => fs.remove("f"));
        await fails("NOT_FOUND", () => fs.remove("nope/f", { recursive: true }));
        await fails("BAD_ARGUMENT", () => fs.remove(""));
        await fails("BAD_ARGUMENT", () => fs.remove("", { recursive: true }));
    });
    it("remove: a non-empty directory needs recursive", { write: true }, async (fs) => {
        await fs.mkdir("d/sub", { recursive: true });
        await fs.writeFile("d/sub/f", enc("x"));
        await fs.writeFile("d/g", enc("y"));
        await fails("EXISTS", () => fs.remove("d"));
        await fails("EXISTS", () => fs.remove("d/sub"));
        assert.equal(await text(fs, "d/sub/f"), "x");
        await fs.remove("d", { recursive: true });
        assert.deepEqual(await fs.list(""), []);
        await fs.writeFile("plain", enc("x"));
        await fs.remove("plain", { recursive: true });
        assert.deepEqual(await fs.list(""), []);
    });
    it("remove: a symlink goes, its target stays, recursive or not", { write: true, caps: ["symlinks"] }, async (fs) => {
        await fs.mkdir("keep");
        await fs.writeFile("keep/precious.txt", enc("precious"));
        await fs.symlink("keep/precious.txt", "file-link");
        await fs.symlink("keep", "dir-link");
        await fs.mkdir("d");
        await fs.symlink("../keep", "d/up-link");
        await fs.symlink("..", "d/root-link");
        await fs.remove("file-link");
        await fs.remove("dir-link", { recursive: true });
        await fs.remove("d", { recursive: true });
        assert.deepEqual(await fs.list(""), ["keep"]);
        assert.equal(await text(fs, "keep/precious.txt"), "precious");
    });
}
function renameTests(it) {
    it("rename: moves files and directories with their contents", { write: true }, async (fs) => {
        await fs.mkdir("a/b", { recursive: true });
        await fs.writeFile("a/b/f.txt", enc("content"));
        await fs.rename("a/b/f.txt", "a/g.txt");
        assert.deepEqual(await sorted(fs.list("a")), ["b", "g.txt"]);
        assert.equal(await text(fs, "a/g.txt"), "content");
        await fs.rename("a", "z");
        assert.deepEqual(await fs.list(""), ["z"]);
        assert.equal(await text(fs, "z/g.txt"), "content");
        await fs.rename("z/b", "b");
        assert.equal((await fs.lstat("b")).type, "dir");
    });
    it("rename: replaces a file, never a directory", { write: true }, async (fs) => {
        await fs.writeFile("new.txt", enc("new"));
        await fs.writeFile("old.txt", enc("old"));
        await fs.rename("new.txt", "old.txt");
        assert.deepEqual(await fs.list(""), ["old.txt"]);
        assert.equal(await text(fs, "old.txt"), "new");
        await fs.mkdir("d");
        await fs.mkdir("empty");
        await fails("IS_A_DIRECTORY", () => fs.rename("old.txt", "d"));
        await fails("IS_A_DIRECTORY", () => fs.rename("d", "empty"));
        await fails("IS_A_DIRECTORY", () => fs.rename("old.txt", ""));
        await fails("NOT_A_DIRECTORY", () => fs.rename("d", "old.txt"));
        assert.deepEqual(await sorted(fs.list("")), ["d", "empty", "old.txt"]);
        assert.equal(await text(fs, "old.txt"), "new");
    });
    it("rename: errors", { write: true }, async (fs) => {
        await fs.mkdir("d/e", { recursive: true });
        await fs.writeFile("f", enc("x"));
        await fails("NOT_FOUND", () => fs.rename("nope", "x"));
        await fails("NOT_FOUND", () => fs.rename("nope", "nope"));
        await fails("NOT_FOUND", () => fs.rename("f", "nope/f"));
        await fails("NOT_A_DIRECTORY", () => fs.rename("f", "f/g"));
        await fails("BAD_ARGUMENT", () => fs.rename("d", "d/e/d"));
        await fails("BAD_ARGUMENT", () => fs.rename("", "x"));
        await fs.rename("f", "f"); // the same path: nothing to do
        assert.deepEqual(await sorted(fs.list("")), ["d", "f"]);
        assert.deepEqual(await fs.list("d"), ["e"]);
    });
    it("rename: a symlink moves as a link and can replace a file", { write: true, caps: ["symlinks"] }, async (fs) => {
        await fs.writeFile("target.txt", enc("target"));
        await fs.symlink("target.txt", "link");
        await fs.mkdir("d");
        await fs.rename("link", "d/link");
        assert.equal((await fs.lstat("d/link")).type, "symlink");
        assert.equal(await fs.readlink("d/link"), "target.txt");
        await fs.writeFile("victim.txt", enc("victim"));
        await fs.rename("d/link", "victim.txt");
        assert.equal(await fs.readlink("victim.txt"), "target.txt");
        await fs.writeFile("f", enc("f"));
        await fs.rename("f", "victim.txt"); // a file replaces a link
        assert.equal(await text(fs, "victim.txt"), "f");
        assert.equal(await text(fs, "target.txt"), "target");
    });
}
function linkTests(it) {
    it("symlink/readlink: targets are stored verbatim, resolved or not", { write: true, caps: ["symlinks"] }, async (fs) => {
        const targets = ["a/b.txt", "../x", "../../far/away", "/abs/path", "/", "dangling", "with space/ü 日本", "e\u0301", "./dot", "a//b", "back\\slash"];
        for (const [i, target] of targets.entries()) {
            await fs.symlink(target, `l${i}`);
            assert.equal(await fs.readlink(`l${i}`), target);
            const st = await fs.lstat(`l${i}`);
            assert.equal(st.type, "symlink");
            assert.equal(st.size, enc(target).length, target);
        }
        assert.equal((await fs.list("")).length, targets.length);
    });
    it("symlink: errors", { write: true, caps: ["symlinks"] }, async (fs) => {
        await fs.writeFile("f", enc("x"));
        await fs.symlink("f", "l");
        await fails("EXISTS", () => fs.symlink("x", "f"));
        await fails("EXISTS", () => fs.symlink("x", "l"));
        await fails("EXISTS", () => fs.symlink("x", ""));
        await fails("NOT_FOUND", () => fs.symlink("x", "nope/l"));
        await fails("NOT_A_DIRECTORY", () => fs.symlink("x", "f/l"));
        await fails("BAD_ARGUMENT", () => fs.symlink("", "empty"));
        await fails("BAD_ARGUMENT", () => fs.symlink("a\0b", "nul"));
        assert.deepEqual(await sorted(fs.list("")), ["f", "l"]);
    });
}
function metadataTests(it) {
    it("chmod: bits read back through lstat", { write: true, caps: ["modes"] }, async (fs) => {
        await fs.writeFile("f", enc("x"));
        await fs.mkdir("d");
        for (const mode of [0o600, 0o644, 0o755, 0o400, 0o4755, 0o000]) {
            await fs.chmod("f", mode);
            assert.equal((await fs.lstat("f")).mode, mode, mode.toString(8));
        }
        await fs.chmod("f", 0o644);
        for (const mode of [0o700, 0o1777, 0o755]) {
            await fs.chmod("d", mode);
            assert.equal((await fs.lstat("d")).mode, mode, mode.toString(8));
        }
        await fails("NOT_FOUND", () => fs.chmod("nope", 0o644));
        await fails("BAD_ARGUMENT", () => fs.chmod("f", 0o10000));
        await fails("BAD_ARGUMENT", () => fs.chmod("f", 1.5));
    });
    it("chmod: a symlink is refused, its target untouched", { write: true, caps: ["modes", "symlinks"] }, async (fs) => {
        await fs.writeFile("f", enc("x"), { mode: 0o644 });
        await fs.symlink("f", "l");
        await fails("UNSUPPORTED", () => fs.chmod("l", 0o600));
        assert.equal((await fs.lstat("f")).mode, 0o644);
    });
    it("utimes: times read back through lstat", { write: true, caps: ["mtimes"] }, async (fs) => {
        await fs.writeFile("f", enc("x"));
        await fs.mkdir("d");
        for (const t of [1_600_000_000_123, 1_000_000_000_000, 86_400_000, 2_000_000_000_999]) {
            await fs.utimes("f", t);
            assert.equal((await fs.lstat("f")).mtimeMs, t);
            await fs.utimes("d", t);
            assert.equal((await fs.lstat("d")).mtimeMs, t);
        }
        await fs.writeFile("f", enc("rewritten"));
        assert.ok(Math.abs((await fs.lstat("f")).mtimeMs - Date.now()) < 60_000, "a rewrite sets a fresh mtime");
        await fails("NOT_FOUND", () => fs.utimes("nope", 0));
        await fails("BAD_ARGUMENT", () => fs.utimes("f", Number.NaN));
    });
    it("utimes: on a symlink sets the link's time, not the target's", { write: true, caps: ["mtimes", "symlinks"] }, async (fs) => {
        await fs.writeFile("f", enc("x"));
        await fs.utimes("f", 1_500_000_000_000);
        await fs.symlink("f", "l");
        await fs.utimes("l", 1_400_000_000_000);
        assert.equal((await fs.lstat("l")).mtimeMs, 1_400_000_000_000);
        assert.equal((await fs.lstat("f")).mtimeMs, 1_500_000_000_000);
    });
    it("changeTimes: a rewrite changes ctime or inode even with size and mtime kept", { write: true, caps: ["changeTimes", "mtimes"] }, async (fs) => {
        await fs.writeFile("f", enc("aaaa"));
        await fs.utimes("f", 1_600_000_000_000);
        const before = await fs.lstat("f");
        await sleep(20); // real ctimes tick with the kernel's coarse clock
        await fs.writeFile("f", enc("bbbb"));
        await fs.utimes("f", 1_600_000_000_000);
        const after = await fs.lstat("f");
        assert.equal(after.size, before.size);
        assert.equal(after.mtimeMs, before.mtimeMs);
        assert.ok(after.ctimeMs !== before.ctimeMs || after.ino !== before.ino, "the change is visible");
    });
    it("changeTimes: chmod changes ctime", { write: true, caps: ["changeTimes", "modes"] }, async (fs) => {
        await fs.writeFile("f", enc("x"), { mode: 0o644 });
        const before = await fs.lstat("f");
        await sleep(20);
        await fs.chmod("f", 0o600);
        const after = await fs.lstat("f");
        assert.equal(after.ino, before.ino);
        assert.ok(after.ctimeMs > before.ctimeMs, "ctime moved forward");
    });
}
function confinementTests(it) {
    it("confinement: no call reads or writes through a symlinked directory", { write: true, caps: ["symlinks"] }, async (fs, _t, made) => {
        const outside = made.outside;
        const before = await outside?.snapshot();
        await fs.mkdir("inner");
        await fs.writeFile("inner/own.txt", enc("own"));
        await fs.writeFile("file.txt", enc("file"));
        const up = outside?.relative.startsWith("../") ? `${outside.relative.slice(3)}/secret.txt` : "outside/secret.txt";
        // Each link, its target, and a path below it that names a real file if the link were followed.
        const links = [
            ["rel", outside?.relative ?? "../outside", "secret.txt"],
            ["abs", outside?.absolute ?? "/", outside ? "secret.txt" : "etc/passwd"],
            ["up", "..", up],
            ["inner-link", "inner", "own.txt"],
            ["inner/up", "..", "file.txt"],
        ];
        for (const [name, target] of links)
            await fs.symlink(target, name);
        for (const [link, , below] of links) {
            const via = (p) => `${link}/${p}`;
            const secret = via(below);
            await fails("NOT_A_DIRECTORY", () => fs.list(link));
            await fails("NOT_A_DIRECTORY", () => fs.list(via("x")));
            await fails("NOT_A_DIRECTORY", () => fs.lstat(secret));
            await fails("NOT_A_DIRECTORY", () => fs.stat(secret));
            await fails("NOT_A_DIRECTORY", () => fs.read(secret, 0, 100));
            await fails("NOT_A_DIRECTORY", () => collect(fs.readStream(secret)));
            await fails("NOT_A_DIRECTORY", () => fs.readlink(secret));
            await fails("NOT_A_DIRECTORY", () => fs.writeFile(via("new.txt"), enc("escaped")));
            await fails("NOT_A_DIRECTORY", () => fs.writeFile(secret, enc("overwritten")));
            await fails("NOT_A_DIRECTORY", () => fs.mkdir(via("newdir")));
            await fails("NOT_A_DIRECTORY", () => fs.mkdir(via("newdir/deeper"), { recursive: true }));
            await fails("NOT_A_DIRECTORY", () => fs.symlink("x", via("new-link")));
            await fails("NOT_A_DIRECTORY", () => fs.rename("file.txt", via("moved.txt")));
            await fails("NOT_A_DIRECTORY", () => fs.rename(secret, "stolen.txt"));
            await fails("NOT_A_DIRECTORY", () => fs.remove(secret));
            await fails("NOT_A_DIRECTORY", () => fs.remove(via("x"), { recursive: true }));
            if (fs.capabilities.modes)
                await fails("NOT_A_DIRECTORY", () => fs.chmod(secret, 0o777));
            if (fs.capabilities.mtimes)
                await fails("NOT_A_DIRECTORY", () => fs.utimes(secret, 0));
        }
        // Only stat follows a final link, and only within the root.
        await fails("NOT_FOUND", () => fs.stat("rel"));
        await fails("NOT_FOUND", () => fs.stat("abs"));
        await fails("NOT_FOUND", () => fs.stat("up"));
        assert.equal((await fs.stat("inner-link")).type, "dir");
        assert.equal((await fs.stat("inner/up")).type, "dir");
        assert.equal(await text(fs, "file.txt"), "file");
        assert.deepEqual(await sorted(fs.list("")), ["abs", "file.txt", "inner", "inner-link", "rel", "up"]);
        assert.deepEqual(await sorted(fs.list("inner")), ["own.txt", "up"]);
        if (outside)
            assert.equal(await outside.snapshot(), before, "nothing outside the root changed");
    });
    it("confinement: a final symlink out of the root is handled as a link, never followed", { write: true, caps: ["symlinks"] }, async (fs, _t, made) => {
        const outside = made.outside;
        const before = await outside?.snapshot();
        const target = outside ? `${outside.absolute}/secret.txt` : "/etc/passwd";
        const relTarget = outside ? `${outside.relative}/secret.txt` : "../secret.txt";
        for (const [name, t] of [["abs-secret", target], ["rel-secret", relTarget]]) {
            await fs.symlink(t, name);
            await fails("IS_A_DIRECTORY", () => fs.read(name, 0, 100));
            await fails("IS_A_DIRECTORY", () => collect(fs.readStream(name)));
            await fails("NOT_FOUND", () => fs.stat(name));
            if (fs.capabilities.modes)
                await fails("UNSUPPORTED", () => fs.chmod(name, 0o777));
            if (fs.capabilities.mtimes) {
                await fs.utimes(name, 1_000_000_000_000);
                assert.equal((await fs.lstat(name)).mtimeMs, 1_000_000_000_000);
            }
            assert.equal(await fs.readlink(name), t);
        }
        await fs.rename("rel-secret", "moved");
        await fs.writeFile("abs-secret", enc("replaces the link"));
        assert.equal(await text(fs, "abs-secret"), "replaces the link");
        await fs.remove("moved");
        await fs.symlink(outside?.absolute ?? "/", "abs-dir");
        await fs.remove("abs-dir", { recursive: true });
        assert.deepEqual(await fs.list(""), ["abs-secret"]);
        for (const c of await chunks(fs.readStream("abs-secret")))
            assert.notEqual(dec(c), SECRET);
        if (outside)
            assert.equal(await outside.snapshot(), before, "nothing outside the root changed");
    });
}
//# sourceMappingURL=fs-conformance-writes.js.map