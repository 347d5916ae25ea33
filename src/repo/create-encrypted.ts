/**
 * A new encrypted repository, safe against other creators at the same moment.
 *
 * Checking that a store holds no key and writing the first one are two calls, so two creators
 * at once could each write a key and go on under master keys of their own: objects sealed under
 * one cannot be opened with the other. So the first key is made under the repository lock, taken
 * on the plain store (the lock object of a repository without a password, so a plain and an
 * encrypted creator exclude each other too). Under it the creator looks again for keys or a
 * repository record and writes its key only if there is neither; it releases the lock once the
 * key is written, and from then on every writer opens that one key. The repository itself is
 * then made through the key, under the repository's own (encrypted) lock, as `Repository.init`
 * makes any repository.
 */
import { IbtError } from "../errors.js";
import { EncryptedStore } from "../crypto/encrypted-store.js";
import type { CreateOptions, Kdf, KdfChoice } from "../crypto/index.js";
import type { Store } from "../store/types.js";
import { CONFIG, exists } from "./layout.js";
import { RepositoryLock, checkConditionalWrites } from "./lock.js";
import { resolveOptions, type RepositoryOptions } from "./options.js";
import { Repository } from "./repository.js";

export interface EncryptedRepositoryOptions extends RepositoryOptions {
  /** The key derivation; default the library's Argon2id. */
  kdf?: Kdf;
  /** Its parameters, or the time to fit them to (EncryptedStore.create). */
  kdfParams?: KdfChoice;
  /** Who makes the key, and the repository's segment size. */
  key?: CreateOptions;
}

/**
 * Makes an encrypted repository in `inner` with its first password. EXISTS if `inner` holds a
 * repository (encrypted or not) or another creator's key; LOCKED while another creator is at work
 * (wait and open what it made, as `ibt` does); UNSUPPORTED, with nothing written, for a store
 * that does not honour conditional writes, unless `unsafeNoConditionalWrites`. The repository is
 * made through the new key with `Repository.openOrInit`, since another writer may open that key
 * as soon as it exists.
 */
export async function createEncryptedRepository(
  inner: Store,
  password: string | Uint8Array,
  options: EncryptedRepositoryOptions = {},
): Promise<{ store: EncryptedStore; repository: Repository }> {
  const { lock: lockOptions, unsafeNoConditionalWrites } = resolveOptions(options);
  const refuseExisting = async () => {
    if ((await EncryptedStore.isEncrypted(inner)) || (await exists(inner, CONFIG))) {
      throw new IbtError("EXISTS", `a repository exists in ${inner.location} already`, { caller: "createEncryptedRepository" });
    }
  };
  await refuseExisting();
  // Before the lock, which rests on them, and before any key, which a refusal would leave behind.
  await checkConditionalWrites(inner, unsafeNoConditionalWrites);
  const lock = await RepositoryLock.acquire(inner, "init", lockOptions);
  let store: EncryptedStore;
  try {
    await refuseExisting();
    store = await EncryptedStore.create(inner, password, options.kdf, options.kdfParams, options.key);
  } finally {
    // Before the repository's own (encrypted) lock object takes the same name.
    await lock.release();
  }
  // Another writer may have opened the key meanwhile and made the repository: it is this one.
  return { store, repository: await Repository.openOrInit(store, options) };
}
