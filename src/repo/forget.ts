/**
 * forget: remove snapshots a retention policy does not keep, without breaking any kept one.
 *
 * The policy picks snapshots to keep: the `keepLast` newest, and the newest snapshot of each of
 * the `keepDaily` most recent days (UTC) that have one, likewise for ISO weeks and months. Every
 * kept incremental then keeps its whole chain (its parent, the parent's parent, down to the
 * full), since a restore reads each link; an index stored as a delta is built on the parent's
 * index, so the same chain holds every index a kept snapshot needs. What remains is removed, newest first and each record
 * before its files: an interrupted forget leaves every listed snapshot whole, and at most
 * unreferenced files, which the next writer removes.
 */
import { IbtError } from "../errors.js";
import type { Store } from "../store/types.js";
import { archivePath, indexPath, recordPath } from "./layout.js";
import { loadRecords, removeLeftovers, type SnapshotRecord } from "./snapshot.js";
import { RepositoryLock } from "./lock.js";
import type { ResolvedOptions } from "./options.js";

export interface ForgetPolicy {
  keepLast?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  /** Report what would be removed, remove nothing. */
  dryRun?: boolean;
}

export interface ForgetResult {
  removed: string[];
  kept: string[];
}

/** Picks the snapshots to keep (oldest first in, ids out), chains included. */
export function keptBy(records: readonly SnapshotRecord[], policy: ForgetPolicy): Set<string> {
  const counts = [policy.keepLast, policy.keepDaily, policy.keepWeekly, policy.keepMonthly];
  for (const n of counts) {
    if (n !== undefined && !(Number.isInteger(n) && n >= 0)) throw new IbtError("BAD_ARGUMENT", `keep counts are integers >= 0, not ${n}`);
  }
  if (!counts.some((n) => n)) throw new IbtError("BAD_ARGUMENT", "the policy keeps nothing: give keepLast, keepDaily, keepWeekly or keepMonthly");
  const newest = [...records].reverse();
  const keep = new Set<string>(newest.slice(0, policy.keepLast ?? 0).map((r) => r.id));
  const buckets: [number | undefined, (d: Date) => string][] = [
    [policy.keepDaily, (d) => d.toISOString().slice(0, 10)],
    [policy.keepWeekly, isoWeek],
    [policy.keepMonthly, (d) => d.toISOString().slice(0, 7)],
  ];
  for (const [n, bucket] of buckets) {
    if (!n) continue;
    const seen = new Set<string>();
    // Newest first by time: the first snapshot met in a bucket is the one it keeps.
    for (const r of [...newest].sort((a, b) => Date.parse(b.time) - Date.parse(a.time))) {
      const b = bucket(new Date(r.time));
      if (seen.has(b)) continue;
      if (seen.size === n) break;
      seen.add(b);
      keep.add(r.id);
    }
  }
  const byId = new Map(records.map((r) => [r.id, r]));
  for (const id of [...keep]) {
    for (let at = byId.get(id); at?.parent; at = byId.get(at.parent)) keep.add(at.parent);
    // Records make an index delta's base the parent (snapshot.ts); this keeps forget right should that change.
    for (let at = byId.get(id); at?.index.base; at = byId.get(at.index.base)) keep.add(at.index.base);
  }
  return keep;
}

/** "2026-W48": the ISO 8601 week (weeks start on Monday; week 1 holds the year's first Thursday). */
function isoWeek(d: Date): string {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const day = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(t.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((t.getTime() - yearStart) / 86400000 + 1) / 7);
  return `${t.getUTCFullYear()}-W${String(week).padStart(2, "0")}`;
}

export async function forget(store: Store, ro: ResolvedOptions, policy: ForgetPolicy): Promise<ForgetResult> {
  const plan = async () => {
    const { records } = await loadRecords(store);
    const keep = keptBy(records, policy);
    return { records, keep, removed: records.filter((r) => !keep.has(r.id)) };
  };
  if (policy.dryRun) {
    const { records, keep, removed } = await plan();
    return { removed: removed.map((r) => r.id), kept: records.filter((r) => keep.has(r.id)).map((r) => r.id) };
  }
  const lock = await RepositoryLock.acquire(store, "forget", ro.lock);
  try {
    const { records, keep, removed } = await plan();
    for (const r of [...removed].reverse()) {
      await lock.check();
      await store.remove(recordPath(r.id));
      for (const name of [archivePath(r.id), indexPath(r.id)]) await store.remove(name).catch(() => {});
    }
    await removeLeftovers(store, ro.lock);
    return { removed: removed.map((r) => r.id), kept: records.filter((r) => keep.has(r.id)).map((r) => r.id) };
  } finally {
    await lock.release();
  }
}
