/**
 * Relative paths as every layer above the adapters sees them: `/`-separated, NFC, no empty,
 * "." or ".." segments, no leading or trailing "/", no backslash or NUL; "" is the root.
 * `checkPath` is the one gate: adapters call it on every path they receive, and archive and
 * index readers call it on every path they load, so a hostile name is refused before it can
 * reach storage.
 */
import { IbtError } from "../errors.js";
/** Returns `path` if it is a safe relative path, else throws UNSAFE_PATH. */
export function checkPath(path) {
    if (path === "")
        return path;
    if (typeof path !== "string")
        unsafe(path, "not a string");
    // One pass over the characters: most paths are ASCII and need nothing more; only a path with
    // other characters pays for the NFC comparison.
    let segmentStart = 0;
    let ascii = true;
    for (let i = 0; i <= path.length; i++) {
        const c = i < path.length ? path.charCodeAt(i) : SLASH;
        if (c === SLASH) {
            const n = i - segmentStart;
            if (n === 0)
                unsafe(path, i === 0 ? "absolute" : "empty segment");
            if (n <= 2 && path.charCodeAt(segmentStart) === DOT && (n === 1 || path.charCodeAt(segmentStart + 1) === DOT)) {
                unsafe(path, `"${path.slice(segmentStart, i)}" segment`);
            }
            segmentStart = i + 1;
        }
        else if (c === 0)
            unsafe(path, "contains NUL");
        else if (c === BACKSLASH)
            unsafe(path, "contains a backslash");
        else if (c >= 0x80)
            ascii = false;
    }
    if (path.length >= 2 && path.charCodeAt(1) === COLON && /^[A-Za-z]/.test(path))
        unsafe(path, "has a drive letter");
    if (!ascii && path.normalize("NFC") !== path)
        unsafe(path, "not in Unicode NFC");
    return path;
}
const SLASH = 0x2f;
const DOT = 0x2e;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
function unsafe(path, why) {
    throw new IbtError("UNSAFE_PATH", `unsafe path ${JSON.stringify(path)}: ${why}`, { path });
}
/** Joins a directory and a name (the name is one segment). */
export function joinPath(dir, name) {
    return dir === "" ? name : `${dir}/${name}`;
}
/** The parent directory ("" for top-level entries). */
export function parentPath(path) {
    const i = path.lastIndexOf("/");
    return i < 0 ? "" : path.slice(0, i);
}
/** The last segment. */
export function baseName(path) {
    return path.slice(path.lastIndexOf("/") + 1);
}
/** Number of segments: "" has 0, "a" 1, "a/b" 2. */
export function depth(path) {
    return path === "" ? 0 : path.split("/").length;
}
/**
 * Resolves a symlink target written relative to the link's directory to a root-relative path,
 * or undefined when it is absolute or climbs out of the root.
 */
export function resolveLinkTarget(linkPath, target) {
    if (target.startsWith("/") || target.includes("\0") || target.includes("\\"))
        return undefined;
    const parts = parentPath(linkPath) === "" ? [] : parentPath(linkPath).split("/");
    for (const seg of target.split("/")) {
        if (seg === "" || seg === ".")
            continue;
        if (seg === "..") {
            if (parts.length === 0)
                return undefined;
            parts.pop();
        }
        else
            parts.push(seg);
    }
    return parts.join("/");
}
//# sourceMappingURL=paths.js.map