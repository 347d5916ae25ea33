/**
 * The shape every push-driven engine job shares, and the async-iterable and one-shot forms built
 * on it, so each job only implements `push`.
 *
 * `EngineJob` holds what the signature and delta jobs have in common: the leased engine
 * instance, the format header written before the first output, and output delivery, either as
 * owned 64 KiB chunks (`ondata`) or as zero-copy views of engine memory (`onview`).
 */
import { ChunkQueue, chunksOf, concatBytes } from "../bytes.js";
import { releaseEngine } from "./engine.js";
export class EngineJob {
    header;
    name;
    /** Receives output in order, as arrays the receiver owns; `final` is true on the last call. */
    ondata = () => { };
    /**
     * When set, receives the output instead of `ondata`, as views of the engine's memory that are
     * valid only during the call: no copy is made. For writers that consume synchronously.
     */
    onview = undefined;
    /** Bytes of output produced so far, header included. */
    bytesOut = 0;
    engine;
    out = new ChunkQueue();
    headerSent = false;
    constructor(engine, header, name) {
        this.header = header;
        this.name = name;
        this.engine = engine;
    }
    /**
     * Gives the engine instance back without finishing (idempotent). Call it when abandoning the
     * job, for example in a `finally`: each instance reserves a large span of address space for
     * its memory, and instances dropped without it are only reclaimed by a later garbage collection.
     */
    dispose() {
        const engine = this.engine;
        this.engine = undefined;
        if (engine)
            releaseEngine(engine);
    }
    /** The engine, or an error once the final chunk was pushed. */
    live() {
        if (!this.engine)
            throw new Error(`${this.name}: input after the final chunk`);
        return this.engine;
    }
    /** Emits the output region [ptr, ptr + len) of the engine's memory. */
    emitRegion(engine, ptr, len) {
        if (len > 0)
            this.emit(engine.bytes().subarray(ptr, ptr + len));
    }
    emit(view) {
        if (!this.headerSent) {
            this.headerSent = true;
            this.emit(this.header);
        }
        this.bytesOut += view.length;
        if (this.onview)
            this.onview(view);
        else
            this.out.append(view);
    }
    /** Ends the job: the header goes out even with no other output, and the engine goes back. */
    finish() {
        if (!this.headerSent)
            this.emit(new Uint8Array(0));
        this.dispose();
    }
    /** Hands buffered output to `ondata` (whole chunks; everything when `final`). */
    deliver(final) {
        if (this.onview)
            return;
        const parts = this.out.take(final);
        if (final && parts.length === 0)
            parts.push(new Uint8Array(0));
        for (let i = 0; i < parts.length; i++)
            this.ondata(parts[i], final && i === parts.length - 1);
    }
}
/** Runs a job over a byte source, yielding its output as it comes. */
export async function* streamJob(job, source) {
    let pending = [];
    job.ondata = (d) => {
        if (d.length)
            pending.push(d);
    };
    try {
        for await (const chunk of chunksOf(source)) {
            job.push(chunk);
            yield* pending;
            pending = [];
        }
        job.push(new Uint8Array(0), true);
        yield* pending;
    }
    finally {
        job.dispose();
    }
}
/** Runs a job over bytes in memory and returns its whole output. */
export function runJob(job, data) {
    const out = [];
    job.ondata = (d) => out.push(d);
    try {
        job.push(data, true);
    }
    finally {
        job.dispose();
    }
    return concatBytes(out);
}
//# sourceMappingURL=job.js.map