/**
 * Opening and creating repositories for the CLI, encrypted by default. A store that holds key
 * objects (`keys/`) is an encrypted repository and is opened with a password (password.ts finds
 * it); one without is opened as it is. A new repository, made by `ibt init` or by the first
 * `ibt backup` into a location that holds none, is encrypted under a password asked for the same
 * way; a plain one is made only when `--insecure-no-password` asks for it by name.
 *
 * A new key's Argon2id cost is fitted to the library's default time on this machine, or to
 * `--kdf-time MS`, or pinned with `--kdf-memory MIB` and `--kdf-passes N`; the command line
 * refuses anything below RFC 9106's setting (64 MiB, 3 passes). `IBT_TEST_KDF_MEMORY_KIB`,
 * when no flag is given, pins a cost below it (that memory, one pass) for test suites that make
 * many repositories. The parameters are stored in each key, so opening never depends on any
 * of these, and nothing but a test should set the variable.
 */
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { hostname, userInfo } from "node:os";
import { join, resolve } from "node:path";
import { IbtError, isIbtError } from "../errors.js";
import { argon2id, ARGON2_MAX_MEMORY_KIB, ARGON2_MAX_PASSES } from "../crypto/argon2.js";
import { EncryptedStore } from "../crypto/encrypted-store.js";
import { DEFAULT_KDF_CHOICE, DEFAULT_KDF_PARAMS, type KdfChoice, type KeyOptions } from "../crypto/keys.js";
import { isPathLocation, openStore } from "../node/open-store.js";
import { readPassword } from "../node/password.js";
import { nodeRepositoryOptions } from "../node/repo-options.js";
import { CONFIG, LOCK, exists } from "../repo/layout.js";
import { PROBE } from "../repo/lock.js";
import { createEncryptedRepository } from "../repo/create-encrypted.js";
import { Repository } from "../repo/index.js";
import type { Store } from "../store/types.js";
import { flag, value, type Parsed } from "./args.js";

export interface OpenedRepository {
  repo: Repository;
  /** The encryption layer, when the repository has a password. */
  encrypted?: EncryptedStore;
}

/** The store at `location`; NOT_FOUND for a folder that does not exist (rather than making one). */
export async function existingStore(location: string): Promise<Store> {
  if (isPathLocation(location) && !existsSync(resolve(location))) throw new IbtError("NOT_FOUND", `no repository at ${location}`, { path: location });
  return openStore(location);
}

/** Opens the encryption layer of the repository at `location`, asking for its password unless `known`. */
export async function openEncrypted(p: Parsed, location: string, inner: Store, known?: string): Promise<EncryptedStore> {
  const password = known ?? (await readPassword({ file: value(p, "password-file"), prompt: `enter password for repository ${location}: ` }));
  const store = await EncryptedStore.open(inner, password, argon2id);
  for (const d of store.damagedKeys) process.stderr.write(`ibt: warning: key object keys/${d.id} is damaged (${d.problem}); another key opened the repository\n`);
  return store;
}

/** Opens the existing repository at `location`. */
export async function openRepository(p: Parsed, location: string): Promise<OpenedRepository> {
  const inner = await existingStore(location);
  if (await EncryptedStore.isEncrypted(inner)) {
    const encrypted = await openEncrypted(p, location, inner);
    return { repo: await Repository.open(encrypted, nodeRepositoryOptions()), encrypted };
  }
  return { repo: await Repository.open(inner, nodeRepositoryOptions()) };
}

/** Whether `inner` holds a repository, encrypted or not (without needing a password). */
export async function holdsRepository(inner: Store): Promise<boolean> {
  return (await EncryptedStore.isEncrypted(inner)) || (await exists(inner, CONFIG));
}

/**
 * The store for a new or existing repository at `location`. A folder is made if missing, but
 * never one that holds something other than a repository, so objects are not scattered into it.
 */
export async function storeForWriting(location: string): Promise<Store> {
  if (isPathLocation(location)) {
    const at = resolve(location);
    // A folder holding only a lock is a repository another writer is making now.
    const making = (name: string) => name === LOCK || name.startsWith(`${LOCK}~`) || name.startsWith(PROBE);
    if (existsSync(at) && !readdirSync(at).every(making) && !existsSync(join(at, CONFIG)) && !existsSync(join(at, "keys"))) {
      throw new IbtError("BAD_ARGUMENT", `${location} is neither a repository nor an empty folder`);
    }
    mkdirSync(at, { recursive: true });
  }
  return openStore(location);
}

/**
 * Opens the repository in `inner`, making it first if there is none. `initOnly` (ibt init)
 * refuses an existing one with EXISTS. A store with keys but no repository record (an init cut
 * short after its key was written) is opened with its password and finished.
 *
 * Two first backups at once must not make two master keys: a new repository is made by
 * createEncryptedRepository (repo/create-encrypted.ts), which makes the key under the plain
 * store's repository lock. A writer that finds that lock held waits for the other writer's key
 * or record to appear and opens it, as Repository.openOrInit waits for another's init.
 */
export async function openOrCreate(p: Parsed, location: string, inner: Store, initOnly: boolean): Promise<OpenedRepository & { created: boolean }> {
  const options = nodeRepositoryOptions();
  // Checked before any password is asked for, so a mistyped option costs no typing.
  const keyParams = newKeyParams(p);
  let password: string | undefined;
  const started = Date.now();
  for (;;) {
    if (await EncryptedStore.isEncrypted(inner)) {
      const encrypted = await openEncrypted(p, location, inner, password);
      const created = !(await exists(encrypted, CONFIG));
      if (initOnly && !created) throw new IbtError("EXISTS", `a repository exists at ${location} already`);
      return { repo: await Repository.openOrInit(encrypted, options), encrypted, created };
    }
    if (await exists(inner, CONFIG)) {
      if (initOnly) throw new IbtError("EXISTS", `a repository exists at ${location} already`);
      return { repo: await Repository.open(inner, options), created: false };
    }
    if (flag(p, "insecure-no-password")) return { repo: await Repository.openOrInit(inner, options), created: true };
    password ??= await readPassword({ file: value(p, "password-file"), prompt: `enter password for new repository ${location}: `, confirm: true });
    try {
      const { store, repository } = await createEncryptedRepository(inner, password, { ...options, kdf: argon2id, kdfParams: keyParams, key: keyOptions() });
      return { repo: repository, encrypted: store, created: true };
    } catch (e) {
      // Another writer made a repository here first (open it), or is making one (wait for it).
      if (isIbtError(e, "EXISTS")) continue;
      if (!isIbtError(e, "LOCKED") || Date.now() - started >= CREATE_WAIT_MS) throw e;
      await new Promise((r) => setTimeout(r, CREATE_POLL_MS));
    }
  }
}

/** How long a writer waits for another writer's new repository: a key's KDF takes a second or two. */
const CREATE_WAIT_MS = 60_000;
const CREATE_POLL_MS = 100;

/** The longest --kdf-time taken: a minute per derivation is past any use, and likely a typo. */
const MAX_KDF_TIME_MS = 60_000;

/** Argon2id parameters for a new key, or the time to fit them to (see the note at the top). */
export function newKeyParams(p: Parsed, env: Record<string, string | undefined> = process.env): KdfChoice {
  const time = value(p, "kdf-time");
  const memory = value(p, "kdf-memory");
  const passes = value(p, "kdf-passes");
  const floor = DEFAULT_KDF_PARAMS;
  if (time !== undefined) {
    if (memory !== undefined || passes !== undefined) {
      throw new IbtError("BAD_ARGUMENT", "--kdf-time fits the cost to a time; it cannot be given with --kdf-memory or --kdf-passes, which pin it");
    }
    return { targetMs: wholeNumber("--kdf-time", time, 1, MAX_KDF_TIME_MS) };
  }
  if (memory !== undefined || passes !== undefined) {
    return {
      ...floor,
      memoryKiB: memory === undefined ? floor.memoryKiB : 1024 * wholeNumber("--kdf-memory", memory, floor.memoryKiB / 1024, ARGON2_MAX_MEMORY_KIB / 1024),
      passes: passes === undefined ? floor.passes : wholeNumber("--kdf-passes", passes, floor.passes, ARGON2_MAX_PASSES),
    };
  }
  const testMemory = env["IBT_TEST_KDF_MEMORY_KIB"];
  if (testMemory === undefined || testMemory === "") return DEFAULT_KDF_CHOICE;
  if (!/^\d+$/.test(testMemory)) throw new IbtError("BAD_ARGUMENT", "IBT_TEST_KDF_MEMORY_KIB takes a whole number of KiB");
  return { ...floor, memoryKiB: Number(testMemory), passes: 1 };
}

function wholeNumber(option: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new IbtError("BAD_ARGUMENT", `${option} takes a whole number from ${min} to ${max}, not ${JSON.stringify(text)}`);
  }
  return Number(text);
}

/** Who makes a key, recorded in it as restic does, for `ibt key list`. */
export function keyOptions(): KeyOptions {
  let user: string | undefined;
  try {
    user = userInfo().username;
  } catch {
    // No user name (a container without a passwd entry): the key just does not record one.
  }
  return { host: hostname().slice(0, 256), ...(user ? { user: user.slice(0, 256) } : {}) };
}
