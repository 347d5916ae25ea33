/**
 * On an adapter whose calls all settle as microtasks (MemoryFs here; NodeFs with `sync` in the
 * CLI), the walk and the archive writer still give timers their turn, so a repository lock's
 * refresh, a progress tick or an abort is not held off until the whole tree is done. A timer set
 * just before each must fire while it runs: counted in entries and changes, not timed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DirIndex, DiffIndex, DiffData, MemoryFs } from "../../src/index.js";

const FILES = 5_000;

async function tree(): Promise<MemoryFs> {
  const fs = new MemoryFs();
  for (let d = 0; d < 25; d++) {
    await fs.mkdir(`d${d}`);
    for (let f = 0; f < FILES / 25; f++) await fs.writeFile(`d${d}/f${f}.txt`, new TextEncoder().encode(`file ${d}/${f}\n`));
  }
  return fs;
}

test("the walk lets a timer set before it fire while it runs, on an adapter that never waits for a macrotask", async () => {
  const fs = await tree();
  await DirIndex.build(await tree()); // the engine compiled beforehand: compiling waits for a macrotask
  let seen = 0;
  let seenWhenFired: number | undefined;
  setTimeout(() => (seenWhenFired = seen), 0);
  const index = await DirIndex.build(fs, { onProgress: (p) => (seen = p.entries) });
  assert.equal(index.stats.files, FILES);
  assert.ok(seenWhenFired !== undefined, "the timer fired before the walk ended");
  assert.ok(seenWhenFired < FILES, `the timer fired mid-walk (after ${seenWhenFired} of ${FILES + 25} entries)`);
});

test("the archive writer lets a timer set before it fire while it runs", async () => {
  const fs = await tree();
  const diff = new DiffIndex(await DirIndex.build(fs), await DirIndex.fromEntries([])).compute();
  let written = 0;
  let writtenWhenFired: number | undefined;
  setTimeout(() => (writtenWhenFired = written), 0);
  const stats = await new DiffData(diff, { source: fs, onProgress: (p) => (written = p.changes) }).write(async () => {});
  assert.equal(stats.changes, diff.changes.length);
  assert.ok(writtenWhenFired !== undefined, "the timer fired before the archive was done");
  assert.ok(writtenWhenFired < diff.changes.length, `the timer fired mid-archive (after ${writtenWhenFired} of ${diff.changes.length} changes)`);
});
