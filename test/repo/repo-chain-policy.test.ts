import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryStore, Repository, isIbtError, type FsAdapter, type Snapshot } from "../../src/index.js";
import type { SaveOptions, Store } from "../../src/store/types.js";
import type { ByteSource } from "../../src/bytes.js";
import { ArchiveBudget, incrementalBudget } from "../../src/repo/chain.js";
import type { SnapshotRecord } from "../../src/repo/snapshot.js";
import { randomBytes, rng } from "../support/helpers.js";
import { REPO_CASES, memoryFactory, treeId } from "../support/repo-kit.js";

async function sourceOf(files: number, size: number, seed = 1): Promise<FsAdapter> {
  const fs = await memoryFactory.make();
  await fs.mkdir("d");
  for (let i = 0; i < files; i++) await fs.writeFile(`d/f${i}`, randomBytes(rng(seed + i), size));
  return fs;
}

/** Snapshots grouped into chains, each its full first. */
function chains(snapshots: Snapshot[]): Snapshot[][] {
  const out: Snapshot[][] = [];
  for (const s of snapshots) {
    if (s.kind === "full") out.push([s]);
    else out.at(-1)!.push(s);
  }
  return out;
}

async function archives(store: Store): Promise<string[]> {
  const names: string[] = [];
  for await (const o of store.list("data/")) names.push(o.name);
  return names.sort();
}

const incrementalBytes = (chain: Snapshot[]) => chain.slice(1).reduce((n, s) => n + s.bytesStored, 0);

test("a chain's incrementals stay within fullShare of its full, and a full starts only when the next incremental would pass it", async () => {
  const source = await sourceOf(10, 10_000);
  const store = new MemoryStore();
  const repo = await Repository.init(store, { fullShare: 0.25 });
  const taken: Snapshot[] = [];
  for (let i = 0; i < 12; i++) {
    // One whole file replaced each time: an incremental of about a tenth of the full.
    if (i) await source.writeFile(`d/f${i % 10}`, randomBytes(rng(1000 + i), 10_000));
    taken.push(await repo.backup(source));
  }
  const smallest = Math.min(...taken.filter((s) => s.kind === "incremental").map((s) => s.bytesStored));
  const cs = chains(taken);
  assert.ok(cs.length >= 3, taken.map((s) => s.kind).join(" "));
  for (const [i, c] of cs.entries()) {
    const bound = 0.25 * c[0]!.bytesStored;
    assert.ok(incrementalBytes(c) <= bound, `chain ${i}: ${incrementalBytes(c)} bytes of incrementals, bound ${bound}`);
    // Ended by a full: even the smallest incremental seen would have passed the bound.
    if (i < cs.length - 1) assert.ok(incrementalBytes(c) + smallest > bound, `chain ${i} ended early: ${incrementalBytes(c)} + ${smallest} <= ${bound}`);
  }
  const names = await archives(store);
  assert.deepEqual(names, taken.map((s) => `data/${s.id}.zip`).sort(), "no archive of an abandoned incremental is left");
  const target = await memoryFactory.make();
  await repo.restore(taken.at(-1)!.id, target);
  assert.equal(await treeId(target), await treeId(source));
});

for (const { name, store: storeFactory } of REPO_CASES) {
  test(`${name}: an incremental that would cost more than a full is replaced by one, and leaves nothing behind`, async () => {
    const source = await sourceOf(10, 10_000, 7);
    const store = await storeFactory.make();
    const repo = await Repository.init(store, { fullShare: Infinity });
    const first = await repo.backup(source);
    const small = await repo.backup(source);
    assert.equal(small.kind, "incremental", "an unchanged tree extends the chain");
    // Every file rewritten: the incremental stores them all again, with a longer manifest (old and new states).
    for (let i = 0; i < 10; i++) await source.writeFile(`d/f${i}`, randomBytes(rng(500 + i), 10_000));
    const dry = await repo.backup(source, { dryRun: true });
    const s = await repo.backup(source);
    assert.equal(s.kind, "full");
    assert.equal(s.parent, null);
    assert.equal(dry.kind, "full", "a dry run predicts the same decision");
    assert.ok(Math.abs(dry.bytesStored - s.bytesStored) < 16, `dry run ${dry.bytesStored}, real ${s.bytesStored}`);
    assert.ok(s.bytesStored < first.bytesStored * 1.1, "it cost what a full costs");
    const names = await archives(store);
    assert.deepEqual(names, [first, small, s].map((x) => `data/${x.id}.zip`).sort());
    const target = await memoryFactory.make();
    await repo.restore(s.id, target);
    assert.equal(await treeId(target), await treeId(source));
    assert.equal((await repo.verify({ readData: true })).ok, true);
  });
}

/** A MemoryStore that counts the bytes handed to `save` under a prefix, finished or not. */
class CountingStore extends MemoryStore {
  saved = 0;
  override async save(name: string, data: Uint8Array | ByteSource, options?: SaveOptions): Promise<void> {
    if (!name.startsWith("data/") || data instanceof Uint8Array) return super.save(name, data, options);
    const self = this;
    async function* counted(): AsyncGenerator<Uint8Array> {
      for await (const chunk of data as AsyncIterable<Uint8Array>) {
        self.saved += chunk.length;
        yield chunk;
      }
    }
    return super.save(name, counted(), options);
  }
}

test("the work an abandoned incremental throws away is bounded by its budget", async () => {
  const source = await sourceOf(20, 20_000, 3);
  const store = new CountingStore();
  const repo = await Repository.init(store, { fullShare: 0.5 });
  const first = await repo.backup(source);
  for (let i = 0; i < 20; i++) await source.writeFile(`d/f${i}`, randomBytes(rng(900 + i), 20_000));
  store.saved = 0;
  const s = await repo.backup(source);
  assert.equal(s.kind, "full");
  // Budget: half the full's archive; the abandoned archive never passed it.
  assert.ok(store.saved - s.bytesStored <= 0.5 * first.bytesStored, `${store.saved - s.bytesStored} bytes thrown away, budget ${0.5 * first.bytesStored}`);
  assert.ok(store.saved > s.bytesStored, "an incremental was tried first");
});

test("fullShare 0 makes every backup full; the policy's budget, case by case", async () => {
  const source = await sourceOf(3, 1000);
  const repo = await Repository.init(new MemoryStore(), { fullShare: 0 });
  const kinds: string[] = [];
  for (let i = 0; i < 3; i++) kinds.push((await repo.backup(source)).kind);
  assert.deepEqual(kinds, ["full", "full", "full"]);

  const rec = (bytesStored: number, fullSize: number) => ({ bytesStored, fullSize }) as SnapshotRecord;
  const chain = [rec(1000, 4000), rec(300, 4000)];
  const o = { fullShare: 1, maxChain: 50 };
  assert.equal(incrementalBudget(o, chain, 4000), 700, "what the bound leaves");
  assert.equal(incrementalBudget(o, chain, 2000), 500, "never more than a full of the tree, scaled from the chain's full");
  assert.equal(incrementalBudget({ ...o, fullShare: 3 }, chain, 4000), 1000);
  assert.equal(incrementalBudget({ ...o, fullShare: 0.2 }, chain, 4000), 0, "a chain past its bound");
  assert.equal(incrementalBudget({ ...o, maxChain: 2 }, chain, 4000), 0, "a chain at maxChain");
  assert.equal(incrementalBudget(o, [rec(200, 0)], 5000), 200, "a full of an empty tree: its own size");
});

test("ArchiveBudget passes up to its limit and stops the source past it", async () => {
  let closed = 0;
  async function* source(): AsyncGenerator<Uint8Array> {
    try {
      for (const n of [3, 4, 5]) yield new Uint8Array(n);
    } finally {
      closed++;
    }
  }
  const got: number[] = [];
  const roomy = new ArchiveBudget(12);
  for await (const c of roomy.through(source())) got.push(c.length);
  assert.deepEqual(got, [3, 4, 5]);
  assert.equal(roomy.passed, false);
  got.length = 0;
  const tight = new ArchiveBudget(11);
  await assert.rejects(
    (async () => {
      for await (const c of tight.through(source())) got.push(c.length);
    })(),
    (e) => isIbtError(e, "LIMIT"),
  );
  assert.equal(tight.passed, true);
  assert.deepEqual(got, [3, 4], "the chunk that passes the budget is not handed on");
  assert.equal(closed, 2, "the source was closed both times");
});
