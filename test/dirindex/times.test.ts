/**
 * Times in an index: whole milliseconds, truncated, so a restored file keeps the second it had
 * (rounding put a time in the last half millisecond of a second into the next one), and entries
 * stored the old, rounded way still pass the quick check.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { DirIndex, MemoryStore, Repository } from "../../src/index.js";
import { NodeFs, nodeRepositoryOptions } from "../../src/node/index.js";
import { ms, sameMs } from "../../src/dirindex/file-entry.js";

function dir(): string {
  const d = mkdtempSync(join(tmpdir(), "ibt-times-"));
  after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const T = 1_700_000_000_000;

test("ms truncates to the millisecond, taking a whole millisecond read back a hair below as itself; sameMs also takes the old rounding", () => {
  assert.equal(ms(T + 999.9), T + 999);
  assert.equal(ms(T + 999.999), T + 999, "a microsecond before the next");
  assert.equal(ms(T + 999.4), T + 999);
  assert.equal(ms(T + 998.9999999), T + 999, "a whole millisecond read back a hair below");
  assert.equal(ms(T), T);
  assert.equal(sameMs(T + 999, T + 999.6), true);
  assert.equal(sameMs(T + 1000, T + 999.6), true, "stored rounded, before truncation");
  assert.equal(sameMs(T + 998, T + 999.6), false);
  assert.equal(sameMs(T + 1001, T + 999.6), false);
  assert.equal(sameMs(undefined, T), false);
});

test("a file modified in the last half millisecond of a second is restored within that second, and a quick check against an entry stored rounded reads nothing", async () => {
  const src = dir();
  writeFileSync(join(src, "edge.txt"), "edge");
  writeFileSync(join(src, "plain.txt"), "plain");
  utimesSync(join(src, "edge.txt"), 1_700_000_000, 1_700_000_000.9996);
  utimesSync(join(src, "plain.txt"), 1_700_000_000, 1_700_000_000.25);
  const sourceMs = statSync(join(src, "edge.txt")).mtimeMs;
  assert.equal(Math.floor(sourceMs / 1000), 1_700_000_000, `the file system kept the fraction: ${sourceMs}`);

  const index = await DirIndex.build(new NodeFs(src));
  assert.equal(index.get("edge.txt")!.mtimeMs, T + 999);
  const store = new MemoryStore();
  const repo = await Repository.init(store, nodeRepositoryOptions({ unsafeNoConditionalWrites: true }));
  await repo.backup(new NodeFs(src));
  const out = dir();
  await repo.restore("latest", new NodeFs(out));
  const restored = statSync(join(out, "edge.txt")).mtimeMs;
  assert.equal(Math.floor(restored / 1000), 1_700_000_000, `restored at ${restored}, the source at ${sourceMs}`);
  assert.equal(Math.floor(statSync(join(out, "plain.txt")).mtimeMs), T + 250);

  // The entry as an index written before truncation holds it: rounded into the next second.
  const rounded = await DirIndex.fromEntries(index.sortedEntries.map((e) => (e.path === "edge.txt" ? { ...e, mtimeMs: Math.round(sourceMs) } : e)));
  assert.equal(rounded.get("edge.txt")!.mtimeMs, T + 1000);
  const again = await DirIndex.build(new NodeFs(src), { previous: rounded });
  assert.equal(again.stats.filesRead, 0, "nothing read again");
  assert.equal(again.get("edge.txt")!.hash, index.get("edge.txt")!.hash);
});
