/**
 * verify: is every listed snapshot restorable, and is every stored byte what was written?
 *
 * Without `readData` it checks structure: the repository record, every snapshot record (each
 * carries a checksum), every chain down to its full snapshot, and that each snapshot's archive
 * and index exist with the sizes recorded. With `readData` it also reads every archive and index
 * whole and compares them with the BLAKE2b-256 recorded when they were written (so any changed
 * byte is found, in member data or in ZIP headers alike), then reads them the way a restore
 * does: the index must load and be the snapshot's tree (an index delta is applied to its base's
 * index, and the result must be the tree), the manifest must lead from the parent's tree to it,
 * every member must pass its CRC-32, and every file stored whole (a member, or a span of a group
 * member in a v2 archive) must match its content hash.
 *
 * Problems name the snapshot, the repository file and, where known, the member: what is
 * damaged, not just that something is. Snapshots that depend on a damaged one are named too,
 * since they cannot be restored either. Files no record names (left by an interrupted backup)
 * are not problems: no snapshot lists them, and the next writer removes them.
 */
import { IbtError, type ErrorCode } from "../errors.js";
import type { Store } from "../store/types.js";
import { verifiedContent } from "../archive/content-hash.js";
import { archiveData, inGroup } from "../archive/group-read.js";
import type { ManifestChange } from "../archive/manifest.js";
import type { InflateCodec } from "../archive/inflate.js";
import { Hasher } from "../rsync/hashes.js";
import { toHex } from "../bytes.js";
import { CONFIG, archivePath, indexPath, readRecord, recordPath } from "./layout.js";
import { loadRecords, type SnapshotRecord } from "./snapshot.js";
import { loadTree, openLink } from "./stored.js";
import { reporter, type Progress } from "./options.js";

export interface VerifyProblem {
  snapshot?: string;
  /** The repository file concerned. */
  path?: string;
  /** An archive member, when the damage is inside one. */
  member?: string;
  code: ErrorCode;
  message: string;
}

export interface VerifyReport {
  ok: boolean;
  snapshots: number;
  /** Bytes read to check data (0 without readData). */
  bytesRead: number;
  problems: VerifyProblem[];
}

export interface VerifyOptions {
  readData?: boolean;
  onProgress?: (p: Progress) => void;
}

/** `inflate` is the codec restore uses, so that what verify reads is read as a restore reads it. */
export async function verify(store: Store, o: VerifyOptions, inflate?: InflateCodec): Promise<VerifyReport> {
  const problems: VerifyProblem[] = [];
  const report = reporter(o.onProgress, "verify");
  let bytesRead = 0;
  const problem = (p: VerifyProblem) => problems.push(p);
  const fromError = (e: unknown, snapshot: string | undefined, path: string, member?: string): void => {
    if (!(e instanceof IbtError)) throw e;
    problem({ ...(snapshot ? { snapshot } : {}), path, ...(member ? { member } : {}), code: e.code, message: e.message });
  };

  try {
    await readRecord(store, CONFIG);
  } catch (e) {
    fromError(e, undefined, CONFIG);
  }
  const { records, problems: unreadable } = await loadRecords(store, { reportUnreadable: true });
  for (const u of unreadable) fromError(u.error, u.snapshot, u.path);

  const byId = new Map(records.map((r) => [r.id, r]));
  const damaged = new Set(unreadable.map((u) => u.snapshot));
  const totalBytes = o.readData ? records.reduce((n, r) => n + r.archive.size + r.index.size, 0) : undefined;
  for (const [i, rec] of records.entries()) {
    const before = problems.length;
    if (rec.parent !== null && !byId.has(rec.parent)) {
      problem({ snapshot: rec.id, path: recordPath(rec.parent), code: "NOT_FOUND", message: `snapshot ${rec.id}'s parent ${rec.parent} is missing or damaged` });
    }
    for (const [path, want] of [
      [archivePath(rec.id), rec.archive],
      [indexPath(rec.id), rec.index],
    ] as const) {
      try {
        const st = await store.stat(path);
        if (st.size !== want.size) problem({ snapshot: rec.id, path, code: "CORRUPT", message: `${path} holds ${st.size} bytes, ${want.size} were written` });
        else if (o.readData) {
          const hash = await hashObject(store, path);
          bytesRead += want.size;
          if (hash !== want.hash) problem({ snapshot: rec.id, path, code: "CORRUPT", message: `${path}: content does not match the hash recorded when it was written` });
        }
      } catch (e) {
        fromError(e, rec.id, path);
      }
    }
    if (o.readData) await readAsRestore(store, rec, records, rec.parent === null ? undefined : byId.get(rec.parent), inflate, (e, path, member) => fromError(e, rec.id, path, member));
    if (problems.length > before) damaged.add(rec.id);
    report(i + 1, bytesRead, { totalFiles: records.length, ...(totalBytes === undefined ? {} : { totalBytes }) });
  }

  // A snapshot is only as good as its chain.
  for (const rec of records) {
    const bad = brokenAncestor(rec, byId, damaged);
    if (bad !== undefined && bad !== rec.id) {
      problem({ snapshot: rec.id, path: recordPath(bad), code: "CORRUPT", message: `snapshot ${rec.id} depends on damaged snapshot ${bad}` });
    }
  }
  return { ok: problems.length === 0, snapshots: records.length, bytesRead, problems };
}

function brokenAncestor(rec: SnapshotRecord, byId: Map<string, SnapshotRecord>, damaged: Set<string>): string | undefined {
  for (let at: SnapshotRecord | undefined = rec, n = 0; at && n <= byId.size; n++) {
    if (damaged.has(at.id)) return at.id;
    if (at.parent === null) return undefined;
    if (!byId.has(at.parent)) return at.parent;
    at = byId.get(at.parent);
  }
  return undefined;
}

/** The BLAKE2b-256 of a stored object, read as a stream. */
async function hashObject(store: Store, name: string): Promise<string> {
  const h = await Hasher.create();
  try {
    for await (const c of store.loadStream(name)) h.update(c);
    return toHex(h.digest());
  } finally {
    h.dispose();
  }
}

/** Reads a snapshot's index and every archive member as a restore would, reporting failures. */
async function readAsRestore(
  store: Store,
  rec: SnapshotRecord,
  records: readonly SnapshotRecord[],
  parent: SnapshotRecord | undefined,
  inflate: InflateCodec | undefined,
  fail: (e: unknown, path: string, member?: string) => void,
): Promise<void> {
  try {
    await loadTree(store, rec, records, inflate);
  } catch (e) {
    fail(e, indexPath(rec.id));
  }
  const path = archivePath(rec.id);
  let link;
  try {
    link = await openLink(store, rec, parent, inflate);
  } catch (e) {
    fail(e, path);
    return;
  }
  const changes = new Map(link.manifest.changes.filter((c) => c.member && !inGroup(c)).map((c) => [c.member!, c]));
  const grouped = new Map<string, ManifestChange[]>();
  for (const c of link.manifest.changes.filter(inGroup)) {
    if (!grouped.has(c.member!)) grouped.set(c.member!, []);
    grouped.get(c.member!)!.push(c);
  }
  let data;
  try {
    data = archiveData(link.reader, link.manifest);
  } catch (e) {
    fail(e, path);
    return;
  }
  for (const entry of link.reader.entries()) {
    try {
      const group = grouped.get(entry.name);
      if (group) {
        // Every span of the group, from one inflation of it (the group is kept while its spans are read).
        for (const c of group) for await (const _ of c.encoding === "bytes" ? verifiedContent(c, data.open(c)) : data.open(c)) void _;
        continue;
      }
      const change = changes.get(entry.name);
      const content = link.reader.open(entry);
      // Deltas need their basis to be checked further; their CRC-32 and the archive hash cover them.
      for await (const _ of change?.encoding === "bytes" ? verifiedContent(change, content) : content) void _;
    } catch (e) {
      fail(e, path, entry.name);
    }
  }
}
