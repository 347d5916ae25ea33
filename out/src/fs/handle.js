/**
 * An FsAdapter over a `FileSystemDirectoryHandle`: the origin private file system
 * (`navigator.storage.getDirectory()`) or a folder the user picked with `showDirectoryPicker()`.
 * Paths are walked from the root handle one `getDirectoryHandle` per parent segment, so nothing
 * outside the handle is reachable, whatever a name holds (checkPath runs first anyway).
 *
 * What the platform gives, and so the capabilities: no symlinks (the API has no kind for them;
 * how a picked folder's links appear, if at all, is the browser's business), no permission
 * bits (mode 0), no change times or inodes, and modification times that can be read
 * (`File.lastModified`) but not set, so `mtimes` is false and `utimes` is UNSUPPORTED.
 * Directories have no time at all in this API; they report mtime 0 rather than, say, the newest
 * child's time, which would cost a listing per lstat, would not move when a child is removed,
 * and would make every diff report metadata changes on directories that an apply cannot set
 * back. FileListFs reports 0 for the same reason.
 *
 * Writes are whole or nothing through the API's own swap file: `createWritable()` writes to a
 * copy (Chromium lists it as "<name>.crswap" beside the file, in OPFS too, while the write is in
 * flight) that replaces the file only on `close()`, and `abort()` discards it. A new file is
 * written under a temporary name and moved into place with `move()` where file handles have it,
 * so readers see nothing until it is complete; without `move()` it is created empty in place
 * (the one moment a reader can see something that is neither the old content nor nothing) and
 * removed again if the write fails.
 *
 * `rename` uses `move()` where the handle has one: Chromium has it on file handles only (not on
 * directories, nor on FileSystemHandle as the spec has it), and a file moved onto a file
 * replaces it in one step. Everything else (every directory, and files in browsers without
 * `move()`) is copied and then the source removed, which is not atomic: a crash in between
 * leaves both, a failed directory copy is cleaned up only best-effort, and a large directory
 * costs a full copy. A file copy still replaces its target through a swap file.
 *
 * Errors arrive as DOMExceptions and are mapped by name (see `mapError`): NotFoundError is
 * NOT_FOUND, TypeMismatchError is the wrong kind of entry (NOT_A_DIRECTORY on the way to a
 * directory, IS_A_DIRECTORY where a file was expected), InvalidModificationError is a non-empty
 * directory (EXISTS), NotAllowedError is READ_ONLY for writes (permission withdrawn) and IO for
 * reads, QuotaExceededError is IO saying the storage quota is exceeded, and a TypeError from a
 * handle call is a name the browser refuses (UNSUPPORTED; checkPath has refused the rest). A
 * `File` is a snapshot that goes stale when its file is replaced: reading it then fails (in
 * Chromium, NotReadableError, or a TypeError "network error" from a stream), which is CHANGED.
 */
import { blobChunks } from "./blob.js";
import { IbtError } from "../errors.js";
import { chunksOf } from "../bytes.js";
import { checkMode, checkRange, checkWritable, unsupportedError } from "./arguments.js";
import { baseName, checkPath, parentPath } from "./paths.js";
/** Writes are handed to the browser in pieces of this size: fewer round trips, bounded memory. */
const WRITE_BATCH = 1 << 20;
export class HandleFs {
    root;
    capabilities;
    /** Whether file handles have `move()`; learnt from the first one writeFile creates. */
    hasMove;
    constructor(root, options = {}) {
        this.root = root;
        this.capabilities = { symlinks: false, modes: false, mtimes: false, changeTimes: false, writable: !options.readOnly };
    }
    /**
     * An adapter that is read-only when asked to be or when the handle lacks write permission
     * (`queryPermission({ mode: "readwrite" })` is not "granted", as for a folder picked with
     * `mode: "read"`). Browsers without `queryPermission` (OPFS outside Chromium) count as writable.
     * It never prompts: call `requestPermission` first to ask the user.
     */
    static async open(root, options = {}) {
        let readOnly = options.readOnly ?? false;
        const query = root.queryPermission;
        if (!readOnly && typeof query === "function") {
            readOnly = (await query.call(root, { mode: "readwrite" })) !== "granted";
        }
        return new HandleFs(root, { readOnly });
    }
    async list(path) {
        const dir = await this.dirAt(checkPath(path), "list");
        const names = [];
        try {
            for await (const name of dir.keys())
                names.push(name);
        }
        catch (e) {
            throw mapError(e, "list", path);
        }
        return names;
    }
    async lstat(path) {
        const entry = await this.entryAt(checkPath(path), "lstat");
        if (entry.kind === "directory")
            return { type: "dir", size: 0, mtimeMs: 0, mode: 0 };
        const file = await this.fileOf(entry, "lstat", path);
        return { type: "file", size: file.size, mtimeMs: file.lastModified, mode: 0 };
    }
    stat(path) {
        return this.lstat(path); // there are no symlinks to follow
    }
    async read(path, offset, length) {
        checkPath(path);
        checkRange(offset, length, "read", path);
        const file = await this.fileOf(await this.fileAt(path, "read"), "read", path);
        const end = Math.min(offset + length, file.size);
        if (offset >= end)
            return new Uint8Array(0);
        try {
            return new Uint8Array(await file.slice(offset, end).arrayBuffer());
        }
        catch (e) {
            throw unreadable(e, "read", path);
        }
    }
    async *readStream(path) {
        checkPath(path);
        // A File is a snapshot: if the file is replaced while it is read, reading fails (CHANGED)
        // rather than mixing two versions.
        const file = await this.fileOf(await this.fileAt(path, "readStream"), "readStream", path);
        yield* blobChunks(file, (e) => unreadable(e, "readStream", path));
    }
    async writeFile(path, data, options = {}) {
        checkPath(path);
        checkWritable(this.capabilities.writable, "writeFile", path);
        if (options.mode !== undefined)
            checkMode(options.mode, "writeFile", path); // checked, then unused: no modes here
        if (path === "")
            throw notFile(path, "writeFile");
        const caller = "writeFile";
        const { dir, name } = await this.parentOf(path, caller);
        // Fail before reading the source when the write cannot succeed.
        const existing = await this.kindIn(dir, name, caller, path);
        if (existing === "directory")
            throw notFile(path, caller);
        if (existing === "file") {
            await this.writeInto(await this.io(dir.getFileHandle(name), caller, path, "IS_A_DIRECTORY"), data, caller, path);
            return;
        }
        if (this.hasMove !== false) {
            const temp = `.ibt-write-${randomSuffix()}`;
            const handle = await this.io(dir.getFileHandle(temp, { create: true }), caller, path, "IS_A_DIRECTORY", true);
            this.hasMove = typeof handle.move === "function";
            try {
                if (this.hasMove) {
                    await this.writeInto(handle, data, caller, path);
                    if (await this.tryMove(handle, dir, name, caller, path))
                        return;
                    // move() refused as unsupported: copy the finished file into place through a swap file.
                    const target = await this.io(dir.getFileHandle(name, { create: true }), caller, path, "IS_A_DIRECTORY", true);
                    await this.writeInto(target, [], caller, path, await this.fileOf(handle, caller, path));
                    return;
                }
            }
            finally {
                await removeAfterWrite(dir, temp); // gone already once moved
            }
        }
        // No move(): create the file in place; it is empty until the write below closes.
        const target = await this.io(dir.getFileHandle(name, { create: true }), caller, path, "IS_A_DIRECTORY", true);
        try {
            await this.writeInto(target, data, caller, path);
        }
        catch (e) {
            await removeAfterWrite(dir, name);
            throw e;
        }
    }
    async mkdir(path, options = {}) {
        checkPath(path);
        checkWritable(this.capabilities.writable, "mkdir", path);
        if (options.recursive) {
            let dir = this.root;
            const segs = path === "" ? [] : path.split("/");
            for (const [i, seg] of segs.entries()) {
                const last = i === segs.length - 1;
                dir = await this.io(dir.getDirectoryHandle(seg, { create: true }), "mkdir", path, last ? "EXISTS" : "NOT_A_DIRECTORY", true);
            }
            return;
        }
        if (path === "")
            throw exists(path, "mkdir");
        const { dir, name } = await this.parentOf(path, "mkdir");
        if ((await this.kindIn(dir, name, "mkdir", path)) !== undefined)
            throw exists(path, "mkdir");
        await this.io(dir.getDirectoryHandle(name, { create: true }), "mkdir", path, "EXISTS", true);
    }
    async remove(path, options = {}) {
        checkPath(path);
        checkWritable(this.capabilities.writable, "remove", path);
        if (path === "")
            throw new IbtError("BAD_ARGUMENT", "remove: cannot remove the root", { path, caller: "remove" });
        const { dir, name } = await this.parentOf(path, "remove");
        await this.io(dir.removeEntry(name, { recursive: options.recursive ?? false }), "remove", path, "NOT_A_DIRECTORY", true);
    }
    async rename(from, to) {
        checkPath(from);
        checkPath(to);
        const caller = "rename";
        checkWritable(this.capabilities.writable, caller, from);
        if (from === "")
            throw new IbtError("BAD_ARGUMENT", "rename: cannot move the root", { path: from, caller });
        const src = await this.parentOf(from, caller);
        const entry = await this.entryIn(src.dir, src.name, caller, from);
        if (from === to)
            return;
        const isDir = entry.kind === "directory";
        if (isDir && to.startsWith(`${from}/`)) {
            throw new IbtError("BAD_ARGUMENT", `rename: cannot move directory ${from} into itself (${to})`, { path: from, caller });
        }
        const neverReplaced = new IbtError("IS_A_DIRECTORY", `rename: a directory is never replaced: ${to}`, { path: to, caller });
        if (to === "")
            throw neverReplaced;
        const dst = await this.parentOf(to, caller);
        const there = await this.kindIn(dst.dir, dst.name, caller, to);
        if (there === "directory")
            throw neverReplaced;
        if (there && isDir)
            throw new IbtError("NOT_A_DIRECTORY", `rename: cannot replace file ${to} with a directory`, { path: to, caller });
        if (await this.tryMove(entry, dst.dir, dst.name, caller, to))
            return;
        // No move(): copy, then remove the source. Not atomic (see the top of this file).
        if (entry.kind === "file") {
            const target = await this.io(dst.dir.getFileHandle(dst.name, { create: true }), caller, to, "IS_A_DIRECTORY", true);
            await this.writeInto(target, [], caller, to, await this.fileOf(entry, caller, from));
        }
        else {
            const target = await this.io(dst.dir.getDirectoryHandle(dst.name, { create: true }), caller, to, "NOT_A_DIRECTORY", true);
            try {
                await this.copyTree(entry, target, from);
            }
            catch (e) {
                await dst.dir.removeEntry(dst.name, { recursive: true }).catch(() => undefined);
                throw e;
            }
        }
        await this.io(src.dir.removeEntry(src.name, { recursive: true }), caller, from, "NOT_A_DIRECTORY", true);
    }
    async symlink(_target, path) {
        checkPath(path);
        checkWritable(this.capabilities.writable, "symlink", path);
        throw unsupportedError("symlinks", "symlink", path);
    }
    async readlink(path) {
        throw unsupportedError("symlinks", "readlink", checkPath(path));
    }
    async chmod(path) {
        checkPath(path);
        checkWritable(this.capabilities.writable, "chmod", path);
        throw unsupportedError("permission bits", "chmod", path);
    }
    async utimes(path) {
        checkPath(path);
        checkWritable(this.capabilities.writable, "utimes", path);
        throw unsupportedError("settable modification times", "utimes", path);
    }
    /**
     * Writes `data` (or `blob`, for copies) through the swap file: the file changes on `close()`
     * or not at all. An error from `data` is rethrown unchanged, storage errors are mapped.
     */
    async writeInto(handle, data, caller, path, blob) {
        const stream = await this.io(handle.createWritable({ keepExistingData: false }), caller, path, "IS_A_DIRECTORY", true);
        const put = (chunk) => this.io(stream.write(chunk), caller, path, "IS_A_DIRECTORY", true);
        try {
            if (blob)
                await put(blob);
            else if (data instanceof Uint8Array)
                await put(data);
            else {
                // Small chunks are gathered into one batch; each is copied, since a source may reuse
                // its buffer for the next chunk.
                let batch = new Uint8Array(WRITE_BATCH);
                let used = 0;
                for await (const chunk of chunksOf(data)) {
                    if (used > 0 && used + chunk.length > WRITE_BATCH) {
                        await put(batch.subarray(0, used));
                        batch = new Uint8Array(WRITE_BATCH);
                        used = 0;
                    }
                    if (chunk.length >= WRITE_BATCH)
                        await put(chunk);
                    else {
                        batch.set(chunk, used);
                        used += chunk.length;
                    }
                }
                if (used > 0)
                    await put(batch.subarray(0, used));
            }
            await this.io(stream.close(), caller, path, "IS_A_DIRECTORY", true);
        }
        catch (e) {
            await stream.abort().catch(() => undefined);
            throw e;
        }
    }
    /**
     * Moves `entry` with `move()` and says whether it did; false when the browser has no `move()`
     * or refuses it as unsupported (so the caller can fall back), any other failure is thrown.
     */
    async tryMove(entry, dir, name, caller, path) {
        const move = entry.move;
        if (typeof move !== "function")
            return false;
        try {
            await move.call(entry, dir, name);
            return true;
        }
        catch (e) {
            if (domName(e) === "NotSupportedError")
                return false;
            throw mapError(e, caller, path, "NOT_A_DIRECTORY", true);
        }
    }
    /** Copies the contents of directory `from` into the empty directory `to` (rename's fallback). */
    async copyTree(from, to, path) {
        const names = [];
        for await (const name of from.keys())
            names.push(name);
        for (const name of names) {
            const entry = await this.entryIn(from, name, "rename", `${path}/${name}`);
            if (entry.kind === "file") {
                const target = await this.io(to.getFileHandle(name, { create: true }), "rename", path, "IS_A_DIRECTORY", true);
                await this.writeInto(target, [], "rename", path, await this.fileOf(entry, "rename", path));
            }
            else {
                const target = await this.io(to.getDirectoryHandle(name, { create: true }), "rename", path, "NOT_A_DIRECTORY", true);
                await this.copyTree(entry, target, `${path}/${name}`);
            }
        }
    }
    /** The directory at `path`; a file on the way (or at `path`) is NOT_A_DIRECTORY. */
    async dirAt(path, caller) {
        let dir = this.root;
        if (path === "")
            return dir;
        for (const seg of path.split("/"))
            dir = await this.io(dir.getDirectoryHandle(seg), caller, path, "NOT_A_DIRECTORY");
        return dir;
    }
    /** The directory that holds `path` (not "") and its last segment. */
    async parentOf(path, caller) {
        return { dir: await this.dirAt(parentPath(path), caller), name: baseName(path) };
    }
    async entryAt(path, caller) {
        if (path === "")
            return this.root;
        const { dir, name } = await this.parentOf(path, caller);
        return this.entryIn(dir, name, caller, path);
    }
    /** The entry `name` in `dir`, whichever kind it is; NOT_FOUND if there is none. */
    async entryIn(dir, name, caller, path) {
        try {
            return await dir.getFileHandle(name);
        }
        catch (e) {
            if (domName(e) !== "TypeMismatchError")
                throw mapError(e, caller, path, "IS_A_DIRECTORY");
        }
        return this.io(dir.getDirectoryHandle(name), caller, path, "NOT_A_DIRECTORY");
    }
    async kindIn(dir, name, caller, path) {
        try {
            return (await this.entryIn(dir, name, caller, path)).kind;
        }
        catch (e) {
            if (e instanceof IbtError && e.code === "NOT_FOUND")
                return undefined;
            throw e;
        }
    }
    async fileAt(path, caller) {
        if (path === "")
            throw notFile(path, caller);
        const { dir, name } = await this.parentOf(path, caller);
        return this.io(dir.getFileHandle(name), caller, path, "IS_A_DIRECTORY");
    }
    fileOf(handle, caller, path) {
        return this.io(handle.getFile(), caller, path, "IS_A_DIRECTORY");
    }
    /** Awaits a storage call, mapping what it throws (see `mapError`). */
    async io(work, caller, path, typeMismatch, write = false) {
        try {
            return await work;
        }
        catch (e) {
            throw mapError(e, caller, path, typeMismatch, write);
        }
    }
}
function domName(e) {
    return typeof e === "object" && e !== null && typeof e.name === "string" ? e.name : undefined;
}
/**
 * A storage error as an IbtError. `typeMismatch` is the code for an entry of the wrong kind,
 * which only the call knows (a directory was wanted, or a file); `write` says whether the call
 * changes the tree, which decides what a refused permission means.
 */
function mapError(e, caller, path, typeMismatch = "IO", write = false) {
    if (e instanceof IbtError)
        return e;
    const detail = e instanceof Error ? e.message : String(e);
    const error = (code, why) => new IbtError(code, `${caller}: ${why}: ${path}`, { path, caller, cause: e });
    switch (domName(e)) {
        case "NotFoundError":
            return error("NOT_FOUND", "no such file or directory");
        case "TypeMismatchError":
            return error(typeMismatch, typeMismatch === "IS_A_DIRECTORY" ? "a file was expected" : typeMismatch === "EXISTS" ? "already exists" : "not a directory");
        case "InvalidModificationError": // a non-empty directory, or an entry in the way
            return error("EXISTS", "directory not empty or entry in the way");
        case "NotAllowedError":
            return write ? error("READ_ONLY", "no permission to write") : error("IO", "no permission to read");
        case "NoModificationAllowedError":
            return error("IO", "the entry is locked by another writer or reader");
        case "QuotaExceededError":
            return error("IO", "storage quota exceeded");
        case "TypeError":
            return error("UNSUPPORTED", `the browser refuses this name (${detail})`);
        default:
            return error("IO", detail);
    }
}
/**
 * An error while reading a File's bytes. Its snapshot goes stale when the file is replaced or
 * removed: Chromium then fails a read with NotReadableError, or a Blob stream with a TypeError
 * ("network error"); both mean the file changed under the reader.
 */
function unreadable(e, caller, path) {
    const name = domName(e);
    if (name !== "NotReadableError" && name !== "TypeError")
        return mapError(e, caller, path);
    const detail = e instanceof Error ? e.message : String(e);
    return new IbtError("CHANGED", `${caller}: the file changed or vanished while it was read (${detail}): ${path}`, { path, caller, cause: e });
}
function randomSuffix() {
    return Math.random().toString(36).slice(2, 10);
}
function notFile(path, caller) {
    return new IbtError("IS_A_DIRECTORY", `${caller}: a file was expected, found a directory: ${path}`, { path, caller });
}
function exists(path, caller) {
    return new IbtError("EXISTS", `${caller}: already exists: ${path}`, { path, caller });
}
/**
 * Removes a file a failed or finished write leaves behind. Chromium releases an aborted
 * writable's lock on the file a moment after `abort()` resolves, and a removal in that moment
 * fails with NoModificationAllowedError; the removal is tried again a few times, briefly, for
 * that error only. Anything else (the entry is gone already, say) ends the attempt quietly:
 * this is cleanup after an error that is already on its way to the caller.
 */
async function removeAfterWrite(dir, name) {
    for (let attempt = 0;; attempt++) {
        try {
            await dir.removeEntry(name);
            return;
        }
        catch (e) {
            if (e?.name !== "NoModificationAllowedError" || attempt >= 20)
                return;
            await new Promise((resolve) => setTimeout(resolve, 5 * (attempt + 1)));
        }
    }
}
//# sourceMappingURL=handle.js.map