/**
 * One writer at a time: the repository lock, made of nothing but Store calls, so it works on
 * object stores that have no rename and no directories.
 *
 * The lock is one object, `lock`: a record of a random lock id, pid, host, time and operation,
 * so that a person, or `isAlive`, can tell a stale lock from a live one. A writer creates it
 * with `save(…, { ifAbsent: true })`: of two writers racing, exactly one create succeeds and the
 * other gets LOCKED, and a writer killed at any moment leaves either no lock or a whole one.
 * After creating it the writer reads it back and proceeds only if it holds its own id, which
 * catches a store that let a second conditional create through after all.
 *
 * Refresh and staleness (restic's rules). The holder rewrites the lock with a new time every
 * LOCK_REFRESH_MS, after reading it back to check it is still its own. Another writer treats a
 * lock whose time is more than LOCK_STALE_MS old as abandoned (its owner vanished, or sits on a
 * host that cannot be asked), and a lock whose owner `isAlive` reports dead (the core cannot
 * know whether a pid lives; Node passes `isAlive` through `nodeRepositoryOptions`) as abandoned
 * at once. A holder that could not refresh for half the stale limit considers its lock lost
 * and commits nothing, so it never writes on after others may have judged it stale, clock skew
 * between hosts included up to that margin.
 *
 * Breaking is race-safe: a breaker first creates `lock-breaker` conditionally, then checks that
 * the lock still names the id it judged abandoned, removes it, removes `lock-breaker`, and then
 * tries to create its own lock like anyone else. Two writers that both saw the same dead lock
 * cannot both be between the check and the removal, so neither can remove a lock that the
 * other has just created. A breaker killed in between leaves `lock-breaker`, which `unlock`
 * clears (and the next holder removes once it is stale).
 *
 * A holder checks before its commit point that the lock is still its own and fresh, so a lock
 * removed or broken under a running backup fails that backup instead of letting two commit.
 * A refresh is a read and then a plain save, not a compare-and-swap (the Store has none): a
 * lock removed by hand (a forced unlock) in between is put back, and a writer that took it in
 * that moment is overwritten and fails its own check. Breaking cannot land there, since a
 * holder refreshes only while its lock is far from stale. So the read-then-save window only
 * matters after a forced unlock of a live writer, which is already a person overriding the lock,
 * and every writer's check before its commit point still sees the loss. A conditional replace
 * would close it where the storage has one (S3's If-Match on PutObject, R2's onlyIf with an
 * etag), but the Store contract offers only create-if-absent, and the folder, memory and
 * encrypting stores have no ETag to match, so the lock keeps to what every Store can do.
 *
 * Stores that ignore conditional writes. `init` creates a probe object conditionally twice; if
 * the second create succeeds, the store does not honour them, two writers could both take the
 * lock and corrupt the repository, and `init` refuses with UNSUPPORTED unless the caller accepts
 * that explicitly (`unsafeNoConditionalWrites`). It is checked at `init` only: a store keeps its
 * nature, and the read-back after each create catches most lost races on one that changed.
 */
import { IbtError } from "../errors.js";
import type { Store } from "../store/types.js";
import { LOCK, exists, isMissing, newId, readRecord, encodeRecord } from "./layout.js";

/** A holder refreshes this often: six chances before anyone may call its lock stale. */
export const LOCK_REFRESH_MS = 5 * 60_000;
/** A lock not refreshed for this long is abandoned: far past any live holder's refresh, with room for clock skew. */
export const LOCK_STALE_MS = 30 * 60_000;

export const BREAKER = "lock-breaker";
/**
 * Probe objects of `init`'s conditional-write check, named `lock-probe-<ms since epoch>-<id>`
 * (removed after; leftovers by the next writer once stale, see removeStaleProbes).
 */
export const PROBE = "lock-probe-";

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
  /** Whether the writer that left a lock still runs; without it only staleness breaks a lock. */
  isAlive?: (owner: LockOwner) => boolean | Promise<boolean>;
  /** Refresh interval and stale limit; defaults LOCK_REFRESH_MS and LOCK_STALE_MS (tests shorten them). */
  lockTiming?: LockTiming;
}

export interface LockTiming {
  refreshMs: number;
  staleMs: number;
}

function timingOf(options: LockOptions): LockTiming {
  return options.lockTiming ?? { refreshMs: LOCK_REFRESH_MS, staleMs: LOCK_STALE_MS };
}

export class RepositoryLock {
  private timer: ReturnType<typeof setInterval> | undefined;
  private refreshing: Promise<void> = Promise.resolve();
  /** When our record was last written (our clock). */
  private written: number;
  private lost: string | undefined;

  private constructor(
    private readonly store: Store,
    readonly owner: LockOwner,
    written: number,
    private readonly timing: LockTiming,
  ) {
    this.written = written;
    this.timer = setInterval(() => {
      this.refreshing = this.refreshing.then(() => this.refresh());
    }, timing.refreshMs);
    // A lock's timer must not keep a process alive on its own (Node; browsers have no unref).
    (this.timer as { unref?: () => void }).unref?.();
  }

  static async acquire(store: Store, operation: string, options: LockOptions): Promise<RepositoryLock> {
    const timing = timingOf(options);
    const owner: LockOwner = { id: newId(), ...options.owner, time: new Date().toISOString(), operation };
    for (let attempt = 0; ; attempt++) {
      const written = Date.now();
      try {
        await store.save(LOCK, await encodeRecord(owner), { ifAbsent: true });
      } catch (e) {
        if (!(e instanceof IbtError && e.code === "EXISTS")) throw e;
        const held = await readOwner(store);
        if (attempt < 2 && !held && !(await present(store, LOCK))) continue; // released meanwhile
        if (attempt < 2 && held && (await abandoned(held, options, timing)) && (await breakLock(store, held.id))) continue;
        throw lockedError(held);
      }
      let held: LockOwner | undefined;
      try {
        held = await readOwner(store);
      } catch (e) {
        await store.remove(LOCK).catch(() => {});
        throw e;
      }
      if (held?.id !== owner.id) throw lockedError(held);
      return new RepositoryLock(store, owner, written, timing);
    }
  }

  /** Rewrites the lock with a new time if it is still ours and not yet possibly judged stale. */
  private async refresh(): Promise<void> {
    if (this.lost) return;
    try {
      if (Date.now() - this.written >= this.timing.staleMs / 2) {
        this.lost = "it could not be refreshed in time and may have been taken over";
        return;
      }
      if ((await readOwner(this.store))?.id !== this.owner.id) {
        this.lost = "it was removed while this writer held it";
        return;
      }
      const now = Date.now();
      await this.store.save(LOCK, await encodeRecord({ ...this.owner, time: new Date(now).toISOString() }));
      this.written = now;
    } catch {
      // Retried at the next interval; check() fails once the lock is too old to trust.
    }
  }

  /** Throws LOCKED unless the lock is still ours and fresh. */
  async check(): Promise<void> {
    await this.refreshing;
    const why =
      this.lost ??
      (Date.now() - this.written >= this.timing.staleMs / 2
        ? "it could not be refreshed in time and may have been taken over"
        : (await readOwner(this.store))?.id !== this.owner.id
          ? "it was removed while this writer held it"
          : undefined);
    if (why) throw new IbtError("LOCKED", `the repository lock is no longer this writer's (${why}); nothing was committed`);
  }

  /**
   * Stops refreshing and removes the lock if it is still ours. The owner is read strictly: a
   * lock that cannot be read back or removed stays in place, and that is reported (with the way
   * out), never passed over in silence, or every later writer would meet LOCKED without knowing
   * why.
   */
  async release(): Promise<void> {
    clearInterval(this.timer);
    await this.refreshing;
    try {
      let held: Record<string, unknown>;
      try {
        held = await readRecord(this.store, LOCK);
      } catch (e) {
        if (isMissing(e)) return;
        throw e;
      }
      if (held.id === this.owner.id) await this.store.remove(LOCK);
    } catch (e) {
      if (!(e instanceof IbtError)) throw e;
      throw new IbtError(e.code, `releasing the repository lock failed (${e.message}); if it is still held, clear it with unlock (ibt unlock REPO)`, { path: LOCK, cause: e });
    }
  }
}

/** Whether a lock's owner is gone: dead on this host (`isAlive`), or silent past the stale limit. */
async function abandoned(held: LockOwner, options: LockOptions, timing: LockTiming): Promise<boolean> {
  if (isStale(held.time, timing)) return true;
  return options.isAlive !== undefined && !(await options.isAlive(held));
}

function isStale(time: unknown, timing: LockTiming): boolean {
  const t = typeof time === "string" ? Date.parse(time) : NaN;
  return Number.isFinite(t) && Date.now() - t > timing.staleMs;
}

/**
 * The owner of the current lock; undefined when there is none or it cannot be read as one:
 * damaged, or sealed under another key (the plain lock a new encrypted repository is made
 * under, seen through the encryption layer). Such a lock still locks.
 */
export async function readOwner(store: Store): Promise<LockOwner | undefined> {
  try {
    const v = await readRecord(store, LOCK);
    return typeof v.id === "string" && typeof v.time === "string" ? (v as unknown as LockOwner) : undefined;
  } catch (e) {
    if (isMissing(e) || (e instanceof IbtError && (e.code === "CORRUPT" || e.code === "AUTH_FAILED"))) return undefined;
    throw e;
  }
}

/** Whether the object is there, readable or not (a size no sealed object has is still a lock). */
async function present(store: Store, name: string): Promise<boolean> {
  try {
    return await exists(store, name);
  } catch (e) {
    if (e instanceof IbtError && e.code === "AUTH_FAILED") return true;
    throw e;
  }
}

function describe(o: LockOwner): string {
  return `${o.operation} by pid ${o.pid ?? "?"} on ${o.host ?? "an unknown host"} since ${o.time}`;
}

function lockedError(held: LockOwner | undefined): IbtError {
  const who = held ? describe(held) : "a writer whose lock cannot be read";
  return new IbtError("LOCKED", `the repository is locked (${who}); if that writer is no longer running, clear the lock with unlock (ibt unlock REPO)`);
}

/** Removes the lock with id `staleId`, if it is still that one; true if it was removed. */
async function breakLock(store: Store, staleId: string): Promise<boolean> {
  try {
    await store.save(BREAKER, await encodeRecord({ id: newId(), breaking: staleId, time: new Date().toISOString() }), { ifAbsent: true });
  } catch (e) {
    if (e instanceof IbtError && e.code === "EXISTS") return false;
    throw e;
  }
  try {
    if ((await readOwner(store))?.id !== staleId) return false;
    await store.remove(LOCK);
    return true;
  } finally {
    await store.remove(BREAKER).catch(() => {});
  }
}

/**
 * Removes a `lock-breaker` left by a breaker that died, once it is stale. Only the lock holder
 * calls this: no breaker can then be about to remove a lock, since the lock is ours and fresh.
 */
export async function removeStaleBreaker(store: Store, options: LockOptions): Promise<boolean> {
  let v: Record<string, unknown>;
  try {
    v = await readRecord(store, BREAKER);
  } catch (e) {
    if (isMissing(e)) return false;
    if (!(e instanceof IbtError && e.code === "CORRUPT")) throw e;
    v = {};
  }
  if (v.time !== undefined && !isStale(v.time, timingOf(options))) return false;
  await store.remove(BREAKER);
  return true;
}

/**
 * Removes probes that an interrupted `init` left, once they are older than the stale limit. A
 * younger probe may belong to an `init` running now, which takes no lock while it probes:
 * removing it between its two creates would let the second succeed and make that `init` judge
 * a sound store unsafe. A probe whose name carries no time is from an older version and removed.
 */
export async function removeStaleProbes(store: Store, options: LockOptions): Promise<string[]> {
  const { staleMs } = timingOf(options);
  const removed: string[] = [];
  for await (const o of store.list(PROBE)) {
    const made = /^\d+(?=-)/.exec(o.name.slice(PROBE.length));
    if (made && Date.now() - Number(made[0]) <= staleMs) continue;
    await store.remove(o.name);
    removed.push(o.name);
  }
  return removed;
}

/**
 * Clears a lock left by a writer that no longer runs. A lock whose owner `isAlive` reports
 * running is refused with LOCKED unless `force`.
 */
export async function unlock(store: Store, options: LockOptions, force: boolean): Promise<{ removed: boolean; owner: LockOwner | undefined }> {
  const held = await readOwner(store);
  if (!force && held && options.isAlive && (await options.isAlive(held))) {
    throw new IbtError("LOCKED", `the lock belongs to a running writer (${describe(held)}); it was left in place`);
  }
  let removed = false;
  for (const name of [LOCK, BREAKER]) {
    if (await present(store, name)) {
      await store.remove(name);
      removed = true;
    }
  }
  // A lock of the older folder layout (`lock/owner.json`), which only unlock clears.
  for await (const o of store.list(`${LOCK}/`)) {
    await store.remove(o.name);
    removed = true;
  }
  return { removed, owner: held };
}

/**
 * Refuses (UNSUPPORTED) a store that lets a second conditional create of one name succeed,
 * unless `accept`: on such a store two writers can both take the lock.
 */
export async function checkConditionalWrites(store: Store, accept: boolean): Promise<void> {
  const name = `${PROBE}${Date.now()}-${newId()}`;
  const bytes = new TextEncoder().encode("conditional-write probe\n");
  try {
    await store.save(name, bytes, { ifAbsent: true });
    try {
      await store.save(name, bytes, { ifAbsent: true });
    } catch (e) {
      if (e instanceof IbtError && e.code === "EXISTS") return;
      throw e;
    }
    if (!accept) {
      throw new IbtError(
        "UNSUPPORTED",
        `${store.location} does not honour conditional writes (a second create-if-absent of one object succeeded): the repository lock cannot keep two writers apart there, and two backups or forgets at once could corrupt the repository. Pass unsafeNoConditionalWrites: true only if you make sure yourself that one writer runs at a time`,
      );
    }
  } finally {
    await store.remove(name).catch(() => {});
  }
}
