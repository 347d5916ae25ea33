/**
 * The messages between the page and its backup worker. The page owns the user's gestures
 * (pickers need one) and the DOM; the worker owns the repository in OPFS and every byte of
 * work, so a long backup never blocks the page. Each request carries a number; the worker answers
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

export type Request =
  | { op: "snapshots" }
  | { op: "backup"; source: SourceSpec }
  | { op: "archive"; id: string }
  | { op: "restoreZip"; id: string }
  | { op: "restoreFolder"; id: string; handle: FileSystemDirectoryHandle }
  | { op: "erase" };

/** What each request resolves to. */
export interface Results {
  snapshots: Snapshot[];
  backup: { snapshot: Snapshot; snapshots: Snapshot[] };
  archive: { blob: Blob; name: string };
  restoreZip: { blob: Blob; name: string; files: number };
  restoreFolder: RestoreResult;
  erase: null;
}

/** Why an operation failed, in the terms the page explains to people. */
export type Reason = "permission" | "quota" | "changed" | "other";

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
