/**
 * The FsAdapter conformance suite: one set of tests every adapter runs, each adapter's test file
 * only handing it a factory (as restic does for its backends). This file holds the entry point,
 * the read-side tests (which run on the fixture tree, built through writes or handed to a
 * read-only factory) and the read-only variant; the write-side tests are in
 * fs-conformance-writes.ts. Imports only node:test, node:assert and the library: Node-only
 * checks come in through the factory (`outside`).
 */
import { describe } from "node:test";
import assert from "node:assert/strict";
import { collect, joinPath, listWithStats, type FsAdapter } from "../../src/index.js";
import {
  BIG,
  ODD_NAMES,
  TREE,
  chunks,
  dec,
  describeTree,
  enc,
  fails,
  registrar,
  sorted,
  type ConformanceOptions,
} from "./fs-conformance-kit.js";
import { writeTests } from "./fs-conformance-writes.js";

export type { AdapterUnderTest, ConformanceOptions, OutsideProbe } from "./fs-conformance-kit.js";

export function adapterConformance(name: string, options: ConformanceOptions): void {
  if (!options.make && !options.makeReadOnly) throw new Error("adapterConformance: give make, makeReadOnly or both");
  describe(`${name} conformance`, () => {
    const it = registrar(options);
    readTests(it);
    unsafePathTests(it);
    capabilityTests(it);
    readOnlyTests(it);
    writeTests(it);
  });
}

type It = ReturnType<typeof registrar>;

/** The names at the fixture's root, as far as the adapter can hold them. */
function rootNames(fs: FsAdapter, emptyDirs: boolean): string[] {
  const names = new Set(Object.keys(TREE).map((k) => k.split("/")[0]!));
  if (!fs.capabilities.symlinks) for (const [k, v] of Object.entries(TREE)) if (v && typeof v === "object" && "symlink" in v) names.delete(k);
  if (!emptyDirs) names.delete("emptydir");
  return [...names].sort();
}

function readTests(it: It): void {
  it("list: the names in a directory, without . and ..", { tree: true }, async (fs, t) => {
    const emptyDirs = (await fs.list("")).includes("emptydir");
    assert.deepEqual(await sorted(fs.list("")), rootNames(fs, emptyDirs));
    const dirNames = ["sub", ODD_NAMES.unicodeDir, ...(fs.capabilities.symlinks ? ["link-up"] : [])].sort();
    assert.deepEqual(await sorted(fs.list("dir")), dirNames);
    assert.deepEqual(await fs.list("dir/sub"), ["deep.txt"]);
    if (!emptyDirs) t.diagnostic("emptydir not represented");
  });

  it("list: errors", { tree: true }, async (fs) => {
    await fails("NOT_FOUND", () => fs.list("nope"));
    await fails("NOT_FOUND", () => fs.list("nope/deeper"));
    await fails("NOT_A_DIRECTORY", () => fs.list("hello.txt"));
    await fails("NOT_A_DIRECTORY", () => fs.list("hello.txt/x"));
    if (fs.capabilities.symlinks) {
      await fails("NOT_A_DIRECTORY", () => fs.list("link-dir"));
      await fails("NOT_A_DIRECTORY", () => fs.list("link-dir/sub"));
    }
  });

  it("list: an empty directory lists nothing", { tree: true, emptyDirs: true }, async (fs) => {
    assert.deepEqual(await fs.list("emptydir"), []);
    assert.equal((await fs.lstat("emptydir")).type, "dir");
  });

  it("listWithStats: the same names as list, each with what lstat gives (listStat where the adapter has it)", { tree: true }, async (fs) => {
    for (const dir of ["", "dir", "dir/sub"]) {
      const listed = await listWithStats(fs, dir);
      assert.deepEqual(listed.map((e) => e.name).sort(), (await fs.list(dir)).sort(), dir);
      for (const e of listed) {
        const path = joinPath(dir, e.name);
        assert.equal(e.error, undefined, path);
        assert.deepEqual(e.stat, await fs.lstat(path), path);
      }
    }
    await fails("NOT_FOUND", () => listWithStats(fs, "nope"));
    await fails("NOT_A_DIRECTORY", () => listWithStats(fs, "hello.txt"));
    if (fs.capabilities.symlinks) await fails("NOT_A_DIRECTORY", () => listWithStats(fs, "link-dir"));
  });

  it("lstat: files, directories and the root", { tree: true }, async (fs) => {
    const hello = await fs.lstat("hello.txt");
    assert.equal(hello.type, "file");
    assert.equal(hello.size, 13);
    assert.ok(Number.isFinite(hello.mtimeMs));
    assert.ok(Number.isInteger(hello.mode) && hello.mode >= 0 && hello.mode <= 0o7777);
    if (!fs.capabilities.modes) assert.equal(hello.mode, 0);
    assert.equal((await fs.lstat("big.bin")).size, BIG.length);
    assert.equal((await fs.lstat("empty.txt")).size, 0);
    for (const dir of ["", "dir", "dir/sub"]) {
      const st = await fs.lstat(dir);
      assert.equal(st.type, "dir", dir);
      assert.equal(st.size, 0, `${dir}: directories have size 0`);
    }
  });

  it("lstat: errors", { tree: true }, async (fs) => {
    await fails("NOT_FOUND", () => fs.lstat("nope"));
    await fails("NOT_FOUND", () => fs.lstat("dir/nope"));
    await fails("NOT_FOUND", () => fs.lstat("nope/deeper"));
    await fails("NOT_A_DIRECTORY", () => fs.lstat("hello.txt/x"));
  });

  it("lstat: symlinks are reported as themselves, sized by their target's UTF-8 bytes", { tree: true, caps: ["symlinks"] }, async (fs) => {
    for (const [path, target] of [["link-file", "hello.txt"], ["link-dir", "dir"], ["dangling", "nowhere"], ["dir/link-up", "../hello.txt"]] as const) {
      const st = await fs.lstat(path);
      assert.equal(st.type, "symlink", path);
      assert.equal(st.size, enc(target).length, path);
    }
    await fails("NOT_A_DIRECTORY", () => fs.lstat("link-dir/sub"));
  });

  it("stat: follows a final symlink within the root", { tree: true, caps: ["symlinks"] }, async (fs) => {
    const hello = await fs.lstat("hello.txt");
    for (const path of ["link-file", "chain", "dir/link-up"]) {
      const st = await fs.stat(path);
      assert.equal(st.type, "file", path);
      assert.equal(st.size, hello.size, path);
      assert.equal(st.mtimeMs, hello.mtimeMs, path);
    }
    assert.equal((await fs.stat("link-dir")).type, "dir");
    assert.deepEqual(await fs.stat("hello.txt"), hello);
    assert.equal((await fs.stat("dir")).type, "dir");
  });

  it("stat: never follows a link out of the root, nor a link in a parent segment", { tree: true, caps: ["symlinks"] }, async (fs) => {
    await fails("NOT_FOUND", () => fs.stat("dangling"));
    await fails("NOT_FOUND", () => fs.stat("escape"));
    await fails("NOT_FOUND", () => fs.stat("absolute"));
    await fails("NOT_A_DIRECTORY", () => fs.stat("link-dir/sub"));
    await fails("NOT_FOUND", () => fs.stat("nope"));
  });

  it("stat: without symlinks it is lstat", { tree: true }, async (fs, t) => {
    if (fs.capabilities.symlinks) return t.skip("has symlinks (covered above)");
    assert.deepEqual(await fs.stat("hello.txt"), await fs.lstat("hello.txt"));
    assert.equal((await fs.stat("dir")).type, "dir");
  });

  it("read: exact ranges, short at the end, empty past it", { tree: true }, async (fs) => {
    assert.deepEqual(await fs.read("big.bin", 0, BIG.length), BIG);
    for (const [offset, length] of [[0, 1], [1, 1], [65535, 3], [65536, 65536], [1_000_000, 200_000], [BIG.length - 1, 1]]) {
      assert.deepEqual(await fs.read("big.bin", offset!, length!), BIG.subarray(offset, offset! + length!), `${offset}+${length}`);
    }
    assert.deepEqual(await fs.read("big.bin", BIG.length - 10, 100), BIG.subarray(BIG.length - 10));
    assert.equal((await fs.read("big.bin", BIG.length, 10)).length, 0);
    assert.equal((await fs.read("big.bin", BIG.length + 5, 10)).length, 0);
    assert.equal((await fs.read("big.bin", 5, 0)).length, 0);
    assert.equal((await fs.read("empty.txt", 0, 10)).length, 0);
    assert.equal(dec(await fs.read("hello.txt", 7, 1 << 30)), "world\n");
  });

  it("read: returns a fresh array the caller owns", { tree: true }, async (fs) => {
    const a = await fs.read("hello.txt", 0, 5);
    const b = await fs.read("hello.txt", 0, 5);
    assert.ok(a instanceof Uint8Array);
    assert.notEqual(a.buffer, b.buffer);
    a.fill(0);
    assert.equal(dec(await fs.read("hello.txt", 0, 5)), "hello");
    assert.equal(dec(b), "hello");
  });

  it("read: errors", { tree: true }, async (fs) => {
    await fails("NOT_FOUND", () => fs.read("nope", 0, 1));
    await fails("IS_A_DIRECTORY", () => fs.read("dir", 0, 1));
    await fails("IS_A_DIRECTORY", () => fs.read("", 0, 1));
    await fails("NOT_A_DIRECTORY", () => fs.read("hello.txt/x", 0, 1));
    for (const [offset, length] of [[-1, 1], [0, -1], [1.5, 1], [0, Number.NaN], [0, Infinity]]) {
      await fails("BAD_ARGUMENT", () => fs.read("hello.txt", offset!, length!), `read(${offset}, ${length})`);
    }
    if (fs.capabilities.symlinks) {
      await fails("IS_A_DIRECTORY", () => fs.read("link-file", 0, 1)); // a file was expected; links are not followed
      await fails("NOT_A_DIRECTORY", () => fs.read("link-dir/sub/deep.txt", 0, 1));
    }
  });

  it("readStream: the whole file, in fresh chunks", { tree: true }, async (fs) => {
    const parts = await chunks(fs.readStream("big.bin"));
    // Checked only after every chunk is in hand: a reused buffer would have overwritten some.
    const whole = new Uint8Array(parts.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of parts) whole.set(c, (at += c.length) - c.length);
    assert.deepEqual(whole, BIG);
    assert.equal(dec(await collect(fs.readStream("hello.txt"))), "hello, world\n");
    assert.equal((await collect(fs.readStream("empty.txt"))).length, 0);
  });

  it("readStream, transient: the same bytes, each chunk read before the next; ordinary streams after it still get fresh chunks", { tree: true }, async (fs) => {
    // A consumer that copies each chunk as it comes, as the contract lets a transient one rely on.
    const copyAll = async (path: string) => {
      const copies: Uint8Array[] = [];
      for await (const c of fs.readStream(path, { transient: true })) copies.push(c.slice());
      return joined(copies);
    };
    const joined = (parts: Uint8Array[]) => {
      const whole = new Uint8Array(parts.reduce((n, c) => n + c.length, 0));
      parts.reduce((at, c) => (whole.set(c, at), at + c.length), 0);
      return whole;
    };
    assert.deepEqual(await copyAll("big.bin"), BIG);
    assert.equal(dec(await copyAll("hello.txt")), "hello, world\n");
    assert.equal((await copyAll("empty.txt")).length, 0);
    // After a transient stream left early, and with a transient one after it, the kept chunks of
    // an ordinary stream are still whole: memory an adapter reuses is never handed out as those.
    for await (const c of fs.readStream("big.bin", { transient: true })) {
      assert.ok(c.length > 0);
      break;
    }
    const kept = await chunks(fs.readStream("big.bin"));
    await copyAll("big.bin");
    assert.deepEqual(joined(kept), BIG);
    await fails("NOT_FOUND", () => collect(fs.readStream("nope", { transient: true })));
  });

  it("readStream: a consumer may stop early", { tree: true }, async (fs) => {
    for await (const chunk of fs.readStream("big.bin")) {
      assert.ok(chunk.length > 0);
      break;
    }
    assert.deepEqual(await collect(fs.readStream("big.bin")), BIG);
  });

  it("readStream: errors", { tree: true }, async (fs) => {
    await fails("NOT_FOUND", () => collect(fs.readStream("nope")));
    await fails("IS_A_DIRECTORY", () => collect(fs.readStream("dir")));
    await fails("NOT_A_DIRECTORY", () => collect(fs.readStream("hello.txt/x")));
    if (fs.capabilities.symlinks) await fails("IS_A_DIRECTORY", () => collect(fs.readStream("link-file")));
  });

  it("readlink: errors", { tree: true, caps: ["symlinks"] }, async (fs) => {
    assert.equal(await fs.readlink("dir/link-up"), "../hello.txt");
    await fails("BAD_ARGUMENT", () => fs.readlink("hello.txt"));
    await fails("BAD_ARGUMENT", () => fs.readlink("dir"));
    await fails("NOT_FOUND", () => fs.readlink("nope"));
    await fails("NOT_A_DIRECTORY", () => fs.readlink("link-dir/link-up"));
  });

  it("Unicode, spaces and punctuation in names round-trip exactly", { tree: true }, async (fs) => {
    const { unicodeDir, unicodeFile, spaced, spacedFile, emojiDir, punctFile } = ODD_NAMES;
    assert.ok((await fs.list("dir")).includes(unicodeDir));
    assert.deepEqual(await fs.list(`dir/${unicodeDir}`), [unicodeFile]);
    assert.deepEqual(await fs.list(spaced), [spacedFile]);
    assert.deepEqual(await fs.list(emojiDir), [punctFile]);
    assert.equal(dec(await fs.read(`dir/${unicodeDir}/${unicodeFile}`, 0, 100)), "unicode");
    assert.equal(dec(await collect(fs.readStream(`${spaced}/${spacedFile}`))), "spaces");
    assert.equal(dec(await fs.read(`${emojiDir}/${punctFile}`, 0, 100)), "punctuation");
  });

  it("changeTimes: lstat reports ctimeMs and ino, distinct per file", { tree: true, caps: ["changeTimes"] }, async (fs) => {
    const inodes = new Set<number>();
    for (const path of ["hello.txt", "empty.txt", "big.bin", "dir", "dir/sub/deep.txt"]) {
      const st = await fs.lstat(path);
      assert.ok(Number.isFinite(st.ctimeMs), `${path} ctimeMs`);
      assert.ok(typeof st.ino === "number", `${path} ino`);
      inodes.add(st.ino!);
    }
    assert.equal(inodes.size, 5);
  });
}

/** Paths that could leave the root or alias another name; each is refused before storage. */
const UNSAFE = ["../x", "..", ".", "./a", "/abs", "a//b", "a/./b", "a/../b", "a/", "a\\b", "a\0b", "e\u0301", "C:/x"];

function unsafePathTests(it: It): void {
  it("unsafe paths are refused by every call with UNSAFE_PATH, and change nothing", { tree: true }, async (fs) => {
    const before = await describeTree(fs);
    const data = enc("x");
    for (const p of UNSAFE) {
      const calls: [string, () => unknown][] = [
        ["list", () => fs.list(p)],
        ["lstat", () => fs.lstat(p)],
        ["stat", () => fs.stat(p)],
        ["read", () => fs.read(p, 0, 1)],
        ["readStream", () => collect(fs.readStream(p))],
        ["writeFile", () => fs.writeFile(p, data)],
        ["mkdir", () => fs.mkdir(p)],
        ["mkdir -p", () => fs.mkdir(p, { recursive: true })],
        ["remove", () => fs.remove(p, { recursive: true })],
        ["rename from", () => fs.rename(p, "moved")],
        ["rename to", () => fs.rename("hello.txt", p)],
        ["symlink", () => fs.symlink("hello.txt", p)],
        ["readlink", () => fs.readlink(p)],
        ["chmod", () => fs.chmod(p, 0o600)],
        ["utimes", () => fs.utimes(p, 0)],
      ];
      for (const [call, work] of calls) await fails("UNSAFE_PATH", work, `${call}(${JSON.stringify(p)})`);
    }
    assert.equal(await describeTree(fs), before);
  });
}

function capabilityTests(it: It): void {
  it("calls a missing capability needs fail with UNSUPPORTED", { tree: true }, async (fs, t) => {
    const caps = fs.capabilities;
    if (caps.symlinks && caps.modes && caps.mtimes) return t.skip("has symlinks, modes and mtimes");
    if (!caps.symlinks) await fails("UNSUPPORTED", () => fs.readlink("hello.txt"));
    if (!caps.writable) return; // writes are READ_ONLY first (see the read-only tests)
    if (!caps.symlinks) await fails("UNSUPPORTED", () => fs.symlink("hello.txt", "l"));
    if (!caps.modes) await fails("UNSUPPORTED", () => fs.chmod("hello.txt", 0o600));
    if (!caps.mtimes) await fails("UNSUPPORTED", () => fs.utimes("hello.txt", 0));
  });
}

function readOnlyTests(it: It): void {
  it("read-only: every write call fails with READ_ONLY and changes nothing", { readOnly: true }, async (fs) => {
    assert.equal(fs.capabilities.writable, false);
    const before = await describeTree(fs);
    assert.ok(before.includes("hello.txt"), "the read-only adapter holds the fixture");
    let pulled = false;
    const source = (async function* () {
      pulled = true;
      yield enc("x");
    })();
    await fails("READ_ONLY", () => fs.writeFile("hello.txt", enc("changed")));
    await fails("READ_ONLY", () => fs.writeFile("new.txt", source));
    await fails("READ_ONLY", () => fs.writeFile("nope/new.txt", enc("x")));
    await fails("READ_ONLY", () => fs.writeFile("dir", enc("x")));
    await fails("READ_ONLY", () => fs.mkdir("newdir"));
    await fails("READ_ONLY", () => fs.mkdir("dir/sub", { recursive: true }));
    await fails("READ_ONLY", () => fs.remove("hello.txt"));
    await fails("READ_ONLY", () => fs.remove("dir", { recursive: true }));
    await fails("READ_ONLY", () => fs.remove("nope"));
    await fails("READ_ONLY", () => fs.rename("hello.txt", "moved.txt"));
    await fails("READ_ONLY", () => fs.symlink("hello.txt", "new-link"));
    await fails("READ_ONLY", () => fs.chmod("hello.txt", 0o600));
    await fails("READ_ONLY", () => fs.utimes("hello.txt", 0));
    assert.equal(pulled, false, "a refused write does not read its source");
    assert.equal(await describeTree(fs), before);
  });

  it("read-only: reads work as usual", { readOnly: true }, async (fs) => {
    assert.equal(dec(await fs.read("hello.txt", 0, 100)), "hello, world\n");
    assert.deepEqual(await collect(fs.readStream("big.bin")), BIG);
    assert.deepEqual(await fs.list("dir/sub"), ["deep.txt"]);
  });
}
