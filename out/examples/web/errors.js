/**
 * Errors across the worker boundary, and what the page says about them. The worker turns an
 * error into a WireError with `toWire` and decides its reason there, while the cause chain still
 * exists: a DOMException's name (QuotaExceededError, NotAllowedError) is the only reliable sign
 * of a full disk or a withdrawn permission, and it does not survive postMessage inside an
 * IbtError. The page rebuilds the IbtError and `explain` turns each reason into a headline and a
 * sentence on what to do next, with the library's code and message kept at the end for anyone
 * who reports a bug.
 */
import { IbtError } from "../../src/index.js";
export function explain(wire, action) {
    // Rebuilt as an IbtError so the page handles library errors through the library's own type.
    const error = wire.code === "UNKNOWN" ? undefined : IbtError.from({ ...wire, code: wire.code });
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
        default:
            return { reason: wire.reason, code: wire.code, title: `${action} failed`, detail: technical };
    }
}
/** A rejection of a picker on the page itself: undefined when the user simply cancelled. */
export function explainPicker(e) {
    const name = e?.name;
    if (name === "AbortError")
        return undefined;
    const message = e instanceof Error ? e.message : String(e);
    const reason = name === "NotAllowedError" || name === "SecurityError" ? "permission" : "other";
    return explain({ code: "UNKNOWN", name: name ?? "Error", message, reason }, "Choosing a folder");
}
/** An error as the page receives it (worker side). */
export function toWire(e) {
    const wire = e instanceof IbtError
        ? { ...e.toJSON(), reason: reasonOf(e) }
        : { code: "UNKNOWN", name: errorName(e) ?? "Error", message: e instanceof Error ? e.message : String(e), reason: reasonOf(e) };
    return wire;
}
export function reasonOf(e) {
    for (let cause = e, depth = 0; cause !== undefined && cause !== null && depth < 10; depth++) {
        const name = errorName(cause);
        if (name === "QuotaExceededError")
            return "quota";
        if (name === "NotAllowedError" || name === "SecurityError")
            return "permission";
        if (cause instanceof IbtError) {
            if (cause.code === "READ_ONLY")
                return "permission";
            if (cause.code === "CHANGED")
                return "changed";
        }
        cause = cause.cause;
    }
    return "other";
}
function errorName(e) {
    return typeof e === "object" && e !== null && typeof e.name === "string" ? e.name : undefined;
}
//# sourceMappingURL=errors.js.map