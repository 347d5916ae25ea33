/**
 * EncryptedStore: a Store that encrypts every object into another Store. The layers above see
 * plaintext and plaintext sizes; the wrapped store sees only objects in the segment format of
 * segments.ts, each under the repository's master key, its own random salt and its own name.
 *
 * Names pass through unchanged. They carry no plaintext: the repository names objects by
 * random ids under fixed prefixes (`snapshots/`, `data/`, `index/`, `lock`), so a name tells
 * the storage an object's type and nothing of its contents. Because the name is bound into
 * every tag, an object copied or moved to another name no longer opens. The `keys/` prefix
 * holds the key objects (keys.ts) and is refused for data, and hidden from listings.
 *
 * Sizes are computed, not stored: `stat` and `list` turn each stored size into the plaintext
 * size with the repository's segment size. `stat` refuses (AUTH_FAILED) a size no object has;
 * `list` still lists such an object, with size 0, since one damaged object (or a writer's
 * partial file a crash left) must not hide the rest, nor keep the repository from removing
 * or reporting it: every read of it is refused.
 * Ranged loads fetch and open only the segments the range covers (segment-range.ts); streams
 * are encrypted and decrypted a segment at a time. Conditional saves, removal and sweeping
 * are the wrapped store's own.
 */
import type { ByteSource } from "../bytes.js";
import { collect } from "../bytes.js";
import { IbtError } from "../errors.js";
import { checkObjectName, type LoadOptions, type SaveOptions, type Store, type StoredObject } from "../store/types.js";
import {
  addRepositoryKey,
  changeRepositoryPassword,
  createRepositoryKey,
  hasRepositoryKeys,
  KEYS_PREFIX,
  listRepositoryKeys,
  openRepositoryKey,
  removeRepositoryKey,
  type CreateOptions,
  type DamagedKey,
  type Kdf,
  type KdfChoice,
  type KeyInfo,
  type KeyOptions,
  type RepositoryKey,
} from "./keys.js";
import { decryptRange } from "./segment-range.js";
import { argon2id } from "./argon2.js";
import { decryptObject, encryptObject, plaintextSize } from "./segments.js";

export class EncryptedStore implements Store {
  readonly location: string;

  private constructor(
    private readonly inner: Store,
    private key: RepositoryKey,
  ) {
    this.location = `encrypted ${inner.location}`;
  }

  /**
   * Makes `inner` an encrypted repository with its first password; EXISTS if it is one. The
   * key's Argon2id parameters are `params` if given, else fitted to DEFAULT_KDF_TARGET_MS here
   * (pass `{ targetMs }` for another time). The check for an existing key and the write are two
   * calls: where two creators may race on one store, keep them apart, or each may go on under a
   * key of its own: `createEncryptedRepository` (repo/create-encrypted.ts) makes the key under
   * the plain store's repository lock.
   */
  static async create(inner: Store, password: string | Uint8Array, kdf: Kdf = argon2id, params?: KdfChoice, options: CreateOptions = {}): Promise<EncryptedStore> {
    return new EncryptedStore(inner, await createRepositoryKey(inner, password, kdf, params, options));
  }

  /** Opens the encrypted repository in `inner`; WRONG_PASSWORD if no key opens with `password`. */
  static async open(inner: Store, password: string | Uint8Array, kdf: Kdf = argon2id): Promise<EncryptedStore> {
    return new EncryptedStore(inner, await openRepositoryKey(inner, password, kdf));
  }

  /** Whether `inner` holds an encrypted repository: one listing of `keys/`, no password. */
  static isEncrypted(inner: Store): Promise<boolean> {
    return hasRepositoryKeys(inner);
  }

  /** The key object this store was opened with. */
  get keyId(): string {
    return this.key.id;
  }

  /** Key objects found damaged while opening; the repository opened all the same. */
  get damagedKeys(): readonly DamagedKey[] {
    return this.key.damagedKeys;
  }

  async save(name: string, data: Uint8Array | ByteSource, options: SaveOptions = {}): Promise<void> {
    this.checkDataName(name, "save");
    await this.inner.save(name, encryptObject(this.key.masterKey, name, data, { segmentSize: this.key.segmentSize }), options);
  }

  async load(name: string, options: LoadOptions = {}): Promise<Uint8Array> {
    this.checkDataName(name, "load");
    if (options.offset === undefined && options.length === undefined) {
      const stored = await this.inner.load(name, signalOnly(options.signal));
      return collect(decryptObject(this.key.masterKey, name, stored, this.key.segmentSize));
    }
    const inner = this.inner;
    const signal = options.signal;
    return decryptRange(
      this.key.masterKey,
      {
        name,
        read: (offset, length) => inner.load(name, { offset, ...(length === undefined ? {} : { length }), ...signalOnly(signal) }),
        size: async () => (await inner.stat(name)).size,
      },
      this.key.segmentSize,
      options.offset ?? 0,
      options.length,
    );
  }

  async *loadStream(name: string, options: { signal?: AbortSignal } = {}): AsyncGenerator<Uint8Array> {
    this.checkDataName(name, "loadStream");
    yield* decryptObject(this.key.masterKey, name, this.inner.loadStream(name, options), this.key.segmentSize);
  }

  async stat(name: string): Promise<StoredObject> {
    this.checkDataName(name, "stat");
    const { size } = await this.inner.stat(name);
    return { name, size: plaintextSize(size, this.key.segmentSize, name) };
  }

  async *list(prefix: string, options: { signal?: AbortSignal } = {}): AsyncGenerator<StoredObject> {
    for await (const { name, size } of this.inner.list(prefix, options)) {
      if (name.startsWith(KEYS_PREFIX)) continue;
      yield { name, size: listedSize(size, this.key.segmentSize, name) };
    }
  }

  async remove(name: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    this.checkDataName(name, "remove");
    await this.inner.remove(name, options);
  }

  async sweep(olderThanMs: number, options: { signal?: AbortSignal } = {}): Promise<number> {
    return this.inner.sweep ? this.inner.sweep(olderThanMs, options) : 0;
  }

  /** Adds a key object for another password. */
  addKey(password: string | Uint8Array, kdf: Kdf, params?: KdfChoice, options?: KeyOptions): Promise<KeyInfo> {
    return addRepositoryKey(this.inner, this.key, password, kdf, params, options);
  }

  /** Every key object, without secrets, and the damaged ones. */
  listKeys(): Promise<{ keys: KeyInfo[]; damaged: DamagedKey[] }> {
    return listRepositoryKeys(this.inner);
  }

  /** Removes a key object other than the one in use and not the last. */
  removeKey(id: string): Promise<void> {
    return removeRepositoryKey(this.inner, this.key, id);
  }

  /** Replaces the key in use with a key for `password`; the data stays as it is. */
  async changePassword(password: string | Uint8Array, kdf: Kdf, params?: KdfChoice, options?: KeyOptions): Promise<void> {
    this.key = await changeRepositoryPassword(this.inner, this.key, password, kdf, params, options);
  }

  private checkDataName(name: string, caller: string): void {
    checkObjectName(name, caller);
    if (name.startsWith(KEYS_PREFIX)) {
      throw new IbtError("UNSAFE_PATH", `${caller}: ${name}: the ${KEYS_PREFIX} prefix holds the repository's keys, not data`, { path: name, caller });
    }
  }
}

/** The plaintext size, or 0 for a stored size no object can have (see the file's prose). */
function listedSize(storedSize: number, segmentSize: number, name: string): number {
  try {
    return plaintextSize(storedSize, segmentSize, name);
  } catch {
    return 0;
  }
}

function signalOnly(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal === undefined ? {} : { signal };
}
