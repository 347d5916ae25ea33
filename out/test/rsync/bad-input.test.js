import { test } from "node:test";
import assert from "node:assert/strict";
import { signatureOf, deltaOf, patchOf, patch, parseSignature, IbtError, isIbtError, collect } from "../../src/index.js";
import { rng, randomBytes, concat, edit, equalBytes } from "../support/helpers.js";
const KNOWN = ["BAD_MAGIC", "TRUNCATED", "CORRUPT", "OUT_OF_RANGE"];
async function failure(p) {
    try {
        await p;
    }
    catch (e) {
        assert.ok(e instanceof IbtError, `expected an IbtError, got ${String(e)}`);
        return e;
    }
    assert.fail("expected an error");
}
function u32(v) {
    return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
}
const MAGIC = u32(0x72730236);
const next = rng(42);
const basis = randomBytes(next, 200_000);
const target = edit(next, edit(next, basis, "insert"), "move");
let goodDelta;
test("a valid delta for the fault cases", async () => {
    goodDelta = await deltaOf(await signatureOf(basis, { blockLength: 512 }), target);
    assert.ok(equalBytes(await patchOf(basis, goodDelta), target));
});
test("a delta truncated at every byte boundary is TRUNCATED", async () => {
    for (let n = 0; n < goodDelta.length; n++) {
        const e = await failure(patchOf(basis, goodDelta.subarray(0, n)));
        assert.equal(e.code, "TRUNCATED", `cut at ${n}`);
    }
});
test("wrong magic, unknown commands, data after END, oversized integers", async () => {
    assert.equal((await failure(patchOf(basis, new Uint8Array([...u32(0x72730147), 0])))).code, "BAD_MAGIC");
    for (let op = 0x55; op <= 0xff; op++) {
        const e = await failure(patchOf(basis, new Uint8Array([...MAGIC, op, 0, 0, 0, 0])));
        assert.equal(e.code, "CORRUPT", `op 0x${op.toString(16)}`);
        assert.equal(e.offset, 4);
    }
    assert.equal((await failure(patchOf(basis, new Uint8Array([...MAGIC, 0, 0])))).code, "CORRUPT");
    // COPY with 8-byte offset near 2^64, and near 2^53.
    const copy88 = 0x45 + 3 * 4 + 3;
    const big = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf0];
    assert.equal((await failure(patchOf(basis, new Uint8Array([...MAGIC, copy88, ...big, 0, 0, 0, 0, 0, 0, 0, 1, 0])))).code, "CORRUPT");
    const justOver53 = [0, 0x20, 0, 0, 0, 0, 0, 0];
    assert.equal((await failure(patchOf(basis, new Uint8Array([...MAGIC, copy88, 0, 0, 0, 0, 0, 0, 0, 0, ...justOver53, 0])))).code, "CORRUPT");
    // A literal of 8-byte length near 2^64, and one longer than the data that follows.
    assert.equal((await failure(patchOf(basis, new Uint8Array([...MAGIC, 0x44, ...big, 1, 2, 3])))).code, "CORRUPT");
    assert.equal((await failure(patchOf(basis, new Uint8Array([...MAGIC, 0x42, 0x10, 0x00, 1, 2, 3])))).code, "TRUNCATED");
});
test("copies past the end of the basis are OUT_OF_RANGE, with and without a known size", async () => {
    const copy44 = 0x45 + 2 * 4 + 2;
    const cases = [
        [0, basis.length + 1],
        [basis.length, 1],
        [0xffffffff, 0xffffffff],
        [basis.length - 10, 11],
    ];
    for (const [off, len] of cases) {
        const d = new Uint8Array([...MAGIC, copy44, ...u32(off), ...u32(len), 0]);
        assert.equal((await failure(patchOf(basis, d))).code, "OUT_OF_RANGE", `copy ${off}+${len}`);
        const read = (o, n) => basis.subarray(o, o + n);
        assert.equal((await failure(collect(patch(read, [d])))).code, "OUT_OF_RANGE", `unsized copy ${off}+${len}`);
    }
});
test("thousands of random bit flips end in a result or a known error code, never anything else", async () => {
    const flips = rng(9);
    let errors = 0;
    for (let trial = 0; trial < 2000; trial++) {
        const bad = goodDelta.slice();
        const at = Math.floor(flips() * bad.length);
        bad[at] ^= 1 << Math.floor(flips() * 8);
        try {
            await patchOf(basis, bad);
        }
        catch (e) {
            assert.ok(isIbtError(e) && KNOWN.includes(e.code), `flip at ${at}: ${String(e)}`);
            errors++;
        }
    }
    assert.ok(errors > 0, "some flips must be detected");
});
test("malformed signatures are refused with clear codes", async () => {
    const sig = await signatureOf(basis, { blockLength: 1000 });
    for (let n = 0; n < 12; n++) {
        const e = (() => {
            try {
                parseSignature(sig.subarray(0, n));
            }
            catch (err) {
                return err;
            }
            return undefined;
        })();
        assert.equal(e?.code, "TRUNCATED", `header cut at ${n}`);
    }
    assert.throws(() => parseSignature(sig.subarray(0, sig.length - 1)), (e) => isIbtError(e, "TRUNCATED"));
    assert.throws(() => parseSignature(concat(new Uint8Array(u32(0x72730236)), sig.subarray(4))), (e) => isIbtError(e, "BAD_MAGIC"));
    const zeroBlock = sig.slice();
    zeroBlock.set(u32(0), 4);
    assert.throws(() => parseSignature(zeroBlock), (e) => isIbtError(e, "CORRUPT"));
    const longStrong = sig.slice();
    longStrong.set(u32(33), 8);
    assert.throws(() => parseSignature(longStrong), (e) => isIbtError(e, "CORRUPT"));
    await assert.rejects(deltaOf(sig.subarray(0, 20), target), (e) => isIbtError(e, "TRUNCATED"));
});
test("errors carry code, offset and survive JSON", async () => {
    const e = await failure(patchOf(basis, new Uint8Array([...MAGIC, 0x99])));
    const copy = IbtError.from(JSON.parse(JSON.stringify(e)));
    assert.equal(copy.code, "CORRUPT");
    assert.equal(copy.offset, 4);
    assert.equal(copy.message, e.message);
    assert.ok(copy instanceof IbtError);
});
//# sourceMappingURL=bad-input.test.js.map