/**
 * Whole-data strong hashes from the engine: BLAKE2b with a chosen digest length (32 bytes is
 * what librsync signatures use) and MD4. Streaming (`update` any number of times) or one-shot.
 */
import { acquireEngine, releaseEngine } from "./engine.js";
const REGION = 256 * 1024;
export class Hasher {
    kind;
    digestLength;
    engine;
    state;
    input;
    out;
    constructor(engine, kind, digestLength) {
        this.kind = kind;
        this.digestLength = digestLength;
        this.engine = engine;
        this.state = engine.alloc(256);
        this.input = engine.alloc(REGION);
        this.out = engine.alloc(64);
        if (kind === "blake2b")
            engine.exports.hash_blake2b_init(this.state, digestLength);
        else
            engine.exports.hash_md4_init(this.state);
    }
    /** A hasher; `digestLength` (1..64) applies to BLAKE2b only, MD4 digests are 16 bytes. */
    static async create(kind = "blake2b", digestLength = 32) {
        if (kind === "md4")
            digestLength = 16;
        else if (!Number.isInteger(digestLength) || digestLength < 1 || digestLength > 64) {
            throw new RangeError(`BLAKE2b digest length must be 1..64, not ${digestLength}`);
        }
        return new Hasher(await acquireEngine(), kind, digestLength);
    }
    update(data) {
        const engine = this.live();
        const e = engine.exports;
        for (let at = 0; at < data.length; at += REGION) {
            const part = data.subarray(at, Math.min(at + REGION, data.length));
            engine.write(this.input, part);
            if (this.kind === "blake2b")
                e.hash_blake2b_update(this.state, this.input, part.length);
            else
                e.hash_md4_update(this.state, this.input, part.length);
        }
        return this;
    }
    /** Finishes and returns the digest; the hasher cannot be used afterwards. */
    digest() {
        const engine = this.live();
        if (this.kind === "blake2b")
            engine.exports.hash_blake2b_final(this.state, this.out);
        else
            engine.exports.hash_md4_final(this.state, this.out);
        const d = engine.read(this.out, this.digestLength);
        this.engine = undefined;
        releaseEngine(engine);
        return d;
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
    live() {
        if (!this.engine)
            throw new Error("Hasher: used after digest()");
        return this.engine;
    }
}
export async function blake2b(data, digestLength = 32) {
    return (await Hasher.create("blake2b", digestLength)).update(data).digest();
}
export async function md4(data) {
    return (await Hasher.create("md4")).update(data).digest();
}
//# sourceMappingURL=hashes.js.map