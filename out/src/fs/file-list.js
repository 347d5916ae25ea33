/**
 * A read-only FsAdapter over the `File` objects an `<input type="file" webkitdirectory>` gives:
 * the one way to read a picked folder in browsers without the File System Access API. Each file
 * carries `webkitRelativePath` ("picked/dir/file.txt"); the first segment is the picked folder's
 * own name and is dropped, so the folder's contents sit at the root, as with the other adapters.
 *
 * What the list cannot say, this adapter cannot report: directories exist only as parents of
 * files (so empty ones are lost and have mtime 0), there are no symlinks and no modes, and the
 * only time is each file's `lastModified`. Names are normalized to NFC once, here, because
 * macOS hands out decomposed names; a name that is unsafe even then (a backslash in a Linux
 * name, say) or that collides with another after normalizing makes the constructor throw, since
 * silently dropping a file from a backup is worse than refusing the folder.
 */
import { blobChunks } from "./blob.js";
import { IbtError } from "../errors.js";
import { checkRange, readOnlyError, unsupportedError } from "./arguments.js";
import { baseName, checkPath, parentPath } from "./paths.js";
export class FileListFs {
    capabilities = { symlinks: false, modes: false, mtimes: false, changeTimes: false, writable: false };
    files = new Map();
    /** Every directory (the root is "") and the names in it. */
    dirs = new Map([["", new Set()]]);
    /** `files` as a FileList or any list of File; a file without a relative path sits at the root. */
    constructor(files) {
        for (const file of Array.from(files)) {
            const relative = file.webkitRelativePath || file.name;
            const segs = relative.split("/");
            const path = checkPath((segs.length > 1 ? segs.slice(1) : segs).join("/").normalize("NFC"));
            if (path === "" || this.files.has(path) || this.dirs.has(path)) {
                throw new IbtError("BAD_ARGUMENT", `FileListFs: ${JSON.stringify(relative)} names the same entry as another file`, { path, caller: "FileListFs" });
            }
            this.files.set(path, file);
            for (let child = path, dir = parentPath(path);; child = dir, dir = parentPath(dir)) {
                if (this.files.has(dir)) {
                    throw new IbtError("BAD_ARGUMENT", `FileListFs: ${dir} is both a file and a directory`, { path: dir, caller: "FileListFs" });
                }
                const names = this.dirs.get(dir);
                if (names) {
                    names.add(baseName(child));
                    break; // its parents were recorded when it was
                }
                this.dirs.set(dir, new Set([baseName(child)]));
            }
        }
    }
    async list(path) {
        const names = this.dirs.get(checkPath(path));
        if (!names)
            throw this.missing(path, "list", "NOT_A_DIRECTORY");
        return [...names];
    }
    async lstat(path) {
        checkPath(path);
        const file = this.files.get(path);
        if (file)
            return { type: "file", size: file.size, mtimeMs: file.lastModified, mode: 0 };
        if (this.dirs.has(path))
            return { type: "dir", size: 0, mtimeMs: 0, mode: 0 };
        throw this.missing(path, "lstat");
    }
    stat(path) {
        return this.lstat(path); // there are no symlinks to follow
    }
    async read(path, offset, length) {
        checkPath(path);
        checkRange(offset, length, "read", path);
        const file = this.file(path, "read");
        const end = Math.min(offset + length, file.size);
        if (offset >= end)
            return new Uint8Array(0);
        try {
            return new Uint8Array(await file.slice(offset, end).arrayBuffer());
        }
        catch (e) {
            throw unreadable(e, path, "read");
        }
    }
    async *readStream(path) {
        yield* blobChunks(this.file(checkPath(path), "readStream"), (e) => unreadable(e, path, "readStream"));
    }
    async writeFile(path) {
        this.refuse("writeFile", path);
    }
    async mkdir(path) {
        this.refuse("mkdir", path);
    }
    async remove(path) {
        this.refuse("remove", path);
    }
    async rename(from, to) {
        checkPath(to);
        this.refuse("rename", from);
    }
    async symlink(_target, path) {
        this.refuse("symlink", path);
    }
    async chmod(path) {
        this.refuse("chmod", path);
    }
    async utimes(path) {
        this.refuse("utimes", path);
    }
    async readlink(path) {
        throw unsupportedError("symlinks", "readlink", checkPath(path));
    }
    refuse(caller, path) {
        throw readOnlyError(caller, checkPath(path));
    }
    file(path, caller) {
        const file = this.files.get(path);
        if (file)
            return file;
        if (this.dirs.has(path))
            throw new IbtError("IS_A_DIRECTORY", `${caller}: is a directory: ${path}`, { path, caller });
        throw this.missing(path, caller);
    }
    /**
     * The error for a path that is not a directory (`list`) or not anything: NOT_A_DIRECTORY when a
     * parent is a file (or `path` is one, for `list`), else NOT_FOUND.
     */
    missing(path, caller, ifFile) {
        if (ifFile && this.files.has(path)) {
            return new IbtError(ifFile, `${caller}: not a directory: ${path}`, { path, caller });
        }
        for (let dir = parentPath(path); dir !== ""; dir = parentPath(dir)) {
            if (this.files.has(dir))
                return new IbtError("NOT_A_DIRECTORY", `${caller}: ${dir} is not a directory: ${path}`, { path, caller });
        }
        return new IbtError("NOT_FOUND", `${caller}: no such file or directory: ${path}`, { path, caller });
    }
}
/**
 * A File whose underlying file changed or vanished after it was picked cannot be read: the
 * browser checks the size and time it recorded at picking and fails the read (Chromium:
 * NotReadableError, or a TypeError "network error" from a stream). That is the folder changing
 * under the backup, so it is CHANGED, as in HandleFs; anything else is IO.
 */
function unreadable(e, path, caller) {
    const message = e instanceof Error ? e.message : String(e);
    const name = typeof e === "object" && e !== null ? e.name : undefined;
    if (name === "NotReadableError" || name === "TypeError") {
        return new IbtError("CHANGED", `${caller}: the file changed or vanished after it was picked (${message}): ${path}`, { path, caller, cause: e });
    }
    return new IbtError("IO", `${caller}: ${path}: ${message}`, { path, caller, cause: e });
}
//# sourceMappingURL=file-list.js.map