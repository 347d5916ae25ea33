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
 * and only the calls documented to follow a final symlink (`stat`) do so: a symlink where a
 * directory is needed is not a directory, so such a path fails with NOT_A_DIRECTORY. The one
 * exception to "paths returned are safe" is `list`, which returns names as stored, so that a
 * caller can report a name it cannot use (not NFC, a backslash) instead of losing it silently;
 * every call given such a name fails with UNSAFE_PATH.
 *
 * Errors. Every failure MUST be an IbtError: NOT_FOUND when the path (or its parent) does not
 * exist, EXISTS when an exclusive create finds something, NOT_A_DIRECTORY / IS_A_DIRECTORY when
 * the type is wrong, UNSUPPORTED for what `capabilities` says is missing, READ_ONLY for writes to
 * a read-only adapter, IO for anything else the platform reports. IS_A_DIRECTORY means "a file
 * was expected", so file calls given a symlink (which they do not follow) fail with it too.
 * EXISTS also covers removing a non-empty directory without `recursive` (as Go's os.IsExist
 * covers ENOTEMPTY). BAD_ARGUMENT is for calls that are wrong whatever the tree holds: a negative
 * offset, a mode outside 0o7777, an empty symlink target, removing or renaming the root.
 * Checks run in this order: UNSAFE_PATH, then READ_ONLY, then UNSUPPORTED, then the rest, so a
 * refused call never touches storage.
 */
import type { ByteSource } from "../bytes.js";
import type { IbtError } from "../errors.js";

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

/** One entry of `listStat`: its name as stored, and what `lstat` gives for it or how it failed. */
export interface ListedEntry {
  name: string;
  /** Present exactly when `error` is absent. */
  stat?: FsStat;
  /** The IbtError `lstat(joinPath(dir, name))` would throw (UNSAFE_PATH, NOT_FOUND, UNSUPPORTED…). */
  error?: IbtError;
}

export interface ReadStreamOptions {
  /**
   * The caller only reads each chunk, and not once it has asked for the next one or left the
   * stream (a hash, a delta job copying it in). The adapter MAY then hand out views of memory it
   * keeps and reuses, for later chunks and later streams, so that reading many files need not
   * take fresh memory for every chunk.
   */
  transient?: boolean;
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

  /**
   * OPTIONAL fast path for walkers: `list(path)` and then `lstat` of each entry, in one call, so
   * a tree of many small files costs one round trip per directory instead of one per entry.
   * Where present it MUST give the same names as `list` and, for each, what `lstat` of the joined
   * path gives at that moment, or its error in `error` (an entry that vanished in between is
   * NOT_FOUND there). The directory itself fails as `list` does. Callers use `listWithStats`,
   * which falls back to `list` + `lstat` for adapters without it.
   */
  listStat?(path: string): Promise<ListedEntry[]>;

  /**
   * Metadata of `path` itself; a symlink is reported as a symlink. An entry that is none of the
   * three types (a socket, a device, a FIFO) fails with UNSUPPORTED. Where
   * `capabilities.changeTimes`, every entry has `ctimeMs` and `ino`.
   */
  lstat(path: string): Promise<FsStat>;

  /**
   * Metadata of what `path` finally names: a final symlink is followed (and a final symlink it
   * names, up to 40 hops, then IO), its target resolved lexically from the link's directory with
   * `resolveLinkTarget`. A target that is absolute, climbs out of the root or does not exist
   * fails with NOT_FOUND; symlinks in the resolved path's parent segments are not followed.
   */
  stat(path: string): Promise<FsStat>;

  /**
   * Up to `length` bytes of file `path` from `offset`. MUST return exactly `length` bytes unless
   * the file ends first (an offset at or past the end gives an empty array), and a fresh array
   * the caller owns. `offset` and `length` are non-negative safe integers (else BAD_ARGUMENT).
   */
  read(path: string, offset: number, length: number): Promise<Uint8Array>;

  /**
   * The whole file as chunks, read as they are consumed: fresh arrays the caller owns, unless
   * `options.transient`.
   */
  readStream(path: string, options?: ReadStreamOptions): AsyncIterable<Uint8Array>;

  /**
   * Creates or replaces file `path` with `data`, whole or not at all: until the returned promise
   * resolves, readers see the old content (or nothing); if it rejects, the old content (or
   * nothing) remains and no temporary file is left behind. The parent directory MUST exist.
   * Replacing a directory fails with IS_A_DIRECTORY; a symlink at `path` is replaced itself, never
   * written through. An error thrown by `data` is rethrown unchanged. While a write is in flight
   * `list` MAY show a temporary entry beside `path`; none remains once the promise settles. The
   * adapter keeps no reference to `data` or its chunks. Without `options.mode` the new file gets
   * the platform's default permissions, not the replaced file's. A call refused up front (an
   * unsafe path, READ_ONLY, a bad mode) does not read `data`.
   */
  writeFile(path: string, data: Uint8Array | ByteSource, options?: WriteOptions): Promise<void>;

  /**
   * Creates directory `path`; EXISTS if anything is there already, NOT_FOUND if the parent is
   * missing. With `recursive`, creates its missing parents too and succeeds if `path` is already
   * a directory (EXISTS if it is anything else).
   */
  mkdir(path: string, options?: { recursive?: boolean }): Promise<void>;

  /**
   * Removes `path`: a file, a symlink (not its target), or an empty directory; with `recursive`,
   * a directory and everything in it, never following a symlink inside it. NOT_FOUND if it does
   * not exist, EXISTS for a non-empty directory without `recursive`, BAD_ARGUMENT for the root.
   */
  remove(path: string, options?: { recursive?: boolean }): Promise<void>;

  /**
   * Moves `from` to `to`, replacing a file or symlink at `to`, atomically where the platform can.
   * A directory at `to` is never replaced (IS_A_DIRECTORY); a directory `from` onto a file fails
   * with NOT_A_DIRECTORY; moving a directory into itself, or the root, fails with BAD_ARGUMENT.
   * `from` equal to `to` is a no-op once `from` is known to exist.
   */
  rename(from: string, to: string): Promise<void>;

  /**
   * Creates symlink `path` pointing at `target`, stored verbatim and never resolved here: it may
   * be absolute or climb out of the root, since only `stat` ever follows it, and only within the
   * root. `target` MUST be non-empty and free of NUL (else BAD_ARGUMENT). EXISTS if anything is
   * at `path`.
   */
  symlink(target: string, path: string): Promise<void>;

  /** The target of symlink `path`, verbatim; BAD_ARGUMENT if `path` is not a symlink. */
  readlink(path: string): Promise<string>;

  /**
   * Sets permission bits, an integer in 0..0o7777 (UNSUPPORTED without `capabilities.modes`). A
   * symlink fails with UNSUPPORTED: following it could leave the root, and Linux symlinks have
   * no bits of their own.
   */
  chmod(path: string, mode: number): Promise<void>;

  /**
   * Sets the modification time of `path` itself, not a symlink's target (UNSUPPORTED without
   * `capabilities.mtimes`); `mtimeMs` is a finite number. `lstat` then reports it to the
   * platform's resolution (integral milliseconds MUST round-trip exactly).
   */
  utimes(path: string, mtimeMs: number): Promise<void>;
}
