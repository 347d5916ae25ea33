/**
 * The Store contract: where a repository lives. It is narrower than `FsAdapter` on purpose,
 * because object stores (S3 and its kin, an R2 binding) have no directories, no rename and no
 * partial writes: a repository asks a Store only for whole objects, ranged reads, prefix
 * listings, removal, and one conditional create for its lock. One repository layout is written
 * through this interface for every store (a folder or OPFS through `FsStore`, memory, S3, R2).
 *
 * Names. An object name is a `/`-separated key relative to the store's root, made of the
 * characters `A-Z a-z 0-9 . _ -` and `/`, with no empty, `.` or `..` segment and no leading or
 * trailing `/`. Stores MUST refuse any other name with UNSAFE_PATH before touching storage
 * (`checkObjectName`). Names are opaque keys: "data/ab12.zip" does not imply a folder "data".
 *
 * Errors. Every failure MUST be an IbtError: NOT_FOUND for a missing object, EXISTS when a
 * conditional create finds one, DENIED when the storage refuses our credentials, IO for any
 * other failure of the storage or the network (after the store's own retries), ABORTED when the
 * caller's signal fired. A message names the object and, for remote stores, the request and the
 * storage's own status and error code; it MUST NOT contain a secret (a key, a signature, a
 * password, a presigned URL's query).
 */
import type { ByteSource } from "../bytes.js";
import { IbtError } from "../errors.js";

export interface StoredObject {
  /** The object's full name. */
  name: string;
  /** Its size in bytes. */
  size: number;
}

export interface SaveOptions {
  /**
   * Create only if no object has this name; otherwise fail with EXISTS and leave the existing
   * object as it was. Two concurrent conditional saves of one name: exactly one succeeds.
   */
  ifAbsent?: boolean;
  signal?: AbortSignal;
}

export interface LoadOptions {
  /** First byte to return; default 0. */
  offset?: number;
  /** Bytes to return from `offset`; default to the end. Fewer only where the object ends first. */
  length?: number;
  signal?: AbortSignal;
}

export interface Store {
  /** Where the store is, for messages and `ibt` output. MUST NOT contain a secret. */
  readonly location: string;

  /**
   * Saves object `name` whole, or not at all: until the promise resolves, readers see the old
   * object (or none); if it rejects, the old object (or none) remains. `data` may be a stream of
   * any length; a store MUST hold only a bounded amount of it in memory (S3: a few parts). An
   * error thrown by `data` is rethrown unchanged. Saving over an existing name replaces it.
   */
  save(name: string, data: Uint8Array | ByteSource, options?: SaveOptions): Promise<void>;

  /** The bytes of object `name` (or of the range asked for); NOT_FOUND if it does not exist. */
  load(name: string, options?: LoadOptions): Promise<Uint8Array>;

  /** The whole object as chunks, read as they are consumed; NOT_FOUND if it does not exist. */
  loadStream(name: string, options?: { signal?: AbortSignal }): AsyncIterable<Uint8Array>;

  /** The object's size; NOT_FOUND if it does not exist. */
  stat(name: string): Promise<StoredObject>;

  /**
   * Every object whose name starts with `prefix` (a plain string prefix, "" for all), each
   * exactly once, in any order. Objects saved or removed while a listing runs may or may not
   * appear in it.
   */
  list(prefix: string, options?: { signal?: AbortSignal }): AsyncIterable<StoredObject>;

  /** Removes object `name`. Removing a missing object succeeds: removal is idempotent. */
  remove(name: string, options?: { signal?: AbortSignal }): Promise<void>;

  /**
   * OPTIONAL: removes what a writer that died left inside the store itself and the repository
   * cannot see through `list`, such as unfinished multipart uploads older than `olderThanMs`.
   * Returns how many such leftovers it removed.
   */
  sweep?(olderThanMs: number, options?: { signal?: AbortSignal }): Promise<number>;
}

const NAME = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/** Throws UNSAFE_PATH unless `name` is a valid object name (see the contract above). */
export function checkObjectName(name: string, caller: string): void {
  if (!NAME.test(name) || name.split("/").some((s) => s === "." || s === "..")) {
    throw new IbtError("UNSAFE_PATH", `${caller}: not a valid object name: ${JSON.stringify(name)}`, { path: name, caller });
  }
}
