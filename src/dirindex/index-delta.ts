/**
 * An index delta: what turns one index (its base) into the next, stored instead of the whole
 * next index when most entries are unchanged, as between two backups of the same tree.
 *
 *   "IBTINDEX"  8-byte magic, the index file's
 *   u32         format version 4: a delta (1 is a whole index, index-format.ts; 3 is taken by
 *               a repository's deflated index object)
 *   32 bytes    identity of the base index (the index the delta applies to)
 *   32 bytes    identity of the index it makes
 *   varint      count of removed paths, then each (varint length + UTF-8), in path order
 *   index       an index file (index-format.ts) of the added and changed entries
 *   32 bytes    BLAKE2b-256 of every byte before it
 *
 * An entry is written when any of its fields differs from the base's, ctime and inode included,
 * since the quick check of the next backup reads them. A file that kept its content (the common
 * case: touched, or its mode changed) is written without its hash and signature: a file entry
 * without a hash whose base entry at the same path is a file with a hash takes that hash, and a
 * file entry without a signature whose base entry has the same hash and a signature takes that
 * signature. An index where a file keeps its hash but loses its signature, or loses its hash,
 * cannot be said that way, so `indexDelta` returns undefined for it and the caller stores the
 * whole index.
 *
 * Applying (delta-apply.ts) is a merge of two sorted lists, so a delta costs time in proportion
 * to the base plus the change; chains of deltas are applied one after the other before the one
 * identity check of the result, which the caller makes against the identity it expects.
 *
 * The header is the index file's magic with the next version, so a library that reads only whole
 * indexes refuses a delta as an index version it does not read (UNSUPPORTED), not as a foreign
 * file. Deltas of version 2 (and "IBTIDXDL" version 1, older still) are read as written then:
 * each file entry carries its own hash, and one without a hash has none.
 */
import { IbtError } from "../errors.js";
import { checkPath } from "../fs/paths.js";
import { chunksOf, collect, toHex, type ByteSource } from "../bytes.js";
import { Hasher } from "../rsync/hashes.js";
import { DirIndex } from "./dir-index.js";
import type { IndexEntry, SortedTree } from "./entry.js";
import { applyIndexDelta, type TreeChange } from "./delta-apply.js";
import { encodeIndex } from "./index-file.js";
import { ChunkWriter } from "./index-encoder.js";
import { IndexParser } from "./index-decoder.js";
import { MAGIC, VERSION } from "./index-format.js";

export const DELTA_MAGIC = MAGIC;
export const DELTA_VERSION = 4;
/** Deltas whose file entries each carry their own hash: still read. */
const OWN_HASHES_VERSION = 2;
/** The header deltas had before they took the index file's: still read. */
const LEGACY_MAGIC = new TextEncoder().encode("IBTIDXDL");
const LEGACY_VERSION = 1;
const ID_LENGTH = 32;
const SUM_LENGTH = 32;
const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** The changes from one index to another. */
export interface IndexDelta {
  /** Identity of the index the delta applies to. */
  base: string;
  /** Identity of the index it makes. */
  target: string;
  /** Paths of the base that the target does not hold, in path order. */
  removed: string[];
  /** Entries added or changed, in path order; a file may lack the hash and signature it takes from the base. */
  upserts: IndexEntry[];
  /** Set for deltas of versions 1 and 2 (every version before 4): every upserted file carries its own hash (delta-apply.ts). */
  ownHashes?: boolean;
}

/** The delta from `base` to `target`, or undefined when it cannot be said as one (see above). */
export function indexDelta(base: SortedTree, target: SortedTree): IndexDelta | undefined {
  const removed: string[] = [];
  const upserts: IndexEntry[] = [];
  // A merge of the two in path order: neither index needs its entries by path.
  const olds = base.sortedEntries[Symbol.iterator]();
  let old = olds.next().value;
  for (const e of target.sortedEntries) {
    while (old !== undefined && old.path < e.path) {
      removed.push(old.path);
      old = olds.next().value;
    }
    const was = old?.path === e.path ? old : undefined;
    if (was) old = olds.next().value;
    const written = deltaEntry(was, e);
    if (written === UNSAYABLE) return undefined;
    if (written) upserts.push(written);
  }
  for (; old !== undefined; old = olds.next().value) removed.push(old.path);
  return { base: base.id, target: target.id, removed, upserts };
}

/**
 * `indexDelta` of a base and the tree made from it by `change` (as a walk found it: every entry
 * added or not stored alike, every path gone), looking up only the changed paths in the base.
 */
export function indexDeltaOf(base: { readonly id: string; get(path: string): IndexEntry | undefined }, target: string, change: TreeChange): IndexDelta | undefined {
  const upserts: IndexEntry[] = [];
  for (const e of change.upserts) {
    const written = deltaEntry(base.get(e.path), e);
    if (written === UNSAYABLE) return undefined;
    if (written) upserts.push(written);
  }
  return { base: base.id, target, removed: [...change.removed], upserts };
}

const UNSAYABLE = Symbol("a kept hash or signature dropped");

/** What a delta holds for `e`, whose base entry at its path is `was`: nothing when they are stored alike. */
function deltaEntry(was: IndexEntry | undefined, e: IndexEntry): IndexEntry | undefined | typeof UNSAYABLE {
  if (was === undefined) return e;
  if (was === e) return undefined; // the same entry object: the walk vouched for the file unchanged
  const files = was.type === "file" && e.type === "file";
  if (files && was.hash !== undefined && e.hash === undefined) return UNSAYABLE;
  const sameContent = files && was.hash !== undefined && was.hash === e.hash;
  const inherits = files && was.signature !== undefined && was.hash === e.hash;
  if (inherits && e.signature === undefined) return UNSAYABLE;
  const sameSignature = inherits && sameBytes(was.signature!, e.signature!);
  if (sameSignature && sameFields(was, e)) return undefined;
  if (!inherits && was.signature === undefined && e.signature === undefined && sameFields(was, e)) return undefined;
  if (!sameSignature && !sameContent) return e;
  const { signature, hash, ...rest } = e;
  const written: IndexEntry = rest;
  if (!sameContent && hash !== undefined) written.hash = hash;
  if (!sameSignature && signature !== undefined) written.signature = signature;
  return written;
}

/**
 * About how many bytes an index of `entries` takes: callers compare a delta with the whole
 * index it stands for, and store the whole one when the delta would be no smaller.
 */
export function estimatedSize(entries: Iterable<IndexEntry>): number {
  let n = 0;
  for (const e of entries) n += estimatedEntrySize(e);
  return n;
}

/** `estimatedSize` of one entry. */
export function estimatedEntrySize(e: IndexEntry): number {
  return MIN_ENTRY - (e.hash === undefined ? HASH_BYTES : 0) + e.path.length + (e.signature?.length ?? 0) + (e.target?.length ?? 0);
}

/** What `estimatedSize` counts for an entry besides its path, signature and target: type, flags, size, times, mode, inode, hash, lengths. */
export const MIN_ENTRY = 72;
const HASH_BYTES = 32;

/** About how many bytes `delta` takes encoded, to compare with `estimatedSize` of its target. */
export function estimatedDeltaSize(delta: IndexDelta): number {
  let n = 2 * ID_LENGTH + estimatedSize(delta.upserts);
  for (const path of delta.removed) n += 2 + path.length;
  return n;
}

/** Every field but the signature, ctime and inode included. */
function sameFields(a: IndexEntry, b: IndexEntry): boolean {
  return (
    a.type === b.type &&
    a.size === b.size &&
    a.mtimeMs === b.mtimeMs &&
    a.mode === b.mode &&
    a.ctimeMs === b.ctimeMs &&
    a.ino === b.ino &&
    a.hash === b.hash &&
    a.target === b.target
  );
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Encodes a delta as a stream of chunks. */
export async function* encodeIndexDelta(delta: IndexDelta): AsyncGenerator<Uint8Array> {
  const hasher = await Hasher.create();
  try {
    const w = new ChunkWriter();
    w.bytes(DELTA_MAGIC);
    // A delta read from version 2 says "no hash" where version 4 would say "the base's".
    w.u32(delta.ownHashes ? OWN_HASHES_VERSION : DELTA_VERSION);
    w.hash(delta.base);
    w.hash(delta.target);
    w.varint(delta.removed.length);
    for (const path of delta.removed) w.text(path);
    for (const c of w.take()) {
      hasher.update(c);
      yield c;
    }
    // The entries are an index file of their own: its reader and writer serve as they are.
    for await (const c of encodeIndex(await DirIndex.fromSorted(delta.upserts))) {
      hasher.update(c);
      yield c;
    }
    yield hasher.digest();
  } finally {
    hasher.dispose();
  }
}

/**
 * Decodes a delta, checking its checksum, paths and order (not yet against a base).
 * `signatures: false` leaves the signatures of its entries out (IndexParser).
 */
export async function decodeIndexDelta(source: ByteSource, o: { signatures?: boolean } = {}): Promise<IndexDelta> {
  const bytes = await collect(source);
  const corrupt = (why: string, offset?: number): never => {
    throw new IbtError("CORRUPT", `index delta: ${why}`, offset === undefined ? {} : { offset });
  };
  const header = DELTA_MAGIC.length + 4 + 2 * ID_LENGTH;
  const starts = (magic: Uint8Array) => bytes.length >= magic.length && magic.every((b, i) => b === bytes[i]);
  const legacy = starts(LEGACY_MAGIC);
  if (!legacy && !starts(DELTA_MAGIC)) {
    // CORRUPT, not BAD_MAGIC: a record said a delta is here, so anything else is damage.
    throw new IbtError("CORRUPT", "not an ibt index delta", { offset: 0 });
  }
  if (bytes.length < header + 1 + SUM_LENGTH) throw new IbtError("TRUNCATED", "index delta cut short", { offset: bytes.length });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(DELTA_MAGIC.length);
  if (!legacy && version === VERSION) {
    // A whole index under the delta's name: the record said a delta is here, so this is damage.
    corrupt("a whole index where a delta belongs", 8);
  }
  if (legacy ? version !== LEGACY_VERSION : version !== DELTA_VERSION && version !== OWN_HASHES_VERSION) {
    throw new IbtError("UNSUPPORTED", `index delta version ${version} (this library reads ${OWN_HASHES_VERSION} and ${DELTA_VERSION})`, { offset: 8 });
  }
  const body = bytes.length - SUM_LENGTH;
  const sum = await digest(bytes.subarray(0, body));
  if (sum !== toHex(bytes, body, SUM_LENGTH)) corrupt("checksum mismatch");
  const base = toHex(bytes, 12, ID_LENGTH);
  const target = toHex(bytes, 12 + ID_LENGTH, ID_LENGTH);
  let pos = header;
  const varint = (): number => {
    let v = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      if (pos >= body) corrupt("cut short", pos);
      const b = bytes[pos++]!;
      v += (b & 0x7f) * scale;
      if (b < 0x80) return v <= Number.MAX_SAFE_INTEGER ? v : corrupt("integer beyond 2^53", pos);
      scale *= 128;
      if (i >= 7) corrupt("varint too long", pos);
    }
  };
  const count = varint();
  const removed: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = varint();
    if (n > body - pos) corrupt("cut short", pos);
    let path: string;
    try {
      path = UTF8.decode(bytes.subarray(pos, pos + n));
    } catch {
      return corrupt("a path is not valid UTF-8", pos);
    }
    pos += n;
    checkPath(path);
    if (path === "" || (removed.length > 0 && !(removed.at(-1)! < path))) corrupt("removed paths out of order or repeated", pos);
    removed.push(path);
  }
  let upserts: IndexEntry[];
  try {
    // The delta's checksum, checked above, covers these bytes too.
    upserts = await readEntries([bytes.subarray(pos, body)], false, o.signatures ?? true);
  } catch (e) {
    if (e instanceof IbtError && e.offset !== undefined) {
      throw new IbtError(e.code, `index delta: ${e.message}`, { offset: e.offset + pos, cause: e });
    }
    throw e;
  }
  return version === DELTA_VERSION ? { base, target, removed, upserts } : { base, target, removed, upserts, ownHashes: true };
}

async function digest(bytes: Uint8Array): Promise<string> {
  const h = await Hasher.create();
  try {
    return toHex(h.update(bytes).digest());
  } finally {
    h.dispose();
  }
}

/**
 * The entries of an index file, checked as `decodeIndex` checks them (format, paths, order,
 * count, checksum) but not made into a DirIndex: the base of a chain of deltas is not a tree of
 * its own, so its identity need not be computed, only that of the result.
 */
export async function decodeIndexEntries(source: ByteSource, o: { signatures?: boolean } = {}): Promise<IndexEntry[]> {
  return readEntries(source, true, o.signatures ?? true);
}

/** `decodeIndexEntries`, with the file's own checksum left to a caller that checks a larger one. */
async function readEntries(source: ByteSource, checksum: boolean, signatures = true): Promise<IndexEntry[]> {
  const entries: IndexEntry[] = [];
  for await (const batch of indexEntryBatches(source, checksum, undefined, signatures)) for (const e of batch) entries.push(e);
  return entries;
}

/**
 * The entries of an index file as it is read, a chunk's worth at a time, checked as
 * `decodeIndexEntries` checks them (the count and the checksum once it has ended): for a caller
 * that keeps them in another form. `checksum: false` leaves the file's own checksum to a caller
 * that checks a larger one. `onRecord` sees each entry's record as it lies in the file (a view
 * into the chunk it came in, or into a copy of a record cut across chunks), in the entries' order.
 * `signatures: false` leaves the files' signatures out of the entries (IndexParser).
 */
export async function* indexEntryBatches(source: ByteSource, checksum = true, onRecord?: (bytes: Uint8Array) => void, signatures = true): AsyncGenerator<IndexEntry[]> {
  const hasher = checksum ? await Hasher.create() : undefined;
  const chunks = chunksOf(source);
  let next = chunks.next();
  let ended = false;
  try {
    const parser = new IndexParser(hasher ? (bytes) => hasher.update(bytes) : () => {}, onRecord, signatures);
    let count = 0;
    let last: string | undefined;
    // The next read is asked for before the chunk in hand is parsed, so I/O and parsing overlap.
    for (let r = await next; !r.done; r = await next) {
      next = chunks.next();
      // Awaited on the next turn; until then a failure must not count as unhandled while the
      // caller works through this batch.
      next.catch(() => undefined);
      parser.push(r.value);
      const batch = parser.take();
      for (const e of batch) {
        const path = e.path;
        if (last !== undefined && !(last < path)) throw new IbtError("CORRUPT", `index paths out of order or repeated at ${JSON.stringify(path)}`, { path });
        last = path;
      }
      count += batch.length;
      if (batch.length > 0) yield batch;
    }
    ended = true;
    const end = parser.finish();
    if (end.count !== count) throw new IbtError("CORRUPT", `index says ${end.count} entries, holds ${count}`);
    const sum = hasher?.digest();
    if (sum?.some((b, i) => b !== end.sum[i])) throw new IbtError("CORRUPT", "index checksum mismatch");
  } finally {
    if (!ended) {
      next.catch(() => undefined);
      await chunks.return(undefined).catch(() => undefined);
    }
    hasher?.dispose();
  }
}

/** Applies `delta` to a whole index and checks that the result is the index it names. */
export async function appliedIndex(base: DirIndex, delta: IndexDelta): Promise<DirIndex> {
  if (delta.base !== base.id) throw new IbtError("CORRUPT", "index delta made against another index");
  const index = await DirIndex.fromSorted(applyIndexDelta(base.sortedEntries, delta));
  if (index.id !== delta.target) throw new IbtError("CORRUPT", "index delta does not make the index it names");
  return index;
}

/** Bytes of an encoded delta (tests and measurements). */
export async function encodedDelta(delta: IndexDelta): Promise<Uint8Array> {
  return collect(encodeIndexDelta(delta));
}
