/**
 * EncryptedStore over a MemoryStore: whatever goes in comes out, whole, ranged and streamed,
 * with plaintext sizes; ranged loads read only the segments they need; the `keys/` prefix is
 * not data; and nothing of the plaintext (or the password) is visible in the wrapped store.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { collect } from "../../src/bytes.js";
import { EncryptedStore } from "../../src/crypto/encrypted-store.js";
import { ciphertextSize, HEADER_LENGTH, TAG_LENGTH } from "../../src/crypto/segments.js";
import { MemoryStore } from "../../src/store/memory.js";
import { encryptedMemory, PASSWORD, patterned, RecordingStore, rejectsWith } from "../support/encrypted-kit.js";
import { TEST_KDF_PARAMS, testKdf } from "../support/test-kdf.js";

test("saves of every size near segment boundaries load back whole, streamed and with their sizes", async () => {
  const { inner, store } = await encryptedMemory(7);
  for (let size = 0; size <= 7 * 5 + 2; size++) {
    const name = `data/s${size}`;
    const data = patterned(size, size);
    await store.save(name, data);
    assert.deepEqual(await store.load(name), data, `load ${size}`);
    assert.deepEqual(await collect(store.loadStream(name)), data, `loadStream ${size}`);
    assert.deepEqual(await store.stat(name), { name, size });
    assert.equal((await inner.stat(name)).size, ciphertextSize(size, 7));
  }
  const listed = new Map<string, number>();
  for await (const o of store.list("data/")) listed.set(o.name, o.size);
  assert.equal(listed.size, 38);
  for (const [name, size] of listed) assert.equal(name, `data/s${size}`);
});

test("the default segment size round-trips objects around its boundaries", async () => {
  const inner = new MemoryStore();
  const store = await EncryptedStore.create(inner, PASSWORD, testKdf, TEST_KDF_PARAMS);
  for (const size of [0, 1, 65535, 65536, 65537, 131071, 131072, 131073, 300_000]) {
    const data = patterned(size, 3);
    await store.save("data/big", data);
    assert.deepEqual(await store.load("data/big"), data, `${size}`);
    assert.deepEqual(await collect(store.loadStream("data/big")), data, `${size}`);
    assert.equal((await store.stat("data/big")).size, size);
    const mid = Math.floor(size / 2);
    assert.deepEqual(await store.load("data/big", { offset: mid, length: 70_000 }), data.slice(mid, mid + 70_000));
  }
});

test("streamed saves in chunks of any size equal one-shot saves", async () => {
  const { store } = await encryptedMemory(7);
  const data = patterned(100, 9);
  for (const chunk of [1, 2, 3, 7, 8, 15, 100, 1000]) {
    async function* pieces() {
      for (let at = 0; at < data.length; at += chunk) yield data.slice(at, at + chunk);
    }
    await store.save(`data/c${chunk}`, pieces());
    assert.deepEqual(await store.load(`data/c${chunk}`), data, `chunks of ${chunk}`);
  }
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(data.slice(0, 50));
      c.enqueue(new Uint8Array(0));
      c.enqueue(data.slice(50));
      c.close();
    },
  });
  await store.save("data/rs", stream);
  assert.deepEqual(await store.load("data/rs"), data);
  await store.save("data/empty-stream", (async function* () {})());
  assert.deepEqual(await store.load("data/empty-stream"), new Uint8Array(0));
});

test("ranged loads of every (offset, length) over a small object equal the plaintext's slices", async () => {
  const { store } = await encryptedMemory(7);
  for (const size of [0, 1, 7, 21, 30]) {
    const data = patterned(size, 1);
    await store.save("snapshots/r", data);
    for (let offset = 0; offset <= size + 9; offset++) {
      assert.deepEqual(await store.load("snapshots/r", { offset }), data.slice(offset), `size ${size} offset ${offset}`);
      for (let length = 0; length <= size - offset + 9; length++) {
        assert.deepEqual(await store.load("snapshots/r", { offset, length }), data.slice(offset, offset + length), `${size}: ${offset}+${length}`);
      }
    }
  }
});

test("a ranged load reads the header and the segments it spans, and no more", async () => {
  const recording = new RecordingStore(new MemoryStore());
  const store = await EncryptedStore.create(recording, PASSWORD, testKdf, TEST_KDF_PARAMS, { segmentSize: 7 });
  await store.save("data/x", patterned(70));
  const stride = 7 + TAG_LENGTH;
  recording.loads.length = 0;
  assert.deepEqual(await store.load("data/x", { offset: 15, length: 3 }), patterned(70).slice(15, 18));
  // Segment 2 only (bytes 14..20), plus the byte that shows it is not the last.
  assert.deepEqual(recording.loads.sort(), [[0, HEADER_LENGTH], [HEADER_LENGTH + 2 * stride, stride + 1]].sort());
  recording.loads.length = 0;
  assert.deepEqual(await store.load("data/x", { offset: 13, length: 9 }), patterned(70).slice(13, 22));
  assert.deepEqual(recording.loads.sort(), [[0, HEADER_LENGTH], [HEADER_LENGTH + stride, 3 * stride + 1]].sort());
  assert.equal(recording.stats, 0);
  recording.loads.length = 0;
  assert.deepEqual(await store.load("data/x", { offset: 500, length: 3 }), new Uint8Array(0));
  // Past the end: the size, and the final segment to prove the object ends there.
  assert.equal(recording.stats, 1);
  assert.deepEqual(recording.loads.at(-1), [HEADER_LENGTH + 9 * stride, undefined]);
});

test("objects that do not exist are NOT_FOUND through every method", async () => {
  const { store } = await encryptedMemory();
  await rejectsWith(store.load("data/none"), "NOT_FOUND");
  await rejectsWith(store.load("data/none", { offset: 3, length: 2 }), "NOT_FOUND");
  await rejectsWith(collect(store.loadStream("data/none")), "NOT_FOUND");
  await rejectsWith(store.stat("data/none"), "NOT_FOUND");
  await store.remove("data/none");
});

test("conditional saves, removal and listing pass through; key objects are neither data nor listed", async () => {
  const { inner, store } = await encryptedMemory();
  await store.save("lock", new TextEncoder().encode("me"), { ifAbsent: true });
  await rejectsWith(store.save("lock", new TextEncoder().encode("you"), { ifAbsent: true }), "EXISTS");
  assert.equal(new TextDecoder().decode(await store.load("lock")), "me");
  await store.remove("lock");
  await rejectsWith(store.stat("lock"), "NOT_FOUND");
  for (const name of ["keys/abc", "keys/x/y"]) {
    await rejectsWith(store.save(name, new Uint8Array(1)), "UNSAFE_PATH", name);
    await rejectsWith(store.load(name), "UNSAFE_PATH", name);
    await rejectsWith(store.remove(name), "UNSAFE_PATH", name);
  }
  await rejectsWith(store.save("../up", new Uint8Array(1)), "UNSAFE_PATH");
  await store.save("index/i1", new Uint8Array(5));
  const all: string[] = [];
  for await (const o of store.list("")) all.push(o.name);
  assert.deepEqual(all, ["index/i1"]);
  let keys = 0;
  for await (const _ of inner.list("keys/")) keys++;
  assert.equal(keys, 1);
  assert.equal(await store.sweep(0), 0);
});

test("an error thrown by the data stream is rethrown unchanged and nothing is saved", async () => {
  const { store } = await encryptedMemory();
  const boom = new Error("source failed");
  async function* failing() {
    yield new Uint8Array(20);
    throw boom;
  }
  await assert.rejects(store.save("data/f", failing()), (e) => e === boom);
  await rejectsWith(store.stat("data/f"), "NOT_FOUND");
});

test("isEncrypted tells a store with key objects from one without", async () => {
  const inner = new MemoryStore();
  assert.equal(await EncryptedStore.isEncrypted(inner), false);
  await inner.save("data/plain", new Uint8Array(3));
  assert.equal(await EncryptedStore.isEncrypted(inner), false);
  await EncryptedStore.create(inner, PASSWORD, testKdf, TEST_KDF_PARAMS);
  assert.equal(await EncryptedStore.isEncrypted(inner), true);
});

test("no 6-byte piece of any saved plaintext or of the password appears in the wrapped store", async () => {
  const { inner, store } = await encryptedMemory(16);
  const secrets = [
    "The quick brown fox jumps over the lazy dog near the riverbank",
    "ACCOUNT NUMBER 4111-1111-1111-1111 EXPIRES 12/29",
    "/home/alice/Documents/tax-return-2024.pdf",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    PASSWORD,
  ];
  let i = 0;
  for (const s of secrets.slice(0, 4)) {
    const bytes = new TextEncoder().encode(s.repeat(5));
    await store.save(`data/obj${i++}`, bytes);
    await store.save(`snapshots/s${i++}`, (async function* () {
      for (let at = 0; at < bytes.length; at += 11) yield bytes.slice(at, at + 11);
    })());
  }
  const held: Uint8Array[] = [];
  for await (const o of inner.list("")) held.push(await inner.load(o.name));
  assert.ok(held.length >= 9);
  const holds = (needle: Uint8Array) =>
    held.some((h) => {
      outer: for (let at = 0; at + needle.length <= h.length; at++) {
        for (let k = 0; k < needle.length; k++) if (h[at + k] !== needle[k]) continue outer;
        return true;
      }
      return false;
    });
  for (const s of secrets) {
    const bytes = new TextEncoder().encode(s);
    for (let at = 0; at + 6 <= bytes.length; at++) {
      assert.ok(!holds(bytes.subarray(at, at + 6)), `${JSON.stringify(s.slice(at, at + 6))} found in storage`);
    }
  }
  // The scan can find what is there: a plaintext object saved directly is found.
  await inner.save("data/plain", new TextEncoder().encode(secrets[0]!));
  held.push(await inner.load("data/plain"));
  assert.ok(holds(new TextEncoder().encode(secrets[0]!.slice(10, 16))));
});
