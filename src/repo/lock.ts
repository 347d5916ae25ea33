/**
 * One writer at a time: the repository lock.
 *
 * The lock is a directory, `lock/`, because creating a directory is the one exclusive create
 * every adapter has (NodeFs maps it to mkdir(2), which is atomic across processes): of two
 * writers racing, exactly one `mkdir` succeeds and the other gets EXISTS, which becomes LOCKED.
 * The winner then writes `lock/owner.json` (whole or nothing): a random lock id, pid, host,
 * time and operation, so that a person, or `isAlive`, can tell a stale lock from a live one.
 *
 * Stale locks. The core cannot know whether a pid is alive; a runtime that can (Node, through
 * `nodeRepositoryOptions`) passes `isAlive`. A lock whose owner is reported dead is broken, but
 * only while holding a second exclusive directory, `lock-breaker/`, and only if the owner file
 * still names the lock that was judged dead: two writers that both saw the same dead lock cannot
 * both break it and then both proceed. A lock with no owner file yet (its writer is between
 * `mkdir` and the write, or died there) is treated as live; `unlock` clears it.
 *
 * A holder checks before its commit point that the lock is still its own, so a lock removed
 * under a running backup (a mistaken unlock) fails that backup instead of letting two commit.
 */
import { IbtError } from "../errors.js";
import type { FsAdapter } from "../fs/types.js";
import { LOCK, isMissing, newId, readRecord, encodeRecord } from "./layout.js";

const OWNER = `${LOCK}/owner.json`;
const BREAKER = "lock-breaker";

export interface LockOwner {
  id: string;
  pid?: number;
  host?: string;
  time: string;
  operation: string;
}

export interface LockOptions {
  /** Who we are, recorded in the lock. */
  owner?: { pid?: number; host?: string };
  /** Whether the writer that left a lock still runs; without it every lock is presumed live. */
  isAlive?: (owner: LockOwner) => boolean | Promise<boolean>;
}

export class RepositoryLock {
  private constructor(
    private readonly fs: FsAdapter,
    readonly owner: LockOwner,
  ) {}

  static async acquire(fs: FsAdapter, operation: string, options: LockOptions): Promise<RepositoryLock> {
    const owner: LockOwner = { id: newId(), ...options.owner, time: new Date().toISOString(), operation };
    for (let attempt = 0; ; attempt++) {
      try {
        await fs.mkdir(LOCK);
      } catch (e) {
        if (!(e instanceof IbtError && e.code === "EXISTS")) throw e;
        const held = await readOwner(fs);
        if (attempt === 0 && held && options.isAlive && !(await options.isAlive(held)) && (await breakLock(fs, held.id))) continue;
        throw lockedError(held);
      }
      try {
        await fs.writeFile(OWNER, await encodeRecord(owner));
      } catch (e) {
        await fs.remove(LOCK, { recursive: true }).catch(() => {});
        throw e;
      }
      return new RepositoryLock(fs, owner);
    }
  }

  /** Throws LOCKED unless the lock is still ours. */
  async check(): Promise<void> {
    const held = await readOwner(this.fs);
    if (held?.id !== this.owner.id) throw new IbtError("LOCKED", "the repository lock was removed while this writer held it; nothing was committed");
  }

  async release(): Promise<void> {
    const held = await readOwner(this.fs);
    if (held?.id === this.owner.id) await this.fs.remove(LOCK, { recursive: true });
  }
}

/** The owner of the current lock; undefined when there is none or it cannot be read yet. */
export async function readOwner(fs: FsAdapter): Promise<LockOwner | undefined> {
  try {
    const v = await readRecord(fs, OWNER);
    return typeof v.id === "string" && typeof v.time === "string" ? (v as unknown as LockOwner) : undefined;
  } catch (e) {
    if (isMissing(e) || (e instanceof IbtError && e.code === "CORRUPT")) return undefined;
    throw e;
  }
}

function describe(o: LockOwner): string {
  return `${o.operation} by pid ${o.pid ?? "?"} on ${o.host ?? "an unknown host"} since ${o.time}`;
}

function lockedError(held: LockOwner | undefined): IbtError {
  const who = held ? describe(held) : "a writer that has not recorded itself yet";
  return new IbtError("LOCKED", `the repository is locked (${who}); if that writer is no longer running, clear the lock with unlock (ibt unlock REPO)`);
}

/** Removes the lock with id `staleId`, if it is still that one; true if it was removed. */
async function breakLock(fs: FsAdapter, staleId: string): Promise<boolean> {
  try {
    await fs.mkdir(BREAKER);
  } catch (e) {
    if (e instanceof IbtError && e.code === "EXISTS") return false;
    throw e;
  }
  try {
    if ((await readOwner(fs))?.id !== staleId) return false;
    await fs.remove(LOCK, { recursive: true });
    return true;
  } finally {
    await fs.remove(BREAKER).catch(() => {});
  }
}

/**
 * Clears a lock left by a writer that no longer runs. A lock whose owner `isAlive` reports
 * running is refused with LOCKED unless `force`.
 */
export async function unlock(fs: FsAdapter, options: LockOptions, force: boolean): Promise<{ removed: boolean; owner: LockOwner | undefined }> {
  const held = await readOwner(fs);
  if (!force && held && options.isAlive && (await options.isAlive(held))) {
    throw new IbtError("LOCKED", `the lock belongs to a running writer (${describe(held)}); it was left in place`);
  }
  let removed = false;
  for (const path of [LOCK, BREAKER]) {
    try {
      await fs.remove(path, { recursive: true });
      removed = true;
    } catch (e) {
      if (!isMissing(e)) throw e;
    }
  }
  return { removed, owner: held };
}
