// Snapshot records are read a few at a time (each is a round trip on a remote store) and once per
// backup: counted on a store whose record loads are slowed, with the outcome the same as a
// one-at-a-time read's (every record in creation order, a damaged one reported, a failed read
// thrown). A writer's clean-up of leftovers lists the repository's three folders at once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryFs, MemoryStore, Repository, isIbtError, type LoadOptions, type StoredObject } from "../../src/index.js";
import { IbtError } from "../../src/errors.js";
import { RECORD_READS } from "../../src/repo/snapshot.js";

/** A MemoryStore whose loads of snapshot records take a few ms and are counted, with their peak in flight. */
class RecordCountingStore extends MemoryStore {
  recordLoads = 0;
  inFlight = 0;
  peak = 0;
  failing: string | undefined;
  listing = 0;
  peakListing = 0;
  listed: string[] = [];
  override async *list(prefix: string, options: { signal?: AbortSignal } = {}): AsyncGenerator<StoredObject> {
    this.listed.push(prefix);
    this.peakListing = Math.max(this.peakListing, ++this.listing);
    try {
      await new Promise((r) => setTimeout(r, 3));
      yield* super.list(prefix, options);
    } finally {
      this.listing--;
    }
  }
  override async load(name: string, options: LoadOptions = {}): Promise<Uint8Array> {
    if (!name.startsWith("snapshots/")) return super.load(name, options);
    this.recordLoads++;
    this.peak = Math.max(this.peak, ++this.inFlight);
    try {
      await new Promise((r) => setTimeout(r, 3));
      if (name === this.failing) throw new IbtError("IO", `${name}: the store failed`);
      return await super.load(name, options);
    } finally {
      this.inFlight--;
    }
  }
}

test("snapshot records: read RECORD_READS at a time, once per backup, in creation order; damage reported, failures thrown", async () => {
  const store = new RecordCountingStore();
  const repo = await Repository.init(store);
  const source = new MemoryFs();
  const ids: string[] = [];
  for (let i = 0; i < 20; i++) {
    await source.writeFile(`f${i}.txt`, new TextEncoder().encode(`version ${i}\n`));
    ids.push((await repo.backup(source)).id);
  }

  store.recordLoads = 0;
  store.peak = 0;
  store.peakListing = 0;
  store.listed = [];
  await source.writeFile("last.txt", new TextEncoder().encode("the last\n"));
  ids.push((await repo.backup(source)).id);
  assert.equal(store.recordLoads, 20, "a backup reads each of the 20 records before it once");
  assert.equal(store.listed.filter((p) => p === "snapshots/").length, 1, `a backup lists snapshots/ once (the clean-up's listing serves the records): ${store.listed.join(", ")}`);
  assert.ok(store.peakListing >= 3, `${store.peakListing} listings at once: snapshots/, data/ and index/ are listed together`);

  store.recordLoads = 0;
  store.peak = 0;
  assert.deepEqual((await repo.snapshots()).map((s) => s.id), ids, "every snapshot, in creation order");
  assert.equal(store.recordLoads, 21);
  assert.ok(store.peak > 1 && store.peak <= RECORD_READS, `${store.peak} record reads at once`);

  // A damaged record is reported by verify and passed over by the listing; a failed read stops it.
  const damaged = `snapshots/${ids[7]}.json`;
  await store.save(damaged, new TextEncoder().encode("{ not a record"));
  assert.deepEqual((await repo.snapshots()).map((s) => s.id), ids.filter((_, i) => i !== 7));
  const report = await repo.verify();
  assert.ok(report.problems.some((p) => p.snapshot === ids[7] && p.code === "CORRUPT"), "verify names the damaged record");
  store.failing = `snapshots/${ids[12]}.json`;
  await assert.rejects(repo.snapshots(), (e) => isIbtError(e, "IO") && e.message.includes(ids[12]!));
});
