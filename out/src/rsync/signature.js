/**
 * Signature generation: the TypeScript face of assembly/signature.ts.
 *
 * `SignatureJob` is push-driven (push(chunk, final) → ondata), synchronous once created, and
 * accepts chunks of any size: it feeds the engine at most one input region per call, sized so
 * that the records it can produce always fit the output region. `signature()` is the
 * async-iterable form, `signatureOf()` the one-shot form. Memory is one engine instance with
 * about 1 MiB of input and output regions, whatever the size of the basis.
 */
import { acquireEngine } from "./engine.js";
import { EngineJob, streamJob, runJob } from "./job.js";
import { signatureHeader, signatureParams } from "./format.js";
const INPUT_REGION = 1 << 20;
export class SignatureJob extends EngineJob {
    params;
    input;
    output;
    maxInput;
    constructor(engine, params, size) {
        super(engine, signatureHeader(params), "SignatureJob");
        this.params = params;
        const record = 4 + params.strongLength;
        engine.exports.sig_begin(params.weak === "rabinkarp" ? 1 : 0, params.hash === "blake2" ? 1 : 0, params.blockLength, params.strongLength);
        // Each call may complete floor(n / blockLength) + 1 blocks. Regions are sized for the input
        // when its size is known: a small file's job stays small, and so does the pooled instance.
        const inputRegion = size === undefined ? INPUT_REGION : Math.min(INPUT_REGION, Math.max(4096, size));
        const outputRegion = Math.max(inputRegion, 4 * record);
        const blocksPerCall = Math.max(1, Math.floor(outputRegion / record) - 1);
        this.maxInput = Math.min(inputRegion, blocksPerCall * params.blockLength);
        this.input = engine.alloc(this.maxInput);
        this.output = engine.alloc(outputRegion);
    }
    static async create(options = {}) {
        const params = signatureParams(options);
        return new SignatureJob(await acquireEngine(), params, options.size);
    }
    /**
     * Zero-copy input, for readers that can fill a buffer they are given (a file read): a view of
     * the engine's input region. Fill a prefix of it, then call `filled(n)`. The view is valid
     * until the next call on this job.
     */
    inputSpace() {
        return this.live().bytes().subarray(this.input, this.input + this.maxInput);
    }
    /** Takes `n` bytes written into the view from `inputSpace()`. */
    filled(n) {
        const engine = this.live();
        if (!Number.isInteger(n) || n < 0 || n > this.maxInput)
            throw new RangeError(`filled(${n}) exceeds the space given`);
        this.emitRegion(engine, this.output, engine.exports.sig_update(this.input, n, this.output));
        this.deliver(false);
    }
    push(chunk, final = false) {
        const engine = this.live();
        const e = engine.exports;
        for (let at = 0; at < chunk.length;) {
            const n = Math.min(this.maxInput, chunk.length - at);
            engine.write(this.input, chunk.subarray(at, at + n));
            this.emitRegion(engine, this.output, e.sig_update(this.input, n, this.output));
            at += n;
        }
        if (final) {
            this.emitRegion(engine, this.output, e.sig_finish(this.output));
            this.finish();
        }
        this.deliver(final);
    }
}
/** Streams the signature of `source`. Give `options.size` when known: the defaults depend on it. */
export async function* signature(source, options = {}) {
    yield* streamJob(await SignatureJob.create(options), source);
}
/** The signature of bytes in memory; `size` defaults to their length. */
export async function signatureOf(data, options = {}) {
    return runJob(await SignatureJob.create({ size: data.length, ...options }), data);
}
//# sourceMappingURL=signature.js.map