/**
 * The FsAdapter over a real directory, through `node:fs` (its promise API, or with the `sync`
 * option its synchronous calls for the frequent ones, fs-calls.ts) and `node:path` only, so that
 * Deno's Node compatibility layer runs it too. Data crosses as plain Uint8Array, never Buffer.
 *
 * Confinement. Paths pass `checkPath`, so none can name anything outside the root lexically;
 * what is left is the kernel following symlinks. Every call therefore `lstat`s each parent
 * segment and refuses one that is not a real directory (a symlink to "..", or to "/etc", is not
 * a directory here), final segments are never followed (files are opened with O_NOFOLLOW,
 * symlinks are `lstat`ed, `lutimes`d, unlinked, renamed as themselves), and `stat` follows a
 * final link only after resolving it within the root. The checks come before the operation, so
 * a process rearranging the tree at the same moment could slip a symlink between the two; the
 * root is assumed to be a tree nobody hostile writes to while we work, and O_NOFOLLOW closes
 * that gap for the last segment of reads.
 *
 * Writes go to a temporary file beside the target (temp-name.ts), then a rename, so a failed
 * write leaves the old file and no temporary one.
 */
// fs.promises, not "node:fs/promises": the command-line bundle then loads the promise API (and
// the stream and readline modules it brings) only when a call first needs it.
import { constants, promises as fsp, type Stats } from "node:fs";
import { dirname, isAbsolute, join, resolve, sep } from "node:path";
import { IbtError, type ErrorCode } from "../errors.js";
import { chunksOf, type ByteSource } from "../bytes.js";
import { checkCapability, checkLinkTarget, checkMode, checkMtime, checkRange, checkWritable, unsupportedError } from "../fs/arguments.js";
import { statFollowingLinks } from "../fs/follow.js";
import { baseName, checkPath, joinPath } from "../fs/paths.js";
import type { WholeFile } from "../fs/list-stat.js";
import type { EntryType, FsAdapter, FsCapabilities, FsStat, ListedEntry, ReadStreamOptions, WriteOptions } from "../fs/types.js";
import { BufferPool } from "./buffer-pool.js";
import { tempName } from "./temp-name.js";
import { asyncCalls, type FsCalls, type ReadableFile, type TempFile } from "./fs-calls.js";
import { syncCalls } from "./sync-files.js";
import { CreateWorker } from "./create-worker.js";

export interface NodeFsOptions {
  /** Refuse every write with READ_ONLY (default false): for trees that must not change. */
  readOnly?: boolean;
  /**
   * Make the frequent system calls (lstat, list, reading and writing files) synchronously
   * (default false). Indexing a tree of many small files is bound by the thread-pool round trip
   * of each call, which on a local disk costs more than the call itself; a short-lived
   * command-line run that owns its process can take the brief block of the event loop. Leave it
   * off on network file systems and in servers. Writes still go through a temporary file and a
   * rename, whole or not at all.
   */
  sync?: boolean;
  /**
   * Make `createFile`'s system calls for files up to 64 KiB on a worker thread (default false),
   * so that a caller that keeps several creates in flight (a restore) overlaps them with its own
   * work and uses a second core. The first create starts the worker; creates are made on the
   * calling thread until it runs. For a command-line run that owns its process, as `sync`.
   */
  createInWorker?: boolean;
}

/**
 * Larger files are created on the calling thread even with `createInWorker`: a message to the
 * worker copies their bytes, which costs more than the write it would take off this thread.
 */
const WORKER_FILE_MAX = 64 * 1024;

const READ_CHUNK = 256 * 1024;
const WRITE_GATHER = 256 * 1024;

// O_NOFOLLOW makes the open itself refuse a final symlink; O_NONBLOCK keeps a FIFO from blocking
// the open (it changes nothing for regular files). Both are missing on Windows.
const flags = constants as Partial<typeof constants> | undefined;
const OPEN_READ = (flags?.O_RDONLY ?? 0) | (flags?.O_NOFOLLOW ?? 0) | (flags?.O_NONBLOCK ?? 0);

// Windows has no permission bits, and symlinks there need privileges; untested there.
const POSIX = sep === "/";

// Deno runs this file through its Node layer, with two differences the Deno suite found: unless
// it has every permission, Deno resolves the path to check it and opens the resolved file, so
// O_NOFOLLOW does not refuse a final symlink (the open is checked against lstat instead); and
// its ctime has whole-second resolution, too coarse to promise `changeTimes`.
const DENO = typeof (globalThis as { Deno?: unknown }).Deno === "object";

export class NodeFs implements FsAdapter {
  readonly capabilities: FsCapabilities;
  /** The absolute directory every path is relative to. */
  readonly root: string;
  /** The system calls this adapter makes: synchronous or through the promise API. */
  private readonly calls: FsCalls;
  /** What transient streams read into. */
  private readonly buffers = new BufferPool(READ_CHUNK);
  /** Where `createFile` runs with the `createInWorker` option. */
  private readonly creator: CreateWorker | undefined;

  constructor(root: string, options: NodeFsOptions = {}) {
    if (typeof root !== "string" || !isAbsolute(root)) {
      throw new IbtError("BAD_ARGUMENT", `NodeFs: the root must be an absolute path: ${root}`, { caller: "NodeFs" });
    }
    this.root = resolve(root);
    this.capabilities = { symlinks: POSIX, modes: POSIX, mtimes: true, changeTimes: !DENO, writable: !options.readOnly };
    this.calls = options.sync ? syncCalls : asyncCalls;
    this.creator = options.createInWorker ? new CreateWorker() : undefined;
  }

  /**
   * Stops the thread that `createInWorker` started, if any (a command that is done need not wait
   * for one still starting). The adapter stays usable.
   */
  async close(): Promise<void> {
    await this.creator?.close();
  }

  async list(path: string): Promise<string[]> {
    return (await this.readDir(path)).names;
  }

  /**
   * `list` and an lstat of every entry, locating the directory once and stating the entries
   * together (`lstatMany`).
   */
  async listStat(path: string): Promise<ListedEntry[]> {
    const { abs, names } = await this.readDir(path);
    const out: ListedEntry[] = names.map((name) => ({ name }));
    // Each name's relative path is made and checked once: a name that is no safe path is
    // refused before it reaches the file system, as lstat would refuse it.
    const todo: { entry: ListedEntry; rel: string; abs: string }[] = [];
    for (const entry of out) {
      const rel = joinPath(path, entry.name);
      try {
        todo.push({ entry, rel: checkPath(rel), abs: this.child(abs, entry.name) });
      } catch (e) {
        entry.error = fsFailure(e, rel, "lstat");
      }
    }
    const fill = ({ entry, rel }: (typeof todo)[number], got: Stats | Error) => {
      try {
        if (got instanceof Error) throw got;
        entry.stat = toFsStat(got, rel);
      } catch (e) {
        entry.error = fsFailure(e, rel, "lstat");
      }
    };
    const stats = await this.calls.lstatMany(todo.map((t) => t.abs));
    todo.forEach((t, i) => fill(t, stats[i]!));
    return out;
  }

  /** The directory `path` located (absolute) and read; it must be a real directory. */
  private async readDir(path: string): Promise<{ abs: string; names: string[] }> {
    const abs = await this.locate(checkPath(path), "list");
    let names: string[];
    try {
      const st = await this.calls.lstat(abs);
      if (!st.isDirectory()) throw new IbtError("NOT_A_DIRECTORY", `list: not a directory: ${path}`, { path, caller: "list" });
      names = await this.calls.readdir(abs);
    } catch (e) {
      throw fsFailure(e, path, "list");
    }
    if (path !== "") this.knownDirs.add(path); // its entries' parent check is done
    return { abs, names };
  }

  async lstat(path: string): Promise<FsStat> {
    const abs = await this.locate(checkPath(path), "lstat");
    let st: Stats;
    try {
      st = await this.calls.lstat(abs);
    } catch (e) {
      throw fsFailure(e, path, "lstat");
    }
    return toFsStat(st, path);
  }

  stat(path: string): Promise<FsStat> {
    return statFollowingLinks(this, path);
  }

  async read(path: string, offset: number, length: number): Promise<Uint8Array> {
    checkPath(path);
    checkRange(offset, length, "read", path);
    const { file, size } = await this.openFile(path, "read");
    try {
      // Sized by the file, not by `length`: asking for a huge range of a small file is fine.
      const buf = new Uint8Array(Math.max(0, Math.min(length, size - offset)));
      let got = 0;
      while (got < buf.length) {
        const bytesRead = await file.read(buf, got, buf.length - got, offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return got === buf.length ? buf : buf.subarray(0, got);
    } catch (e) {
      throw fsFailure(e, path, "read");
    } finally {
      await closeQuietly(file);
    }
  }

  async *readStream(path: string, options?: ReadStreamOptions): AsyncIterable<Uint8Array> {
    const { file, size } = await this.openFile(checkPath(path), "readStream");
    const lent = options?.transient ? this.buffers.take(size + 1) : undefined;
    try {
      // Chunks sized by what is left (plus one byte to see the end), so a small file does not
      // cost a 256 KiB allocation: fresh large buffers are what indexing many files pays most for.
      let left = size;
      for (;;) {
        const want = Math.min(READ_CHUNK, left + 1);
        const buf = lent ? lent.subarray(0, want) : new Uint8Array(want);
        let bytesRead: number;
        try {
          // A synchronous answer is taken as it is: an await would cost a turn of the microtask
          // queue per call, which a walk over many small files makes often.
          const got = file.read(buf, 0, want, null);
          bytesRead = typeof got === "number" ? got : await got;
        } catch (e) {
          throw fsFailure(e, path, "readStream");
        }
        left = Math.max(0, left - bytesRead);
        if (bytesRead === 0) return;
        // A short read of a regular file is its end: once it brings the size the fstat gave,
        // another read to see nothing come back is a call per file for nothing.
        const end = bytesRead < want && left === 0;
        yield bytesRead === want ? buf : buf.subarray(0, bytesRead);
        if (end) return;
      }
    } finally {
      if (lent) this.buffers.give(lent);
      const closing = closeQuietly(file);
      if (closing) await closing;
    }
  }

  /**
   * A small file whole, with the metadata of the file read (the walker's fast path, see
   * `ReadWhole` in list-stat.ts): open, one read, fstat, close, where `readStream` and an lstat
   * after it make six calls. The fstat comes after the read, so it also tells a file that
   * changed meanwhile, and a FIFO or a device is refused before its bytes are handed out.
   */
  async readWhole(path: string, size: number): Promise<WholeFile> {
    checkPath(path);
    checkRange(0, size, "readStream", path);
    const { file, abs } = await this.openNoFollow(path, "readStream");
    try {
      const buf = new Uint8Array(size + 1);
      let got = 0;
      let failed: { error: unknown } | undefined;
      try {
        const n = this.readAt(file, buf, 0);
        got = typeof n === "number" ? n : await n;
      } catch (e) {
        failed = { error: e }; // reported once the fstat has said what was read
      }
      const st = await this.checkOpened(file, abs, path, "readStream");
      if (failed) throw failed.error;
      // A read that stops short of the file's size (a platform that hands out part of it)
      // goes on up to that size, and one byte past what was expected.
      while (got < buf.length && got < st.size) {
        const r = this.readAt(file, buf, got);
        const n = typeof r === "number" ? r : await r;
        if (n === 0) break;
        got += n;
      }
      return { data: got === buf.length ? buf : buf.subarray(0, got), stat: toFsStat(st, path) };
    } catch (e) {
      throw fsFailure(e, path, "readStream");
    } finally {
      const closing = closeQuietly(file);
      if (closing) await closing;
    }
  }

  /** One positional read into `buf` from offset `at`, answered synchronously where it can be. */
  private readAt(file: ReadableFile, buf: Uint8Array, at: number): number | Promise<number> {
    return file.read(buf, at, buf.length - at, at);
  }

  async writeFile(path: string, data: Uint8Array | ByteSource, options: WriteOptions = {}): Promise<void> {
    checkPath(path);
    checkWritable(this.capabilities.writable, "writeFile", path);
    const mode = options.mode === undefined ? undefined : checkMode(options.mode, "writeFile", path);
    if (path === "") throw notFile(path, "dir", "writeFile");
    const abs = await this.locate(path, "writeFile");
    // Fail before reading the source when the rename could not succeed.
    if ((await this.lstatOrUndefined(abs, path, "writeFile"))?.isDirectory()) throw notFile(path, "dir", "writeFile");
    const temp = join(dirname(abs), tempName(baseName(path)));
    let file: TempFile | undefined;
    let created = false;
    try {
      file = await this.calls.createTemp(temp);
      created = true;
      let position = 0;
      const write = async (chunk: Uint8Array) => {
        for (let at = 0; at < chunk.length; ) {
          const written = await file!.write(chunk, at, chunk.length - at, position);
          at += written;
          position += written;
        }
      };
      // Small chunks (a ZIP writer emits headers of a few dozen bytes) are gathered into one
      // buffer first: each write is a thread-pool round trip, whatever its size. They are copied,
      // so a source may reuse its buffers once the next chunk is asked for.
      let gather = new Uint8Array(0); // grows by doubling up to WRITE_GATHER: small files stay cheap
      let gathered = 0;
      const flush = async () => {
        if (gathered > 0) await write(gather.subarray(0, gathered));
        gathered = 0;
      };
      const put = async (chunk: Uint8Array) => {
        if (chunk.length >= WRITE_GATHER / 4) {
          await flush();
          return write(chunk);
        }
        if (gathered + chunk.length > WRITE_GATHER) await flush();
        if (gathered + chunk.length > gather.length) {
          const grown = new Uint8Array(Math.min(WRITE_GATHER, Math.max(16384, 2 * (gathered + chunk.length))));
          grown.set(gather.subarray(0, gathered));
          gather = grown;
        }
        gather.set(chunk, gathered);
        gathered += chunk.length;
      };
      // Errors the source throws pass through unchanged; only our own calls are mapped.
      const ours = async (work: () => unknown) => {
        try {
          await work();
        } catch (e) {
          throw fsFailure(e, path, "writeFile");
        }
      };
      if (data instanceof Uint8Array) await ours(() => write(data));
      else for await (const chunk of chunksOf(data)) await ours(() => put(chunk));
      await ours(flush);
      // chmod, not the open's mode argument, which the umask would cut.
      if (mode !== undefined) await ours(() => file!.chmod(mode));
      const f = file;
      file = undefined;
      await ours(() => f.close());
      await ours(() => this.calls.rename(temp, abs));
    } catch (e) {
      try {
        await file?.close();
      } catch {
        // the write failed already; that error is the one to report
      }
      if (created) await fsp.unlink(temp).catch(() => undefined);
      // Our calls were mapped as they failed, the source's errors pass unchanged; only a failed
      // open is still a raw platform error here.
      throw created ? e : fsFailure(e, path, "writeFile");
    }
  }

  /**
   * A new file whole, with its mode and mtime (see `CreateFile` in fs/entry.ts): create, write,
   * fchmod, futimes and close on one descriptor, where `writeFile` and `utimes` after it take an
   * lstat, a temporary file, a rename and another lstat besides.
   */
  async createFile(path: string, data: Uint8Array, meta: { mode: number; mtimeMs: number }): Promise<void> {
    checkPath(path);
    checkWritable(this.capabilities.writable, "writeFile", path);
    const mode = checkMode(meta.mode, "writeFile", path);
    checkMtime(meta.mtimeMs, "utimes", path);
    if (path === "") throw new IbtError("EXISTS", "writeFile: the root exists", { path, caller: "writeFile" });
    const abs = await this.locate(path, "writeFile");
    try {
      const args = [abs, data, this.capabilities.modes ? mode : undefined, seconds(meta.mtimeMs)] as const;
      const made = data.length <= WORKER_FILE_MAX && this.creator?.ready() ? this.creator.createFile(...args) : this.calls.createFile(...args);
      if (made) await made;
    } catch (e) {
      throw fsFailure(e, path, "writeFile");
    }
  }

  async mkdir(path: string, options: { recursive?: boolean } = {}): Promise<void> {
    checkPath(path);
    checkWritable(this.capabilities.writable, "mkdir", path);
    if (options.recursive) return this.makeDirs(path);
    if (path === "") throw new IbtError("EXISTS", "mkdir: the root exists", { path, caller: "mkdir" });
    const abs = await this.locate(path, "mkdir");
    await fsp.mkdir(abs).catch(failWith(path, "mkdir"));
  }

  async remove(path: string, options: { recursive?: boolean } = {}): Promise<void> {
    checkPath(path);
    checkWritable(this.capabilities.writable, "remove", path);
    if (path === "") throw new IbtError("BAD_ARGUMENT", "remove: cannot remove the root", { path, caller: "remove" });
    const abs = await this.locate(path, "remove");
    const fail = failWith(path, "remove");
    const st = await lstatOf(abs, path, "remove");
    if (!st.isDirectory()) await fsp.unlink(abs).catch(fail);
    // rm removes links inside the tree as links; it never descends into their targets.
    else if (options.recursive) await fsp.rm(abs, { recursive: true }).catch(fail);
    else await fsp.rmdir(abs).catch(fail);
  }

  async rename(from: string, to: string): Promise<void> {
    checkPath(from);
    checkPath(to);
    checkWritable(this.capabilities.writable, "rename", from);
    if (from === "") throw new IbtError("BAD_ARGUMENT", "rename: cannot move the root", { path: from, caller: "rename" });
    const fromAbs = await this.locate(from, "rename");
    const moving = await lstatOf(fromAbs, from, "rename");
    if (from === to) return;
    if (moving.isDirectory() && to.startsWith(`${from}/`)) {
      throw new IbtError("BAD_ARGUMENT", `rename: cannot move directory ${from} into itself (${to})`, { path: from, caller: "rename" });
    }
    const isDir = new IbtError("IS_A_DIRECTORY", `rename: a directory is never replaced: ${to}`, { path: to, caller: "rename" });
    if (to === "") throw isDir;
    const toAbs = await this.locate(to, "rename");
    // POSIX rename would replace an empty directory; the contract never replaces one.
    if ((await this.lstatOrUndefined(toAbs, to, "rename"))?.isDirectory()) throw isDir;
    await fsp.rename(fromAbs, toAbs).catch(failWith(to, "rename"));
  }

  async symlink(target: string, path: string): Promise<void> {
    checkPath(path);
    checkWritable(this.capabilities.writable, "symlink", path);
    checkCapability(this.capabilities.symlinks, "symlinks", "symlink", path);
    checkLinkTarget(target, "symlink", path);
    if (path === "") throw new IbtError("EXISTS", "symlink: the root exists", { path, caller: "symlink" });
    const abs = await this.locate(path, "symlink");
    await fsp.symlink(target, abs).catch(failWith(path, "symlink"));
  }

  async readlink(path: string): Promise<string> {
    checkPath(path);
    checkCapability(this.capabilities.symlinks, "symlinks", "readlink", path);
    const abs = await this.locate(path, "readlink");
    if (!(await lstatOf(abs, path, "readlink")).isSymbolicLink()) {
      throw new IbtError("BAD_ARGUMENT", `readlink: not a symlink: ${path}`, { path, caller: "readlink" });
    }
    return fsp.readlink(abs).catch(failWith(path, "readlink"));
  }

  async chmod(path: string, mode: number): Promise<void> {
    checkPath(path);
    checkWritable(this.capabilities.writable, "chmod", path);
    checkCapability(this.capabilities.modes, "modes", "chmod", path);
    checkMode(mode, "chmod", path);
    const abs = await this.locate(path, "chmod");
    // chmod(2) follows symlinks and Linux has no lchmod: a link is refused, never followed.
    if ((await lstatOf(abs, path, "chmod")).isSymbolicLink()) throw unsupportedError("modes on symlinks", "chmod", path);
    await fsp.chmod(abs, mode).catch(failWith(path, "chmod"));
  }

  async utimes(path: string, mtimeMs: number): Promise<void> {
    checkPath(path);
    checkWritable(this.capabilities.writable, "utimes", path);
    checkCapability(this.capabilities.mtimes, "settable times", "utimes", path);
    checkMtime(mtimeMs, "utimes", path);
    const abs = await this.locate(path, "utimes");
    const st = await lstatOf(abs, path, "utimes");
    const fail = failWith(path, "utimes");
    if (typeof fsp.lutimes === "function") {
      await fsp.lutimes(abs, seconds(st.atimeMs), seconds(mtimeMs)).catch(fail);
    } else if (st.isSymbolicLink()) {
      throw unsupportedError("times on symlinks", "utimes", path); // utimes would set the target's
    } else {
      await fsp.utimes(abs, seconds(st.atimeMs), seconds(mtimeMs)).catch(fail);
    }
  }

  /**
   * The native path of `path` once every parent segment is known to be a real directory, not a
   * symlink; the root itself is trusted.
   */
  /**
   * Directories (root-relative) this adapter has seen to be real directories. Checking every
   * parent segment on every call dominated the time to index a tree of small files; the cache
   * is dropped by every call that removes, renames or replaces anything, so only a concurrent
   * outside process could swap a directory for a symlink unseen, which the check-then-act
   * design cannot exclude anyway (see above).
   */
  private readonly knownDirs = new Set<string>();
  /** Checks of parent directories in flight, so concurrent calls under one new directory share one. */
  private readonly checking = new Map<string, Promise<Stats>>();

  private async locate(path: string, caller: string): Promise<string> {
    if (path === "") return this.root;
    if (caller === "remove" || caller === "rename" || caller === "symlink") this.forgetDirs();
    const segs = path.split("/");
    // Plain concatenation: the segments are checked names and the root is resolved, so
    // path.join's normalisation would change nothing (and costs more than the check itself).
    let at = this.root;
    let rel = "";
    for (let i = 0; i < segs.length - 1; i++) {
      at = this.child(at, segs[i]!);
      rel = rel === "" ? segs[i]! : `${rel}/${segs[i]!}`;
      if (this.knownDirs.has(rel)) continue;
      let st: Stats;
      try {
        st = await this.parentStat(at, rel);
      } catch (e) {
        throw fsFailure(e, path, caller); // named after this call's path, not the first caller's
      }
      if (st.isDirectory()) this.knownDirs.add(rel);
      else {
        const what = segs.slice(0, i + 1).join("/");
        throw new IbtError("NOT_A_DIRECTORY", `${caller}: ${what} is not a directory (symlinks are not followed here): ${path}`, { path, caller });
      }
    }
    return this.child(at, segs[segs.length - 1]!);
  }

  /** `abs` joined with one checked name (only a root like "/" already ends with the separator). */
  private child(abs: string, name: string): string {
    return abs.endsWith(sep) ? abs + name : abs + sep + name;
  }

  /** lstat of a parent directory; concurrent asks for one directory share one call. */
  private parentStat(abs: string, rel: string): Stats | Promise<Stats> {
    const shared = this.checking.get(rel);
    if (shared) return shared;
    const check = this.calls.lstat(abs);
    if (!(check instanceof Promise)) return check; // a synchronous answer has nothing to share
    this.checking.set(rel, check);
    check.finally(() => this.checking.delete(rel)).catch(() => undefined); // each caller sees the error
    return check;
  }

  /** lstat of `abs`, undefined if nothing is there. */
  private async lstatOrUndefined(abs: string, path: string, caller: string): Promise<Stats | undefined> {
    try {
      return await this.calls.lstat(abs);
    } catch (e) {
      if (errnoOf(e) === "ENOENT") return undefined;
      throw fsFailure(e, path, caller);
    }
  }

  private forgetDirs(): void {
    this.knownDirs.clear();
    this.checking.clear();
  }

  /** Opens a regular file for reading, never through a final symlink. */
  private async openFile(path: string, caller: string): Promise<{ file: ReadableFile; size: number }> {
    const { file, abs } = await this.openNoFollow(path, caller);
    try {
      return { file, size: (await this.checkOpened(file, abs, path, caller)).size };
    } catch (e) {
      await closeQuietly(file);
      throw fsFailure(e, path, caller);
    }
  }

  /** Opens `path` for reading, refusing a final symlink; what it is gets checked after. */
  private async openNoFollow(path: string, caller: string): Promise<{ file: ReadableFile; abs: string }> {
    const abs = await this.locate(path, caller);
    try {
      const opened = this.calls.openRead(abs, OPEN_READ);
      return { file: opened instanceof Promise ? await opened : opened, abs };
    } catch (e) {
      throw errnoOf(e) === "ELOOP" ? notFile(path, "symlink", caller) : fsFailure(e, path, caller);
    }
  }

  /** The fstat of an opened file, which must be a regular file and (under Deno) not a symlink's target. */
  private async checkOpened(file: ReadableFile, abs: string, path: string, caller: string): Promise<Stats> {
    const got = file.stat();
    const st = got instanceof Promise ? await got : got;
    if (DENO && !sameFile(await this.calls.lstat(abs), st)) throw notFile(path, "symlink", caller);
    if (st.isFile()) return st;
    throw st.isDirectory() ? notFile(path, "dir", caller) : unsupportedError("files of this type", caller, path);
  }

  /** mkdir -p, one segment at a time so that no symlink along the way is followed. */
  private async makeDirs(path: string): Promise<void> {
    const segs = path === "" ? [] : path.split("/");
    let at = this.root;
    for (const [i, seg] of segs.entries()) {
      at = join(at, seg);
      let st = await this.lstatOrUndefined(at, path, "mkdir");
      if (!st) {
        const made = await fsp.mkdir(at).then(
          () => true,
          (e: unknown) => {
            if (errnoOf(e) !== "EEXIST") throw fsFailure(e, path, "mkdir");
            return false; // created by someone else meanwhile: look at what it is
          },
        );
        if (made) continue;
        st = await lstatOf(at, path, "mkdir");
      }
      if (!st.isDirectory()) {
        const last = i === segs.length - 1;
        throw new IbtError(last ? "EXISTS" : "NOT_A_DIRECTORY", `mkdir: ${segs.slice(0, i + 1).join("/")} exists and is not a directory`, { path, caller: "mkdir" });
      }
    }
  }
}

/** Whether the path's own entry (`link`, from lstat) is the file that was opened (`opened`). */
function sameFile(link: Stats, opened: Stats): boolean {
  return !link.isSymbolicLink() && link.ino === opened.ino && link.dev === opened.dev;
}

/** Closes a file whose error, if any, is not the one to report. */
function closeQuietly(file: ReadableFile): Promise<void> | undefined {
  try {
    const closing = file.close();
    return closing instanceof Promise ? closing.catch(() => undefined) : undefined;
  } catch {
    return undefined; // the read is done or failed already
  }
}

function toFsStat(st: Stats, path: string): FsStat {
  const type: EntryType | undefined = st.isFile() ? "file" : st.isDirectory() ? "dir" : st.isSymbolicLink() ? "symlink" : undefined;
  if (!type) throw unsupportedError("entries of this type (socket, device or FIFO)", "lstat", path);
  // ino is exact below 2^53, which covers the inode numbers of the file systems in use.
  return { type, size: type === "dir" ? 0 : st.size, mtimeMs: msOf(st.mtimeMs), mode: st.mode & 0o7777, ctimeMs: st.ctimeMs, ino: st.ino };
}

function lstatOf(abs: string, path: string, caller: string): Promise<Stats> {
  return fsp.lstat(abs).catch(failWith(path, caller));
}


/**
 * Milliseconds to the seconds Node's time calls take. Seconds near 1.7e9 carry about an eighth of
 * a microsecond of rounding error, and Node versions differ in what they do with the rest (some
 * truncate to whole microseconds, others keep nanoseconds), so aim a quarter microsecond up:
 * truncation then lands on the intended microsecond, and `msOf` rounds a nanosecond time back.
 */
function seconds(ms: number): number {
  return (ms + 0.00025) / 1000;
}

/** A time as stat reports it, to the microsecond, so integral milliseconds round-trip exactly. */
function msOf(statMs: number): number {
  return Math.round(statMs * 1000) / 1000;
}

function notFile(path: string, type: EntryType, caller: string): IbtError {
  return new IbtError("IS_A_DIRECTORY", `${caller}: a file was expected, found a ${type}: ${path}`, { path, caller });
}

function errnoOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

const ERRNO_CODES: Record<string, ErrorCode> = {
  ENOENT: "NOT_FOUND",
  EEXIST: "EXISTS",
  ENOTEMPTY: "EXISTS",
  ENOTDIR: "NOT_A_DIRECTORY",
  EISDIR: "IS_A_DIRECTORY",
};

/** Maps a Node error to an IbtError; anything without a better code (EACCES, EROFS, ...) is IO. */
function fsFailure(e: unknown, path: string, caller: string): IbtError {
  if (e instanceof IbtError) return e;
  const code = ERRNO_CODES[errnoOf(e) ?? ""] ?? "IO";
  const message = e instanceof Error ? e.message : String(e);
  return new IbtError(code, `${caller}: ${path}: ${message}`, { path, caller, cause: e });
}

function failWith(path: string, caller: string): (e: unknown) => never {
  return (e) => {
    throw fsFailure(e, path, caller);
  };
}
