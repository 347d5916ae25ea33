/**
 * `stat` for adapters that store symlinks: follow a final symlink, and the final symlink that
 * names, resolving each target lexically from the link's directory. Targets that are absolute
 * or climb out of the root are never followed (they report NOT_FOUND, as a dangling link
 * would), and each hop goes through the adapter's own `lstat`, so the resolved path's parent
 * segments get the same no-symlinks check as any other path. Lexical resolution can differ from
 * the kernel's when a parent segment is a symlink, but such paths are refused anyway.
 */
import { IbtError } from "../errors.js";
import { checkPath, resolveLinkTarget } from "./paths.js";
/** Linux gives up after 40 links (MAXSYMLINKS); so do we. */
const MAX_HOPS = 40;
export async function statFollowingLinks(fs, path) {
    let current = path;
    for (let hop = 0;; hop++) {
        const st = await fs.lstat(current);
        if (st.type !== "symlink")
            return st;
        if (hop === MAX_HOPS)
            throw new IbtError("IO", `stat: too many levels of symlinks: ${path}`, { path, caller: "stat" });
        const target = await fs.readlink(current);
        const next = resolveLinkTarget(current, target);
        if (next === undefined) {
            throw new IbtError("NOT_FOUND", `stat: symlink ${current} points outside the root (${target})`, { path, caller: "stat" });
        }
        // A target can name a path no adapter call accepts (not NFC, say): nothing can be there.
        try {
            current = checkPath(next);
        }
        catch {
            throw new IbtError("NOT_FOUND", `stat: symlink ${current} names no reachable entry (${target})`, { path, caller: "stat" });
        }
    }
}
//# sourceMappingURL=follow.js.map