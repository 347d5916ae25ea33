/**
 * What someone who can write to the storage can do to an encrypted object, and that every one
 * of those changes is refused with AUTH_FAILED naming the object (UNSUPPORTED for a changed
 * format version, which a reader cannot authenticate): flipped bytes, cuts, dropped,
 * repeated and swapped segments, appended bytes, objects swapped between names, and objects
 * of another repository. Each is read whole, streamed and by a range that reaches the end.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { collect, concatBytes } from "../../src/bytes.js";
import type { EncryptedStore } from "../../src/crypto/encrypted-store.js";
import { ciphertextSize, HEADER_LENGTH, TAG_LENGTH } from "../../src/crypto/segments.js";
import type { ErrorCode } from "../../src/errors.js";
import type { MemoryStore } from "../../src/store/memory.js";
import { encryptedMemory, patterned, rejectsWith } from "../support/encrypted-kit.js";

const SEGMENT = 7;
const STRIDE = SEGMENT + TAG_LENGTH;
const NAME = "data/victim";
const PLAINTEXT = patterned(24); // segments of 7, 7, 7 and 3 bytes

async function setup(): Promise<{ inner: MemoryStore; store: EncryptedStore; stored: Uint8Array }> {
  const { inner, store } = await encryptedMemory(SEGMENT);
  await store.save(NAME, PLAINTEXT);
  return { inner, store, stored: await inner.load(NAME) };
}

/** Every way of reading the whole object fails with `code`. */
async function refused(store: EncryptedStore, what: string, code: ErrorCode = "AUTH_FAILED", name = NAME): Promise<void> {
  await rejectsWith(store.load(name), code, name, `${what}: load`);
  await rejectsWith(collect(store.loadStream(name)), code, name, `${what}: loadStream`);
  await rejectsWith(store.load(name, { offset: 0, length: 1000 }), code, name, `${what}: ranged load to the end`);
}

function segments(stored: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = HEADER_LENGTH; at < stored.length; at += STRIDE) out.push(stored.slice(at, at + STRIDE));
  return out;
}

const header = (stored: Uint8Array) => stored.slice(0, HEADER_LENGTH);

test("the victim object has the expected shape, and reads back before it is touched", async () => {
  const { store, stored } = await setup();
  assert.equal(stored.length, HEADER_LENGTH + 24 + 4 * TAG_LENGTH);
  assert.deepEqual(segments(stored).map((s) => s.length), [STRIDE, STRIDE, STRIDE, 3 + TAG_LENGTH]);
  assert.deepEqual(await store.load(NAME), PLAINTEXT);
});

test("every single-byte flip of the stored object is refused", async () => {
  const { inner, store, stored } = await setup();
  for (let at = 0; at < stored.length; at++) {
    for (const mask of [0x01, 0x80]) {
      const changed = stored.slice();
      changed[at]! ^= mask;
      await inner.save(NAME, changed);
      // The version byte: a reader cannot authenticate a format it does not know.
      await refused(store, `byte ${at} ^ ${mask}`, at === 4 ? "UNSUPPORTED" : "AUTH_FAILED");
      // A range that covers the changed segment fails too.
      if (at >= HEADER_LENGTH) {
        const segment = Math.floor((at - HEADER_LENGTH) / STRIDE);
        await rejectsWith(store.load(NAME, { offset: segment * SEGMENT, length: 1 }), "AUTH_FAILED", NAME, `byte ${at}: range`);
      }
    }
  }
});

test("a cut at every length, at segment boundaries and inside segments, is refused", async () => {
  const { inner, store, stored } = await setup();
  const validSizes = new Set(Array.from({ length: 30 }, (_, p) => ciphertextSize(p, SEGMENT)));
  for (let length = 0; length < stored.length; length++) {
    await inner.save(NAME, stored.slice(0, length));
    await refused(store, `cut to ${length}`);
    // Cuts that leave a size no object has show already in stat; the rest only when read.
    if (!validSizes.has(length)) await rejectsWith(store.stat(NAME), "AUTH_FAILED", NAME, `stat after a cut to ${length}`);
  }
  // A listing lists an impossible size as 0 (so one cut object hides nothing else), and every
  // read of the object is refused, naming it.
  await inner.save(NAME, stored.slice(0, HEADER_LENGTH + 5));
  const listed: [string, number][] = [];
  for await (const o of store.list("data/")) listed.push([o.name, o.size]);
  assert.deepEqual(listed, [[NAME, 0]]);
  await rejectsWith(store.load(NAME), "AUTH_FAILED", NAME);
  // A cut at a segment boundary leaves a size that some object has; the final flag gives it away.
  await inner.save(NAME, stored.slice(0, HEADER_LENGTH + 2 * STRIDE));
  assert.equal((await store.stat(NAME)).size, 14);
  await rejectsWith(store.load(NAME, { offset: 7 }), "AUTH_FAILED", NAME);
  await rejectsWith(store.load(NAME, { offset: 30, length: 5 }), "AUTH_FAILED", NAME);
});

test("dropped, repeated and swapped segments are refused", async () => {
  const { inner, store, stored } = await setup();
  const parts = segments(stored);
  for (let k = 0; k < parts.length; k++) {
    await inner.save(NAME, concatBytes([header(stored), ...parts.filter((_, j) => j !== k)]));
    await refused(store, `segment ${k} dropped`);
    await inner.save(NAME, concatBytes([header(stored), ...parts.slice(0, k + 1), parts[k]!, ...parts.slice(k + 1)]));
    await refused(store, `segment ${k} repeated`);
  }
  for (const [a, b] of [[0, 1], [1, 2], [0, 2], [2, 3]] as const) {
    const swapped = parts.slice();
    [swapped[a], swapped[b]] = [swapped[b]!, swapped[a]!];
    await inner.save(NAME, concatBytes([header(stored), ...swapped]));
    await refused(store, `segments ${a} and ${b} swapped`);
  }
});

test("bytes appended to the object are refused", async () => {
  const { inner, store, stored } = await setup();
  const parts = segments(stored);
  for (const extra of [new Uint8Array(1), new Uint8Array(TAG_LENGTH), new Uint8Array(STRIDE), parts[0]!, parts[3]!]) {
    await inner.save(NAME, concatBytes([stored, extra]));
    await refused(store, `${extra.length} bytes appended`);
  }
});

test("two objects' ciphertexts swapped between names are refused under both names", async () => {
  const { inner, store, stored } = await setup();
  await store.save("data/other", patterned(24, 7));
  const other = await inner.load("data/other");
  await inner.save(NAME, other);
  await inner.save("data/other", stored);
  await refused(store, "swapped", "AUTH_FAILED", NAME);
  await refused(store, "swapped", "AUTH_FAILED", "data/other");
  // Copied to a new name, with the original left in place.
  await inner.save("snapshots/copy", stored);
  await refused(store, "copied", "AUTH_FAILED", "snapshots/copy");
});

test("an object of another repository, under the same name, is refused", async () => {
  const { inner, store } = await setup();
  const elsewhere = await encryptedMemory(SEGMENT);
  await elsewhere.store.save(NAME, PLAINTEXT);
  await inner.save(NAME, await elsewhere.inner.load(NAME));
  await refused(store, "foreign");
});

test("a header with another segment size, or not a header at all, is refused", async () => {
  const { inner, store, stored } = await setup();
  const other = await encryptedMemory(8);
  await other.store.save(NAME, PLAINTEXT);
  await inner.save(NAME, await other.inner.load(NAME));
  await refused(store, "segment size 8");
  await inner.save(NAME, concatBytes([new TextEncoder().encode("PK\x03\x04 plain zip"), stored.slice(20)]));
  await refused(store, "no magic");
  const future = stored.slice();
  future[4] = 2;
  await inner.save(NAME, future);
  await refused(store, "version 2", "UNSUPPORTED");
});
