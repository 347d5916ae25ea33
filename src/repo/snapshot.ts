/**
 * Snapshots as the repository stores and lists them.
 *
 * The public `Snapshot` is what callers see; the stored record adds what the repository needs
 * to trust its files: a sequence number (creation order, which `time` need not follow: tests
 * and imports set times), the identity of the tree (the DirIndex id, which the archive's
 * manifest must name as its target), and the size and BLAKE2b-256 of the archive and index
 * files as written, so that `verify` can tell any damaged byte from a good one.
 *
 * A chain is a full snapshot followed by incrementals, each made against the one before; a
 * snapshot's chain is found by walking `parent` links back to a full one. Records that fail
 * their checksum are not listed (they are reported by `verify`), so a chain through one is
 * broken, and that is reported rather than guessed around. A record that cannot be read (IO) is
 * an error, not a damaged record: listing past it would hide a snapshot.
 */
import { IbtError } from "../errors.js";
import type { Store } from "../store/types.js";
import { eachAtMost } from "../fs/list-stat.js";
import { removeStaleBreaker, removeStaleProbes, type LockOptions } from "./lock.js";
import { DATA, INDEXES, SNAPSHOTS, SNAPSHOT_FORMAT, REPOSITORY_VERSION, idOfName, listNames, readRecord, recordPath } from "./layout.js";

export interface Snapshot {
  id: string;
  parent: string | null;
  kind: "full" | "incremental";
  /** ISO 8601. */
  time: string;
  /** A label, for example the folder's name. */
  source: string;
  files: number;
  dirs: number;
  /** Entries created, updated, deleted, moved (and changed otherwise) against the parent. */
  changed: number;
  /** Size of the diff archive. */
  bytesStored: number;
  /** Sum of the sizes of the tree's files. */
  fullSize: number;
}

export interface StoredFile {
  size: number;
  hash: string;
}

/**
 * A snapshot's stored index: a whole index, or a delta against its parent's (index-delta.ts).
 * Records written before deltas existed have no `kind`: their indexes are whole.
 */
export interface StoredIndex extends StoredFile {
  kind?: "full" | "delta";
  /** For a delta: the snapshot whose index it applies to, always the parent. */
  base?: string;
}

export interface SnapshotRecord extends Snapshot {
  format: typeof SNAPSHOT_FORMAT;
  version: number;
  seq: number;
  /** Identity of the snapshot's DirIndex: the tree it restores to. */
  tree: string;
  archive: StoredFile;
  index: StoredIndex;
}

export function toSnapshot(r: SnapshotRecord): Snapshot {
  const { id, parent, kind, time, source, files, dirs, changed, bytesStored, fullSize } = r;
  return { id, parent, kind, time, source, files, dirs, changed, bytesStored, fullSize };
}

const HASH = /^[0-9a-f]{64}$/;

function checkRecord(v: Record<string, unknown>, id: string, path: string): SnapshotRecord {
  const bad = (why: string): never => {
    throw new IbtError("CORRUPT", `${path}: ${why}`, { path });
  };
  if (v.format !== SNAPSHOT_FORMAT) bad("not a snapshot record");
  if (v.version !== REPOSITORY_VERSION) throw new IbtError("UNSUPPORTED", `${path}: snapshot record version ${String(v.version)}`, { path });
  if (v.id !== id) bad("its id is not its name");
  if (v.kind !== "full" && v.kind !== "incremental") bad("unknown kind");
  if ((v.kind === "full") !== (v.parent === null)) bad("a full snapshot has no parent, an incremental has one");
  if (v.parent !== null && typeof v.parent !== "string") bad("bad parent");
  for (const k of ["seq", "files", "dirs", "changed", "bytesStored", "fullSize"]) {
    if (!Number.isSafeInteger(v[k]) || (v[k] as number) < 0) bad(`bad ${k}`);
  }
  if (typeof v.time !== "string" || Number.isNaN(Date.parse(v.time))) bad("bad time");
  if (typeof v.source !== "string" || typeof v.tree !== "string" || !HASH.test(v.tree)) bad("bad source or tree");
  for (const k of ["archive", "index"]) {
    const f = v[k] as Record<string, unknown> | null;
    if (typeof f !== "object" || f === null || !Number.isSafeInteger(f.size) || typeof f.hash !== "string" || !HASH.test(f.hash)) bad(`bad ${k}`);
  }
  const index = v.index as Record<string, unknown>;
  if (index.kind !== undefined && index.kind !== "full" && index.kind !== "delta") bad("unknown index kind");
  // A delta always applies to the parent's index, so a chain kept whole keeps every index it needs.
  if ((index.kind === "delta") !== (index.base !== undefined) || (index.base !== undefined && (v.parent === null || index.base !== v.parent))) {
    bad("an index delta's base is the parent, and only a delta has one");
  }
  return v as unknown as SnapshotRecord;
}

/** True when the snapshot stores its index as a delta against its parent's. */
export function hasIndexDelta(r: SnapshotRecord): boolean {
  return r.index.kind === "delta";
}

export async function loadRecord(store: Store, id: string): Promise<SnapshotRecord> {
  const path = recordPath(id);
  return checkRecord(await readRecord(store, path), id, path);
}

export interface RecordProblem {
  snapshot: string;
  path: string;
  error: IbtError;
}

/** Snapshot records read at once by loadRecords. */
export const RECORD_READS = 8;

/**
 * Every readable record, in creation order, and the records that could not be read. Passed over
 * are records damaged for good (CORRUPT: the checksum or the fields) and records of a version
 * this library does not read. A record the store cannot hand back is not passed over: a failed
 * read says nothing about the record, and on an encrypted store a record that fails to
 * authenticate (AUTH_FAILED), or whose object format is not this library's (UNSUPPORTED), was
 * changed by whoever holds the storage; skipping it would let them hide a snapshot from a
 * restore of "latest", or give the next one a used seq. Those stop every caller but `verify`
 * (`reportUnreadable`), which lists them as problems. `names` is a listing of snapshots/ that a
 * lock holder already has (removeLeftovers'), taken instead of listing again.
 */
export async function loadRecords(store: Store, options: { reportUnreadable?: boolean; names?: readonly string[] } = {}): Promise<{ records: SnapshotRecord[]; problems: RecordProblem[] }> {
  const ids: string[] = [];
  for (const name of options.names ?? (await listNames(store, SNAPSHOTS))) {
    const id = idOfName(SNAPSHOTS, name);
    if (id !== undefined) ids.push(id); // else a temporary of an interrupted write
  }
  // Read RECORD_READS at a time: on a remote store each is a round trip, and a repository holds
  // hundreds. Each read's outcome is kept in its place, so what is thrown or reported does not
  // depend on which answer came first.
  type Outcome = { record: SnapshotRecord } | { problem: RecordProblem } | { skip: true } | { error: unknown };
  const readOne = async (id: string): Promise<Outcome> => {
    const path = recordPath(id);
    let value: Record<string, unknown>;
    try {
      value = await readRecord(store, path);
    } catch (e) {
      if (!(e instanceof IbtError)) return { error: e };
      if (e.code === "NOT_FOUND") return { skip: true }; // removed meanwhile (forget)
      const unreadable = options.reportUnreadable && (e.code === "AUTH_FAILED" || e.code === "UNSUPPORTED");
      if (e.code !== "CORRUPT" && !unreadable) return { error: e };
      return { problem: { snapshot: id, path, error: e } };
    }
    try {
      return { record: checkRecord(value, id, path) };
    } catch (e) {
      if (!(e instanceof IbtError)) return { error: e };
      return { problem: { snapshot: id, path, error: e } };
    }
  };
  const outcomes: Outcome[] = new Array(ids.length);
  await eachAtMost(RECORD_READS, ids.length, async (i) => void (outcomes[i] = await readOne(ids[i]!)));
  const records: SnapshotRecord[] = [];
  const problems: RecordProblem[] = [];
  for (const o of outcomes) {
    if ("skip" in o) continue;
    if ("error" in o) throw o.error;
    if ("problem" in o) problems.push(o.problem);
    else records.push(o.record);
  }
  records.sort((a, b) => a.seq - b.seq || (a.id < b.id ? -1 : 1));
  return { records, problems };
}

/** The chain that `id` restores through: its full snapshot first, `id` last. */
export function chainOf(records: readonly SnapshotRecord[], id: string): SnapshotRecord[] {
  const byId = new Map(records.map((r) => [r.id, r]));
  const chain: SnapshotRecord[] = [];
  let at = byId.get(id);
  if (!at) throw new IbtError("NOT_FOUND", `no snapshot ${id} in the repository`);
  for (;;) {
    chain.unshift(at);
    if (at.parent === null) return chain;
    const parent = byId.get(at.parent);
    if (!parent || chain.length > records.length) {
      throw new IbtError("CORRUPT", `snapshot ${id}'s chain is broken: its ancestor ${at.parent} is missing or damaged`, { path: recordPath(at.parent) });
    }
    at = parent;
  }
}

/** A snapshot named by a unique prefix of its id, or "latest". */
export function findSnapshot(records: readonly SnapshotRecord[], name: string): SnapshotRecord {
  if (name === "latest") {
    const last = records.at(-1);
    if (!last) throw new IbtError("NOT_FOUND", "the repository has no snapshots");
    return last;
  }
  const hits = records.filter((r) => r.id.startsWith(name));
  if (hits.length === 1) return hits[0]!;
  if (hits.length === 0 || name === "") throw new IbtError("NOT_FOUND", `no snapshot ${JSON.stringify(name)} in the repository`);
  throw new IbtError("BAD_ARGUMENT", `snapshot id ${JSON.stringify(name)} is ambiguous (${hits.length} match)`);
}

/**
 * Since only the lock holder writes, anything unfinished inside the store (a multipart upload,
 * an FsStore candidate) when it starts is a dead writer's, whatever its age.
 */
const UNFINISHED_AGE_MS = 0;

/**
 * Removes what interrupted writers left: data and index objects no record names, temporaries
 * of interrupted writes, stale probes of an interrupted `init`, a stale `lock-breaker`, and whatever
 * the store itself keeps of unfinished writes (`store.sweep`). Only a lock holder may call
 * this, since another writer's objects in flight look exactly like leftovers. Returns the
 * records' names in snapshots/, which the lock keeps true, for `loadRecords`.
 */
export async function removeLeftovers(store: Store, lock: LockOptions = {}): Promise<string[]> {
  // The three listings, and then the three other clean-ups, do not depend on each other: on a
  // remote store each is a round trip or more, so each three go at once.
  const dirs = [SNAPSHOTS, DATA, INDEXES] as const;
  const listed = await Promise.all(dirs.map((dir) => listNames(store, dir)));
  // Every record counts, readable or not: a damaged record's data is evidence for verify.
  const kept = new Set(listed[0]!.map((n) => idOfName(SNAPSHOTS, n)).filter((id) => id !== undefined));
  for (const [i, dir] of dirs.entries()) {
    for (const name of listed[i]!) {
      const id = idOfName(dir, name);
      if (id === undefined || (dir !== SNAPSHOTS && !kept.has(id))) await store.remove(name);
    }
  }
  const done = await Promise.allSettled([removeStaleProbes(store, lock), removeStaleBreaker(store, lock), store.sweep?.(UNFINISHED_AGE_MS)]);
  for (const d of done) if (d.status === "rejected") throw d.reason;
  return listed[0]!.filter((n) => idOfName(SNAPSHOTS, n) !== undefined);
}
