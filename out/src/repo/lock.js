/**
 * One writer at a time: the repository lock.
 *
 * The lock is a directory, `lock/`, holding `owner.json`: a random lock id, pid, host, time and
 * operation, so that a person, or `isAlive`, can tell a stale lock from a live one. A writer
 * prepares the whole lock under a name of its own (`lock.new-<id>/owner.json`) and renames it to
 * `lock`. The lock directory is never empty, and a directory cannot be renamed onto a non-empty
 * one (the adapter refuses a directory target, and rename(2) itself fails with ENOTEMPTY when
 * two processes pass that check at once), so of two writers racing exactly one rename succeeds
 * and the other gets LOCKED; and a writer killed at any moment leaves either no lock or a
 * complete one, never a lock without an owner. Removing a lock renames it aside first, for the
 * same reason.
 *
 * Stale locks. The core cannot know whether a pid is alive; a runtime that can (Node, through
 * `nodeRepositoryOptions`) passes `isAlive`. A lock whose owner is reported dead is broken, but
 * only while holding a second exclusive directory, `lock-breaker/`, and only if the owner file
 * still names the lock that was judged dead: two writers that both saw the same dead lock cannot
 * both break it and then both proceed.
 *
 * A holder checks before its commit point that the lock is still its own, so a lock removed
 * under a running backup (a mistaken unlock) fails that backup instead of letting two commit.
 */
import { IbtError } from "../errors.js";
import { LOCK, exists, isMissing, newId, readRecord, encodeRecord } from "./layout.js";
const OWNER = `${LOCK}/owner.json`;
const BREAKER = "lock-breaker";
const CANDIDATE = "lock.new-";
const RETIRED = "lock.old-";
export class RepositoryLock {
    fs;
    owner;
    constructor(fs, owner) {
        this.fs = fs;
        this.owner = owner;
    }
    static async acquire(fs, operation, options) {
        const owner = { id: newId(), ...options.owner, time: new Date().toISOString(), operation };
        const candidate = `${CANDIDATE}${owner.id}`;
        await fs.mkdir(candidate);
        try {
            await fs.writeFile(`${candidate}/owner.json`, await encodeRecord(owner));
            for (let attempt = 0;; attempt++) {
                try {
                    await fs.rename(candidate, LOCK);
                    return new RepositoryLock(fs, owner);
                }
                catch (e) {
                    if (!(e instanceof IbtError))
                        throw e;
                    const held = await readOwner(fs);
                    if (!held && !(await exists(fs, LOCK)))
                        throw e; // not contention: a real failure
                    if (attempt === 0 && held && options.isAlive && !(await options.isAlive(held)) && (await breakLock(fs, held.id)))
                        continue;
                    throw lockedError(held);
                }
            }
        }
        catch (e) {
            await fs.remove(candidate, { recursive: true }).catch(() => { });
            // The holder's clean-up may have removed our candidate while we prepared it.
            if (e instanceof IbtError && e.code !== "LOCKED") {
                const held = await readOwner(fs);
                if (held)
                    throw lockedError(held);
            }
            throw e;
        }
    }
    /** Throws LOCKED unless the lock is still ours. */
    async check() {
        const held = await readOwner(this.fs);
        if (held?.id !== this.owner.id)
            throw new IbtError("LOCKED", "the repository lock was removed while this writer held it; nothing was committed");
    }
    /**
     * Removes the lock if it is still ours. The owner is read strictly: a lock that cannot be read
     * back or moved away stays in place, and that is reported (with the way out), never passed
     * over in silence, or every later writer would meet LOCKED without knowing why.
     */
    async release() {
        try {
            let held;
            try {
                held = await readRecord(this.fs, OWNER);
            }
            catch (e) {
                if (isMissing(e))
                    return;
                throw e;
            }
            if (held.id === this.owner.id)
                await moveAway(this.fs);
        }
        catch (e) {
            if (!(e instanceof IbtError))
                throw e;
            throw new IbtError(e.code, `releasing the repository lock failed (${e.message}); if it is still held, clear it with unlock (ibt unlock REPO)`, { path: LOCK, cause: e });
        }
    }
}
/**
 * Removes the lock by renaming it aside first: a lock directory is then never seen half
 * removed (empty, or without its owner), which no later writer could judge.
 */
async function moveAway(fs) {
    const aside = `${RETIRED}${newId()}`;
    await fs.rename(LOCK, aside);
    await fs.remove(aside, { recursive: true });
}
/** Whether a name at the repository's root is a lock candidate or a retired lock (leftovers). */
export function isLockLeftover(name) {
    return name.startsWith(CANDIDATE) || name.startsWith(RETIRED);
}
/** The owner of the current lock; undefined when there is none or it cannot be read yet. */
export async function readOwner(fs) {
    try {
        const v = await readRecord(fs, OWNER);
        return typeof v.id === "string" && typeof v.time === "string" ? v : undefined;
    }
    catch (e) {
        if (isMissing(e) || (e instanceof IbtError && e.code === "CORRUPT"))
            return undefined;
        throw e;
    }
}
function describe(o) {
    return `${o.operation} by pid ${o.pid ?? "?"} on ${o.host ?? "an unknown host"} since ${o.time}`;
}
function lockedError(held) {
    const who = held ? describe(held) : "a writer that has not recorded itself yet";
    return new IbtError("LOCKED", `the repository is locked (${who}); if that writer is no longer running, clear the lock with unlock (ibt unlock REPO)`);
}
/** Removes the lock with id `staleId`, if it is still that one; true if it was removed. */
async function breakLock(fs, staleId) {
    try {
        await fs.mkdir(BREAKER);
    }
    catch (e) {
        if (e instanceof IbtError && e.code === "EXISTS")
            return false;
        throw e;
    }
    try {
        if ((await readOwner(fs))?.id !== staleId)
            return false;
        await moveAway(fs);
        return true;
    }
    finally {
        await fs.remove(BREAKER).catch(() => { });
    }
}
/**
 * Clears a lock left by a writer that no longer runs. A lock whose owner `isAlive` reports
 * running is refused with LOCKED unless `force`.
 */
export async function unlock(fs, options, force) {
    const held = await readOwner(fs);
    if (!force && held && options.isAlive && (await options.isAlive(held))) {
        throw new IbtError("LOCKED", `the lock belongs to a running writer (${describe(held)}); it was left in place`);
    }
    let removed = false;
    if (await exists(fs, LOCK)) {
        await moveAway(fs);
        removed = true;
    }
    if (await exists(fs, BREAKER)) {
        await fs.remove(BREAKER, { recursive: true });
        removed = true;
    }
    return { removed, owner: held };
}
//# sourceMappingURL=lock.js.map