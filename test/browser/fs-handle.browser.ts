/**
 * The FsAdapter conformance suite against HandleFs on the origin private file system, in a
 * browser (part of the page suite, suite.browser.ts, bundled by run.mjs with node:test and
 * node:assert mapped to the shims beside this file). Each test gets a fresh subdirectory of
 * `navigator.storage.getDirectory()`.
 *
 * The suite runs twice: once as the browser is, and once with `FileSystemHandle.prototype.move`
 * hidden, so the fallbacks for browsers without `move()` (new files created in place, rename by
 * copy and remove) are exercised too. A few HandleFs-only checks follow.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { FsStore, HandleFs, isIbtError } from "../../src/index.js";
import { build, type ConformanceOptions } from "../support/fs-conformance-kit.js";
import { adapterConformance } from "../support/fs-conformance.js";
import { storeConformance } from "../support/store-conformance.js";
import { runCollected, type TestResult } from "./node-test-shim.js";

let counter = 0;

/** A fresh, empty directory in OPFS, removed again by `cleanup`. */
export async function freshDir(): Promise<{ dir: FileSystemDirectoryHandle; cleanup: () => Promise<void> }> {
  const opfs = await navigator.storage.getDirectory();
  const name = `ibt-test-${Date.now()}-${counter++}`;
  const dir = await opfs.getDirectoryHandle(name, { create: true });
  return { dir, cleanup: () => opfs.removeEntry(name, { recursive: true }) };
}

const factories: ConformanceOptions = {
  make: async () => {
    const { dir, cleanup } = await freshDir();
    return { fs: new HandleFs(dir), cleanup };
  },
  makeReadOnly: async (tree) => {
    const { dir, cleanup } = await freshDir();
    await build(new HandleFs(dir), tree);
    return { fs: new HandleFs(dir, { readOnly: true }), cleanup };
  },
};

/** A Store over a fresh OPFS directory (left for the browser profile's removal with the run). */
async function storeOnOpfs(): Promise<FsStore> {
  return new FsStore(new HandleFs((await freshDir()).dir), "OPFS");
}

function handleTests(): void {
  test("HandleFs.open: OPFS is writable, readOnly is honoured", async () => {
    const { dir, cleanup } = await freshDir();
    try {
      assert.equal((await HandleFs.open(dir)).capabilities.writable, true);
      const ro = await HandleFs.open(dir, { readOnly: true });
      assert.equal(ro.capabilities.writable, false);
      await assert.rejects(ro.writeFile("f", new Uint8Array(1)), (e) => isIbtError(e, "READ_ONLY"));
    } finally {
      await cleanup();
    }
  });

  test("HandleFs: files report File.lastModified, directories mtime 0", async () => {
    const { dir, cleanup } = await freshDir();
    try {
      const fs = new HandleFs(dir);
      await fs.mkdir("d");
      await fs.writeFile("d/f", new Uint8Array([1, 2, 3]));
      const file = await (await (await dir.getDirectoryHandle("d")).getFileHandle("f")).getFile();
      assert.equal((await fs.lstat("d/f")).mtimeMs, file.lastModified);
      assert.deepEqual(await fs.lstat("d"), { type: "dir", size: 0, mtimeMs: 0, mode: 0 });
      assert.deepEqual(await fs.lstat(""), { type: "dir", size: 0, mtimeMs: 0, mode: 0 });
    } finally {
      await cleanup();
    }
  });

  test("HandleFs: a stream over a file replaced mid-read fails with CHANGED or keeps one version", async () => {
    const { dir, cleanup } = await freshDir();
    try {
      const fs = new HandleFs(dir);
      const old = new Uint8Array(4 << 20).fill(1);
      await fs.writeFile("f", old);
      const seen: Uint8Array[] = [];
      let error: unknown;
      try {
        let first = true;
        for await (const c of fs.readStream("f")) {
          seen.push(c);
          if (first) await fs.writeFile("f", new Uint8Array(4 << 20).fill(2));
          first = false;
        }
      } catch (e) {
        error = e;
      }
      if (error) assert.ok(isIbtError(error, "CHANGED"), String(error));
      else assert.ok(seen.every((c) => c.every((b) => b === 1)), "only the old bytes");
    } finally {
      await cleanup();
    }
  });
}

/** Where browsers define `move()`: Chromium has it on file handles only, the spec on all. */
const moveHolders = (): object[] => [FileSystemHandle.prototype, FileSystemFileHandle.prototype, FileSystemDirectoryHandle.prototype];

/** Registers and runs the HandleFs suite (twice where the browser has `move()`). */
export async function runHandleFsSuite(report: (r: TestResult) => void): Promise<TestResult[]> {
  const results: TestResult[] = [];
  const saved = moveHolders().flatMap((proto) => {
    const d = Object.getOwnPropertyDescriptor(proto, "move");
    return d ? [{ proto, d }] : [];
  });
  const where = saved.map(({ proto }) => (proto as { constructor: { name: string } }).constructor.name).join(", ");
  adapterConformance(`HandleFs (OPFS, ${saved.length ? `move() on ${where}` : "no move() in this browser"})`, factories);
  storeConformance({ name: "FsStore over HandleFs (OPFS)", make: storeOnOpfs });
  handleTests();
  results.push(...(await runCollected(report)));
  if (saved.length) {
    for (const { proto } of saved) delete (proto as { move?: unknown }).move;
    try {
      adapterConformance("HandleFs (OPFS, move() hidden)", factories);
      storeConformance({ name: "FsStore over HandleFs (OPFS, move() hidden)", make: storeOnOpfs });
      results.push(...(await runCollected(report)));
    } finally {
      for (const { proto, d } of saved) Object.defineProperty(proto, "move", d);
    }
  }
  return results;
}
