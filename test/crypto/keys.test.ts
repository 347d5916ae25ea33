/**
 * Repository keys: a password opens the repository, another does not (WRONG_PASSWORD, once),
 * several passwords open one repository, keys are listed without secrets, removed with
 * guards against locking oneself out, and a damaged key object is reported but never hides
 * a good one. Key object fields are bound to the sealed key: changing one breaks that key.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { EncryptedStore } from "../../src/crypto/encrypted-store.js";
import { createRepositoryKey, listRepositoryKeys, openRepositoryKey } from "../../src/crypto/keys.js";
import { MemoryStore } from "../../src/store/memory.js";
import { encryptedMemory, PASSWORD, rejectsWith } from "../support/encrypted-kit.js";
import { TEST_KDF_PARAMS, testKdf } from "../support/test-kdf.js";

const text = (s: string) => new TextEncoder().encode(s);

async function keyNames(inner: MemoryStore): Promise<string[]> {
  const names: string[] = [];
  for await (const o of inner.list("keys/")) names.push(o.name);
  return names;
}

test("the right password opens the repository and reads its data; a wrong one is WRONG_PASSWORD", async () => {
  const { inner, store } = await encryptedMemory();
  await store.save("data/a", text("hello"));
  const again = await EncryptedStore.open(inner, PASSWORD, testKdf);
  assert.equal(new TextDecoder().decode(await again.load("data/a")), "hello");
  assert.equal(again.keyId, store.keyId);
  await assert.rejects(EncryptedStore.open(inner, "Correct horse battery staple", testKdf), (e: unknown) => {
    assert.equal((e as { code: string }).code, "WRONG_PASSWORD");
    assert.ok(!String((e as Error).message).includes("horse"));
    return true;
  });
  await rejectsWith(EncryptedStore.open(inner, "", testKdf), "WRONG_PASSWORD");
});

test("a string password is NFC-normalized; byte passwords are taken as they are", async () => {
  const inner = new MemoryStore();
  await EncryptedStore.create(inner, "caf\u00e9", testKdf, TEST_KDF_PARAMS);
  await EncryptedStore.open(inner, "cafe\u0301", testKdf);
  await EncryptedStore.open(inner, text("caf\u00e9"), testKdf);
  await rejectsWith(EncryptedStore.open(inner, text("cafe\u0301"), testKdf), "WRONG_PASSWORD");
});

test("two passwords both open one repository and see the same data", async () => {
  const { inner, store } = await encryptedMemory();
  await store.save("data/a", text("shared"));
  const info = await store.addKey("second password", testKdf, TEST_KDF_PARAMS, { host: "laptop", user: "bob" });
  const second = await EncryptedStore.open(inner, "second password", testKdf);
  assert.equal(second.keyId, info.id);
  assert.equal(new TextDecoder().decode(await second.load("data/a")), "shared");
  await second.save("data/b", text("from two"));
  assert.equal(new TextDecoder().decode(await store.load("data/b")), "from two");
  assert.equal((await EncryptedStore.open(inner, PASSWORD, testKdf)).keyId, store.keyId);
});

test("listing keys shows who made them, when and how, and nothing secret", async () => {
  const created = new Date("2024-05-06T07:08:09.000Z");
  const inner = new MemoryStore();
  const store = await EncryptedStore.create(inner, PASSWORD, testKdf, TEST_KDF_PARAMS, { host: "server", user: "root", created, segmentSize: 7 });
  await store.addKey("other", testKdf, { ...TEST_KDF_PARAMS, passes: 2 });
  const { keys, damaged } = await store.listKeys();
  assert.deepEqual(damaged, []);
  assert.equal(keys.length, 2);
  const first = keys.find((k) => k.id === store.keyId)!;
  assert.deepEqual(first, { id: store.keyId, created: created.toISOString(), host: "server", user: "root", kdf: "argon2id", params: TEST_KDF_PARAMS, segmentSize: 7 });
  const second = keys.find((k) => k.id !== store.keyId)!;
  assert.deepEqual(Object.keys(second).sort(), ["created", "id", "kdf", "params", "segmentSize"]);
  assert.equal(second.params.passes, 2);
  const listing = JSON.stringify(keys);
  for (const name of await keyNames(inner)) {
    const object = JSON.parse(new TextDecoder().decode(await inner.load(name))) as Record<string, string>;
    for (const secretish of [object.sealed!, object.nonce!, object.salt!]) assert.ok(!listing.includes(secretish));
  }
  assert.ok(!listing.includes(PASSWORD));
});

test("a key is removed; the key in use and the last key are not", async () => {
  const { inner, store } = await encryptedMemory();
  const other = await store.addKey("other", testKdf, TEST_KDF_PARAMS);
  await rejectsWith(store.removeKey(store.keyId), "BAD_ARGUMENT", `keys/${store.keyId}`);
  await rejectsWith(store.removeKey("0123456789abcdef0123456789abcdef"), "NOT_FOUND");
  await store.removeKey(other.id);
  await rejectsWith(EncryptedStore.open(inner, "other", testKdf), "WRONG_PASSWORD");
  assert.equal((await keyNames(inner)).length, 1);

  // Opened with B, remove A; a store still holding A may not then remove B, the last key.
  const b = await store.addKey("bee", testKdf, TEST_KDF_PARAMS);
  const withB = await EncryptedStore.open(inner, "bee", testKdf);
  await withB.removeKey(store.keyId);
  await rejectsWith(store.removeKey(b.id), "BAD_ARGUMENT", `keys/${b.id}`);
  assert.deepEqual(await keyNames(inner), [`keys/${b.id}`]);
});

test("changing the password leaves the data readable under the new one only", async () => {
  const { inner, store } = await encryptedMemory();
  await store.save("data/a", text("kept"));
  const before = store.keyId;
  await store.changePassword("new password", testKdf, TEST_KDF_PARAMS);
  assert.notEqual(store.keyId, before);
  assert.deepEqual(await keyNames(inner), [`keys/${store.keyId}`]);
  await rejectsWith(EncryptedStore.open(inner, PASSWORD, testKdf), "WRONG_PASSWORD");
  const reopened = await EncryptedStore.open(inner, "new password", testKdf);
  assert.equal(new TextDecoder().decode(await reopened.load("data/a")), "kept");
  // The store that changed it goes on working, and can add keys with its new key.
  await store.addKey("third", testKdf, TEST_KDF_PARAMS);
  await EncryptedStore.open(inner, "third", testKdf);
});

test("a damaged key object is reported and does not hide a good one", async () => {
  const { inner, store } = await encryptedMemory();
  await store.save("data/a", text("still here"));
  await inner.save("keys/00000000000000000000000000000000", text("{ not json"));
  await inner.save("keys/ffffffffffffffffffffffffffffffff", text(JSON.stringify({ format: "ibt-key", version: 1, kdf: "argon2id", created: "x" })));
  const opened = await EncryptedStore.open(inner, PASSWORD, testKdf);
  assert.equal(new TextDecoder().decode(await opened.load("data/a")), "still here");
  assert.deepEqual(opened.damagedKeys.map((d) => d.id).sort(), ["00000000000000000000000000000000", "ffffffffffffffffffffffffffffffff"]);
  assert.match(opened.damagedKeys[0]!.problem, /not JSON/);
  const { keys, damaged } = await opened.listKeys();
  assert.deepEqual(keys.map((k) => k.id), [store.keyId]);
  assert.equal(damaged.length, 2);
  await assert.rejects(EncryptedStore.open(inner, "wrong", testKdf), (e: unknown) => {
    assert.equal((e as { code: string }).code, "WRONG_PASSWORD");
    assert.match((e as Error).message, /damaged key objects: keys\/0{32} \(.*not JSON\)/);
    return true;
  });
  // A damaged key may be removed even though it is not readable.
  await opened.removeKey("00000000000000000000000000000000");
});

test("changed key object fields break that key; absurd parameters are not even tried", async () => {
  const { inner, store } = await encryptedMemory();
  const name = `keys/${store.keyId}`;
  const original = new TextDecoder().decode(await inner.load(name));
  for (const change of [
    (o: Record<string, any>) => void (o.params.passes = 2),
    (o: Record<string, any>) => void (o.segmentSize = 8),
    (o: Record<string, any>) => void (o.created = "2000-01-01T00:00:00.000Z"),
    (o: Record<string, any>) => void (o.host = "elsewhere"),
  ]) {
    const object = JSON.parse(original);
    change(object);
    await inner.save(name, text(JSON.stringify(object)));
    await rejectsWith(EncryptedStore.open(inner, PASSWORD, testKdf), "WRONG_PASSWORD");
  }
  const greedy = JSON.parse(original);
  greedy.params.memoryKiB = 1 << 30;
  await inner.save(name, text(JSON.stringify(greedy)));
  let kdfCalls = 0;
  await rejectsWith(
    EncryptedStore.open(inner, PASSWORD, (p, s, q) => (kdfCalls++, testKdf(p, s, q))),
    "CORRUPT",
  );
  assert.equal(kdfCalls, 0);
  await inner.save(name, text(original));
  await EncryptedStore.open(inner, PASSWORD, testKdf);
});

test("create refuses a store that has keys; open refuses one that has none", async () => {
  const { inner } = await encryptedMemory();
  await rejectsWith(createRepositoryKey(inner, "x", testKdf, TEST_KDF_PARAMS), "EXISTS");
  await rejectsWith(openRepositoryKey(new MemoryStore(), "x", testKdf), "NOT_FOUND");
  await rejectsWith(createRepositoryKey(new MemoryStore(), "x", testKdf, { ...TEST_KDF_PARAMS, tagLength: 16 }), "BAD_ARGUMENT");
  await rejectsWith(createRepositoryKey(new MemoryStore(), "x", testKdf, { ...TEST_KDF_PARAMS, memoryKiB: 4 }), "BAD_ARGUMENT");
  await rejectsWith(createRepositoryKey(new MemoryStore(), "", testKdf, TEST_KDF_PARAMS), "BAD_ARGUMENT");
  assert.deepEqual((await listRepositoryKeys(new MemoryStore())).keys, []);
});
