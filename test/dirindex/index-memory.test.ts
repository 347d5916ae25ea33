/**
 * What an index holds per entry, counted rather than timed: a signature keeps no buffer larger
 * than itself, an unchanged file's entry is shared with the previous index rather than copied,
 * and the content cache gives its room back as a backup archives each file.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryFs, DirIndex, ContentCache } from "../../src/index.js";
import { rng, textBytes } from "../support/helpers.js";

async function smallFiles(count: number): Promise<MemoryFs> {
  const fs = new MemoryFs();
  const next = rng(7);
  await fs.mkdir("d", { recursive: true });
  // 2–3 KB: just over the smallest file that gets a signature, a block or two each.
  for (let i = 0; i < count; i++) await fs.writeFile(`d/f${i}.txt`, textBytes(next, 2048 + Math.floor(next() * 1000)));
  return fs;
}

test("each signature an index keeps is a buffer of its own size, not a view of a larger one", async () => {
  const index = await DirIndex.build(await smallFiles(200));
  let signed = 0;
  for (const e of index.entries.values()) {
    if (!e.signature) continue;
    signed++;
    assert.equal(e.signature.buffer.byteLength, e.signature.byteLength, e.path);
  }
  assert.equal(signed, 200);
});

test("a rebuilt index shares the previous index's entries for unchanged files", async () => {
  const fs = await smallFiles(200);
  const before = await DirIndex.build(fs);
  await fs.writeFile("d/f3.txt", new TextEncoder().encode("changed"));
  await fs.utimes("d/f5.txt", 1_600_000_000_000);
  const after = await DirIndex.build(fs, { previous: before });
  const fresh = [...after.entries.values()].filter((e) => before.get(e.path) !== e).map((e) => e.path);
  // The edited file, the touched one, and the directory whose mtime the edit moved (if any).
  assert.ok(fresh.includes("d/f3.txt") && fresh.includes("d/f5.txt"), fresh.join());
  assert.ok(fresh.filter((p) => p.startsWith("d/f")).length === 2, fresh.join());
  // A forced rebuild reads everything and shares nothing.
  const forced = await DirIndex.build(fs, { previous: after, force: true });
  for (const e of forced.entries.values()) if (e.type === "file") assert.notEqual(after.get(e.path), e);
});

test("the content cache gives back the room of what it lets go", () => {
  const cache = new ContentCache(100, 100);
  cache.put("a", "h", [new Uint8Array(60)]);
  assert.equal(cache.wants(60), false);
  assert.ok(cache.get("a", "h"));
  cache.release("a");
  assert.equal(cache.get("a", "h"), undefined);
  assert.equal(cache.wants(60), true);
  cache.release("a"); // twice, or a path never kept: nothing happens
  cache.release("b");
  cache.put("b", "h", [new Uint8Array(100)]);
  assert.ok(cache.get("b", "h"));
});
