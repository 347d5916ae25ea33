/**
 * Faults a test can make the S3 test server commit, and which request each one hits.
 *
 * A fault names the requests it applies to (an operation, a key, a bucket, or any predicate), how
 * many matching requests to let through first (`skip`) and how many to hit (`times`, default 1).
 * Faults are checked in the order they were added and the first live match wins; a spent fault
 * stays in the list but no longer matches. Faults are applied after a request is authenticated,
 * because S3 refuses a badly signed request before any throttling or failure could happen.
 *
 * The kinds are what a client meets in the field:
 * - `500`, `503-slowdown`, `429`: an error answer, nothing applied;
 * - `drop`: the body is read, nothing applied, the connection closed without an answer;
 * - `drop-after-apply`: the operation takes effect, then the connection closes without an
 *   answer (the answer lost on the way back);
 * - `slow-body`: the normal answer, its body sent in small pieces with pauses;
 * - `reset-mid-body`: the status, headers and part of the body, then the connection is reset;
 * - `complete-fail`: CompleteMultipartUpload answers 200 with an `<Error>` body, as S3 can once
 *   it has started its answer, and the upload stays in progress.
 */
import type { S3Operation } from "./s3-routes.js";

export type FaultKind = "500" | "503-slowdown" | "429" | "drop" | "drop-after-apply" | "slow-body" | "reset-mid-body" | "complete-fail";

/** What a fault's predicate sees of a request. */
export interface FaultTarget {
  op: S3Operation;
  bucket: string | undefined;
  key: string | undefined;
  range: string | undefined;
}

export interface Fault {
  kind: FaultKind;
  op?: S3Operation | readonly S3Operation[];
  bucket?: string;
  key?: string | RegExp;
  when?: (target: FaultTarget) => boolean;
  /** Matching requests to let through before the fault starts hitting. */
  skip?: number;
  /** Matching requests to hit; default 1, `Infinity` for all. */
  times?: number;
  /** `slow-body`: bytes per piece (default 16) and pause between pieces (default 5 ms). */
  pieceBytes?: number;
  pauseMs?: number;
  /** `reset-mid-body`: bytes sent before the reset (default half the body). */
  bytesBeforeReset?: number;
}

function targets(fault: Fault, target: FaultTarget): boolean {
  if (fault.op !== undefined && !(typeof fault.op === "string" ? fault.op === target.op : fault.op.includes(target.op))) return false;
  if (fault.bucket !== undefined && fault.bucket !== target.bucket) return false;
  if (fault.key !== undefined) {
    if (target.key === undefined) return false;
    if (typeof fault.key === "string" ? fault.key !== target.key : !fault.key.test(target.key)) return false;
  }
  return fault.when === undefined || fault.when(target);
}

/** Faults with the count of requests each has matched so far. */
export class FaultList {
  readonly #matched = new Map<Fault, number>();
  constructor(private readonly faults: Fault[]) {}

  /**
   * The fault that hits this request, if any. The first fault in order that matches and is not
   * spent decides: it counts the request, then either lets it through (still skipping) or hits it.
   */
  take(target: FaultTarget): Fault | undefined {
    for (const fault of this.faults) {
      if (!targets(fault, target)) continue;
      const seen = this.#matched.get(fault) ?? 0;
      const skip = fault.skip ?? 0;
      const times = fault.times ?? 1;
      if (seen >= skip + times) continue;
      this.#matched.set(fault, seen + 1);
      if (seen >= skip) return fault;
      return undefined;
    }
    return undefined;
  }
}
