/**
 * Repository: snapshot chains of directory trees, stored through any FsAdapter (a local folder,
 * OPFS, memory). The class is the public face: it checks its arguments once, resolves options
 * once, and hands each operation to the module that owns it (backup.ts, restore.ts, verify.ts,
 * forget.ts). Writers (backup, forget) hold the repository lock; readers (snapshots, restore,
 * verify, archiveChunks) take none and see only committed snapshots.
 */
import { IbtError } from "../errors.js";
import { CONFIG, DATA, INDEXES, REPOSITORY_FORMAT, REPOSITORY_VERSION, SNAPSHOTS, archivePath, encodeRecord, exists as existsAt, isMissing, newId, readRecord } from "./layout.js";
import { chainOf, findSnapshot, loadRecords, toSnapshot } from "./snapshot.js";
import { resolveOptions } from "./options.js";
import { backup } from "./backup.js";
import { restore } from "./restore.js";
import { verify } from "./verify.js";
import { forget } from "./forget.js";
import { unlock, readOwner } from "./lock.js";
export class Repository {
    fs;
    id;
    options;
    constructor(fs, 
    /** The repository's random id, from its record. */
    id, options) {
        this.fs = fs;
        this.id = id;
        this.options = options;
    }
    /** Creates an empty repository; EXISTS if one is there. */
    static async init(fs, options = {}) {
        const resolved = resolveOptions(options);
        if (await existsAt(fs, CONFIG))
            throw new IbtError("EXISTS", "a repository exists here already", { path: CONFIG });
        for (const dir of [SNAPSHOTS, DATA, INDEXES])
            await fs.mkdir(dir, { recursive: true });
        const id = newId();
        // Written last: a repository exists once this does.
        await fs.writeFile(CONFIG, await encodeRecord({ format: REPOSITORY_FORMAT, version: REPOSITORY_VERSION, id, created: new Date().toISOString() }));
        return new Repository(fs, id, resolved);
    }
    /** Opens an existing repository; NOT_FOUND if there is none. */
    static async open(fs, options = {}) {
        const resolved = resolveOptions(options);
        let config;
        try {
            config = await readRecord(fs, CONFIG);
        }
        catch (e) {
            if (isMissing(e))
                throw new IbtError("NOT_FOUND", "no repository here (no ibt-repo.json)", { path: CONFIG });
            throw e;
        }
        if (config.format !== REPOSITORY_FORMAT || typeof config.id !== "string")
            throw new IbtError("CORRUPT", `${CONFIG}: not a repository record`, { path: CONFIG });
        if (config.version !== REPOSITORY_VERSION)
            throw new IbtError("UNSUPPORTED", `repository version ${String(config.version)} (this library reads ${REPOSITORY_VERSION})`, { path: CONFIG });
        return new Repository(fs, config.id, resolved);
    }
    static async openOrInit(fs, options = {}) {
        if (await existsAt(fs, CONFIG))
            return Repository.open(fs, options);
        try {
            return await Repository.init(fs, options);
        }
        catch (e) {
            // Another process made it first.
            if (e instanceof IbtError && e.code === "EXISTS")
                return Repository.open(fs, options);
            throw e;
        }
    }
    /** Backs up `source` as a new snapshot (full or incremental, see backup.ts). */
    backup(source, options = {}) {
        return backup(this.fs, this.options, source, options);
    }
    /** Every complete snapshot, oldest first. */
    async snapshots() {
        return (await loadRecords(this.fs)).records.map(toSnapshot);
    }
    /** Restores snapshot `id` (an id, a unique prefix of one, or "latest") into `target`. */
    restore(id, target, options = {}) {
        return restore(this.fs, id, target, options);
    }
    verify(options = {}) {
        return verify(this.fs, options);
    }
    forget(policy) {
        return forget(this.fs, this.options, policy);
    }
    /** The snapshot's diff archive, a plain ZIP, as chunks (for a download). */
    async *archiveChunks(id) {
        const { records } = await loadRecords(this.fs);
        const rec = findSnapshot(records, id);
        chainOf(records, rec.id);
        yield* this.fs.readStream(archivePath(rec.id));
    }
    /**
     * Clears a lock left by a writer that no longer runs. A lock that `isAlive` reports live is
     * refused with LOCKED unless `force`.
     */
    async unlock(options = {}) {
        return unlock(this.fs, this.options.lock, options.force === true);
    }
    /** The current lock's owner, if the repository is locked. */
    lockOwner() {
        return readOwner(this.fs);
    }
}
//# sourceMappingURL=repository.js.map