/**
 * Repository: snapshot chains of directory trees, stored in any Store (a folder or OPFS through
 * FsStore, memory, an object store). The class is the public face: it checks its arguments
 * once, resolves options once, and hands each operation to the module that owns it (backup.ts,
 * restore.ts, verify.ts, forget.ts). Writers (backup, forget, init) hold the repository lock;
 * readers (snapshots, restore, verify, archiveChunks) take none and see only committed
 * snapshots. The repository reaches its storage through Store calls only; a file tree is a
 * Store once wrapped (`new FsStore(fs)`), and passing an FsAdapter itself is refused with a
 * message saying so, rather than guessed at.
 */
import { IbtError } from "../errors.js";
import type { FsAdapter } from "../fs/types.js";
import type { Store } from "../store/types.js";
import { CONFIG, REPOSITORY_FORMAT, REPOSITORY_VERSION, archivePath, encodeRecord, exists as existsAt, isMissing, newId, readRecord } from "./layout.js";
import { chainOf, findSnapshot, loadRecords, toSnapshot, type Snapshot } from "./snapshot.js";
import { resolveOptions, type RepositoryOptions, type ResolvedOptions } from "./options.js";
import { backup, type BackupOptions } from "./backup.js";
import { restore, type RestoreOptions, type RestoreResult } from "./restore.js";
import { verify, type VerifyOptions, type VerifyReport } from "./verify.js";
import { forget, type ForgetPolicy, type ForgetResult } from "./forget.js";
import { RepositoryLock, checkConditionalWrites, unlock, readOwner, type LockOwner } from "./lock.js";

/** Refuses anything but a Store, naming the fix for the likely mistake (a file tree). */
function checkStore(store: Store, caller: string): void {
  const s = store as Partial<Store> & Partial<FsAdapter> | null | undefined;
  if (s && typeof s.save === "function" && typeof s.load === "function" && typeof s.list === "function") return;
  if (s && typeof s.writeFile === "function") {
    throw new IbtError("BAD_ARGUMENT", `Repository.${caller} needs a Store, not a file tree (FsAdapter): wrap it, as in Repository.${caller}(new FsStore(fs))`, { caller });
  }
  throw new IbtError("BAD_ARGUMENT", `Repository.${caller} needs a Store (FsStore, MemoryStore, …)`, { caller });
}

/** How long openOrInit waits for another writer's init to finish: an init is a few small writes. */
const INIT_WAIT_MS = 5000;
const INIT_POLL_MS = 50;

export class Repository {
  private constructor(
    readonly store: Store,
    /** The repository's random id, from its record. */
    readonly id: string,
    private readonly options: ResolvedOptions,
  ) {}

  /**
   * Creates an empty repository; EXISTS if one is there. Refuses a store that does not honour
   * conditional writes (UNSUPPORTED) unless `unsafeNoConditionalWrites`.
   */
  static async init(store: Store, options: RepositoryOptions = {}): Promise<Repository> {
    checkStore(store, "init");
    const resolved = resolveOptions(options);
    const here = () => new IbtError("EXISTS", `a repository exists in ${store.location} already`, { path: CONFIG });
    if (await existsAt(store, CONFIG)) throw here();
    await checkConditionalWrites(store, resolved.unsafeNoConditionalWrites);
    // Under the lock, so that of two inits at once one makes the repository and the other
    // finds it (EXISTS) or the lock (LOCKED).
    const lock = await RepositoryLock.acquire(store, "init", resolved.lock);
    const id = newId();
    try {
      if (await existsAt(store, CONFIG)) throw here();
      // A repository exists once this record does.
      await store.save(CONFIG, await encodeRecord({ format: REPOSITORY_FORMAT, version: REPOSITORY_VERSION, id, created: new Date().toISOString() }));
    } finally {
      await lock.release();
    }
    return new Repository(store, id, resolved);
  }

  /** Opens an existing repository; NOT_FOUND if there is none. */
  static async open(store: Store, options: RepositoryOptions = {}): Promise<Repository> {
    checkStore(store, "open");
    const resolved = resolveOptions(options);
    let config: Record<string, unknown>;
    try {
      config = await readRecord(store, CONFIG);
    } catch (e) {
      if (isMissing(e)) throw new IbtError("NOT_FOUND", `no repository in ${store.location} (no ${CONFIG})`, { path: CONFIG });
      throw e;
    }
    if (config.format !== REPOSITORY_FORMAT || typeof config.id !== "string") throw new IbtError("CORRUPT", `${CONFIG}: not a repository record`, { path: CONFIG });
    if (config.version !== REPOSITORY_VERSION) throw new IbtError("UNSUPPORTED", `repository version ${String(config.version)} (this library reads ${REPOSITORY_VERSION})`, { path: CONFIG });
    return new Repository(store, config.id, resolved);
  }

  static async openOrInit(store: Store, options: RepositoryOptions = {}): Promise<Repository> {
    checkStore(store, "openOrInit");
    if (await existsAt(store, CONFIG)) return Repository.open(store, options);
    try {
      return await Repository.init(store, options);
    } catch (e) {
      if (!(e instanceof IbtError && (e.code === "EXISTS" || e.code === "LOCKED"))) throw e;
      // Another writer made it first, or is making it now: an init takes moments.
      for (let waited = 0; ; waited += INIT_POLL_MS) {
        if (await existsAt(store, CONFIG)) return Repository.open(store, options);
        if (waited >= INIT_WAIT_MS) throw e;
        await new Promise((r) => setTimeout(r, INIT_POLL_MS));
      }
    }
  }

  /** Backs up `source` as a new snapshot (full or incremental, see backup.ts). */
  backup(source: FsAdapter, options: BackupOptions = {}): Promise<Snapshot> {
    return backup(this.store, this.options, source, options);
  }

  /** Every complete snapshot, oldest first. */
  async snapshots(): Promise<Snapshot[]> {
    return (await loadRecords(this.store)).records.map(toSnapshot);
  }

  /** Restores snapshot `id` (an id, a unique prefix of one, or "latest") into `target`. */
  restore(id: string, target: FsAdapter, options: RestoreOptions = {}): Promise<RestoreResult> {
    return restore(this.store, id, target, options, this.options.inflate);
  }

  verify(options: VerifyOptions = {}): Promise<VerifyReport> {
    return verify(this.store, options, this.options.inflate);
  }

  forget(policy: ForgetPolicy): Promise<ForgetResult> {
    return forget(this.store, this.options, policy);
  }

  /** The snapshot's diff archive, a plain ZIP, as chunks (for a download). */
  async *archiveChunks(id: string): AsyncIterable<Uint8Array> {
    const { records } = await loadRecords(this.store);
    const rec = findSnapshot(records, id);
    chainOf(records, rec.id);
    yield* this.store.loadStream(archivePath(rec.id));
  }

  /**
   * Clears a lock left by a writer that no longer runs. A lock that `isAlive` reports live is
   * refused with LOCKED unless `force`.
   */
  async unlock(options: { force?: boolean } = {}): Promise<{ removed: boolean; owner: LockOwner | undefined }> {
    return unlock(this.store, this.options.lock, options.force === true);
  }

  /** The current lock's owner, if the repository is locked. */
  lockOwner(): Promise<LockOwner | undefined> {
    return readOwner(this.store);
  }
}
