/**
 * The few system calls NodeFs makes often enough for their cost to matter (lstat, readdir,
 * opening and reading a file, writing a temporary file and renaming it, creating a file whole
 * with its mode and mtime), as one interface with
 * two implementations: `asyncCalls` here, through the promise API, and `syncCalls` in
 * sync-files.ts, where all synchronous file I/O lives. NodeFs picks one by its `sync` option and
 * otherwise runs the same code, so both kinds make the same checks and hand out the same chunks.
 * A call may answer with a value or a promise; NodeFs awaits either.
 */
import type { Stats } from "node:fs";
// fs.promises, not "node:fs/promises": the command-line bundle then loads the promise API (and
// the stream and readline modules it brings) only when a call first needs it, and a NodeFs with
// `sync` never does for these calls.
import { constants, promises as fsp } from "node:fs";
import { eachAtMost } from "../fs/list-stat.js";

/** lstat calls in flight at once for `lstatMany`: a directory's entries are stated together. */
const LSTAT_CONCURRENCY = 16;

/** A file open for reading. */
export interface ReadableFile {
  stat(): Stats | Promise<Stats>;
  /** Reads into `buf[at, at + length)` from `position` (null: from where the last read ended). */
  read(buf: Uint8Array, at: number, length: number, position: number | null): number | Promise<number>;
  close(): void | Promise<void>;
}

/** The temporary file a write goes to: positional writes, chmod and close. */
export interface TempFile {
  write(chunk: Uint8Array, at: number, length: number, position: number): number | Promise<number>;
  chmod(mode: number): void | Promise<void>;
  /** Closes the file; a second call does nothing. */
  close(): void | Promise<void>;
}

export interface FsCalls {
  lstat(abs: string): Stats | Promise<Stats>;
  /** The lstat of every path, or the error it failed with, in the order given. */
  lstatMany(abs: readonly string[]): (Stats | Error)[] | Promise<(Stats | Error)[]>;
  readdir(abs: string): string[] | Promise<string[]>;
  /** Opens with the given flags (NodeFs passes O_NOFOLLOW among them). */
  openRead(abs: string, flags: number): ReadableFile | Promise<ReadableFile>;
  /** Creates a new file (`wx`); it must not exist. */
  createTemp(abs: string): TempFile | Promise<TempFile>;
  rename(from: string, to: string): void | Promise<void>;
  /**
   * Creates `abs`, which must not exist (O_EXCL, so a symlink there is not followed), writes
   * `data`, sets `mode` (unless undefined) and the mtime on the open file, and closes it; after
   * an error it removes the file it made.
   */
  createFile(abs: string, data: Uint8Array, mode: number | undefined, mtimeSeconds: number): void | Promise<void>;
}

// Missing on Windows, where 0 asks for nothing.
const flags = constants as Partial<typeof constants> | undefined;
/** Exclusive create for writing, never through a final symlink. */
export const CREATE_NEW = (flags?.O_WRONLY ?? 1) | (flags?.O_CREAT ?? 0o100) | (flags?.O_EXCL ?? 0o200) | (flags?.O_NOFOLLOW ?? 0);

export const asyncCalls: FsCalls = {
  lstat: (abs) => fsp.lstat(abs),
  async lstatMany(abs) {
    const out: (Stats | Error)[] = new Array(abs.length);
    await eachAtMost(LSTAT_CONCURRENCY, abs.length, async (i) => {
      out[i] = await fsp.lstat(abs[i]!).catch(asError);
    });
    return out;
  },
  readdir: (abs) => fsp.readdir(abs),
  async openRead(abs, flags) {
    const handle = await fsp.open(abs, flags);
    return {
      stat: () => handle.stat(),
      read: async (buf, at, length, position) => (await handle.read(buf, at, length, position)).bytesRead,
      close: () => handle.close(),
    };
  },
  async createTemp(abs) {
    const handle = await fsp.open(abs, "wx", 0o666);
    let open = true;
    return {
      write: async (chunk, at, length, position) => (await handle.write(chunk, at, length, position)).bytesWritten,
      chmod: (mode) => handle.chmod(mode),
      close: async () => {
        if (open) await handle.close();
        open = false;
      },
    };
  },
  rename: (from, to) => fsp.rename(from, to),
  async createFile(abs, data, mode, mtimeSeconds) {
    const handle = await fsp.open(abs, CREATE_NEW, 0o600);
    try {
      for (let at = 0; at < data.length; ) at += (await handle.write(data, at, data.length - at, at)).bytesWritten;
      if (mode !== undefined) await handle.chmod(mode);
      await handle.utimes(Date.now() / 1000, mtimeSeconds);
      await handle.close();
    } catch (e) {
      await handle.close().catch(() => undefined);
      await fsp.unlink(abs).catch(() => undefined);
      throw e;
    }
  },
};

export function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
