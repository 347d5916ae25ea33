/**
 * `listWithStats`: a directory's entries with their lstat metadata, through the adapter's
 * `listStat` fast path where it has one, else through `list` and one `lstat` per entry.
 */
import { IbtError } from "../errors.js";
import { joinPath } from "./paths.js";
/** lstat calls in flight at once in the fallback. */
const FALLBACK_CONCURRENCY = 16;
export async function listWithStats(fs, dir) {
    if (fs.listStat)
        return fs.listStat(dir);
    const out = (await fs.list(dir)).map((name) => ({ name }));
    await eachAtMost(FALLBACK_CONCURRENCY, out.length, async (i) => {
        const entry = out[i];
        const path = joinPath(dir, entry.name);
        try {
            entry.stat = await fs.lstat(path);
        }
        catch (e) {
            entry.error = e instanceof IbtError ? e : new IbtError("IO", `lstat: ${path}: ${String(e)}`, { path, cause: e });
        }
    });
    return out;
}
/** Runs `work(0)` … `work(count - 1)`, at most `limit` at a time, in index order of starting. */
export async function eachAtMost(limit, count, work) {
    let next = 0;
    const lane = async () => {
        while (next < count)
            await work(next++);
    };
    await Promise.all(Array.from({ length: Math.min(limit, count) }, lane));
}
//# sourceMappingURL=list-stat.js.map