import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, openAsBlob, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileListFs, isIbtError, type TreeSpec } from "../../src/index.js";
import { adapterConformance } from "../support/fs-conformance.js";

/** A File as `<input webkitdirectory>` gives it: named by its path under the picked folder. */
function picked(relativePath: string, data: string | Uint8Array, lastModified = 1_700_000_000_000): File {
  const file = new File([typeof data === "string" ? data : data.slice()], relativePath.slice(relativePath.lastIndexOf("/") + 1), { lastModified });
  Object.defineProperty(file, "webkitRelativePath", { value: relativePath });
  return file;
}

/** Only files can be in a file list: directories are implied, empty ones and symlinks are lost. */
function filesOf(tree: TreeSpec): File[] {
  return Object.entries(tree).flatMap(([path, value]) => (typeof value === "string" || value instanceof Uint8Array ? [picked(`top/${path}`, value)] : []));
}

adapterConformance("FileListFs", {
  makeReadOnly: async (tree) => ({ fs: new FileListFs(filesOf(tree)) }),
  emptyDirs: false,
});

test("FileListFs: the picked folder's name is dropped; directories are implied", async () => {
  const fs = new FileListFs([picked("photos/2024/a.jpg", "A"), picked("photos/2024/b/c.jpg", "C"), picked("photos/top.txt", "T")]);
  assert.deepEqual((await fs.list("")).sort(), ["2024", "top.txt"]);
  assert.deepEqual((await fs.list("2024")).sort(), ["a.jpg", "b"]);
  assert.equal((await fs.lstat("2024/b")).type, "dir");
  assert.equal(new TextDecoder().decode(await fs.read("2024/b/c.jpg", 0, 10)), "C");
});

test("FileListFs: mtime from lastModified, no modes, no change times", async () => {
  const fs = new FileListFs([picked("p/f.txt", "hello", 1_234_567_890_123)]);
  assert.deepEqual(await fs.lstat("f.txt"), { type: "file", size: 5, mtimeMs: 1_234_567_890_123, mode: 0 });
  assert.deepEqual(fs.capabilities, { symlinks: false, modes: false, mtimes: false, changeTimes: false, writable: false });
});

test("FileListFs: decomposed names (as macOS gives them) become NFC", async () => {
  const fs = new FileListFs([picked("p/Cafe\u0301/re\u0301sume\u0301.txt", "x")]);
  assert.deepEqual(await fs.list(""), ["Caf\u00e9"]);
  assert.deepEqual(await fs.list("Caf\u00e9"), ["r\u00e9sum\u00e9.txt"]);
});

test("FileListFs: a file without a relative path sits at the root", async () => {
  const fs = new FileListFs([new File(["x"], "plain.txt")]);
  assert.deepEqual(await fs.list(""), ["plain.txt"]);
});

test("FileListFs: unsafe or colliding names refuse the whole list", () => {
  assert.throws(() => new FileListFs([picked("p/a\\b.txt", "x")]), (e) => isIbtError(e, "UNSAFE_PATH"));
  assert.throws(() => new FileListFs([picked("p/../x", "x")]), (e) => isIbtError(e, "UNSAFE_PATH"));
  assert.throws(() => new FileListFs([picked("p/caf\u00e9", "x"), picked("p/cafe\u0301", "y")]), (e) => isIbtError(e, "BAD_ARGUMENT"));
  assert.throws(() => new FileListFs([picked("p/a", "x"), picked("p/a/b", "y")]), (e) => isIbtError(e, "BAD_ARGUMENT"));
  assert.throws(() => new FileListFs([picked("p/a/b", "y"), picked("p/a", "x")]), (e) => isIbtError(e, "BAD_ARGUMENT"));
});

test("FileListFs: an empty list is an empty root", async () => {
  const fs = new FileListFs([]);
  assert.deepEqual(await fs.list(""), []);
  assert.equal((await fs.lstat("")).type, "dir");
});

test("FileListFs: a file changed after it was picked is CHANGED, for read and readStream", async (t) => {
  // Node's disk-backed Blob, like a browser's picked File, refuses to read once the file's size
  // or time differs from what it recorded (NotReadableError).
  const dir = mkdtempSync(join(tmpdir(), "ibt-filelist-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "a.txt"), "before");
  const file = new File([await openAsBlob(join(dir, "a.txt"))], "a.txt");
  Object.defineProperty(file, "webkitRelativePath", { value: "p/a.txt" });
  const fs = new FileListFs([file]);
  assert.equal(new TextDecoder().decode(await fs.read("a.txt", 0, 100)), "before");
  writeFileSync(join(dir, "a.txt"), "after, and longer");
  await assert.rejects(fs.read("a.txt", 0, 100), (e) => isIbtError(e, "CHANGED") && e.path === "a.txt");
  await assert.rejects(async () => {
    for await (const _ of fs.readStream("a.txt")) void _;
  }, (e) => isIbtError(e, "CHANGED") && e.path === "a.txt");
});
