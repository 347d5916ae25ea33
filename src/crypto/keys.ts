/**
 * Repository keys: one random 256-bit master key per repository, kept in the store wrapped once
 * per password. Each key object `keys/<id>` is JSON holding the Argon2id parameters and salt,
 * the master key sealed with AES-256-GCM under the key Argon2id derives from that password, and
 * who made it when. Everything in it but the sealed key is associated data of the seal, so
 * changing the parameters (to make guessing cheaper for someone who reads the object later) or
 * the listing fields breaks the key instead of fooling a reader. Passwords are added and
 * removed without touching any data, as restic does: the data is encrypted under the master
 * key, which does not change.
 *
 * Opening tries every key object in turn: a damaged one (unreadable JSON, fields out of range)
 * is set aside and reported with the key that opened, never allowed to hide it; when none
 * opens the answer is one WRONG_PASSWORD. A sealed key that fails to open cannot be told from
 * a wrong password, and is not meant to be. The KDF is a parameter so the core does not fix
 * one implementation of Argon2id; parameters read from storage are bounded before use, so a
 * planted key object cannot make a reader allocate without limit. A new key's parameters are
 * pinned by the caller or fitted to a derivation time above a floor (kdf-choice.ts); either
 * way they are written into the key object, and opening uses what the object says.
 */
import { toHex } from "../bytes.js";
import { IbtError } from "../errors.js";
import type { Store } from "../store/types.js";
import {
  associatedData,
  KEYS_PREFIX,
  MAX_TEXT,
  NONCE_BYTES,
  paramsProblem,
  parseKeyObject,
  SALT_BYTES,
  serializeKeyObject,
  type DamagedKey,
  type Kdf,
  type KdfParams,
  type KeyInfo,
  type KeyObject,
} from "./key-object.js";
import { checkSegmentSize, cryptoBytes, DEFAULT_SEGMENT_SIZE, importMasterKey } from "./segments.js";
import { chooseKdfParams, type KdfChoice } from "./kdf-choice.js";

export { DEFAULT_KDF_CHOICE, DEFAULT_KDF_TARGET_MS, type KdfChoice, type KdfTarget } from "./kdf-choice.js";
export { DEFAULT_KDF_PARAMS, KEYS_PREFIX, type DamagedKey, type Kdf, type KdfParams, type KeyInfo } from "./key-object.js";

const MASTER_BYTES = 32;

export interface KeyOptions {
  host?: string;
  user?: string;
  /** When the key is made; now unless given. */
  created?: Date;
}

export interface CreateOptions extends KeyOptions {
  /** Plaintext bytes per segment of every object of the repository. */
  segmentSize?: number;
}

/** An opened repository: the master key, usable but not readable, and what opened it. */
export class RepositoryKey {
  constructor(
    /** The key object that opened it. */
    readonly id: string,
    readonly masterKey: CryptoKey,
    readonly segmentSize: number,
    /** Key objects that could not be read while this one was found. */
    readonly damagedKeys: readonly DamagedKey[],
  ) {}
}

/** The raw master keys of opened repositories, needed only to seal them for a new password. */
const RAW_MASTER = new WeakMap<RepositoryKey, Uint8Array>();

/** Whether `store` holds any key object, that is, an encrypted repository. */
export async function hasRepositoryKeys(store: Store): Promise<boolean> {
  for await (const _ of store.list(KEYS_PREFIX)) return true;
  return false;
}

/** Makes a new master key and its first key object; EXISTS if the store has key objects. */
export async function createRepositoryKey(
  store: Store,
  password: string | Uint8Array,
  kdf: Kdf,
  params?: KdfChoice,
  options: CreateOptions = {},
): Promise<RepositoryKey> {
  const segmentSize = options.segmentSize ?? DEFAULT_SEGMENT_SIZE;
  checkSegmentSize(segmentSize);
  if (await hasRepositoryKeys(store)) {
    throw new IbtError("EXISTS", `${store.location} already holds a repository key`, { caller: "createRepositoryKey" });
  }
  const raw = crypto.getRandomValues(new Uint8Array(MASTER_BYTES));
  const info = await writeKeyObject(store, raw, password, kdf, params, segmentSize, options);
  const key = new RepositoryKey(info.id, await importMasterKey(raw), segmentSize, []);
  RAW_MASTER.set(key, raw);
  return key;
}

/**
 * Opens the repository with whichever key object `password` opens. Every key object is read
 * first (cheap), so the damaged ones are all reported; then the KDF runs for each readable one
 * in turn (costly, and one at a time so memory stays at one KDF's).
 */
export async function openRepositoryKey(store: Store, password: string | Uint8Array, kdf: Kdf): Promise<RepositoryKey> {
  const passwordBytes = passwordToBytes(password);
  const { objects, damaged } = await readKeyObjects(store);
  // No key has an empty password (refused when keys are made), and some KDFs reject one.
  for (const object of passwordBytes.length === 0 ? [] : objects) {
    const raw = await unseal(object, passwordBytes, kdf);
    if (raw === undefined) continue;
    const key = new RepositoryKey(object.id, await importMasterKey(raw), object.segmentSize, damaged);
    RAW_MASTER.set(key, raw);
    return key;
  }
  const also = damaged.length === 0 ? "" : `; damaged key objects: ${damaged.map((d) => `${KEYS_PREFIX}${d.id} (${d.problem})`).join(", ")}`;
  if (objects.length === 0 && damaged.length === 0) {
    throw new IbtError("NOT_FOUND", `${store.location} holds no repository key`, { caller: "openRepositoryKey" });
  }
  if (objects.length === 0) throw new IbtError("CORRUPT", `${store.location}: no key object is readable${also}`, { caller: "openRepositoryKey" });
  throw new IbtError("WRONG_PASSWORD", `no key of ${store.location} opens with this password${also}`, { caller: "openRepositoryKey" });
}

/** Seals the opened master key under another password, as a new key object. */
export async function addRepositoryKey(
  store: Store,
  key: RepositoryKey,
  password: string | Uint8Array,
  kdf: Kdf,
  params?: KdfChoice,
  options: KeyOptions = {},
): Promise<KeyInfo> {
  return writeKeyObject(store, rawMaster(key), password, kdf, params, key.segmentSize, options);
}

/** Every key object: what it says about itself, or what is wrong with it. */
export async function listRepositoryKeys(store: Store): Promise<{ keys: KeyInfo[]; damaged: DamagedKey[] }> {
  const { objects, damaged } = await readKeyObjects(store);
  const keys = objects.map(({ salt: _s, nonce: _n, sealed: _k, ...info }) => info);
  return { keys, damaged };
}

/** Reads and checks every key object, setting aside the damaged ones. */
async function readKeyObjects(store: Store): Promise<{ objects: KeyObject[]; damaged: DamagedKey[] }> {
  const ids: string[] = [];
  for await (const object of store.list(KEYS_PREFIX)) ids.push(object.name.slice(KEYS_PREFIX.length));
  const objects: KeyObject[] = [];
  const damaged: DamagedKey[] = [];
  for (const id of ids.sort()) {
    try {
      objects.push(parseKeyObject(id, await store.load(KEYS_PREFIX + id)));
    } catch (e) {
      if (e instanceof IbtError && e.code === "CORRUPT") damaged.push({ id, problem: e.message });
      // Removed since the listing: not a key any more.
      else if (!(e instanceof IbtError && e.code === "NOT_FOUND")) throw e;
    }
  }
  return { objects, damaged };
}

/**
 * Removes key object `id`. Refuses (BAD_ARGUMENT) the key in use and the last readable key, so
 * no one locks themselves out by removing keys; a damaged key may always go.
 */
export async function removeRepositoryKey(store: Store, key: RepositoryKey, id: string): Promise<void> {
  const name = KEYS_PREFIX + id;
  if (id === key.id) {
    throw new IbtError("BAD_ARGUMENT", `${name} is the key in use; open the repository with another key to remove it`, { path: name, caller: "removeRepositoryKey" });
  }
  await store.stat(name);
  const { keys } = await listRepositoryKeys(store);
  if (!keys.some((k) => k.id !== id)) {
    throw new IbtError("BAD_ARGUMENT", `${name} is the last key of ${store.location}`, { path: name, caller: "removeRepositoryKey" });
  }
  await store.remove(name);
}

/** Replaces the key in use with one for `password`: adds the new key, then removes the old. */
export async function changeRepositoryPassword(
  store: Store,
  key: RepositoryKey,
  password: string | Uint8Array,
  kdf: Kdf,
  params?: KdfChoice,
  options: KeyOptions = {},
): Promise<RepositoryKey> {
  const raw = rawMaster(key);
  const info = await writeKeyObject(store, raw, password, kdf, params, key.segmentSize, options);
  const next = new RepositoryKey(info.id, key.masterKey, key.segmentSize, key.damagedKeys);
  RAW_MASTER.set(next, raw);
  await store.remove(KEYS_PREFIX + key.id);
  return next;
}

async function writeKeyObject(
  store: Store,
  raw: Uint8Array,
  password: string | Uint8Array,
  kdf: Kdf,
  choice: KdfChoice | undefined,
  segmentSize: number,
  options: KeyOptions,
): Promise<KeyInfo> {
  const passwordBytes = passwordToBytes(password);
  if (passwordBytes.length === 0) throw new IbtError("BAD_ARGUMENT", "a password may not be empty", { caller: "createKey" });
  for (const [field, value] of [["host", options.host], ["user", options.user]] as const) {
    if (value !== undefined && (typeof value !== "string" || value.length > MAX_TEXT)) {
      throw new IbtError("BAD_ARGUMENT", `${field} must be a string of at most ${MAX_TEXT} characters`, { caller: "createKey" });
    }
  }
  // After the cheap checks, since calibrating costs a few derivations.
  const params = await chooseKdfParams(choice, kdf);
  const problem = paramsProblem(params);
  if (problem) throw new IbtError("BAD_ARGUMENT", `key derivation parameters: ${problem}`, { caller: "createKey" });
  const info: KeyInfo = {
    id: toHex(crypto.getRandomValues(new Uint8Array(16))),
    created: (options.created ?? new Date()).toISOString(),
    kdf: "argon2id",
    params: { memoryKiB: params.memoryKiB, passes: params.passes, parallelism: params.parallelism, tagLength: params.tagLength },
    segmentSize,
  };
  if (options.host !== undefined) info.host = options.host;
  if (options.user !== undefined) info.user = options.user;
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  const sealingKey = await passwordKey(passwordBytes, salt, info.params, kdf);
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-GCM", iv: nonce, additionalData: cryptoBytes(associatedData(info, salt)) }, sealingKey, cryptoBytes(raw)),
  );
  await store.save(KEYS_PREFIX + info.id, serializeKeyObject({ ...info, salt, nonce, sealed }), { ifAbsent: true });
  return info;
}

/** The master key sealed in `object`, or undefined when `password` does not open it. */
async function unseal(object: KeyObject, password: Uint8Array, kdf: Kdf): Promise<Uint8Array | undefined> {
  const sealingKey = await passwordKey(password, object.salt, object.params, kdf);
  try {
    const raw = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: cryptoBytes(object.nonce), additionalData: cryptoBytes(associatedData(object, object.salt)) },
      sealingKey,
      cryptoBytes(object.sealed),
    );
    return raw.byteLength === MASTER_BYTES ? new Uint8Array(raw) : undefined;
  } catch {
    return undefined;
  }
}

async function passwordKey(password: Uint8Array, salt: Uint8Array, params: KdfParams, kdf: Kdf): Promise<CryptoKey> {
  const derived = await kdf(password, salt, params);
  if (!(derived instanceof Uint8Array) || derived.length !== 32) {
    throw new IbtError("INTERNAL", "the key derivation function returned no 32-byte key", { caller: "passwordKey" });
  }
  return crypto.subtle.importKey("raw", cryptoBytes(derived), "AES-GCM", false, ["encrypt", "decrypt"]);
}

function rawMaster(key: RepositoryKey): Uint8Array {
  const raw = RAW_MASTER.get(key);
  if (!raw) throw new IbtError("BAD_ARGUMENT", "this key was not opened by openRepositoryKey or createRepositoryKey");
  return raw;
}

function passwordToBytes(password: string | Uint8Array): Uint8Array {
  // NFC, so one password typed on two systems gives the same bytes.
  return typeof password === "string" ? new TextEncoder().encode(password.normalize("NFC")) : password;
}
