/**
 * The walker's fast paths over an FsAdapter, each with its fallback through the plain contract:
 * `listWithStats`, a directory's entries with their lstat metadata (the adapter's `listStat`,
 * else `list` and one `lstat` per entry), and `wholeFileReader`, a small file read whole with
 * the metadata of the file read (an adapter's `readWhole`, else none: the caller streams it).
 *
 * A tree of many small files costs per call, not per byte, so these save calls. A fast path is
 * taken only where it stands for the calls the adapter would make anyway: a wrapper that
 * overrides one of those calls (to count, to fail on purpose) without overriding the fast path
 * it inherits gets the plain calls, so that it still sees them.
 */
import { IbtError } from "../errors.js";
import { joinPath } from "./paths.js";
import type { FsAdapter, FsStat, ListedEntry } from "./types.js";

/** A small file's bytes and the metadata of the file they were read from. */
export interface WholeFile {
  data: Uint8Array;
  stat: FsStat;
}

/**
 * OPTIONAL adapter method, for walkers: reads file `path`, which its listing said holds `size`
 * bytes, whole. It MUST return a fresh array the caller owns with the file's content, or its
 * first `size + 1` bytes if it holds more (so that a grown file shows), and what `lstat` gives
 * for the very file read, taken after reading it, so that a file that changed while it was read
 * differs from its listing. Errors are those of `readStream`.
 */
export type ReadWhole = (path: string, size: number) => Promise<WholeFile>;

/** The adapter's `readWhole` where it stands for its own `readStream` and `lstat`, else undefined. */
export function wholeFileReader(fs: FsAdapter): ReadWhole | undefined {
  const owner = definer(fs, "readWhole");
  if (!owner || fs.readStream !== owner.readStream || fs.lstat !== owner.lstat) return undefined;
  const readWhole = (owner as { readWhole?: unknown }).readWhole;
  return typeof readWhole === "function" ? (readWhole.bind(fs) as ReadWhole) : undefined;
}

/** The object on `fs`'s prototype chain that defines `name` itself. */
export function definer(fs: FsAdapter, name: string): FsAdapter | undefined {
  for (let o: object | null = fs; o !== null; o = Object.getPrototypeOf(o) as object | null) {
    if (Object.prototype.hasOwnProperty.call(o, name)) return o as FsAdapter;
  }
  return undefined;
}

/** lstat calls in flight at once in the fallback. */
const FALLBACK_CONCURRENCY = 16;

export async function listWithStats(fs: FsAdapter, dir: string): Promise<ListedEntry[]> {
  if (fs.listStat) return fs.listStat(dir);
  const out: ListedEntry[] = (await fs.list(dir)).map((name) => ({ name }));
  await eachAtMost(FALLBACK_CONCURRENCY, out.length, async (i) => {
    const entry = out[i]!;
    const path = joinPath(dir, entry.name);
    try {
      entry.stat = await fs.lstat(path);
    } catch (e) {
      entry.error = e instanceof IbtError ? e : new IbtError("IO", `lstat: ${path}: ${String(e)}`, { path, cause: e });
    }
  });
  return out;
}

/** Runs `work(0)` … `work(count - 1)`, at most `limit` at a time, in index order of starting. */
export async function eachAtMost(limit: number, count: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, lane));
}
