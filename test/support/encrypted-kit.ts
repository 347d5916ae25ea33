/**
 * Shared fixtures for the encryption tests: an encrypted repository over a MemoryStore with a
 * tiny segment size (so a few dozen bytes span many segments), a Store that records the ranges
 * read through it, and a check that a promise fails with a given IbtError code and object.
 */
import assert from "node:assert/strict";
import { isIbtError, type ErrorCode } from "../../src/errors.js";
import { EncryptedStore } from "../../src/crypto/encrypted-store.js";
import { MemoryStore } from "../../src/store/memory.js";
import type { LoadOptions, Store } from "../../src/store/types.js";
import { TEST_KDF_PARAMS, testKdf } from "./test-kdf.js";

export const PASSWORD = "correct horse battery staple";

export async function encryptedMemory(segmentSize = 7, password = PASSWORD): Promise<{ inner: MemoryStore; store: EncryptedStore }> {
  const inner = new MemoryStore();
  const store = await EncryptedStore.create(inner, password, testKdf, TEST_KDF_PARAMS, { segmentSize });
  return { inner, store };
}

/** Plaintext whose bytes differ from their neighbours', so a misplaced byte shows. */
export function patterned(n: number, seed = 0): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 13 + seed * 101 + 5) & 255);
}

export async function rejectsWith(p: Promise<unknown>, code: ErrorCode, path?: string, what = ""): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isIbtError(e, code), `${what}: expected ${code}, got ${String(e)}`);
    if (path !== undefined) assert.equal(e.path, path, what);
    return true;
  });
}

/** Wraps a store and keeps every ranged load asked of it, as [offset, length or undefined]. */
export class RecordingStore implements Store {
  readonly loads: Array<[number, number | undefined]> = [];
  stats = 0;
  constructor(private readonly inner: Store) {}
  get location() {
    return this.inner.location;
  }
  save: Store["save"] = (n, d, o) => this.inner.save(n, d, o);
  load = (name: string, options: LoadOptions = {}) => {
    this.loads.push([options.offset ?? 0, options.length]);
    return this.inner.load(name, options);
  };
  loadStream: Store["loadStream"] = (n, o) => this.inner.loadStream(n, o);
  stat: Store["stat"] = (n) => {
    this.stats++;
    return this.inner.stat(n);
  };
  list: Store["list"] = (p, o) => this.inner.list(p, o);
  remove: Store["remove"] = (n, o) => this.inner.remove(n, o);
}
