/**
 * Small operations on one entry through any adapter, shared by the layers that change trees
 * (applying a diff, restoring a snapshot): look an entry up where it may well be absent, give
 * it a mode and an mtime as far as the adapter keeps them, and create a file with both in one
 * call where the adapter can (`fileCreator`).
 */
import { IbtError } from "../errors.js";
import type { FsAdapter, FsStat } from "./types.js";
import { definer } from "./list-stat.js";

/** The entry's lstat, or undefined when nothing is there. */
export async function lstatOrUndefined(fs: FsAdapter, path: string): Promise<FsStat | undefined> {
  try {
    return await fs.lstat(path);
  } catch (e) {
    // A path under a file does not exist either.
    if (e instanceof IbtError && (e.code === "NOT_FOUND" || e.code === "NOT_A_DIRECTORY")) return undefined;
    throw e;
  }
}

/**
 * Sets the entry's permission bits and mtime where the adapter keeps them; a symlink's mode is
 * never set, since most systems cannot, and its mtime only where the adapter stores symlinks.
 */
export async function setMeta(fs: FsAdapter, path: string, e: Pick<FsStat, "type" | "mode" | "mtimeMs">): Promise<void> {
  if (fs.capabilities.modes && e.type !== "symlink") await fs.chmod(path, e.mode & 0o7777);
  if (fs.capabilities.mtimes && (e.type !== "symlink" || fs.capabilities.symlinks)) await fs.utimes(path, e.mtimeMs);
}

/**
 * OPTIONAL adapter method, for filling a staging directory: creates file `path`, where nothing
 * is (EXISTS otherwise; a symlink there is not followed), with `data` and, as far as the adapter
 * keeps them, permission bits `mode` and modification time `mtimeMs`, in one call. On an error it
 * removes what it made, but unlike `writeFile` it goes through no temporary file, so a crash may
 * leave a partial file at `path`: callers use it only where that does no harm, inside a
 * directory that is removed after a failure. Argument errors are those of `writeFile`, `chmod`
 * and `utimes`.
 */
export type CreateFile = (path: string, data: Uint8Array, meta: { mode: number; mtimeMs: number }) => Promise<void>;

/**
 * The adapter's `createFile` where it stands for its own `writeFile`, `chmod` and `utimes` (a
 * wrapper overriding one of those gets the plain calls, so that it still sees them); else those
 * calls: `writeFile` with the mode, then `utimes`. The fallback does not check that `path` is
 * free: the caller knows it is.
 */
export function fileCreator(fs: FsAdapter): CreateFile {
  const owner = definer(fs, "createFile");
  const own = (owner as { createFile?: unknown } | undefined)?.createFile;
  if (owner && typeof own === "function" && fs.writeFile === owner.writeFile && fs.chmod === owner.chmod && fs.utimes === owner.utimes) {
    return own.bind(fs) as CreateFile;
  }
  return async (path, data, meta) => {
    await fs.writeFile(path, data, fs.capabilities.modes ? { mode: meta.mode & 0o7777 } : {});
    if (fs.capabilities.mtimes) await fs.utimes(path, meta.mtimeMs);
  };
}
