/**
 * Small operations on one entry through any adapter, shared by the layers that change trees
 * (applying a diff, restoring a snapshot): look an entry up where it may well be absent, and give
 * it a mode and an mtime as far as the adapter keeps them.
 */
import { IbtError } from "../errors.js";
import type { FsAdapter, FsStat } from "./types.js";

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
