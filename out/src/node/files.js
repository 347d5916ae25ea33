/**
 * Node file helpers for the engine: chunked reads, random access to a basis, and writes that
 * leave either the whole new file or nothing (temp file in the same directory, then rename).
 */
// Through fs.promises, so that a bundle loads the promise API only when a call here needs it.
import { promises as fsp } from "node:fs";
import { basename, dirname, join } from "node:path";
import { IbtError } from "../errors.js";
import { tempName } from "./temp-name.js";
import { chunksOf } from "../bytes.js";
const CHUNK = 1 << 20;
/** Maps a Node fs error to an IbtError with a stable code. */
export function fsError(e, path) {
    const code = e?.code;
    if (e instanceof IbtError)
        return e;
    if (code === "ENOENT")
        return new IbtError("NOT_FOUND", `no such file: ${path}`, { path, cause: e });
    if (code === "EEXIST")
        return new IbtError("EXISTS", `already exists: ${path}`, { path, cause: e });
    if (code === "EISDIR")
        return new IbtError("BAD_ARGUMENT", `is a directory: ${path}`, { path, cause: e });
    const message = e instanceof Error ? e.message : String(e);
    return new IbtError("IO", `${path}: ${message}`, { path, cause: e });
}
/**
 * Reads a file as chunks of up to `chunkSize` bytes (fresh arrays unless `reuseBuffer`). The
 * next chunk is read while the consumer works on the current one.
 */
export async function* readFileChunks(path, options = {}) {
    const chunkSize = options.chunkSize ?? CHUNK;
    let fh;
    try {
        fh = await fsp.open(path, "r");
    }
    catch (e) {
        throw fsError(e, path);
    }
    const handle = fh;
    // With reuseBuffer two buffers alternate: one is the consumer's, the other is being filled.
    const buffers = options.reuseBuffer ? [new Uint8Array(chunkSize), new Uint8Array(chunkSize)] : undefined;
    let turn = 0;
    const readNext = async () => {
        const buf = buffers ? buffers[turn++ & 1] : new Uint8Array(chunkSize);
        let got = 0;
        while (got < chunkSize) {
            const { bytesRead } = await handle.read(buf, got, chunkSize - got, null);
            if (bytesRead === 0)
                break;
            got += bytesRead;
        }
        return got === chunkSize ? buf : buf.subarray(0, got);
    };
    let next;
    try {
        next = readNext();
        for (;;) {
            const chunk = await next;
            next = undefined;
            if (chunk.length === 0)
                return;
            if (chunk.length === chunkSize)
                next = readNext();
            yield chunk;
            if (chunk.length < chunkSize)
                return;
        }
    }
    catch (e) {
        throw fsError(e, path);
    }
    finally {
        if (next)
            await next.catch(() => undefined);
        await handle.close();
    }
}
/** Opens a file for random access, as a patch basis. */
export async function openBasis(path) {
    let fh;
    try {
        fh = await fsp.open(path, "r");
    }
    catch (e) {
        throw fsError(e, path);
    }
    const { size } = await fh.stat();
    const handle = fh;
    // One buffer serves every read: patch() copies what it gets before reading again.
    let shared = new Uint8Array(0);
    return {
        size,
        async read(offset, length) {
            if (shared.length < length)
                shared = new Uint8Array(length);
            const buf = shared.subarray(0, length);
            let got = 0;
            while (got < length) {
                const { bytesRead } = await handle.read(buf, got, length - got, offset + got);
                if (bytesRead === 0)
                    break;
                got += bytesRead;
            }
            return got === length ? buf : buf.subarray(0, got);
        },
        close: () => handle.close(),
    };
}
const WRITES_IN_FLIGHT = 4;
function dropBytes(chunks, n) {
    let i = 0;
    while (i < chunks.length && n >= chunks[i].length)
        n -= chunks[i++].length;
    const rest = chunks.slice(i);
    if (n > 0 && rest.length > 0)
        rest[0] = rest[0].subarray(n);
    return rest;
}
const BATCH_BYTES = 1 << 20;
/**
 * Writes `chunks` to `path` whole or not at all: into a temporary file beside it, renamed over
 * `path` only after the last chunk. If the source throws, the temporary file is removed and
 * `path` is untouched. Returns the number of bytes written. Chunks MUST NOT be modified after
 * they are yielded (several writes may be in flight).
 */
export async function writeFileAtomic(path, chunks, options = {}) {
    if (!options.overwrite) {
        const exists = await fsp.lstat(path).then(() => true, () => false);
        if (exists)
            throw new IbtError("EXISTS", `output exists (use --force to overwrite): ${path}`, { path });
    }
    const dir = dirname(path);
    await fsp.stat(dir).catch((e) => {
        throw fsError(e, dir);
    });
    const temp = join(dir, tempName(basename(path)));
    let fh;
    try {
        fh = await fsp.open(temp, "wx", 0o644);
    }
    catch (e) {
        throw fsError(e, temp);
    }
    let total = 0;
    // Up to WRITES_IN_FLIGHT positioned writes run while the producer makes the next chunks; the
    // chunks a job yields are its own fresh arrays, so nothing is overwritten while in flight.
    // Chunks are gathered into batches of about 1 MiB, each written with one writev.
    const inflight = [];
    const handle = fh;
    const writeBatch = async (batch, position) => {
        while (batch.length > 0) {
            const { bytesWritten } = await handle.writev(batch, position);
            position += bytesWritten;
            batch = dropBytes(batch, bytesWritten); // a short writev is rare on files, but allowed
        }
    };
    let batch = [];
    let batchBytes = 0;
    const flush = async () => {
        inflight.push(writeBatch(batch, total - batchBytes));
        batch = [];
        batchBytes = 0;
        if (inflight.length >= WRITES_IN_FLIGHT)
            await inflight.shift();
    };
    try {
        for await (const c of chunksOf(chunks)) {
            if (c.length === 0)
                continue;
            batch.push(c);
            batchBytes += c.length;
            total += c.length;
            if (batchBytes >= BATCH_BYTES)
                await flush();
        }
        if (batchBytes > 0)
            await flush();
        while (inflight.length)
            await inflight.shift();
        if (options.durable)
            await fh.sync();
        await fh.close();
        fh = undefined;
        await fsp.rename(temp, path);
        return total;
    }
    catch (e) {
        await Promise.allSettled(inflight);
        if (fh)
            await fh.close().catch(() => { });
        await fsp.unlink(temp).catch(() => { });
        throw e instanceof IbtError ? e : fsError(e, path);
    }
}
//# sourceMappingURL=files.js.map