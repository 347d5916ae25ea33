/**
 * createEncryptedRepository: creators at once on one store end with one key and one repository,
 * the others told EXISTS or LOCKED; a store that holds a repository, or another creator's lock,
 * gets no key.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { EncryptedStore, FsStore, MemoryStore, Repository, argon2id, createEncryptedRepository, isIbtError, type Store } from "../../src/index.js";
import { NodeFs } from "../../src/node/index.js";
import { LOCK, encodeRecord } from "../../src/repo/layout.js";
import { KEYS_PREFIX } from "../../src/crypto/keys.js";
import { tempDir } from "../support/helpers.js";
import { REPO_PASSWORD, SMALL_KDF_PARAMS } from "../support/encrypted-repo-kit.js";

const options = { kdf: argon2id, kdfParams: SMALL_KDF_PARAMS };

async function keys(store: Store): Promise<string[]> {
  const out: string[] = [];
  for await (const o of store.list(KEYS_PREFIX)) out.push(o.name);
  return out;
}

for (const [name, make] of [
  ["memory", () => new MemoryStore()],
  ["folder", () => new FsStore(new NodeFs(tempDir()))],
] as [string, () => Store][]) {
  test(`${name}: eight creators at once make one key and one repository; the others get EXISTS or LOCKED`, async () => {
    for (let round = 0; round < 3; round++) {
      const inner = make();
      const results = await Promise.allSettled(Array.from({ length: 8 }, () => createEncryptedRepository(inner, REPO_PASSWORD, options)));
      const made = results.filter((r) => r.status === "fulfilled");
      assert.equal(made.length, 1, `round ${round}: one creator made it`);
      for (const r of results) {
        if (r.status === "rejected") assert.ok(isIbtError(r.reason, "EXISTS") || isIbtError(r.reason, "LOCKED"), String(r.reason));
      }
      assert.equal((await keys(inner)).length, 1, "one key");
      const { repository } = made[0]!.value;
      const reopened = await Repository.open(await EncryptedStore.open(inner, REPO_PASSWORD), {});
      assert.equal(reopened.id, repository.id, "the key opens the repository that was made");
    }
  });
}

test("a store that ignores conditional writes is UNSUPPORTED and keeps nothing, unless accepted explicitly", async () => {
  const inner = new MemoryStore();
  const careless = Object.create(inner) as Store;
  careless.save = (name, data, o = {}) => inner.save(name, data, { ...o, ifAbsent: false });
  await assert.rejects(createEncryptedRepository(careless, REPO_PASSWORD, options), (e: unknown) => isIbtError(e, "UNSUPPORTED") && /unsafeNoConditionalWrites/.test((e as Error).message));
  const left: string[] = [];
  for await (const o of inner.list("")) left.push(o.name);
  assert.deepEqual(left, [], "no key, no probe, no lock");
  const { repository } = await createEncryptedRepository(careless, REPO_PASSWORD, { ...options, unsafeNoConditionalWrites: true });
  assert.equal((await keys(inner)).length, 1);
  assert.ok(repository.id);
});

test("a store holding a repository, encrypted or plain, is EXISTS; another creator's lock is LOCKED; neither gets a key", async () => {
  const encrypted = new MemoryStore();
  await createEncryptedRepository(encrypted, REPO_PASSWORD, options);
  await assert.rejects(createEncryptedRepository(encrypted, "another password", options), (e: unknown) => isIbtError(e, "EXISTS"));
  assert.equal((await keys(encrypted)).length, 1);

  const plain = new MemoryStore();
  await Repository.init(plain);
  await assert.rejects(createEncryptedRepository(plain, REPO_PASSWORD, options), (e: unknown) => isIbtError(e, "EXISTS"));
  assert.deepEqual(await keys(plain), []);

  const busy = new MemoryStore();
  await busy.save(LOCK, await encodeRecord({ id: "other", pid: 1, host: "elsewhere", time: new Date().toISOString(), operation: "init" }));
  await assert.rejects(createEncryptedRepository(busy, REPO_PASSWORD, options), (e: unknown) => isIbtError(e, "LOCKED"));
  assert.deepEqual(await keys(busy), []);
  // Its owner judged dead, the lock is taken over.
  const { repository } = await createEncryptedRepository(busy, REPO_PASSWORD, { ...options, isAlive: () => false });
  assert.ok(repository.id);
  assert.equal((await keys(busy)).length, 1);
});
