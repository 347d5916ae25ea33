/**
 * The manifest of a diff archive: the member `ibt-manifest.json`, written first.
 *
 * It names the format version, the identities of the base and target indexes, and every change
 * with the old and new hash and metadata of its path, plus the archive member that carries its
 * data: `new/<path>` holds a created (or too-changed) file's bytes, `delta/<path>` a librsync
 * delta against the old file. Moves, copies, deletions, symlinks, directories and metadata-only
 * changes carry no member.
 *
 * Version 2 adds group members (group-format.ts): a change whose data is packed with others
 * names its group and the `offset` and `length` of its data inside the group's uncompressed
 * bytes. Version 1 has no groups. Version 3 is version 2 with each content hash recorded as the
 * first 16 bytes of the BLAKE2b-256 the index holds (32 hex digits rather than 64): a manifest is
 * mostly hashes, a 128-bit check still finds any damage or wrong base, and the index beside it
 * keeps the whole hash. The identities of the base and target indexes stay whole. A reader takes
 * every version.
 *
 * Reading a manifest trusts nothing: the version, every path (checkPath), uniqueness, kinds,
 * hashes and member names are checked, and anything off is CORRUPT, UNSAFE_PATH or UNSUPPORTED.
 * Spans in one group must come in manifest order, each after the previous one's end and its
 * own tar header, so no two changes share bytes; whether they lie inside the group is checked
 * against its declared size when the archive is opened (group-read.ts).
 */
import { IbtError } from "../errors.js";
import { checkPath } from "../fs/paths.js";
import type { EntryType } from "../fs/types.js";
import { STAGING_PREFIX } from "../dirindex/entry.js";
import { BLOCK, isGroupName, padded } from "./group-format.js";
import { ManifestJson } from "./manifest-json.js";

export const MANIFEST_NAME = "ibt-manifest.json";
export const MANIFEST_FORMAT = "incremental-backups-tools/diff";
/** The version new archives are written in. */
export const MANIFEST_VERSION = 3;
/** Every version this library reads. */
export const MANIFEST_VERSIONS: readonly number[] = [1, 2, 3];

/** What a path is (or was): the index entry without signatures and change times. */
export interface ManifestEntry {
  type: EntryType;
  size: number;
  mtimeMs: number;
  mode: number;
  /**
   * The content hash: BLAKE2b-256 in 64 hex digits in versions 1 and 2, its first 32 digits in
   * version 3. Compare it with a whole hash through `matchesHash`.
   */
  hash?: string;
  target?: string;
}

export interface ManifestChange {
  kind: "create" | "update" | "delete" | "move" | "copy" | "relink" | "metadata";
  path: string;
  /** Source path of a move or copy, in the base tree. */
  from?: string;
  /** The path's state in the base tree (absent for creations). */
  old?: ManifestEntry;
  /** The path's state in the target tree (absent for deletions). */
  new?: ManifestEntry;
  /** Archive member with the data: the file's bytes or a delta. */
  member?: string;
  /** How the member is to be read. */
  encoding?: "bytes" | "delta";
  /** Versions 2 and 3, data in a group: where the data starts in the group's uncompressed bytes. */
  offset?: number;
  /** Versions 2 and 3, data in a group: how many bytes it has. */
  length?: number;
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  version: number;
  base: string;
  created: string;
  changes: ManifestChange[];
  /** Directories above changes, with the mode and mtime to restore after applying them. */
  parents: { path: string; mtimeMs: number; mode: number }[];
  /** Written last (ManifestHead): readers take the keys in any order. */
  target: string;
}

const KINDS = new Set(["create", "update", "delete", "move", "copy", "relink", "metadata"]);
const TYPES = new Set(["file", "dir", "symlink"]);
const HASH = /^[0-9a-f]{64}$/;
/** A content hash in a manifest of version 3: the first 16 bytes of the whole one. */
const SHORT_HASH = /^[0-9a-f]{32}$/;

/** The content hash a manifest of `version` records for the whole hash `hash` (64 hex digits). */
export function manifestHash(hash: string, version: number): string {
  return version >= 3 ? hash.slice(0, 32) : hash;
}

/**
 * Whether `hash`, a whole content hash (64 hex digits, as computed or as an index holds it), is
 * the one `recorded` in a manifest: the same, or in version 3 its first 32 hex digits.
 */
export function matchesHash(hash: string, recorded: string | undefined): boolean {
  return recorded !== undefined && recorded.length >= 32 && hash.length === 64 && hash.startsWith(recorded);
}

function corrupt(message: string, path?: string): never {
  throw new IbtError("CORRUPT", `manifest: ${message}`, path === undefined ? {} : { path });
}

function checkEntry(e: unknown, where: string, version: number): ManifestEntry {
  if (typeof e !== "object" || e === null) corrupt(`${where} is not an object`);
  const x = e as Record<string, unknown>;
  if (!TYPES.has(x.type as string)) corrupt(`${where} has unknown type ${String(x.type)}`);
  if (!Number.isSafeInteger(x.size) || (x.size as number) < 0) corrupt(`${where}.size is not a valid size`);
  checkMeta(x, where);
  if (x.hash !== undefined && (typeof x.hash !== "string" || !(version >= 3 ? SHORT_HASH : HASH).test(x.hash))) corrupt(`${where}.hash is not a hash`);
  if (x.type === "file" && x.hash === undefined) corrupt(`${where} is a file without a hash`);
  // An unstorable target would only fail at the commit, after the tree began to change.
  if (x.type === "symlink" && (typeof x.target !== "string" || x.target === "" || x.target.includes("\0"))) {
    corrupt(`${where} is a symlink without a valid target`);
  }
  return x as unknown as ManifestEntry;
}

/** Mode and mtime are applied last, after the commit point: a value no adapter takes must be refused now. */
function checkMeta(x: Record<string, unknown>, where: string): void {
  if (!Number.isInteger(x.mode) || (x.mode as number) < 0 || (x.mode as number) > 0xffff) corrupt(`${where}.mode is not a valid mode`);
  if (typeof x.mtimeMs !== "number" || !(Math.abs(x.mtimeMs) <= MAX_TIME_MS)) corrupt(`${where}.mtimeMs is not a valid time`);
}

/** The largest time a JS Date holds (and so every adapter can set). */
const MAX_TIME_MS = 8.64e15;

/** Parses and validates a manifest. */
export function parseManifest(bytes: Uint8Array): Manifest {
  const json = new ManifestJson();
  json.push(bytes);
  return checkManifest(json.end());
}

/** Parses and validates a manifest read in pieces, never holding its text whole (manifest-json.ts). */
export async function readManifest(pieces: AsyncIterable<Uint8Array>): Promise<Manifest> {
  const json = new ManifestJson();
  for await (const piece of pieces) json.push(piece);
  return checkManifest(json.end());
}

/**
 * Thrown by `streamManifest` for a manifest it cannot hand on in path order: changes out of path
 * order (or a path twice), or the head after the changes. Not damage in itself: such a manifest is
 * read whole instead, and checked whole.
 */
export class NotStreamable extends Error {}

/**
 * A manifest read as it is inflated, its changes handed on in batches as they are parsed and
 * checked, never held together; the rest of the manifest is returned at the end, checked as
 * `readManifest` checks it, with no changes. The changes other than deletions must come in
 * strictly increasing path order, as this library writes them (NotStreamable otherwise), which
 * also means no path is changed twice. What it does not check, a reader that takes its tree from
 * a stored index does not rest on: members used more than once, and ancestors of a change that
 * the manifest makes something other than a directory.
 */
export async function* streamManifest(pieces: AsyncIterable<Uint8Array>): AsyncGenerator<ManifestChange[], Manifest> {
  const json = new ManifestJson();
  const groupEnds = new Map<string, number>();
  let version: number | undefined;
  let count = 0;
  let last: string | undefined;
  const checked = (raw: unknown[]): ManifestChange[] => {
    if (raw.length === 0) return [];
    if (version === undefined) {
      const v = json.head()?.version;
      if (!MANIFEST_VERSIONS.includes(v as number)) throw new NotStreamable("the manifest's version does not come before its changes");
      version = v as number;
    }
    const out = raw.map((c) => checkChange(c, count++, version!, groupEnds));
    for (const c of out) {
      if (c.kind === "delete") continue;
      if (last !== undefined && !(last < c.path)) throw new NotStreamable(`the manifest's changes are not in path order at ${JSON.stringify(c.path)}`);
      last = c.path;
    }
    return out;
  };
  for await (const piece of pieces) {
    json.push(piece);
    const batch = checked(json.take());
    if (batch.length > 0) yield batch;
  }
  const doc = json.end() as Record<string, unknown> | null;
  if (typeof doc === "object" && doc !== null && Array.isArray(doc.changes)) {
    const batch = checked(doc.changes);
    doc.changes = [];
    if (batch.length > 0) yield batch;
  }
  const manifest = checkManifest(doc);
  if (version !== undefined && manifest.version !== version) corrupt("the version is given twice");
  return manifest;
}

function checkManifest(m: unknown): Manifest {
  if (typeof m !== "object" || m === null) corrupt("not an object");
  const x = m as Record<string, unknown>;
  if (x.format !== MANIFEST_FORMAT) corrupt(`unknown format ${String(x.format)}`);
  if (!MANIFEST_VERSIONS.includes(x.version as number)) {
    throw new IbtError("UNSUPPORTED", `diff archive version ${String(x.version)} (this library reads ${MANIFEST_VERSIONS.join(", ")})`);
  }
  if (typeof x.base !== "string" || !HASH.test(x.base) || typeof x.target !== "string" || !HASH.test(x.target)) {
    corrupt("base or target identity missing");
  }
  if (!Array.isArray(x.changes)) corrupt("changes is not a list");
  const seen = new Set<string>();
  const members = new Set<string>();
  /** Per group, where the last span ended. */
  const groupEnds = new Map<string, number>();
  for (const [i, c] of (x.changes as unknown[]).entries()) {
    const ch = checkChange(c, i, x.version as number, groupEnds);
    const key = `${ch.kind === "delete" ? "-" : "+"}${ch.path}`;
    if (seen.has(key)) corrupt(`path ${JSON.stringify(ch.path)} changes twice`, ch.path);
    seen.add(key);
    if (ch.member !== undefined && !inSpan(ch, x.version as number)) {
      if (members.has(ch.member)) corrupt(`member ${ch.member} used twice`);
      members.add(ch.member);
    }
  }
  checkAncestors(x.changes as ManifestChange[]);
  if (!Array.isArray(x.parents)) corrupt("parents is not a list");
  for (const [i, d] of (x.parents as unknown[]).entries()) {
    const e = d as Record<string, unknown>;
    if (typeof e !== "object" || e === null || typeof e.path !== "string" || e.path === "") corrupt(`parent ${i} has no path`);
    checkPath(e.path as string);
    if ((e.path as string).startsWith(STAGING_PREFIX)) corrupt(`parent ${i} names the staging area`, e.path as string);
    checkMeta(e, `parent ${i}`);
  }
  return x as unknown as Manifest;
}

/** Whether change `ch` of a manifest of `version` names its data as a span of a group. */
function inSpan(ch: ManifestChange, version: number): boolean {
  return version !== 1 && ch.member !== undefined && isGroupName(ch.member);
}

/**
 * Change `i` of a manifest of `version` checked alone: its kind, paths, entries, member and
 * span (after the previous span of the same group, noted in `groupEnds`). Whether paths or
 * members repeat is the caller's to check.
 */
function checkChange(c: unknown, i: number, version: number, groupEnds: Map<string, number>): ManifestChange {
  if (typeof c !== "object" || c === null) corrupt(`change ${i} is not an object`);
  const ch = c as Record<string, unknown>;
  if (!KINDS.has(ch.kind as string)) corrupt(`change ${i} has unknown kind ${String(ch.kind)}`);
  if (typeof ch.path !== "string" || ch.path === "") corrupt(`change ${i} has no path`);
  checkPath(ch.path as string);
  if ((ch.path as string).startsWith(STAGING_PREFIX)) corrupt(`change ${i} names the staging area`, ch.path as string);
  const needsOld = ch.kind !== "create" && ch.kind !== "move" && ch.kind !== "copy";
  const needsNew = ch.kind !== "delete";
  if (needsOld) checkEntry(ch.old, `change ${i}.old`, version);
  if (needsNew) checkEntry(ch.new, `change ${i}.new`, version);
  if (ch.kind === "move" || ch.kind === "copy") {
    if (typeof ch.from !== "string" || ch.from === "") corrupt(`change ${i} has no source`);
    checkPath(ch.from as string);
    if ((ch.from as string).startsWith(STAGING_PREFIX)) corrupt(`change ${i} names the staging area`, ch.from as string);
  }
  if (ch.member !== undefined) {
    if (typeof ch.member !== "string" || (ch.encoding !== "bytes" && ch.encoding !== "delta")) corrupt(`change ${i} has a bad member`);
    checkPath(ch.member as string);
    if (inSpan(ch as unknown as ManifestChange, version)) checkSpan(ch, i, groupEnds);
    else if (ch.offset !== undefined || ch.length !== undefined) corrupt(`change ${i} has a span outside a group`);
  } else if (ch.offset !== undefined || ch.length !== undefined) {
    corrupt(`change ${i} has a span but no member`);
  }
  const isFileData = (ch.kind === "create" || ch.kind === "update") && (ch.new as ManifestEntry).type === "file";
  if (isFileData !== (ch.member !== undefined)) corrupt(`change ${i} (${String(ch.kind)} ${String(ch.path)}) data member mismatch`);
  if (ch.kind === "update" && (ch.old as ManifestEntry).type !== "file") corrupt(`change ${i} updates a non-file`);
  if (needsOld && needsNew && (ch.old as ManifestEntry).type !== (ch.new as ManifestEntry).type) corrupt(`change ${i} (${String(ch.kind)}) changes the type`);
  if (ch.kind === "relink" && (ch.new as ManifestEntry).type !== "symlink") corrupt(`change ${i} relinks a non-symlink`);
  return ch as unknown as ManifestChange;
}

/**
 * A span in a group: whole numbers, its data on a tar block boundary after at least one header
 * block, and after the end of the group's previous span, so spans neither overlap nor go back.
 */
function checkSpan(ch: Record<string, unknown>, i: number, ends: Map<string, number>): void {
  const { offset, length, member } = ch as { offset: unknown; length: unknown; member: string };
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || (length as number) < 0) corrupt(`change ${i} has no valid span in ${member}`);
  const at = offset as number;
  if (at % BLOCK !== 0) corrupt(`change ${i}'s data is not on a tar block boundary in ${member}`);
  const earliest = ends.has(member) ? padded(ends.get(member)!) + BLOCK : BLOCK;
  if (at < earliest) corrupt(`change ${i}'s data overlaps or precedes the data before it in ${member}`);
  ends.set(member, at + (length as number));
}

/**
 * Every path the diff leaves in the new tree must sit under directories: an ancestor that the
 * diff deletes (without creating it again) or turns into a file or symlink would make the
 * commit fail half-way, and a symlink ancestor is how a hostile diff would write through a link.
 */
function checkAncestors(changes: ManifestChange[]): void {
  const after = new Map<string, string>();
  for (const c of changes) if (c.kind === "delete" && !after.has(c.path)) after.set(c.path, "deleted");
  for (const c of changes) if (c.kind !== "delete") after.set(c.path, c.new!.type);
  for (const c of changes) {
    if (c.kind === "delete") continue;
    for (let i = c.path.indexOf("/"); i >= 0; i = c.path.indexOf("/", i + 1)) {
      const state = after.get(c.path.slice(0, i));
      if (state !== undefined && state !== "dir") {
        corrupt(`${JSON.stringify(c.path)} would be inside ${JSON.stringify(c.path.slice(0, i))}, which the diff makes a ${state === "deleted" ? "deleted path" : state}`, c.path);
      }
    }
  }
}

/**
 * The manifest's fields before its changes. The target's identity comes after the parents: a
 * full backup's archive is written while the walk that gives the target still goes on.
 */
export type ManifestHead = Pick<Manifest, "format" | "version" | "base" | "created">;

/** ManifestText hands its text on in pieces of about this many UTF-16 code units. */
const PIECE = 64 * 1024;

/**
 * The manifest's UTF-8 JSON text, made change by change as the archive is written and handed
 * on in pieces, so the changes are never held together: exactly the bytes of
 * `JSON.stringify(manifest)` for a manifest whose keys are in the order format, version, base,
 * created, changes, parents, target (the same numbers and escapes), since each
 * change and parent is its own `JSON.stringify` and the text around them is that of the object.
 * Pieces end between values, so none splits a surrogate pair (JSON.stringify escapes lone ones).
 */
export class ManifestText {
  #text: string;
  #changes = 0;

  constructor(
    head: ManifestHead,
    private readonly out: (piece: Uint8Array) => Promise<void>,
  ) {
    const { format, version, base, created } = head;
    this.#text = `${JSON.stringify({ format, version, base, created }).slice(0, -1)},"changes":[`;
  }

  async change(c: ManifestChange): Promise<void> {
    this.#text += (this.#changes++ === 0 ? "" : ",") + JSON.stringify(c);
    if (this.#text.length >= PIECE) await this.#flush();
  }

  /** Ends the text with the parents and the target's identity. */
  async end(parents: Manifest["parents"], target: string): Promise<void> {
    this.#text += '],"parents":[';
    for (const [i, p] of parents.entries()) {
      this.#text += (i === 0 ? "" : ",") + JSON.stringify(p);
      if (this.#text.length >= PIECE) await this.#flush();
    }
    this.#text += `],"target":${JSON.stringify(target)}}`;
    await this.#flush();
  }

  async #flush(): Promise<void> {
    const piece = new TextEncoder().encode(this.#text);
    this.#text = "";
    await this.out(piece);
  }
}
