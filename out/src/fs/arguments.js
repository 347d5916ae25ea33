/**
 * The argument checks every adapter runs before it touches storage, kept in one place so that
 * all adapters refuse the same calls with the same codes, in the order the contract gives:
 * UNSAFE_PATH (see `checkPath`), then READ_ONLY, then UNSUPPORTED, then BAD_ARGUMENT for
 * values that are wrong whatever the tree holds.
 */
import { IbtError } from "../errors.js";
/** Throws READ_ONLY unless `writable`. */
export function checkWritable(writable, caller, path) {
    if (!writable)
        throw readOnlyError(caller, path);
}
export function readOnlyError(caller, path) {
    return new IbtError("READ_ONLY", `${caller}: read-only file system: ${path}`, { path, caller });
}
/** Throws UNSUPPORTED unless the adapter has the capability. */
export function checkCapability(has, what, caller, path) {
    if (!has)
        throw unsupportedError(what, caller, path);
}
export function unsupportedError(what, caller, path) {
    return new IbtError("UNSUPPORTED", `${caller}: this file system has no ${what}: ${path}`, { path, caller });
}
/** `read` arguments: non-negative safe integers. */
export function checkRange(offset, length, caller, path) {
    const ok = (n) => Number.isSafeInteger(n) && n >= 0;
    if (!ok(offset) || !ok(length)) {
        throw new IbtError("BAD_ARGUMENT", `${caller}: bad range (offset ${offset}, length ${length}): ${path}`, { path, caller });
    }
}
/** Permission bits: an integer in 0..0o7777. */
export function checkMode(mode, caller, path) {
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
        throw new IbtError("BAD_ARGUMENT", `${caller}: mode ${mode} is not in 0..0o7777: ${path}`, { path, caller });
    }
    return mode;
}
/** A modification time: any finite number of milliseconds. */
export function checkMtime(mtimeMs, caller, path) {
    if (!Number.isFinite(mtimeMs))
        throw new IbtError("BAD_ARGUMENT", `${caller}: bad time ${mtimeMs}: ${path}`, { path, caller });
}
/**
 * A symlink target is stored verbatim, so it is not path-checked; it only has to be storable:
 * POSIX has no empty targets and no NUL inside one.
 */
export function checkLinkTarget(target, caller, path) {
    if (typeof target !== "string" || target === "" || target.includes("\0")) {
        throw new IbtError("BAD_ARGUMENT", `${caller}: bad symlink target ${JSON.stringify(target)}: ${path}`, { path, caller });
    }
}
/** UTF-8 length of a string: what a POSIX `lstat` reports as a symlink's size. */
export function utf8Length(s) {
    return new TextEncoder().encode(s).length;
}
//# sourceMappingURL=arguments.js.map