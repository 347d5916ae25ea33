/**
 * DirIndex.stream: the walk hands its entries on in path order while it goes, and they are
 * exactly the entries DirIndex.build indexes, whatever order the reads finish in. A slow consumer
 * holds the walk back (counted entries ahead, not time), leaving the loop stops the walk, and a
 * failure of the walk reaches the consumer.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DirIndex, IbtError, MemoryFs, isIbtError, type FsAdapter, type IndexEntry, type ReadStreamOptions } from "../../src/index.js";
import { makeV1, makeV2 } from "../shared/roundtrip-cases.js";
import { rng } from "../support/helpers.js";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Names whose paths sort apart from a depth-first walk of sorted names: "a.txt" < "a/x" < "a0". */
async function awkwardTree(): Promise<MemoryFs> {
  const fs = new MemoryFs();
  const dirs = ["a", "a/b", "a-b", "a.d", "é", "z", "z/z", "😀", "a/b/c c", "a0"];
  for (const d of dirs) await fs.mkdir(d, { recursive: true });
  const files = ["a.txt", "a-", "a/x", "a/b.txt", "a/b/c", "a/b/c c/d", "a/b!", "a-b/1", "a.d/.gitignore", "a.d/kept", "a.d/dropped.log", "a0/0", "a1", "é/e", "e\u00e8", "z/z/z", "z/z.", "😀/x", "\uff5e", "B", "_"];
  for (const [i, f] of files.entries()) await fs.writeFile(f, enc(f === "a.d/.gitignore" ? "*.log\n" : `${f} ${"x".repeat(i * 97)}`));
  await fs.symlink("a/x", "link");
  return fs;
}

/** Forwards to `inner`, finishing each read after a random number of turns: reads end out of order. */
function shuffledReads(inner: FsAdapter, seed: number): FsAdapter {
  const next = rng(seed);
  const fs = Object.create(inner) as FsAdapter;
  fs.readStream = async function* (path: string, options?: ReadStreamOptions) {
    for (let turns = Math.floor(next() * 20); turns > 0; turns--) await new Promise((r) => setImmediate(r));
    yield* inner.readStream(path, options);
  };
  return fs;
}

async function streamed(fs: FsAdapter, options: Parameters<typeof DirIndex.stream>[1] = {}): Promise<{ entries: IndexEntry[]; index: DirIndex }> {
  const stream = DirIndex.stream(fs, options);
  const entries: IndexEntry[] = [];
  for await (const e of stream.entries) entries.push(e);
  return { entries, index: await DirIndex.fromSorted(entries, await stream.done) };
}

test("stream: entries in path order, as build indexes them, however the reads finish", async () => {
  const trees: [string, FsAdapter][] = [["awkward names", await awkwardTree()]];
  const v1 = new MemoryFs();
  await makeV1(v1, 3000);
  trees.push(["round-trip v1", v1]);
  for (const [what, tree] of trees) {
    const built = await DirIndex.build(tree);
    for (const seed of [1, 2, 3]) {
      const { entries, index } = await streamed(shuffledReads(tree, seed));
      const paths = entries.map((e) => e.path);
      for (let i = 1; i < paths.length; i++) assert.ok(paths[i - 1]! < paths[i]!, `${what}: ${paths[i - 1]} before ${paths[i]}`);
      assert.deepEqual(paths, built.sortedEntries.map((e) => e.path), what);
      assert.deepEqual(entries, [...built.sortedEntries], `${what}: the same entries`);
      assert.equal(index.id, built.id, what);
      assert.deepEqual(index.stats, built.stats, what);
    }
  }
  const awkward = (await DirIndex.build(trees[0]![1])).sortedEntries.map((e) => e.path);
  assert.ok(awkward.includes("a.d/kept") && !awkward.includes("a.d/dropped.log"), "an ignore file inside the walk applies");
});

test("stream: a walk with a previous index reuses its entries and streams the same as build", async () => {
  const fs = new MemoryFs();
  await makeV1(fs, 500);
  const previous = await DirIndex.build(fs);
  await makeV2(fs, 500);
  const built = await DirIndex.build(fs, { previous });
  const { entries, index } = await streamed(shuffledReads(fs, 9), { previous });
  assert.deepEqual(entries, [...built.sortedEntries]);
  assert.equal(index.id, built.id);
  assert.ok(index.stats.filesRead < built.stats.files, "the quick check spared reads");
});

test("stream: a consumer that does not take entries holds the walk back", async () => {
  const fs = new MemoryFs();
  let bytes = 0;
  for (let d = 0; d < 40; d++) {
    await fs.mkdir(`d${d}`);
    for (let f = 0; f < 200; f++) {
      const data = enc(`${d}/${f}`);
      bytes += data.length;
      await fs.writeFile(`d${d}/f${f}`, data);
    }
  }
  let handed = 0;
  const stream = DirIndex.stream(fs, { onProgress: (p) => (handed = p.entries) });
  const it = stream.entries[Symbol.asyncIterator]();
  let taken = 0;
  for (let round = 0; round < 5; round++) {
    assert.equal((await it.next()).done, false);
    taken++;
    // Give the walk every chance to run ahead: many macrotask turns.
    for (let i = 0; i < 200; i++) await new Promise((r) => setImmediate(r));
    // The queue's 256 entries, plus at most the walk's window of entries finished behind a slow one.
    assert.ok(handed - taken <= 256 + 1024, `round ${round}: ${handed - taken} entries handed on ahead of the consumer`);
    assert.ok(handed > taken, "the walk does run ahead of the consumer");
  }
  let rest = 0;
  for (let r = await it.next(); !r.done; r = await it.next()) rest++;
  assert.equal(taken + rest, 40 * 201);
  assert.deepEqual(await stream.done, { filesRead: 40 * 200, bytesRead: bytes, skipped: [] });
});

test("stream: leaving the loop stops the walk, and `done` says so", async () => {
  const fs = new MemoryFs();
  for (let f = 0; f < 5000; f++) await fs.writeFile(`f${String(f).padStart(5, "0")}`, enc(String(f)));
  let reads = 0;
  const counting = Object.create(fs) as FsAdapter;
  counting.readStream = (path: string, options?: ReadStreamOptions) => {
    reads++;
    return fs.readStream(path, options);
  };
  const stream = DirIndex.stream(counting);
  let n = 0;
  for await (const e of stream.entries) {
    assert.equal(e.path, `f${String(n).padStart(5, "0")}`);
    if (++n === 10) break;
  }
  await assert.rejects(stream.done, (e) => isIbtError(e, "ABORTED"));
  assert.equal(stream.stopped, true);
  assert.ok(reads < 2000, `${reads} of 5000 files read after the consumer left at 10`);
});

test("stream: a failure that aborts the walk reaches the loop and the index", async () => {
  const fs = new MemoryFs();
  for (let f = 0; f < 600; f++) await fs.writeFile(`f${String(f).padStart(4, "0")}`, enc(String(f)));
  const broken = Object.create(fs) as FsAdapter;
  broken.readStream = (path: string, options?: ReadStreamOptions) => {
    if (path === "f0400") throw new IbtError("IO", "injected", { path });
    return fs.readStream(path, options);
  };
  const stream = DirIndex.stream(broken);
  const seen: string[] = [];
  await assert.rejects(
    (async () => {
      for await (const e of stream.entries) seen.push(e.path);
    })(),
    (e) => isIbtError(e, "IO") && (e as IbtError).path === "f0400",
  );
  await assert.rejects(stream.done, (e) => isIbtError(e, "IO"));
  assert.equal(stream.stopped, false);
  assert.ok(!seen.includes("f0400") && seen.every((p) => p < "f0400"), "nothing past the failure is handed on");

  // Skipped instead: the rest streams on without it.
  const skipping = await streamed(broken, { onError: () => "skip" });
  assert.equal(skipping.entries.length, 599);
  assert.deepEqual(skipping.index.stats.skipped, ["f0400"]);
});

test("a failure while the cursor records entries stops every lane before the walk rejects", async () => {
  const fs = new MemoryFs();
  for (let d = 0; d < 30; d++) {
    await fs.mkdir(`d${String(d).padStart(2, "0")}`);
    for (let f = 0; f < 100; f++) await fs.writeFile(`d${String(d).padStart(2, "0")}/f${f}`, enc(`${d} ${f} ${"y".repeat(f)}`));
  }
  let reads = 0;
  const counting = Object.create(fs) as FsAdapter;
  counting.readStream = (path: string, options?: ReadStreamOptions) => {
    reads++;
    return fs.readStream(path, options);
  };
  // onProgress throws as the first entry, a directory's, is handed on: by the cursor itself, as
  // it records the entry with nothing before it, not at the end of a lane's task.
  const stop = (p: { path: string }) => {
    if (p.path === "d00") throw new IbtError("ABORTED", "stopped at d00");
  };
  for (const run of [() => DirIndex.build(counting, { onProgress: stop }), () => streamed(counting, { onProgress: stop })]) {
    reads = 0;
    await assert.rejects(run(), (e) => isIbtError(e, "ABORTED") && /d00/.test((e as Error).message));
    const after = reads;
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    assert.equal(reads, after, "no lane reads on after the walk has rejected");
    // Lanes left running would walk on past d00 and read up to the walk's window (1,024 places).
    assert.ok(after <= 16, `${after} of 3,000 files read`);
  }
});
