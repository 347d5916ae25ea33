/**
 * The file-system adapter contract: the only way the index, archive and repository layers touch
 * files. One narrow interface, implemented for Node's fs (also under Deno), memory, browser
 * directory handles (OPFS and picked folders) and the read-only `File` list of an
 * `<input webkitdirectory>`.
 *
 * Paths. Every path an adapter receives or returns is relative to the adapter's root,
 * `/`-separated, NFC, with no empty, `.` or `..` segments and no leading or trailing `/`; the
 * root itself is the empty string "". Adapters MUST refuse any other path with an IbtError of
 * code UNSAFE_PATH before touching storage (see `checkPath` in paths.ts), so no adapter call can
 * reach outside its root. Adapters MUST NOT follow a symlink in any path segment but the last,
 * and only the calls documented to follow a final symlink (`stat`) do so.
 *
 * Errors. Every failure MUST be an IbtError: NOT_FOUND when the path (or its parent) does not
 * exist, EXISTS when an exclusive create finds something, NOT_A_DIRECTORY / IS_A_DIRECTORY when
 * the type is wrong, UNSUPPORTED for what `capabilities` says is missing, READ_ONLY for writes to
 * a read-only adapter, IO for anything else the platform reports.
 */
import type { ByteSource } from "../rsync/bytes.js";

export type EntryType = "file" | "dir" | "symlink";

export interface FsStat {
  type: EntryType;
  /** Bytes: a file's length, a symlink's target length, 0 for directories. */
  size: number;
  /** Modification time in milliseconds since the epoch (may have a fraction). */
  mtimeMs: number;
  /** Permission bits (0o7777 mask); 0 where the platform has none. */
  mode: number;
  /** Status-change time, where the platform has it: it changes on every write and chmod. */
  ctimeMs?: number;
  /** Inode or file id, where the platform has it. */
  ino?: number;
}

export interface FsCapabilities {
  /** `symlink` and `readlink` work and `lstat` reports symlinks. */
  symlinks: boolean;
  /** `chmod` keeps permission bits and `lstat` reports them. */
  modes: boolean;
  /** `utimes` sets modification times and `lstat` reports them as set. */
  mtimes: boolean;
  /** `lstat` reports `ctimeMs` and `ino`, so a changed file cannot pass as unchanged. */
  changeTimes: boolean;
  /** Every write call is refused with READ_ONLY when false. */
  writable: boolean;
}

export interface WriteOptions {
  /** Permission bits for the new file (where `capabilities.modes`). */
  mode?: number;
}

export interface FsAdapter {
  readonly capabilities: FsCapabilities;

  /**
   * The names of the entries of directory `path`, without "." and "..", in any order. MUST fail
   * with NOT_FOUND if it does not exist and NOT_A_DIRECTORY if it is not a directory.
   */
  list(path: string): Promise<string[]>;

  /** Metadata of `path` itself; a symlink is reported as a symlink. */
  lstat(path: string): Promise<FsStat>;

  /** Metadata of what `path` finally names, following a final symlink (only) within the root. */
  stat(path: string): Promise<FsStat>;

  /**
   * Up to `length` bytes of file `path` from `offset`. MUST return exactly `length` bytes unless
   * the file ends first, and a fresh array the caller owns.
   */
  read(path: string, offset: number, length: number): Promise<Uint8Array>;

  /** The whole file as chunks (fresh arrays the caller owns), read as they are consumed. */
  readStream(path: string): AsyncIterable<Uint8Array>;

  /**
   * Creates or replaces file `path` with `data`, whole or not at all: until the returned promise
   * resolves, readers see the old content (or nothing); if it rejects, the old content (or
   * nothing) remains and no temporary file is left behind. The parent directory MUST exist.
   * Replacing a directory fails with IS_A_DIRECTORY.
   */
  writeFile(path: string, data: Uint8Array | ByteSource, options?: WriteOptions): Promise<void>;

  /** Creates directory `path`; with `recursive`, its missing parents too and no error if it exists. */
  mkdir(path: string, options?: { recursive?: boolean }): Promise<void>;

  /**
   * Removes `path`: a file, a symlink (not its target), or an empty directory; with `recursive`,
   * a directory and everything in it. NOT_FOUND if it does not exist.
   */
  remove(path: string, options?: { recursive?: boolean }): Promise<void>;

  /** Moves `from` to `to`, replacing a file at `to`, atomically where the platform can. */
  rename(from: string, to: string): Promise<void>;

  /** Creates symlink `path` pointing at `target` (stored verbatim, never resolved here). */
  symlink(target: string, path: string): Promise<void>;

  /** The target of symlink `path`, verbatim. */
  readlink(path: string): Promise<string>;

  /** Sets permission bits (UNSUPPORTED without `capabilities.modes`). */
  chmod(path: string, mode: number): Promise<void>;

  /** Sets the modification time of `path` itself, not a symlink's target (UNSUPPORTED without `capabilities.mtimes`). */
  utimes(path: string, mtimeMs: number): Promise<void>;
}
