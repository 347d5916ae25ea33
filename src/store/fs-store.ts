/**
 * FsStore: a Store over any FsAdapter (a local folder through NodeFs, OPFS or a picked folder
 * through HandleFs, MemoryFs), so a repository on disk is the same tree of files it always was:
 * object `data/ab12.zip` is file `data/ab12.zip`, one to one. Saves are the adapter's
 * whole-or-nothing `writeFile` (parent directories made on demand), ranged loads are `read`,
 * streamed loads `readStream`, a prefix listing walks only the directories the prefix can reach,
 * removal is `remove`. Empty directories left by removals are kept: they are not objects, and
 * removing them would race with a save that has just made one.
 *
 * Conditional creates. `save(name, data, { ifAbsent })` needs an atomic create-if-absent, which
 * FsAdapter does not have for files. It does have one for directories: renaming a non-empty
 * directory onto a name that is taken fails on every adapter (the adapter refuses a directory
 * or file target, and rename(2) itself fails with ENOTEMPTY or ENOTDIR should two processes pass
 * that check at once). So a conditional save writes the object as the one file of a fresh
 * candidate directory, `<name>~new-<random>/~object`, and renames that directory to `<name>`:
 * of two racing creators exactly one rename succeeds, and a creator killed at any moment leaves
 * either no object or a whole one. Such an object is a directory holding `~object`; FsStore
 * hides that: load, stat, list, save over it and remove treat it as any object. Removing one
 * renames it aside first (`<name>~old-<random>`), so it vanishes in one step and is never seen
 * as an empty directory, which a rename could replace.
 *
 * The `~` that marks these names is outside the object-name alphabet, so no object can collide
 * with them and `list` never shows them; `sweep` removes candidates and retired objects that a
 * killed writer left. Adapter temporaries of an interrupted `writeFile` (NodeFs's
 * `.<name>.ibt-tmp-…`) are valid object names and are listed like objects, as they always
 * were in a repository folder: the repository removes what it does not recognise.
 *
 * Where a rename is not atomic (HandleFs without `move()` copies, and even `move()` is checked
 * before it is made), two creates in one JavaScript realm could both pass the adapter's check;
 * FsStore therefore makes the decisive check-and-rename one at a time per adapter object. Across
 * realms (two tabs on one OPFS folder) that is the adapter's own guarantee: full on NodeFs
 * (rename(2)), none on HandleFs, where callers keep writers apart themselves (the web page
 * holds a Web Lock).
 *
 * Limits of a file tree: FsStore cannot hold both `a` and `a/b` (a file cannot be a directory);
 * saving the second fails with IO. Entries that are not valid object names, symlinks, and
 * directories of foreign names are passed over by `list` and invisible to every other call.
 */
import { chunksOf, type ByteSource } from "../bytes.js";
import { IbtError } from "../errors.js";
import { joinPath, parentPath, baseName } from "../fs/paths.js";
import type { FsAdapter, FsStat } from "../fs/types.js";
import { listWithStats } from "../fs/list-stat.js";
import { checkObjectName, type LoadOptions, type SaveOptions, type Store, type StoredObject } from "./types.js";

/** The file inside a conditionally created object's directory. */
export const OBJECT_FILE = "~object";
const CANDIDATE = "~new-";
const RETIRED = "~old-";
const SEGMENT = /^[A-Za-z0-9._-]+$/;

export class FsStore implements Store {
  readonly location: string;

  constructor(
    readonly fs: FsAdapter,
    location = "file tree",
  ) {
    if (typeof fs?.writeFile !== "function" || typeof fs?.rename !== "function") {
      throw new IbtError("BAD_ARGUMENT", "FsStore needs an FsAdapter (NodeFs, MemoryFs, HandleFs)");
    }
    this.location = location;
  }

  async save(name: string, data: Uint8Array | ByteSource, options: SaveOptions = {}): Promise<void> {
    checkObjectName(name, "save");
    checkSignal(options.signal);
    if (options.ifAbsent) return this.create(name, data, options.signal);
    await this.makeParent(name);
    const at = await this.lstat(name);
    const path = at?.type === "dir" ? joinPath(name, OBJECT_FILE) : name;
    if (at?.type === "dir" && !(await this.lstat(path))) throw occupied(name);
    await this.fs.writeFile(path, guarded(data, options.signal)).catch((e) => {
      throw asStoreError(e, name, "save");
    });
  }

  async load(name: string, options: LoadOptions = {}): Promise<Uint8Array> {
    checkObjectName(name, "load");
    checkSignal(options.signal);
    const offset = options.offset ?? 0;
    const length = options.length;
    if (!Number.isSafeInteger(offset) || offset < 0 || (length !== undefined && (!Number.isSafeInteger(length) || length < 0))) {
      throw new IbtError("BAD_ARGUMENT", `load: bad range for ${name}`, { path: name, caller: "load" });
    }
    if (length !== undefined) {
      // One call in the common case: a plain file read at the range asked for.
      try {
        return await this.fs.read(name, offset, length);
      } catch (e) {
        if (e instanceof IbtError && (e.code === "NOT_FOUND" || e.code === "NOT_A_DIRECTORY")) throw notFound(name, "load");
        if (!(e instanceof IbtError && e.code === "IS_A_DIRECTORY")) throw asStoreError(e, name, "load");
      }
    }
    const { path, size } = await this.resolve(name, "load");
    const want = length === undefined ? Math.max(0, size - offset) : Math.min(length, Math.max(0, size - offset));
    const bytes = await this.fs.read(path, offset, want).catch((e) => {
      throw asStoreError(e, name, "load");
    });
    // The size was just read: fewer bytes is the storage failing, not the object ending.
    if (length === undefined && bytes.length !== want) throw new IbtError("IO", `load: read ${bytes.length} of the ${want} bytes of ${name}`, { path: name, caller: "load" });
    return bytes;
  }

  async *loadStream(name: string, options: { signal?: AbortSignal } = {}): AsyncGenerator<Uint8Array> {
    checkObjectName(name, "loadStream");
    checkSignal(options.signal);
    const { path, size } = await this.resolve(name, "loadStream");
    let got = 0;
    try {
      for await (const chunk of this.fs.readStream(path)) {
        checkSignal(options.signal);
        got += chunk.length;
        yield chunk;
      }
    } catch (e) {
      throw asStoreError(e, name, "loadStream");
    }
    // A stream that ends early or runs long is the storage failing: say so, not CORRUPT later.
    if (got !== size) throw new IbtError("IO", `loadStream: read ${got} of the ${size} bytes of ${name}`, { path: name, caller: "loadStream" });
  }

  async stat(name: string): Promise<StoredObject> {
    checkObjectName(name, "stat");
    return { name, size: (await this.resolve(name, "stat")).size };
  }

  async *list(prefix: string, options: { signal?: AbortSignal } = {}): AsyncGenerator<StoredObject> {
    checkSignal(options.signal);
    const cut = prefix.lastIndexOf("/");
    const dir = cut < 0 ? "" : prefix.slice(0, cut);
    const start = prefix.slice(cut + 1);
    // A prefix no valid name can start with reaches no directory: nothing to list.
    if ((dir !== "" && !isName(dir)) || !/^[A-Za-z0-9._-]*$/.test(start)) return;
    yield* this.walk(dir, start, options.signal);
  }

  async remove(name: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    checkObjectName(name, "remove");
    checkSignal(options.signal);
    const at = await this.lstat(name);
    if (!at) return;
    try {
      if (at.type !== "dir") await this.fs.remove(name);
      else if (await this.lstat(joinPath(name, OBJECT_FILE))) {
        const aside = sibling(name, RETIRED);
        await this.fs.rename(name, aside);
        await this.fs.remove(aside, { recursive: true });
      }
      // A directory without OBJECT_FILE holds other objects; it is not one itself.
    } catch (e) {
      if (e instanceof IbtError && e.code === "NOT_FOUND") return; // removed meanwhile
      throw asStoreError(e, name, "remove");
    }
  }

  /**
   * Removes candidates of conditional creates and retired objects older than `olderThanMs`
   * (by their directory's mtime): what a writer killed inside `save(…, { ifAbsent })` or
   * `remove` left. Walks the whole tree.
   */
  async sweep(olderThanMs: number, options: { signal?: AbortSignal } = {}): Promise<number> {
    const before = Date.now() - olderThanMs;
    let removed = 0;
    const visit = async (dir: string): Promise<void> => {
      checkSignal(options.signal);
      for (const e of await this.entries(dir)) {
        if (e.stat?.type !== "dir") continue;
        const path = joinPath(dir, e.name);
        if (e.name.includes(CANDIDATE) || e.name.includes(RETIRED)) {
          if (e.stat.mtimeMs > before) continue;
          const gone = await this.fs.remove(path, { recursive: true }).then(
            () => true,
            (err: unknown) => {
              // NOT_FOUND: removed meanwhile. EXISTS: a file landed in it while it was being
              // removed, so a conditional create is writing it now (it copes with the sweep).
              if (err instanceof IbtError && (err.code === "NOT_FOUND" || err.code === "EXISTS")) return false;
              throw asStoreError(err, path, "sweep");
            },
          );
          if (gone) removed++;
        } else if (SEGMENT.test(e.name)) await visit(path);
      }
    };
    await visit("");
    return removed;
  }

  /** The conditional create (see the file's prose). */
  private async create(name: string, data: Uint8Array | ByteSource, signal: AbortSignal | undefined): Promise<void> {
    // Checked first so that a taken name costs no upload; the rename below is what decides.
    if (await this.taken(name)) throw exists(name);
    await this.makeParent(name);
    const candidate = sibling(name, CANDIDATE);
    const source = { failed: false };
    try {
      await this.fs.mkdir(candidate);
      await this.fs.writeFile(joinPath(candidate, OBJECT_FILE), watched(data, signal, source));
      checkSignal(signal);
      await oneAtATime(this.fs, async () => {
        if (await this.taken(name)) throw exists(name);
        await this.fs.rename(candidate, name);
      });
    } catch (e) {
      await this.fs.remove(candidate, { recursive: true }).catch(() => {});
      if (source.failed) throw e;
      // Whatever failed (a rename onto a taken name, or a sweep that removed our candidate
      // because another writer holds the lock), a name taken now means we lost the race.
      if (e instanceof IbtError && (await this.lstat(name).catch(() => undefined))) throw exists(name);
      throw asStoreError(e, name, "save");
    }
  }

  /**
   * Whether anything but an empty directory is at `name`. An empty directory is no object and
   * holds none (a lock of an older layout, cleared by hand): it is removed, which the adapter
   * refuses atomically should anything land in it meanwhile.
   */
  private async taken(name: string): Promise<boolean> {
    const there = await this.lstat(name);
    if (there?.type !== "dir") return there !== undefined;
    if ((await this.entries(name)).length > 0) return true;
    await this.fs.remove(name).catch(() => {});
    return (await this.lstat(name)) !== undefined;
  }

  /** The file holding object `name` and its size; NOT_FOUND if there is no such object. */
  private async resolve(name: string, caller: string): Promise<{ path: string; size: number }> {
    let at = await this.lstat(name);
    let path = name;
    if (at?.type === "dir") {
      path = joinPath(name, OBJECT_FILE);
      at = await this.lstat(path);
    }
    if (at?.type !== "file") throw notFound(name, caller);
    return { path, size: at.size };
  }

  private async *walk(dir: string, start: string, signal: AbortSignal | undefined): AsyncGenerator<StoredObject> {
    checkSignal(signal);
    for (const e of await this.entries(dir)) {
      if (!e.name.startsWith(start) || !SEGMENT.test(e.name) || e.name === "." || e.name === ".." || !e.stat) continue;
      const path = joinPath(dir, e.name);
      if (e.stat.type === "file") yield { name: path, size: e.stat.size };
      else if (e.stat.type === "dir") {
        const inner = await this.lstat(joinPath(path, OBJECT_FILE));
        if (inner?.type === "file") yield { name: path, size: inner.size };
        else yield* this.walk(path, "", signal);
      }
    }
  }

  /** A directory's entries with their stats; none if it does not exist (or is not one). */
  private async entries(dir: string) {
    try {
      return await listWithStats(this.fs, dir);
    } catch (e) {
      if (e instanceof IbtError && (e.code === "NOT_FOUND" || e.code === "NOT_A_DIRECTORY")) return [];
      throw asStoreError(e, dir, "list");
    }
  }

  private async lstat(path: string): Promise<FsStat | undefined> {
    try {
      return await this.fs.lstat(path);
    } catch (e) {
      if (e instanceof IbtError && (e.code === "NOT_FOUND" || e.code === "NOT_A_DIRECTORY")) return undefined;
      throw asStoreError(e, path, "stat");
    }
  }

  private async makeParent(name: string): Promise<void> {
    const parent = parentPath(name);
    if (parent === "") return;
    await this.fs.mkdir(parent, { recursive: true }).catch((e) => {
      // EXISTS: a file (an object) sits where a parent directory must go.
      if (e instanceof IbtError && (e.code === "EXISTS" || e.code === "NOT_A_DIRECTORY")) throw asStoreError(new IbtError("NOT_A_DIRECTORY", e.message, { cause: e }), name, "save");
      throw asStoreError(e, name, "save");
    });
  }
}

/** The tail of each adapter's queue of decisive steps (see the file's prose). */
const queues = new WeakMap<object, Promise<unknown>>();

function oneAtATime<T>(key: object, step: () => Promise<T>): Promise<T> {
  const run = (queues.get(key) ?? Promise.resolve()).then(step, step);
  queues.set(key, run.catch(() => undefined));
  return run;
}

function isName(path: string): boolean {
  return path.split("/").every((s) => SEGMENT.test(s) && s !== "." && s !== "..");
}

/** A fresh name beside `name`, outside the object-name alphabet. */
function sibling(name: string, marker: string): string {
  const b = new Uint8Array(8);
  globalThis.crypto.getRandomValues(b);
  const random = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return joinPath(parentPath(name), `${baseName(name)}${marker}${random}`);
}

/** The data, checking the signal between chunks so a cancelled save stops reading. */
function guarded(data: Uint8Array | ByteSource, signal: AbortSignal | undefined): Uint8Array | ByteSource {
  if (!signal || data instanceof Uint8Array) return data;
  return watched(data, signal, { failed: false });
}

/** The data as a stream that notes in `source` whether it failed itself (its error is the caller's). */
function watched(data: Uint8Array | ByteSource, signal: AbortSignal | undefined, source: { failed: boolean }): Uint8Array | ByteSource {
  if (data instanceof Uint8Array) return data;
  return (async function* () {
    const it = chunksOf(data)[Symbol.asyncIterator]();
    try {
      for (;;) {
        checkSignal(signal);
        let step: IteratorResult<Uint8Array>;
        try {
          step = await it.next();
        } catch (e) {
          source.failed = true;
          throw e;
        }
        if (step.done) return;
        yield step.value;
      }
    } finally {
      await it.return?.(undefined);
    }
  })();
}

/**
 * The adapter's error in the Store's terms: its code where the Store contract has it, else IO,
 * always naming the object. Errors that are not IbtErrors (a data source's own) pass unchanged.
 */
function asStoreError(e: unknown, name: string, caller: string): unknown {
  if (!(e instanceof IbtError)) return e;
  if (["NOT_FOUND", "EXISTS", "DENIED", "IO", "ABORTED", "UNSAFE_PATH", "BAD_ARGUMENT"].includes(e.code)) return e;
  if (e.code === "NOT_A_DIRECTORY" || e.code === "IS_A_DIRECTORY") {
    return new IbtError("IO", `${caller}: ${name}: the file tree holds a file and a directory of the same name (${e.message})`, { path: name, caller, cause: e });
  }
  return new IbtError("IO", `${caller}: ${name}: ${e.message}`, { path: name, caller, cause: e });
}

function occupied(name: string): IbtError {
  return new IbtError("IO", `save: ${name} is a directory of other objects in the file tree`, { path: name, caller: "save" });
}

function notFound(name: string, caller: string): IbtError {
  return new IbtError("NOT_FOUND", `${caller}: no object ${name}`, { path: name, caller });
}

function exists(name: string): IbtError {
  return new IbtError("EXISTS", `save: object ${name} exists`, { path: name, caller: "save" });
}

function checkSignal(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new IbtError("ABORTED", "the operation was cancelled", { cause: signal.reason });
}
