/**
 * `listWithStats`: a directory's entries with their lstat metadata, through the adapter's
 * `listStat` fast path where it has one, else through `list` and one `lstat` per entry.
 */
import { IbtError } from "../errors.js";
import { joinPath } from "./paths.js";
import type { FsAdapter, ListedEntry } from "./types.js";

/** lstat calls in flight at once in the fallback. */
const FALLBACK_CONCURRENCY = 16;

export async function listWithStats(fs: FsAdapter, dir: string): Promise<ListedEntry[]> {
  if (fs.listStat) return fs.listStat(dir);
  const names = await fs.list(dir);
  const out: ListedEntry[] = names.map((name) => ({ name }));
  let next = 0;
  const worker = async () => {
    while (next < out.length) {
      const entry = out[next++]!;
      try {
        entry.stat = await fs.lstat(joinPath(dir, entry.name));
      } catch (e) {
        entry.error = e instanceof IbtError ? e : new IbtError("IO", `lstat: ${joinPath(dir, entry.name)}: ${String(e)}`, { path: joinPath(dir, entry.name), cause: e });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(FALLBACK_CONCURRENCY, out.length) }, worker));
  return out;
}
