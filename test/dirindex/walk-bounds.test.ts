/**
 * The walk's pending work is bounded by a constant, not by the tree: on a directory of 100,000
 * files and on a chain 1,000 directories deep, the adapter calls in flight and the promises
 * alive at once are counted (an instrumented adapter, V8's promise hooks) and must stay under
 * fixed bounds that do not grow with the tree. Counted, not timed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { promiseHooks } from "node:v8";
import { DirIndex, MemoryFs, type ByteSource, type FsAdapter, type FsStat, type ReadStreamOptions, type WriteOptions } from "../../src/index.js";

/**
 * Adapter calls in flight at once, at most: the walk's lanes (16), each listing a directory
 * with at most 16 lstat calls at a time where the adapter has no listStat, rounded up.
 */
const MAX_CALLS_IN_FLIGHT = 300;
/** Promises alive at once, at most: a few per call in flight and per lane, whatever the tree. */
const MAX_PROMISES_PENDING = 1_000;

/** Forwards every call to `inner`, counting the calls in flight and their maximum. */
class CountingFs implements FsAdapter {
  inFlight = 0;
  maxInFlight = 0;
  calls = 0;

  constructor(private readonly inner: FsAdapter) {}

  get capabilities() {
    return this.inner.capabilities;
  }

  private async track<T>(call: () => Promise<T>): Promise<T> {
    this.calls++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      return await call();
    } finally {
      this.inFlight--;
    }
  }

  list(path: string) {
    return this.track(() => this.inner.list(path));
  }
  lstat(path: string): Promise<FsStat> {
    return this.track(() => this.inner.lstat(path));
  }
  stat(path: string): Promise<FsStat> {
    return this.track(() => this.inner.stat(path));
  }
  read(path: string, offset: number, length: number) {
    return this.track(() => this.inner.read(path, offset, length));
  }
  async *readStream(path: string, options?: ReadStreamOptions): AsyncIterable<Uint8Array> {
    this.calls++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      yield* this.inner.readStream(path, options);
    } finally {
      this.inFlight--;
    }
  }
  writeFile(path: string, data: Uint8Array | ByteSource, options?: WriteOptions) {
    return this.track(() => this.inner.writeFile(path, data, options));
  }
  mkdir(path: string, options?: { recursive?: boolean }) {
    return this.track(() => this.inner.mkdir(path, options));
  }
  remove(path: string, options?: { recursive?: boolean }) {
    return this.track(() => this.inner.remove(path, options));
  }
  rename(from: string, to: string) {
    return this.track(() => this.inner.rename(from, to));
  }
  symlink(target: string, path: string) {
    return this.track(() => this.inner.symlink(target, path));
  }
  readlink(path: string) {
    return this.track(() => this.inner.readlink(path));
  }
  chmod(path: string, mode: number) {
    return this.track(() => this.inner.chmod(path, mode));
  }
  utimes(path: string, mtimeMs: number) {
    return this.track(() => this.inner.utimes(path, mtimeMs));
  }
}

interface Counts {
  entries: number;
  maxCallsInFlight: number;
  maxPromisesPending: number;
}

/** Indexes `tree` (without signatures: the walk is what is measured) and counts what was pending. */
async function indexCounting(tree: MemoryFs): Promise<Counts> {
  const fs = new CountingFs(tree);
  const alive = new WeakSet<Promise<unknown>>();
  let pending = 0;
  let maxPending = 0;
  const stop = promiseHooks.createHook({
    init(promise) {
      alive.add(promise);
      if (++pending > maxPending) maxPending = pending;
    },
    settled(promise) {
      if (alive.delete(promise)) pending--;
    },
  });
  let index: DirIndex;
  try {
    index = await DirIndex.build(fs, { signatures: false });
  } finally {
    stop();
  }
  assert.equal(fs.inFlight, 0, "no call left running once the index is built");
  return { entries: index.entries.size, maxCallsInFlight: fs.maxInFlight, maxPromisesPending: maxPending };
}

/** One directory holding `files` one-byte files. */
function wide(files: number): MemoryFs {
  const spec: Record<string, string> = {};
  for (let i = 0; i < files; i++) spec[`wide/f${i}`] = String(i % 10);
  return MemoryFs.from(spec);
}

/** A chain of `levels` directories, each holding a file and the next directory. */
function deep(levels: number): MemoryFs {
  const spec: Record<string, string> = {};
  let dir = "";
  for (let i = 0; i < levels; i++) {
    dir = dir === "" ? "d" : `${dir}/d`;
    spec[`${dir}/f`] = String(i % 10);
  }
  return MemoryFs.from(spec);
}

function assertBounded(small: Counts, large: Counts, what: string): void {
  for (const c of [small, large]) {
    assert.ok(c.maxCallsInFlight <= MAX_CALLS_IN_FLIGHT, `${what}: ${c.maxCallsInFlight} adapter calls in flight at once (${c.entries} entries)`);
    assert.ok(c.maxPromisesPending <= MAX_PROMISES_PENDING, `${what}: ${c.maxPromisesPending} promises pending at once (${c.entries} entries)`);
  }
  // Ten times the tree, not ten times the pending work: at most a constant more.
  assert.ok(large.maxPromisesPending <= small.maxPromisesPending + 100, `${what}: ${small.maxPromisesPending} → ${large.maxPromisesPending} promises pending`);
  assert.ok(large.maxCallsInFlight <= small.maxCallsInFlight + 16, `${what}: ${small.maxCallsInFlight} → ${large.maxCallsInFlight} calls in flight`);
}

test("a directory of 100,000 files is walked with bounded pending work", async (t) => {
  const small = await indexCounting(wide(10_000));
  const large = await indexCounting(wide(100_000));
  assert.equal(small.entries, 10_001);
  assert.equal(large.entries, 100_001);
  t.diagnostic(`wide: ${JSON.stringify({ small, large })}`);
  assertBounded(small, large, "wide");
});

test("a chain of 1,000 directories is walked with bounded pending work", async (t) => {
  const small = await indexCounting(deep(100));
  const large = await indexCounting(deep(1_000));
  assert.equal(small.entries, 200);
  assert.equal(large.entries, 2_000);
  t.diagnostic(`deep: ${JSON.stringify({ small, large })}`);
  assertBounded(small, large, "deep");
});
