/**
 * Errors across the worker boundary, and what the page says about them. The worker turns an
 * error into a WireError with `toWire` and decides its reason there, while the cause chain still
 * exists: a DOMException's name (QuotaExceededError, NotAllowedError) is the only reliable sign
 * of a full disk or a withdrawn permission, and it does not survive postMessage inside an
 * IbtError. The page rebuilds the IbtError and `explain` turns each reason into a headline and a
 * sentence on what to do next, with the library's code and message kept at the end for anyone
 * who reports a bug.
 *
 * A wrong password, credentials a bucket refuses and a bucket that cannot be reached (wrong
 * endpoint, or a CORS policy that does not allow this page) are the failures people meet first
 * with a bucket, so each has its own words. A network failure reaches the worker as a TypeError
 * from fetch in the cause chain; browsers say nothing more, because CORS hides the reason.
 */
import { IbtError, type ErrorCode } from "../../src/index.js";
import type { Reason, WireError } from "./protocol.js";

/** The `caller` of the worker's error for a request that needs an unlocked repository. */
export const NEEDS_UNLOCK = "web:unlock";

export interface Explained {
  title: string;
  detail: string;
  reason: Reason;
  code: string;
}

export function explain(wire: WireError, action: string): Explained {
  // Rebuilt as an IbtError so the page handles library errors through the library's own type.
  const error = wire.code === "UNKNOWN" ? undefined : IbtError.from({ ...wire, code: wire.code as ErrorCode });
  const where = error?.path ? ` (${error.path})` : "";
  const technical = error ? `${error.code}: ${error.message}` : `${wire.name ?? "Error"}: ${wire.message}`;
  switch (wire.reason) {
    case "permission":
      return {
        reason: wire.reason,
        code: wire.code,
        title: "Permission denied",
        detail: `The browser did not allow access to the folder${where}. Choose the folder again and allow access when the browser asks. [${technical}]`,
      };
    case "quota":
      return {
        reason: wire.reason,
        code: wire.code,
        title: "Storage is full",
        detail: `The browser's storage quota for this page is used up, so nothing new was saved. Delete snapshots (or other data of this site) to make room, then try again. [${technical}]`,
      };
    case "changed":
      return {
        reason: wire.reason,
        code: wire.code,
        title: "The folder changed while it was read",
        detail: `A file changed after the folder was chosen${where}, so this backup was stopped and nothing was saved. Choose the folder again once nothing is writing to it, then back up. [${technical}]`,
      };
    case "password":
      return {
        reason: wire.reason,
        code: wire.code,
        title: "Wrong password",
        detail: `This password does not open the repository. Check it (and the keyboard layout and Caps Lock) and try again; without the right password the backups cannot be read. [${technical}]`,
      };
    case "unlock":
      return { reason: wire.reason, code: wire.code, title: "The repository is locked", detail: `Enter the repository's password first. [${technical}]` };
    case "credentials":
      return {
        reason: wire.reason,
        code: wire.code,
        title: "The bucket refused the credentials",
        detail: `Check the access key id, the secret access key, the region, and that the key may use this bucket and prefix. [${technical}]`,
      };
    case "unreachable":
      return {
        reason: wire.reason,
        code: wire.code,
        title: "The bucket could not be reached",
        detail: `Check the endpoint and the bucket name, and that the bucket's CORS policy allows this page (shown under "CORS policy the bucket needs"); the browser does not tell a page which of these failed. [${technical}]`,
      };
    default:
      return { reason: wire.reason, code: wire.code, title: `${action} failed`, detail: technical };
  }
}

/** A rejection of a picker on the page itself: undefined when the user simply cancelled. */
export function explainPicker(e: unknown): Explained | undefined {
  const name = (e as { name?: string } | null)?.name;
  if (name === "AbortError") return undefined;
  const message = e instanceof Error ? e.message : String(e);
  const reason: Reason = name === "NotAllowedError" || name === "SecurityError" ? "permission" : "other";
  return explain({ code: "UNKNOWN", name: name ?? "Error", message, reason }, "Choosing a folder");
}

/** An error as the page receives it (worker side). */
export function toWire(e: unknown): WireError {
  const wire: WireError =
    e instanceof IbtError
      ? { ...e.toJSON(), reason: reasonOf(e) }
      : { code: "UNKNOWN", name: errorName(e) ?? "Error", message: e instanceof Error ? e.message : String(e), reason: reasonOf(e) };
  return wire;
}

export function reasonOf(e: unknown): Reason {
  for (let cause = e, depth = 0; cause !== undefined && cause !== null && depth < 10; depth++) {
    const name = errorName(cause);
    if (name === "QuotaExceededError") return "quota";
    if (name === "NotAllowedError" || name === "SecurityError") return "permission";
    if (cause instanceof IbtError) {
      if (cause.code === "READ_ONLY") return "permission";
      if (cause.code === "CHANGED") return "changed";
      if (cause.code === "WRONG_PASSWORD") return "password";
      if (cause.code === "DENIED") return "credentials";
      if (cause.caller === NEEDS_UNLOCK) return "unlock";
    } else if (name === "TypeError" && depth > 0) {
      // fetch's own failure under a library error: no answer from the server at all.
      return "unreachable";
    }
    cause = (cause as { cause?: unknown }).cause;
  }
  return "other";
}

function errorName(e: unknown): string | undefined {
  return typeof e === "object" && e !== null && typeof (e as { name?: unknown }).name === "string" ? (e as { name: string }).name : undefined;
}
