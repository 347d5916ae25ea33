// A restore opens the archives of its chain all at once (each opening is a few reads one after
// the other, round trips on a remote store), and when several are damaged it reports the first
// in chain order, whichever failed first in time. It reads each snapshot record once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryFs, MemoryStore, Repository, isIbtError, type LoadOptions, type StoredObject } from "../../src/index.js";
import { archivePath } from "../../src/repo/layout.js";
import { treeId } from "../support/repo-kit.js";
import { randomBytes, rng } from "../support/helpers.js";

/** A MemoryStore whose archive stats wait (per archive, or 5 ms), counted with their peak in flight. */
class SlowOpenStore extends MemoryStore {
  inFlight = 0;
  peak = 0;
  readonly delays = new Map<string, number>();
  recordLoads = 0;
  override async load(name: string, options: LoadOptions = {}): Promise<Uint8Array> {
    if (name.startsWith("snapshots/")) this.recordLoads++;
    return super.load(name, options);
  }
  override async stat(name: string): Promise<StoredObject> {
    if (!name.startsWith("data/") || !name.endsWith(".zip")) return super.stat(name);
    this.peak = Math.max(this.peak, ++this.inFlight);
    try {
      await new Promise((r) => setTimeout(r, this.delays.get(name) ?? 5));
      return await super.stat(name);
    } finally {
      this.inFlight--;
    }
  }
}

async function chainOfFour(): Promise<{ store: SlowOpenStore; repo: Repository; source: MemoryFs; ids: string[] }> {
  const store = new SlowOpenStore();
  const repo = await Repository.init(store, { fullShare: Infinity });
  const source = new MemoryFs();
  const big = "a line of text that repeats in a file large enough to be worth a delta\n".repeat(2000);
  for (let i = 0; i < 8; i++) await source.writeFile(`f${i}.txt`, new TextEncoder().encode(`${big}file ${i}\n`));
  const ids: string[] = [];
  for (let v = 0; v < 4; v++) {
    await source.writeFile(`f${v}.txt`, new TextEncoder().encode(`${big}file ${v}, version ${v}\n`));
    const made = await repo.backup(source);
    assert.equal(made.kind, v === 0 ? "full" : "incremental");
    ids.push(made.id);
  }
  return { store, repo, source, ids };
}

test("restore: the archives of a chain of four are opened at once, each record is read once, and the result is exact", async () => {
  const { store, repo, source } = await chainOfFour();
  store.peak = 0;
  store.recordLoads = 0;
  const target = new MemoryFs();
  await repo.restore("latest", target);
  assert.equal(await treeId(target), await treeId(source));
  assert.equal(store.peak, 4, "the four archives' openings were in flight together");
  assert.equal(store.recordLoads, 4, "the index chain's records come from the listing's read, not read again one by one");
});

test("restore: with two archives of the chain damaged, the first in chain order is reported, though the later one fails first", async () => {
  const { store, repo, ids } = await chainOfFour();
  for (const id of [ids[1]!, ids[2]!]) {
    const name = archivePath(id);
    const bytes = await store.load(name);
    bytes.fill(0, bytes.length - 200); // the end record and central directory are gone
    await store.save(name, bytes);
  }
  store.delays.set(archivePath(ids[1]!), 40);
  store.delays.set(archivePath(ids[2]!), 1);
  const target = new MemoryFs();
  await assert.rejects(repo.restore("latest", target), (e) => isIbtError(e) && e.message.includes(archivePath(ids[1]!)) && !e.message.includes(archivePath(ids[2]!)));
  assert.deepEqual(await target.list(""), [], "the target is unchanged");
  assert.equal(store.inFlight, 0, "no opening is still running");
});

test("restore: the first data read of every archive of the chain is asked for before the first file is written", async () => {
  const events: string[] = [];
  class LoggingStore extends MemoryStore {
    override async load(name: string, options: LoadOptions = {}): Promise<Uint8Array> {
      if (name.startsWith("data/") && name.endsWith(".zip")) {
        const { size } = await super.stat(name);
        // The opening reads the archive's tail; what starts further from the end is data.
        if ((options.offset ?? 0) < size - 70_000) events.push(`data ${name}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      return super.load(name, options);
    }
  }
  class LoggingFs extends MemoryFs {
    override async writeFile(...args: Parameters<MemoryFs["writeFile"]>): Promise<void> {
      events.push("write");
      return super.writeFile(...args);
    }
  }
  const store = new LoggingStore();
  // No full after the first, whatever the chain costs: each version adds 200 KB to the tree.
  const repo = await Repository.init(store, { fullShare: Infinity });
  const source = new MemoryFs();
  let chain: string[] = [];
  for (let v = 0; v < 4; v++) {
    await source.writeFile(`r${v}.bin`, randomBytes(rng(v + 1), 200_000)); // each archive holds more than its tail
    const made = await repo.backup(source);
    chain = made.kind === "full" ? [made.id] : [...chain, made.id];
  }
  assert.equal(chain.length, 4);
  const target = new LoggingFs();
  events.length = 0;
  await repo.restore("latest", target);
  assert.equal(await treeId(target), await treeId(source));
  const firstWrite = events.indexOf("write");
  const early = new Set(events.slice(0, firstWrite).filter((e) => e.startsWith("data ")));
  assert.deepEqual([...early].sort(), chain.map((id) => `data ${archivePath(id)}`).sort(), events.join(", "));
});
