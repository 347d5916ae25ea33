/**
 * Synchronous file access for the command line, where one process works on one file and a
 * thread-pool round trip per chunk costs more than the work: chunked reads into one reused
 * buffer, random access to a basis, and an output file that appears whole or not at all.
 */
import { openSync, readSync, writeSync, closeSync, fstatSync, renameSync, unlinkSync, lstatSync, fsyncSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { IbtError } from "../errors.js";
import { tempName } from "./temp-name.js";
import { fsError } from "./files.js";
const CHUNK = 1 << 20;
function openOrThrow(path, flags, mode) {
    try {
        return openSync(path, flags, mode);
    }
    catch (e) {
        throw fsError(e, path);
    }
}
/** Reads a file in chunks; every chunk is a view of one reused buffer, valid until the next. */
export function* readFileChunksSync(path, chunkSize = CHUNK) {
    const fd = openOrThrow(path, "r");
    try {
        const buf = new Uint8Array(chunkSize);
        for (;;) {
            let got = 0;
            while (got < chunkSize) {
                const n = readSync(fd, buf, got, chunkSize - got, null);
                if (n === 0)
                    break;
                got += n;
            }
            if (got > 0)
                yield buf.subarray(0, got);
            if (got < chunkSize)
                return;
        }
    }
    catch (e) {
        throw fsError(e, path);
    }
    finally {
        closeSync(fd);
    }
}
/** Sequential reads into buffers the caller provides (for example a job's `inputSpace()`). */
export function openReadSync(path) {
    const fd = openOrThrow(path, "r");
    return {
        readInto(into) {
            let got = 0;
            try {
                while (got < into.length) {
                    const n = readSync(fd, into, got, into.length - got, null);
                    if (n === 0)
                        break;
                    got += n;
                }
            }
            catch (e) {
                throw fsError(e, path);
            }
            return got;
        },
        close: () => closeSync(fd),
    };
}
export function openBasisSync(path) {
    const fd = openOrThrow(path, "r");
    let size;
    try {
        const st = fstatSync(fd);
        if (!st.isFile())
            throw new IbtError("BAD_ARGUMENT", `not a regular file: ${path}`, { path });
        size = st.size;
    }
    catch (e) {
        closeSync(fd);
        throw fsError(e, path);
    }
    let shared = new Uint8Array(0);
    return {
        size,
        read(offset, length) {
            if (shared.length < length)
                shared = new Uint8Array(length);
            let got = 0;
            while (got < length) {
                const n = readSync(fd, shared, got, length - got, offset + got);
                if (n === 0)
                    break;
                got += n;
            }
            return shared.subarray(0, got);
        },
        close: () => closeSync(fd),
    };
}
/**
 * An output file written through a temporary file beside it: `commit` renames it into place,
 * `abort` removes it. Until `commit`, the destination is untouched.
 */
export class AtomicFileSync {
    path;
    fd;
    temp;
    position = 0;
    constructor(path, options = {}) {
        this.path = path;
        if (!options.overwrite && exists(path)) {
            throw new IbtError("EXISTS", `output exists (use --force to overwrite): ${path}`, { path });
        }
        this.temp = join(dirname(path), tempName(basename(path)));
        this.fd = openOrThrow(this.temp, "wx", 0o644);
    }
    get bytesWritten() {
        return this.position;
    }
    write(data) {
        const fd = this.fd;
        if (fd === undefined)
            throw new IbtError("INTERNAL", "write after commit or abort");
        try {
            for (let at = 0; at < data.length;) {
                const n = writeSync(fd, data, at, data.length - at, this.position);
                at += n;
                this.position += n;
            }
        }
        catch (e) {
            throw fsError(e, this.path);
        }
    }
    commit(durable = false) {
        const fd = this.fd;
        if (fd === undefined)
            throw new IbtError("INTERNAL", "commit after commit or abort");
        try {
            if (durable)
                fsyncSync(fd);
            closeSync(fd);
            this.fd = undefined;
            renameSync(this.temp, this.path);
        }
        catch (e) {
            this.abort();
            throw fsError(e, this.path);
        }
    }
    abort() {
        if (this.fd !== undefined) {
            try {
                closeSync(this.fd);
            }
            catch {
                // already closed or broken: removing the file is what matters
            }
            this.fd = undefined;
        }
        try {
            unlinkSync(this.temp);
        }
        catch {
            // not created or already gone
        }
    }
}
function exists(path) {
    try {
        lstatSync(path);
        return true;
    }
    catch {
        return false;
    }
}
//# sourceMappingURL=sync-files.js.map