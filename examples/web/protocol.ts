/**
 * The messages between the page and its backup worker. The page owns the user's gestures
 * (pickers need one), the DOM and the connection settings; the worker owns the repository (in
 * OPFS or in an S3-compatible bucket) and every byte of work, so a long backup never blocks the
 * page. Each request carries a number; the worker answers
 * with any number of `progress` messages and then exactly one `done` or `error` for it.
 *
 * Requests are numbered by `seq`, not `id`, because `id` names a snapshot in the requests.
 *
 * Everything here must survive structured cloning: folder handles, `File`s and `Blob`s do;
 * errors do not keep their class or `cause`, so they travel as `WireError` (IbtError's `toJSON`
 * plus a `reason` the worker works out while it still has the cause chain) and the page rebuilds
 * them with `IbtError.from`.
 */
import type { ErrorCode, Progress, RestoreResult, Snapshot } from "../../src/index.js";

/** A picked folder as the worker receives it. */
export type SourceSpec =
  | { kind: "handle"; name: string; handle: FileSystemDirectoryHandle }
  /**
   * `paths[i]` is `files[i].webkitRelativePath`, sent beside the files because that property is
   * not part of a File's structured clone in every browser.
   */
  | { kind: "files"; name: string; files: File[]; paths: string[] };

/**
 * Where the repository lives. S3 credentials travel to the worker in memory only; the worker
 * never writes them anywhere.
 */
export type Target =
  | { kind: "opfs" }
  | { kind: "s3"; endpoint: string; bucket: string; prefix: string; region: string; accessKeyId: string; secretAccessKey: string; sessionToken?: string };

/**
 * What the worker found at a target without a password: nothing yet (a password creates an
 * encrypted repository), an encrypted repository (a password opens it), or an unencrypted one
 * made before the page encrypted (it opens without one).
 */
export type Found = "none" | "encrypted" | "plain";

/**
 * `connect` makes `target` the worker's repository and says what is there; `create` and `unlock`
 * take the password, which the worker uses to derive the key and then drops: it keeps only the
 * opened repository key, in memory, until `lock` or another `connect`. Every other request
 * works on the unlocked repository and fails with LOCKED before one is.
 */
export type Request =
  | { op: "connect"; target: Target }
  | { op: "create"; password: string }
  | { op: "unlock"; password?: string }
  | { op: "lock" }
  | { op: "snapshots" }
  | { op: "backup"; source: SourceSpec }
  | { op: "archive"; id: string }
  | { op: "restoreZip"; id: string }
  | { op: "restoreFolder"; id: string; handle: FileSystemDirectoryHandle }
  | { op: "erase" };

/** What each request resolves to. */
export interface Results {
  connect: { found: Found; location: string };
  create: Snapshot[];
  unlock: Snapshot[];
  lock: null;
  snapshots: Snapshot[];
  backup: { snapshot: Snapshot; snapshots: Snapshot[] };
  archive: { blob: Blob; name: string };
  restoreZip: { blob: Blob; name: string; files: number };
  restoreFolder: RestoreResult;
  erase: null;
}

/** Why an operation failed, in the terms the page explains to people. */
export type Reason = "permission" | "quota" | "changed" | "password" | "unlock" | "credentials" | "unreachable" | "other";

export interface WireError {
  code: ErrorCode | "UNKNOWN";
  message: string;
  path?: string;
  name?: string;
  reason: Reason;
}

export type ToWorker = { seq: number; request: Request };

export type FromWorker =
  | { seq: number; type: "progress"; progress: Progress }
  | { seq: number; type: "done"; result: Results[keyof Results] }
  | { seq: number; type: "error"; error: WireError };
