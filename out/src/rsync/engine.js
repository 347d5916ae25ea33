/**
 * The WebAssembly engine: compiled once per process, instantiated per job, pooled.
 *
 * The module is embedded as base64 (build/build.mjs) and compiled with `WebAssembly.compile`,
 * so it loads the same way in Node, Deno, browsers and workers: no fetch, no fs. Compilation is
 * cached as a promise. Each job gets an instance of its own, so jobs never share linear memory
 * and any number can run interleaved; finished instances go back to a small pool and their heap
 * is reset before reuse.
 *
 * Views of linear memory must be taken after every call that may allocate, because growing the
 * memory detaches the old ArrayBuffer; `bytes()` always returns a current view.
 */
import { IbtError } from "../errors.js";
import { ENGINE_WASM_BASE64 } from "./engine-wasm.generated.js";
export const RUN_NEED_INPUT = 0;
export const RUN_OUTPUT_FULL = 1;
export const RUN_DONE = 2;
let compiled;
function decodeBase64(text) {
    const bin = atob(text);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++)
        out[i] = bin.charCodeAt(i);
    return out;
}
/** The compiled engine module, compiled on first use. */
export function engineModule() {
    compiled ??= WebAssembly.compile(decodeBase64(ENGINE_WASM_BASE64));
    return compiled;
}
export class Engine {
    exports;
    constructor(instance) {
        this.exports = instance.exports;
    }
    /** A view of the whole linear memory, valid until the next call that allocates. */
    bytes() {
        return new Uint8Array(this.exports.memory.buffer);
    }
    alloc(size) {
        return this.exports.mem_alloc(size);
    }
    /** Copies `data` into linear memory at `ptr`. */
    write(ptr, data) {
        this.bytes().set(data, ptr);
    }
    /** Copies `len` bytes out of linear memory. */
    read(ptr, len) {
        return this.bytes().slice(ptr, ptr + len);
    }
}
const pool = [];
// Enough for an indexer with many files in flight, each with a hasher and a signature job.
const POOL_MAX = 32;
function abort() {
    throw new IbtError("INTERNAL", "the WebAssembly engine aborted (out of memory or a broken invariant)");
}
/** An engine instance for one job; give it back with `releaseEngine` when the job ends. */
export async function acquireEngine() {
    const reused = pool.pop();
    if (reused) {
        reused.exports.mem_reset();
        return reused;
    }
    const instance = await WebAssembly.instantiate(await engineModule(), { env: { abort } });
    return new Engine(instance);
}
export function releaseEngine(engine) {
    // A job that grew memory very large is not kept: its pages cannot be returned to the system.
    if (pool.length < POOL_MAX && engine.exports.memory.buffer.byteLength <= 16 << 20)
        pool.push(engine);
}
//# sourceMappingURL=engine.js.map