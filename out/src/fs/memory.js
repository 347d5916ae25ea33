/**
 * An in-memory FsAdapter: the default for tests and for scripts with no file system. It has
 * every capability, and behaves like a POSIX tree where that matters to callers: a directory's
 * mtime moves when entries come and go, a symlink's size is its target's UTF-8 length, and every
 * change moves a fake ctime that only ever increases, while mtimes come from the wall clock (so
 * two writes in one millisecond share an mtime, as on a real disk, and only ctime tells them
 * apart).
 *
 * Invariants: nodes are never shared between paths, and file contents are never mutated in
 * place. A write builds a new node and swaps it in only after its source is fully read, so a
 * reader (even a stream started earlier) sees the old bytes or the new ones, never a mix, and a
 * failed write leaves nothing behind. Data goes in and out as copies: no caller holds an array
 * the tree holds.
 */
import { IbtError } from "../errors.js";
import { chunksOf, concatBytes } from "../bytes.js";
import { checkCapability, checkLinkTarget, checkMode, checkMtime, checkRange, checkWritable, utf8Length } from "./arguments.js";
import { statFollowingLinks } from "./follow.js";
import { baseName, checkPath, parentPath } from "./paths.js";
const STREAM_CHUNK = 64 * 1024;
const DEFAULT_MODE = { file: 0o644, dir: 0o755, symlink: 0o777 };
export class MemoryFs {
    capabilities;
    root;
    lastCtime = 0;
    lastIno = 0;
    constructor(options = {}) {
        this.capabilities = { symlinks: true, modes: true, mtimes: true, changeTimes: true, writable: !options.readOnly };
        this.root = this.node({ type: "dir", entries: new Map() });
    }
    /** Builds a tree from a plain object (see TreeSpec); with `readOnly`, writes are refused after. */
    static from(tree, options = {}) {
        // Built through the internal helpers, which do not check `writable`.
        const fs = new MemoryFs(options);
        for (const [key, value] of Object.entries(tree)) {
            const path = checkPath(key.endsWith("/") ? key.slice(0, -1) : key);
            if (value === null) {
                fs.makeDirs(path, "from");
                continue;
            }
            if (path === "")
                throw new IbtError("BAD_ARGUMENT", "from: the root is a directory", { path, caller: "from" });
            fs.makeDirs(parentPath(path), "from", "NOT_A_DIRECTORY");
            const { dir, name } = fs.parentOf(path, "from");
            if (dir.entries.has(name))
                throw new IbtError("BAD_ARGUMENT", `from: ${path} given twice`, { path, caller: "from" });
            let node;
            if (typeof value === "string" || value instanceof Uint8Array) {
                node = fs.node({ type: "file", data: typeof value === "string" ? new TextEncoder().encode(value) : value.slice() });
            }
            else {
                checkLinkTarget(value.symlink, "from", path);
                node = fs.node({ type: "symlink", target: value.symlink });
            }
            dir.entries.set(name, node);
        }
        return fs;
    }
    async list(path) {
        const node = this.find(checkPath(path), "list");
        if (node.type !== "dir")
            throw notDir(path, "list");
        return [...node.entries.keys()];
    }
    async lstat(path) {
        const node = this.find(checkPath(path), "lstat");
        const size = node.type === "file" ? node.data.length : node.type === "symlink" ? utf8Length(node.target) : 0;
        return { type: node.type, size, mtimeMs: node.mtimeMs, mode: node.mode, ctimeMs: node.ctimeMs, ino: node.ino };
    }
    stat(path) {
        return statFollowingLinks(this, path);
    }
    async read(path, offset, length) {
        checkPath(path);
        checkRange(offset, length, "read", path);
        const data = this.file(path, "read").data;
        return data.slice(Math.min(offset, data.length), Math.min(offset + length, data.length));
    }
    async *readStream(path, options) {
        // The node's array is never mutated, so holding it keeps this stream on one version; a
        // transient reader only reads, so it is given views of it instead of copies.
        const data = this.file(checkPath(path), "readStream").data;
        const transient = options?.transient === true;
        for (let at = 0; at < data.length; at += STREAM_CHUNK) {
            yield transient ? data.subarray(at, at + STREAM_CHUNK) : data.slice(at, at + STREAM_CHUNK);
        }
    }
    async writeFile(path, data, options = {}) {
        checkPath(path);
        checkWritable(this.capabilities.writable, "writeFile", path);
        const mode = options.mode === undefined ? DEFAULT_MODE.file : checkMode(options.mode, "writeFile", path);
        this.writableSlot(path); // fail before reading the source when the write cannot succeed
        const bytes = data instanceof Uint8Array ? data.slice() : await gather(data);
        // The tree may have changed while the source was read: check again, then swap in.
        const { dir, name } = this.writableSlot(path);
        dir.entries.set(name, this.node({ type: "file", data: bytes, mode }));
        this.touch(dir);
    }
    async mkdir(path, options = {}) {
        checkPath(path);
        checkWritable(this.capabilities.writable, "mkdir", path);
        if (options.recursive) {
            this.makeDirs(path, "mkdir");
            return;
        }
        if (path === "")
            throw exists(path, "mkdir");
        const { dir, name } = this.parentOf(path, "mkdir");
        if (dir.entries.has(name))
            throw exists(path, "mkdir");
        dir.entries.set(name, this.node({ type: "dir", entries: new Map() }));
        this.touch(dir);
    }
    async remove(path, options = {}) {
        checkPath(path);
        checkWritable(this.capabilities.writable, "remove", path);
        if (path === "")
            throw new IbtError("BAD_ARGUMENT", "remove: cannot remove the root", { path, caller: "remove" });
        const { dir, name } = this.parentOf(path, "remove");
        const node = dir.entries.get(name);
        if (!node)
            throw notFound(path, "remove");
        if (node.type === "dir" && node.entries.size > 0 && !options.recursive) {
            throw new IbtError("EXISTS", `remove: directory not empty: ${path}`, { path, caller: "remove" });
        }
        // Dropping the subtree is the whole recursive removal: no link inside it is ever followed.
        dir.entries.delete(name);
        this.touch(dir);
    }
    async rename(from, to) {
        checkPath(from);
        checkPath(to);
        checkWritable(this.capabilities.writable, "rename", from);
        if (from === "")
            throw new IbtError("BAD_ARGUMENT", "rename: cannot move the root", { path: from, caller: "rename" });
        const src = this.parentOf(from, "rename");
        const node = src.dir.entries.get(src.name);
        if (!node)
            throw notFound(from, "rename");
        if (from === to)
            return;
        if (node.type === "dir" && to.startsWith(`${from}/`))
            throw intoItself(from, to);
        const isDir = new IbtError("IS_A_DIRECTORY", `rename: a directory is never replaced: ${to}`, { path: to, caller: "rename" });
        if (to === "")
            throw isDir;
        const dst = this.parentOf(to, "rename");
        const there = dst.dir.entries.get(dst.name);
        if (there?.type === "dir")
            throw isDir;
        if (there && node.type === "dir")
            throw notDir(to, "rename");
        src.dir.entries.delete(src.name);
        dst.dir.entries.set(dst.name, node);
        node.ctimeMs = this.tick(); // as on Linux, where a rename changes the moved inode's ctime
        this.touch(src.dir);
        this.touch(dst.dir);
    }
    async symlink(target, path) {
        checkPath(path);
        checkWritable(this.capabilities.writable, "symlink", path);
        checkLinkTarget(target, "symlink", path);
        if (path === "")
            throw exists(path, "symlink");
        const { dir, name } = this.parentOf(path, "symlink");
        if (dir.entries.has(name))
            throw exists(path, "symlink");
        dir.entries.set(name, this.node({ type: "symlink", target }));
        this.touch(dir);
    }
    async readlink(path) {
        const node = this.find(checkPath(path), "readlink");
        if (node.type !== "symlink")
            throw new IbtError("BAD_ARGUMENT", `readlink: not a symlink: ${path}`, { path, caller: "readlink" });
        return node.target;
    }
    async chmod(path, mode) {
        checkPath(path);
        checkWritable(this.capabilities.writable, "chmod", path);
        checkMode(mode, "chmod", path);
        const node = this.find(path, "chmod");
        checkCapability(node.type !== "symlink", "modes on symlinks", "chmod", path);
        node.mode = mode;
        node.ctimeMs = this.tick();
    }
    async utimes(path, mtimeMs) {
        checkPath(path);
        checkWritable(this.capabilities.writable, "utimes", path);
        checkMtime(mtimeMs, "utimes", path);
        const node = this.find(path, "utimes");
        node.mtimeMs = mtimeMs;
        node.ctimeMs = this.tick();
    }
    /** A ctime later than every earlier one, and never behind the wall clock. */
    tick() {
        this.lastCtime = Math.max(this.lastCtime + 1, Date.now());
        return this.lastCtime;
    }
    node(fields) {
        return { mode: DEFAULT_MODE[fields.type], ...fields, mtimeMs: Date.now(), ctimeMs: this.tick(), ino: ++this.lastIno };
    }
    /** A directory's entries changed: POSIX moves its mtime and ctime. */
    touch(dir) {
        dir.mtimeMs = Date.now();
        dir.ctimeMs = this.tick();
    }
    /** The directory that holds `path` (not "") and its last segment; parents are never links. */
    parentOf(path, caller) {
        let dir = this.root;
        const parent = parentPath(path);
        if (parent !== "") {
            for (const seg of parent.split("/")) {
                const next = dir.entries.get(seg);
                if (!next)
                    throw notFound(path, caller);
                if (next.type !== "dir")
                    throw notDir(path, caller);
                dir = next;
            }
        }
        return { dir, name: baseName(path) };
    }
    find(path, caller) {
        if (path === "")
            return this.root;
        const { dir, name } = this.parentOf(path, caller);
        const node = dir.entries.get(name);
        if (!node)
            throw notFound(path, caller);
        return node;
    }
    file(path, caller) {
        const node = this.find(path, caller);
        if (node.type !== "file")
            throw notFile(path, node.type, caller);
        return node;
    }
    /** Where writeFile may put `path`: the parent exists and `path` is not a directory. */
    writableSlot(path) {
        if (path === "")
            throw notFile(path, "dir", "writeFile");
        const slot = this.parentOf(path, "writeFile");
        if (slot.dir.entries.get(slot.name)?.type === "dir")
            throw notFile(path, "dir", "writeFile");
        return slot;
    }
    /**
     * mkdir -p: existing directories are fine, anything else in the way is not. `path` itself
     * being a non-directory is EXISTS for mkdir, NOT_A_DIRECTORY where it is meant as a parent.
     */
    makeDirs(path, caller, last = "EXISTS") {
        if (path === "")
            return;
        let dir = this.root;
        const segs = path.split("/");
        segs.forEach((seg, i) => {
            let next = dir.entries.get(seg);
            if (!next) {
                next = this.node({ type: "dir", entries: new Map() });
                dir.entries.set(seg, next);
                this.touch(dir);
            }
            else if (next.type !== "dir") {
                throw i === segs.length - 1 && last === "EXISTS" ? exists(path, caller) : notDir(path, caller);
            }
            dir = next;
        });
    }
}
/**
 * Reads a whole source into one array the tree owns. Each chunk is copied as it arrives, because
 * a source may reuse its buffer for the next chunk (the Node file readers can).
 */
async function gather(source) {
    const chunks = [];
    for await (const chunk of chunksOf(source))
        chunks.push(chunk.slice());
    return chunks.length === 0 ? new Uint8Array(0) : concatBytes(chunks);
}
function notFound(path, caller) {
    return new IbtError("NOT_FOUND", `${caller}: no such file or directory: ${path}`, { path, caller });
}
function notDir(path, caller) {
    return new IbtError("NOT_A_DIRECTORY", `${caller}: not a directory (symlinks are not followed here): ${path}`, { path, caller });
}
function notFile(path, type, caller) {
    return new IbtError("IS_A_DIRECTORY", `${caller}: a file was expected, found a ${type}: ${path}`, { path, caller });
}
function intoItself(from, to) {
    return new IbtError("BAD_ARGUMENT", `rename: cannot move directory ${from} into itself (${to})`, { path: from, caller: "rename" });
}
function exists(path, caller) {
    return new IbtError("EXISTS", `${caller}: already exists: ${path}`, { path, caller });
}
//# sourceMappingURL=memory.js.map