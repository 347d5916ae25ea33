/**
 * FaultyFs: an FsAdapter wrapper that counts every operation by kind and can make exactly one of
 * them go wrong, the way storage does: the Nth write, rename, read, remove, mkdir, symlink or
 * metadata call fails with IO; the Nth read comes back short (half of what was asked, or a
 * stream that ends half-way through its first chunk: a lie the contract forbids, which callers
 * must catch through sizes and hashes); or the disk fills up after N bytes written, failing the
 * write that crosses the limit from inside its data source (so the inner adapter's own
 * "whole or not at all" cleanup is what gets tested).
 *
 * Several wrappers can share one FaultState, so "the Nth write" counts across a whole round trip
 * that touches a source tree, an archive store and a target. It is a test tool: it lives under
 * test/ and is not exported.
 */
import { IbtError, chunksOf } from "../../src/index.js";
export const FAULT_OPS = ["write", "rename", "read", "remove", "mkdir", "symlink", "meta"];
/** Operation counts and the one planned fault, shared by wrappers. */
export class FaultState {
    fault;
    counts = { write: 0, rename: 0, read: 0, remove: 0, mkdir: 0, symlink: 0, meta: 0 };
    bytesWritten = 0;
    /** How many faults actually fired (0 or 1 per plan, as each plan names one event). */
    injected = 0;
    constructor(fault) {
        this.fault = fault;
    }
    /** Counts one `op`; true when this is the call the plan makes fail (or short). */
    hit(op) {
        const n = ++this.counts[op];
        const f = this.fault;
        const due = (f?.kind === "fail" && f.op === op && f.n === n) || (f?.kind === "short" && op === "read" && f.n === n);
        if (due)
            this.injected++;
        return due;
    }
}
function injected(op, path) {
    return new IbtError("IO", `injected failure of ${op}: ${path}`, { path, caller: op });
}
export class FaultyFs {
    inner;
    state;
    constructor(inner, state = new FaultState()) {
        this.inner = inner;
        this.state = state;
    }
    get capabilities() {
        return this.inner.capabilities;
    }
    list(path) {
        return this.inner.list(path);
    }
    lstat(path) {
        return this.inner.lstat(path);
    }
    stat(path) {
        return this.inner.stat(path);
    }
    async read(path, offset, length) {
        const due = this.state.hit("read");
        if (due && this.state.fault?.kind === "fail")
            throw injected("read", path);
        const data = await this.inner.read(path, offset, length);
        return due ? data.subarray(0, data.length >> 1) : data;
    }
    async *readStream(path) {
        const due = this.state.hit("read");
        if (due && this.state.fault?.kind === "fail")
            throw injected("readStream", path);
        for await (const chunk of this.inner.readStream(path)) {
            if (due) {
                // Short: half of the first chunk, then the stream just ends.
                if (chunk.length > 1)
                    yield chunk.subarray(0, chunk.length >> 1);
                return;
            }
            yield chunk;
        }
    }
    async writeFile(path, data, options) {
        if (this.state.hit("write") && this.state.fault?.kind === "fail")
            throw injected("writeFile", path);
        const fault = this.state.fault;
        if (fault?.kind !== "full")
            return this.inner.writeFile(path, data, options);
        const state = this.state;
        const limit = fault.bytes;
        async function* filling() {
            for await (const chunk of chunksOf(data instanceof Uint8Array ? [data] : data)) {
                if (state.bytesWritten + chunk.length > limit) {
                    if (state.injected === 0)
                        state.injected++;
                    throw new IbtError("IO", `injected: no space left after ${limit} bytes: ${path}`, { path, caller: "writeFile" });
                }
                state.bytesWritten += chunk.length;
                yield chunk;
            }
        }
        return this.inner.writeFile(path, filling(), options);
    }
    async mkdir(path, options) {
        if (this.state.hit("mkdir") && this.state.fault?.kind === "fail")
            throw injected("mkdir", path);
        return this.inner.mkdir(path, options);
    }
    async remove(path, options) {
        if (this.state.hit("remove") && this.state.fault?.kind === "fail")
            throw injected("remove", path);
        return this.inner.remove(path, options);
    }
    async rename(from, to) {
        if (this.state.hit("rename") && this.state.fault?.kind === "fail")
            throw injected("rename", from);
        return this.inner.rename(from, to);
    }
    async symlink(target, path) {
        if (this.state.hit("symlink") && this.state.fault?.kind === "fail")
            throw injected("symlink", path);
        return this.inner.symlink(target, path);
    }
    readlink(path) {
        return this.inner.readlink(path);
    }
    async chmod(path, mode) {
        if (this.state.hit("meta") && this.state.fault?.kind === "fail")
            throw injected("chmod", path);
        return this.inner.chmod(path, mode);
    }
    async utimes(path, mtimeMs) {
        if (this.state.hit("meta") && this.state.fault?.kind === "fail")
            throw injected("utimes", path);
        return this.inner.utimes(path, mtimeMs);
    }
}
//# sourceMappingURL=faulty-fs.js.map