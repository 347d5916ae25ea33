/**
 * Delta generation: the TypeScript face of assembly/matcher.ts and assembly/blocktable.ts.
 *
 * The job copies the signature's block records into the engine once and builds the block table,
 * then streams the new data through the engine's window. It refills the window only when it is
 * full (or the input has ended) before running the matcher, which is what makes the delta
 * independent of how the input was chunked. Memory: the block table plus a window of about
 * 1.3 MiB (more for block lengths over 1 MiB), whatever the size of the new file.
 */
import { IbtError } from "../errors.js";
import { acquireEngine, RUN_DONE, RUN_NEED_INPUT, RUN_OUTPUT_FULL } from "./engine.js";
import { EngineJob, streamJob, runJob } from "./job.js";
import { MAGIC_DELTA } from "./format.js";
import { loadSignature, parseSignature } from "./loadsig.js";
const DELTA_HEADER = new Uint8Array([MAGIC_DELTA >>> 24, (MAGIC_DELTA >>> 16) & 0xff, (MAGIC_DELTA >>> 8) & 0xff, MAGIC_DELTA & 0xff]);
export class DeltaJob extends EngineJob {
    newBytes = 0;
    constructor(engine, sig) {
        super(engine, DELTA_HEADER, "DeltaJob");
        const e = engine.exports;
        const at = e.tbl_alloc(sig.count, sig.strongLength);
        engine.write(at, sig.records);
        e.tbl_build(sig.weak === "rabinkarp" ? 1 : 0);
        e.dl_begin(sig.weak === "rabinkarp" ? 1 : 0, sig.hash === "blake2" ? 1 : 0, sig.blockLength);
    }
    /** A delta job against a parsed signature or the bytes of a signature file. */
    static async create(signature) {
        const sig = signature instanceof Uint8Array ? parseSignature(signature) : signature;
        return new DeltaJob(await acquireEngine(), sig);
    }
    get stats() {
        return { newBytes: this.newBytes, deltaBytes: this.bytesOut };
    }
    push(chunk, final = false) {
        const engine = this.live();
        const e = engine.exports;
        this.newBytes += chunk.length;
        for (let at = 0; at < chunk.length;) {
            const space = this.space(engine);
            const n = Math.min(space, chunk.length - at);
            engine.write(e.dl_input_ptr(), chunk.subarray(at, at + n));
            e.dl_commit(n);
            at += n;
        }
        if (final) {
            this.run(engine, true);
            this.finish();
        }
        this.deliver(final);
    }
    /**
     * Zero-copy input, for readers that can fill a buffer they are given (a file read): returns a
     * view of free space in the engine's window. Fill a prefix of it, then call `filled(n)`. The
     * view is valid until the next call on this job.
     */
    inputSpace() {
        const engine = this.live();
        const space = this.space(engine);
        this.deliver(false);
        const ptr = engine.exports.dl_input_ptr();
        return engine.bytes().subarray(ptr, ptr + space);
    }
    /** Takes `n` bytes written into the view from `inputSpace()`. */
    filled(n) {
        const engine = this.live();
        if (!Number.isInteger(n) || n < 0 || n > engine.exports.dl_input_space())
            throw new RangeError(`filled(${n}) exceeds the space given`);
        engine.exports.dl_commit(n);
        this.newBytes += n;
    }
    /** Free space in the window; a full window is matched and compacted first. */
    space(engine) {
        const e = engine.exports;
        if (e.dl_input_space() === 0) {
            this.run(engine, false);
            e.dl_compact();
        }
        return e.dl_input_space();
    }
    run(engine, final) {
        const e = engine.exports;
        for (;;) {
            const status = e.dl_run(final ? 1 : 0);
            this.emitRegion(engine, e.dl_output_ptr(), e.dl_output_len());
            e.dl_output_taken();
            if (status === RUN_OUTPUT_FULL)
                continue;
            if (status === RUN_DONE || status === RUN_NEED_INPUT)
                return;
            throw new IbtError("INTERNAL", `delta engine returned unknown status ${status}`);
        }
    }
}
/** Streams the delta that turns the signature's basis into `source`. */
export async function* delta(signature, source) {
    const sig = signature instanceof Uint8Array || isSignature(signature) ? signature : await loadSignature(signature);
    yield* streamJob(await DeltaJob.create(sig), source);
}
function isSignature(s) {
    return typeof s === "object" && s !== null && s.records instanceof Uint8Array;
}
/** The delta from a signature to new bytes in memory. */
export async function deltaOf(signature, data) {
    return runJob(await DeltaJob.create(signature), data);
}
//# sourceMappingURL=delta.js.map