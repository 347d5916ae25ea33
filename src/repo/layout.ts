/**
 * Where a repository keeps things, and the one small format its own records use.
 *
 *   ibt-repo.json           the repository's identity; written last by init, so its presence
 *                           means "a repository is here"
 *   snapshots/<id>.json     one record per snapshot: the commit point of a backup
 *   data/<id>.zip           the snapshot's diff archive (a plain ZIP made by DiffData, archive
 *                           version 1 or 2: archive versions are per archive, and the
 *                           repository version does not change with them)
 *   index/<id>.ibtindex     the snapshot's DirIndex with signatures, deflated (index-object.ts): the
 *                           next backup's base
 *   lock                    present while a writer works (lock.ts)
 *
 * These are object names in a Store (on a file tree through FsStore, the same paths as files).
 * A snapshot exists when, and only when, its record does. Data and index are written first and
 * the record last, each through the store's whole-or-nothing `save`, so a backup that dies
 * leaves at most unreferenced objects, which the next writer removes.
 *
 * Records are JSON followed by a line holding the BLAKE2b-256 of the JSON bytes. JSON alone
 * would let a flipped digit pass as a different but plausible number; the checksum line makes
 * any damage to a record visible.
 */
import { IbtError } from "../errors.js";
import type { Store } from "../store/types.js";
import { Hasher } from "../rsync/hashes.js";
import { toHex } from "../bytes.js";

export const CONFIG = "ibt-repo.json";
export const SNAPSHOTS = "snapshots";
export const DATA = "data";
export const INDEXES = "index";
export const LOCK = "lock";
export const REPOSITORY_FORMAT = "incremental-backups-tools/repository";
export const SNAPSHOT_FORMAT = "incremental-backups-tools/snapshot";
export const REPOSITORY_VERSION = 1;

const ID = /^[0-9a-f]{16}$/;

export const recordPath = (id: string): string => `${SNAPSHOTS}/${id}.json`;
export const archivePath = (id: string): string => `${DATA}/${id}.zip`;
export const indexPath = (id: string): string => `${INDEXES}/${id}.ibtindex`;

/**
 * The snapshot id an object name under `dir` ("snapshots/<id>.json" and so on) stands for, or
 * undefined for anything else (temporaries of interrupted writes, foreign objects).
 */
export function idOfName(dir: string, name: string): string | undefined {
  const ext = dir === SNAPSHOTS ? ".json" : dir === DATA ? ".zip" : ".ibtindex";
  if (!name.startsWith(`${dir}/`) || !name.endsWith(ext)) return undefined;
  const id = name.slice(dir.length + 1, -ext.length);
  return ID.test(id) ? id : undefined;
}

/** 16 random hex digits: ids are names, so they must not collide, not be ordered. */
export function newId(): string {
  const b = new Uint8Array(8);
  globalThis.crypto.getRandomValues(b);
  return toHex(b);
}

export async function hashHex(bytes: Uint8Array): Promise<string> {
  const h = await Hasher.create();
  try {
    return toHex(h.update(bytes).digest());
  } finally {
    h.dispose();
  }
}

/** Passes chunks through while counting and hashing them: what a file was written with. */
export class Tap {
  size = 0;
  private constructor(private readonly hasher: Hasher) {}
  static async create(): Promise<Tap> {
    return new Tap(await Hasher.create());
  }
  async *through(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      this.hasher.update(chunk);
      this.size += chunk.length;
      yield chunk;
    }
  }
  /** The hash of everything that passed; releases the hasher. */
  finish(): { size: number; hash: string } {
    try {
      return { size: this.size, hash: toHex(this.hasher.digest()) };
    } finally {
      this.hasher.dispose();
    }
  }
  dispose(): void {
    this.hasher.dispose();
  }
}

export async function encodeRecord(value: unknown): Promise<Uint8Array> {
  const json = new TextEncoder().encode(JSON.stringify(value));
  const sum = new TextEncoder().encode(`\n${await hashHex(json)}\n`);
  const out = new Uint8Array(json.length + sum.length);
  out.set(json);
  out.set(sum, json.length);
  return out;
}

/** Parses a checksummed record; any damage is CORRUPT naming `path`. */
export async function decodeRecord(bytes: Uint8Array, path: string): Promise<Record<string, unknown>> {
  const bad = (why: string): never => {
    throw new IbtError("CORRUPT", `${path}: ${why}`, { path });
  };
  // The last 66 bytes are "\n" + 64 hex digits + "\n".
  if (bytes.length < 67 || bytes[bytes.length - 66] !== 0x0a || bytes[bytes.length - 1] !== 0x0a) bad("no checksum line");
  const json = bytes.subarray(0, bytes.length - 66);
  const sum = new TextDecoder().decode(bytes.subarray(bytes.length - 65, bytes.length - 1));
  if ((await hashHex(json)) !== sum) bad("checksum mismatch");
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(json));
  } catch {
    bad("not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) bad("not an object");
  return value as Record<string, unknown>;
}

/**
 * Reads a record. The store checks what it read against the object's size (a short read is IO,
 * the storage failing, not CORRUPT), so a damaged record and a failed read stay apart: callers
 * pass over the first only.
 */
export async function readRecord(store: Store, name: string): Promise<Record<string, unknown>> {
  return decodeRecord(await store.load(name), name);
}

/** True when `e` says the object is not there. */
export function isMissing(e: unknown): boolean {
  return e instanceof IbtError && e.code === "NOT_FOUND";
}

export async function exists(store: Store, name: string): Promise<boolean> {
  try {
    await store.stat(name);
    return true;
  } catch (e) {
    if (isMissing(e)) return false;
    throw e;
  }
}

/** The names of the objects under `dir/`. */
export async function listNames(store: Store, dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const o of store.list(`${dir}/`)) names.push(o.name);
  return names;
}
