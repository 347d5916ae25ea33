/**
 * NodeFs.readWhole, the walker's one-call read of a small file (ReadWhole in list-stat.ts): the
 * bytes and the metadata of the file read, a grown file seen as one, what is no file refused as
 * readStream refuses it, and wrappers that override readStream or lstat never bypassed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { isIbtError, type FsAdapter } from "../../src/index.js";
import { NodeFs } from "../../src/node/index.js";
import { wholeFileReader } from "../../src/fs/list-stat.js";
import { tempDir } from "../support/helpers.js";

const enc = (s: string) => new TextEncoder().encode(s);

for (const sync of [false, true]) {
  test(`readWhole (sync: ${sync}) gives the bytes and the file's lstat, one byte past the expected size at most`, async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "a.txt"), "hello, small file");
    writeFileSync(join(dir, "empty"), "");
    mkdirSync(join(dir, "sub"));
    symlinkSync("a.txt", join(dir, "link"));
    const fs = new NodeFs(dir, { sync });
    const readWhole = wholeFileReader(fs);
    assert.ok(readWhole, "NodeFs offers the fast path");
    const got = await readWhole("a.txt", 17);
    assert.deepEqual(got.data, enc("hello, small file"));
    assert.deepEqual(got.stat, await fs.lstat("a.txt"));
    assert.equal((await readWhole("empty", 0)).data.length, 0);
    // Listed smaller than it is now: the extra byte shows it grew.
    assert.deepEqual((await readWhole("a.txt", 5)).data, enc("hello,"));
    // Listed larger: the bytes there are, and a size that differs from the listing.
    const shrunk = await readWhole("a.txt", 100);
    assert.equal(shrunk.data.length, 17);
    assert.equal(shrunk.stat.size, 17);
    for (const [path, code] of [["sub", "IS_A_DIRECTORY"], ["link", "IS_A_DIRECTORY"], ["missing", "NOT_FOUND"], ["../x", "UNSAFE_PATH"]] as const) {
      await assert.rejects(readWhole(path, 10), (e: unknown) => isIbtError(e) && e.code === code, path);
    }
  });
}

test("wholeFileReader is not taken through a wrapper that overrides readStream or lstat", () => {
  const fs = new NodeFs(tempDir());
  for (const method of ["readStream", "lstat"] as const) {
    const wrapped = Object.create(fs) as FsAdapter;
    (wrapped as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => (fs[method] as (...a: unknown[]) => unknown)(...args);
    assert.equal(wholeFileReader(wrapped), undefined, method);
  }
  assert.ok(wholeFileReader(Object.create(fs) as FsAdapter), "a wrapper overriding neither still gets it");
});
