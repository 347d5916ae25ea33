// storedRandomAccess: every read returns the object's bytes whatever the pattern (streaming in
// any read size, a ZIP reader's header / descriptor / data steps, random jumps), a reader never
// makes more loads than reads except for the pieces of the window it fetches ahead while streaming, the
// windows kept and in flight stay within KEPT_BYTES across the readers sharing a budget, at most one
// window's pieces are in flight, and a window fetched ahead that fails is fetched again when needed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryStore, ReadBudget, storedRandomAccess, KEPT_BYTES, MAX_WINDOW, PIECE, READ_AHEAD, type LoadOptions, type Store } from "../../src/store/index.js";
import { IbtError, isIbtError } from "../../src/errors.js";
import { rng } from "../support/helpers.js";

const MiB = 1024 * 1024;

function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) out[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  return out;
}

/** A MemoryStore whose loads are counted, may be slowed, and may fail on demand. */
class CountingStore extends MemoryStore {
  loads: { offset: number; length: number }[] = [];
  inFlight = 0;
  peakInFlight = 0;
  failNext: ((o: { offset: number; length: number }) => boolean) | undefined;
  delayMs = 0;
  override async load(name: string, options: LoadOptions = {}): Promise<Uint8Array> {
    const o = { offset: options.offset ?? 0, length: options.length ?? -1 };
    this.loads.push(o);
    this.inFlight++;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    try {
      if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
      if (this.failNext?.(o)) {
        this.failNext = undefined;
        throw new IbtError("IO", `injected failure at ${o.offset}`);
      }
      return await super.load(name, options);
    } finally {
      this.inFlight--;
    }
  }
}

async function objectIn(size: number, seed = 1): Promise<{ store: CountingStore; data: Uint8Array }> {
  const store = new CountingStore();
  const data = pattern(size, seed);
  await store.save("obj", data);
  return { store, data };
}

function sameBytes(got: Uint8Array, want: Uint8Array, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) assert.fail(`${what}: byte ${i} differs`);
}

test("streaming reads of every size return the object's bytes, with far fewer loads than reads", async () => {
  const size = 20 * MiB + 12345;
  for (const step of [1000, 64 * 1024, 256 * 1024, MiB, 3 * MiB + 7]) {
    const { store, data } = await objectIn(size, step);
    const file = storedRandomAccess(store, "obj", size);
    let reads = 0;
    for (let at = 0; at < size; at += step) {
      const n = Math.min(step, size - at);
      sameBytes(await file.read(at, n), data.subarray(at, at + n), `step ${step} at ${at}`);
      reads++;
    }
    assert.equal(file.loads, store.loads.length);
    // Windows double from 256 KiB to 8 MiB, fetched in pieces of 2 MiB: about one load per piece.
    assert.ok(file.loads <= size / PIECE + 5, `step ${step}: ${file.loads} loads for ${reads} reads`);
    assert.ok(file.loadedBytes <= size + MAX_WINDOW, `step ${step}: ${file.loadedBytes} bytes loaded`);
    assert.ok(store.peakInFlight <= MAX_WINDOW / PIECE + 1, `step ${step}: ${store.peakInFlight} loads in flight`);
    assert.ok(file.peakKeptBytes <= KEPT_BYTES);
  }
});

test("a reader told to walk takes whole windows from its next miss and keeps them across jumps", async () => {
  const size = 20 * MiB + 12345;
  const { store, data } = await objectIn(size, 9);
  const file = storedRandomAccess(store, "obj", size);
  // As a ZIP reader opens: the end first, in a small window.
  sameBytes(await file.read(size - 100, 100), data.subarray(size - 100), "the end");
  assert.equal(file.loadedBytes, 100, "the end's window reaches only the end");
  sameBytes(await file.read(size - 300_000, 1000), data.subarray(size - 300_000, size - 299_000), "a jump back");
  assert.ok(file.loadedBytes <= 100 + READ_AHEAD, `${file.loadedBytes} bytes before the walk`);
  file.walk();
  const before = file.loadedBytes;
  // A jump to the front: a whole window all the same, in pieces.
  sameBytes(await file.read(0, 1000), data.subarray(0, 1000), "the walk's first read");
  assert.equal(file.loadedBytes - before, MAX_WINDOW, "the first window of the walk is whole");
  for (let at = 1000; at < size - 300_000; at += 300_000) {
    const n = Math.min(300_000, size - 300_000 - at);
    sameBytes(await file.read(at, n), data.subarray(at, at + n), `walk at ${at}`);
  }
  assert.ok(file.loads <= Math.ceil(size / PIECE) + 3, `${file.loads} loads for a ${size}-byte walk`);
  assert.ok(file.loadedBytes <= size + PIECE, `${file.loadedBytes} bytes loaded`);
  assert.ok(file.peakKeptBytes <= KEPT_BYTES);
});

test("a ZIP reader's steps (local header, descriptor past the data, then the data) read each member once", async () => {
  const size = 30 * MiB;
  const { store, data } = await objectIn(size, 3);
  const file = storedRandomAccess(store, "obj", size);
  const random = rng(5);
  let at = 0;
  let reads = 0;
  while (at < size - 100) {
    const member = Math.min(size - at - 100, Math.floor(random() * 3 * MiB) + 100);
    const steps: [number, number][] = [[at, 30], [at + 30, 20], [at + 50 + member, 16]];
    for (let d = at + 50; d < at + 50 + member; d += MiB) steps.push([d, Math.min(MiB, at + 50 + member - d)]);
    for (const [o, n] of steps) {
      sameBytes(await file.read(o, n), data.subarray(o, o + n), `read at ${o}`);
      reads++;
    }
    at += 66 + member;
  }
  assert.ok(file.loads < reads / 4, `${file.loads} loads for ${reads} reads`);
  assert.ok(file.loadedBytes <= size + 2 * MAX_WINDOW, `${file.loadedBytes} bytes loaded of ${size}`);
});

test("jumping reads (a one-path restore) never make more loads than reads, nor load much past what they read", async () => {
  const size = 40 * MiB;
  const { store, data } = await objectIn(size, 4);
  const random = rng(9);
  for (let trial = 0; trial < 20; trial++) {
    const file = storedRandomAccess(store, "obj", size);
    const reads = 1 + Math.floor(random() * 6);
    let wanted = 0;
    for (let i = 0; i < reads; i++) {
      const n = 1 + Math.floor(random() * 2 * MiB);
      const o = Math.floor(random() * (size - n));
      sameBytes(await file.read(o, n), data.subarray(o, o + n), `trial ${trial} read ${i}`);
      wanted += n;
    }
    assert.ok(file.loads <= reads, `trial ${trial}: ${file.loads} loads for ${reads} reads`);
    assert.ok(file.loadedBytes <= wanted + reads * READ_AHEAD, `trial ${trial}: ${file.loadedBytes} bytes loaded for ${wanted} read`);
  }
});

test("one member read as a one-path restore does: no load past its data descriptor", async () => {
  const size = 40 * MiB;
  const { store } = await objectIn(size, 6);
  const file = storedRandomAccess(store, "obj", size);
  const at = 10 * MiB;
  const member = 6 * MiB;
  await file.read(at, 30);
  await file.read(at + 50 + member, 16);
  for (let d = at + 50; d < at + 50 + member; d += MiB) await file.read(d, Math.min(MiB, at + 50 + member - d));
  const end = Math.max(...store.loads.map((l) => l.offset + l.length));
  assert.equal(end, at + 50 + member + READ_AHEAD, "nothing loaded past the descriptor's window");
  // Before windows grew, this was a load per read: 2 + 6.
  assert.ok(file.loads <= 6, `${file.loads} loads`);
});

test("readers sharing a budget keep at most KEPT_BYTES in all, however many objects are open", async () => {
  const store = new CountingStore();
  const size = 30 * MiB;
  const objects = [pattern(size, 11), pattern(size, 12), pattern(size, 13)];
  for (const [i, d] of objects.entries()) await store.save(`obj${i}`, d);
  const budget = new ReadBudget();
  const files = objects.map((_, i) => storedRandomAccess(store, `obj${i}`, size, budget));
  for (let at = 0; at < size; at += MiB) {
    for (const [i, f] of files.entries()) sameBytes(await f.read(at, MiB), objects[i]!.subarray(at, at + MiB), `obj${i} at ${at}`);
  }
  assert.ok(files[0]!.peakKeptBytes <= KEPT_BYTES, `${files[0]!.peakKeptBytes} bytes kept`);
  assert.ok(files[0]!.peakKeptBytes > MAX_WINDOW, "the windows did grow");
});

test("a window fetched ahead that fails is fetched again by the read that needs it; a read's own failure is its error", async () => {
  const size = 24 * MiB;
  const { store, data } = await objectIn(size, 7);
  store.delayMs = 2;
  const file = storedRandomAccess(store, "obj", size);
  let failedAhead = false;
  for (let at = 0; at < size; at += MiB) {
    // Strike the first load that starts past what has been read: a window fetched ahead.
    if (at === 4 * MiB) store.failNext = (o) => (failedAhead = o.offset > at + MiB);
    sameBytes(await file.read(at, MiB), data.subarray(at, at + MiB), `at ${at}`);
  }
  assert.ok(failedAhead, "a window fetched ahead failed");
  // A load the read itself waits for: its failure is the read's, with its code.
  const fresh = storedRandomAccess(store, "obj", size);
  store.failNext = () => true;
  await assert.rejects(fresh.read(5 * MiB, 100), (e) => isIbtError(e, "IO") && /injected/.test(e.message));
  sameBytes(await fresh.read(5 * MiB, 100), data.subarray(5 * MiB, 5 * MiB + 100), "after the failure");
});

test("reads past the end are TRUNCATED; empty reads load nothing", async () => {
  const { store } = await objectIn(1000);
  const file = storedRandomAccess(store as Store, "obj", 1000);
  await assert.rejects(file.read(990, 20), (e) => isIbtError(e, "TRUNCATED"));
  assert.equal((await file.read(1000, 0)).length, 0);
  assert.equal(file.loads, 0);
});
