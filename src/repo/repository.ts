/**
 * Repository: snapshot chains of directory trees, stored through any FsAdapter (a local folder,
 * OPFS, memory). The class is the public face: it checks its arguments once, resolves options
 * once, and hands each operation to the module that owns it (backup.ts, restore.ts, verify.ts,
 * forget.ts). Writers (backup, forget) hold the repository lock; readers (snapshots, restore,
 * verify, archiveChunks) take none and see only committed snapshots.
 */
import { IbtError } from "../errors.js";
import type { FsAdapter } from "../fs/types.js";
import { CONFIG, DATA, INDEXES, REPOSITORY_FORMAT, REPOSITORY_VERSION, SNAPSHOTS, archivePath, encodeRecord, exists as existsAt, isMissing, newId, readRecord } from "./layout.js";
import { chainOf, findSnapshot, loadRecords, toSnapshot, type Snapshot } from "./snapshot.js";
import { resolveOptions, type RepositoryOptions, type ResolvedOptions } from "./options.js";
import { backup, type BackupOptions } from "./backup.js";
import { restore, type RestoreOptions, type RestoreResult } from "./restore.js";
import { verify, type VerifyOptions, type VerifyReport } from "./verify.js";
import { forget, type ForgetPolicy, type ForgetResult } from "./forget.js";
import { unlock, readOwner, type LockOwner } from "./lock.js";

export class Repository {
  private constructor(
    readonly fs: FsAdapter,
    /** The repository's random id, from its record. */
    readonly id: string,
    private readonly options: ResolvedOptions,
  ) {}

  /** Creates an empty repository; EXISTS if one is there. */
  static async init(fs: FsAdapter, options: RepositoryOptions = {}): Promise<Repository> {
    const resolved = resolveOptions(options);
    if (await existsAt(fs, CONFIG)) throw new IbtError("EXISTS", "a repository exists here already", { path: CONFIG });
    for (const dir of [SNAPSHOTS, DATA, INDEXES]) await fs.mkdir(dir, { recursive: true });
    const id = newId();
    // Written last: a repository exists once this does.
    await fs.writeFile(CONFIG, await encodeRecord({ format: REPOSITORY_FORMAT, version: REPOSITORY_VERSION, id, created: new Date().toISOString() }));
    return new Repository(fs, id, resolved);
  }

  /** Opens an existing repository; NOT_FOUND if there is none. */
  static async open(fs: FsAdapter, options: RepositoryOptions = {}): Promise<Repository> {
    const resolved = resolveOptions(options);
    let config: Record<string, unknown>;
    try {
      config = await readRecord(fs, CONFIG);
    } catch (e) {
      if (isMissing(e)) throw new IbtError("NOT_FOUND", "no repository here (no ibt-repo.json)", { path: CONFIG });
      throw e;
    }
    if (config.format !== REPOSITORY_FORMAT || typeof config.id !== "string") throw new IbtError("CORRUPT", `${CONFIG}: not a repository record`, { path: CONFIG });
    if (config.version !== REPOSITORY_VERSION) throw new IbtError("UNSUPPORTED", `repository version ${String(config.version)} (this library reads ${REPOSITORY_VERSION})`, { path: CONFIG });
    return new Repository(fs, config.id, resolved);
  }

  static async openOrInit(fs: FsAdapter, options: RepositoryOptions = {}): Promise<Repository> {
    if (await existsAt(fs, CONFIG)) return Repository.open(fs, options);
    try {
      return await Repository.init(fs, options);
    } catch (e) {
      // Another process made it first.
      if (e instanceof IbtError && e.code === "EXISTS") return Repository.open(fs, options);
      throw e;
    }
  }

  /** Backs up `source` as a new snapshot (full or incremental, see backup.ts). */
  backup(source: FsAdapter, options: BackupOptions = {}): Promise<Snapshot> {
    return backup(this.fs, this.options, source, options);
  }

  /** Every complete snapshot, oldest first. */
  async snapshots(): Promise<Snapshot[]> {
    return (await loadRecords(this.fs)).records.map(toSnapshot);
  }

  /** Restores snapshot `id` (an id, a unique prefix of one, or "latest") into `target`. */
  restore(id: string, target: FsAdapter, options: RestoreOptions = {}): Promise<RestoreResult> {
    return restore(this.fs, id, target, options);
  }

  verify(options: VerifyOptions = {}): Promise<VerifyReport> {
    return verify(this.fs, options);
  }

  forget(policy: ForgetPolicy): Promise<ForgetResult> {
    return forget(this.fs, this.options, policy);
  }

  /** The snapshot's diff archive, a plain ZIP, as chunks (for a download). */
  async *archiveChunks(id: string): AsyncIterable<Uint8Array> {
    const { records } = await loadRecords(this.fs);
    const rec = findSnapshot(records, id);
    chainOf(records, rec.id);
    yield* this.fs.readStream(archivePath(rec.id));
  }

  /**
   * Clears a lock left by a writer that no longer runs. A lock that `isAlive` reports live is
   * refused with LOCKED unless `force`.
   */
  async unlock(options: { force?: boolean } = {}): Promise<{ removed: boolean; owner: LockOwner | undefined }> {
    return unlock(this.fs, this.options.lock, options.force === true);
  }

  /** The current lock's owner, if the repository is locked. */
  lockOwner(): Promise<LockOwner | undefined> {
    return readOwner(this.fs);
  }
}
