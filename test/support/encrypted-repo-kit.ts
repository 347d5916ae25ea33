/**
 * Encrypted stores for the repository test matrix: an EncryptedStore over a MemoryStore and
 * over an FsStore on a real folder, so every repository test that runs per store (chains,
 * forget, path restore, the store tests) runs encrypted too. The list is its own, merged into
 * repo-kit's by one line each, so other store kinds join the same lists without touching it.
 *
 * Argon2id runs with small parameters: these tests are about the repository over encryption,
 * not about the key derivation, which has its own tests. The KDF is the engine's own, the one a
 * user's repository gets.
 */
import { EncryptedStore, FsStore, MemoryFs, MemoryStore, argon2id, type FsAdapter, type KdfParams, type Store } from "../../src/index.js";
import { NodeFs } from "../../src/node/index.js";
import type { StoreFactory } from "./store-conformance.js";
import { tempDir } from "./helpers.js";

export const REPO_PASSWORD = "repository test password";

/** Cheap enough for hundreds of opens, and still the real Argon2id. */
export const SMALL_KDF_PARAMS: KdfParams = { memoryKiB: 256, passes: 1, parallelism: 1, tagLength: 32 };

/** Makes `inner` an encrypted repository's store, with the small parameters. */
export function encrypt(inner: Store, options: { segmentSize?: number } = {}): Promise<EncryptedStore> {
  return EncryptedStore.create(inner, REPO_PASSWORD, argon2id, SMALL_KDF_PARAMS, options);
}

/** Opens the encrypted store in `inner` again, as a later process would. */
export function reopen(inner: Store): Promise<EncryptedStore> {
  return EncryptedStore.open(inner, REPO_PASSWORD, argon2id);
}

function nodeFolder(): FsAdapter {
  return new NodeFs(tempDir());
}

export const encryptedMemoryStoreFactory: StoreFactory = { name: "Encrypted(MemoryStore)", make: async () => encrypt(new MemoryStore()) };
export const encryptedFsStoreNodeFactory: StoreFactory = { name: "Encrypted(FsStore(NodeFs))", make: async () => encrypt(new FsStore(nodeFolder())) };

/** The encrypted stores, for repo-kit's STORES. */
export const ENCRYPTED_STORES: StoreFactory[] = [encryptedMemoryStoreFactory, encryptedFsStoreNodeFactory];

/**
 * The encrypted repository cases, for repo-kit's REPO_CASES: each with the adapter kind its
 * trees are on (memory beside the memory store, a real folder beside the folder).
 */
export const ENCRYPTED_REPO_CASES: Array<{ name: string; store: StoreFactory; trees: { name: string; make(): Promise<FsAdapter> } }> = [
  { name: "Encrypted(MemoryStore)", store: encryptedMemoryStoreFactory, trees: { name: "MemoryFs", make: async () => new MemoryFs() } },
  { name: "Encrypted(FsStore(NodeFs))", store: encryptedFsStoreNodeFactory, trees: { name: "NodeFs", make: async () => nodeFolder() } },
];
