/**
 * Hostile signatures and deltas, beyond test/bad-input.test.ts (which cuts a delta at every byte,
 * flips its bits and tries the unknown commands): here a signature is cut at every byte and
 * flipped, every COPY and LITERAL width is given values at the 2^8/2^16/2^32/2^53/2^64 edges, and
 * thousands of generated command streams are checked against a reference interpreter written
 * from the format's definition, which predicts the exact output or the exact error code. The
 * CLI (`ibt patch`, `ibt delta`) is run on a sample: exit 1, one `ibt: CODE:` line, no output file.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { deltaOf, parseSignature, patchOf, signatureOf } from "../../src/index.js";
import { ROOT, concat, edit, equalBytes, randomBytes, rng, tempDir } from "../support/helpers.js";
import { countRefusal, refusal, scaled, tally } from "../support/hostile-kit.js";
const SIG_CODES = ["BAD_MAGIC", "TRUNCATED", "CORRUPT"];
const DELTA_CODES = ["BAD_MAGIC", "TRUNCATED", "CORRUPT", "OUT_OF_RANGE"];
const next = rng(1234);
const basis = randomBytes(next, 30_000);
const target = edit(next, edit(next, basis, "insert"), "repeat");
const sig = await signatureOf(basis, { blockLength: 256 });
const MAGIC = [0x72, 0x73, 0x02, 0x36];
const WIDTHS = [1, 2, 4, 8];
/** `value` as `width` big-endian bytes (value < 2^64, given as a bigint). */
function be(value, width) {
    const out = [];
    for (let i = width - 1; i >= 0; i--)
        out.push(Number((value >> BigInt(8 * i)) & 0xffn));
    return out;
}
test("a signature cut at every byte, or flipped, is refused or yields a delta that is correct or refused", async () => {
    const t = tally("signature: truncated and flipped");
    for (let n = 0; n < sig.length; n++) {
        // A cut at a block boundary is a valid shorter signature: delta still correct.
        const cut = sig.subarray(0, n);
        t.tried++;
        const blockBoundary = n >= 12 && (n - 12) % 36 === 0;
        if (blockBoundary) {
            assert.ok(equalBytes(await patchOf(basis, await deltaOf(cut, target)), target), `cut at ${n}`);
            t.accepted++;
        }
        else
            countRefusal(t, await refusal(async () => parseSignature(cut), SIG_CODES, `cut at ${n}`));
    }
    for (let i = 0; i < scaled(300); i++) {
        const bad = sig.slice();
        const at = Math.floor(next() * bad.length);
        bad[at] ^= 1 << Math.floor(next() * 8);
        t.tried++;
        let delta;
        try {
            delta = await deltaOf(bad, target);
        }
        catch (e) {
            countRefusal(t, await refusal(async () => Promise.reject(e), SIG_CODES, `flip at ${at}`));
            continue;
        }
        if (at < 12) {
            // A flipped header changes what the signature means (a block length of 262,400 makes
            // block 117 start past the end), and librsync's format has no checksum to notice: the
            // delta may copy bytes the basis does not have, which patch must refuse. Above the engine,
            // applyDiff checks every result's hash.
            try {
                await patchOf(basis, delta);
                t.accepted++;
            }
            catch (e) {
                countRefusal(t, await refusal(async () => Promise.reject(e), DELTA_CODES, `header flip at ${at}`));
            }
            continue;
        }
        // A flipped sum only loses matches (each match is confirmed by the strong sum of the real
        // basis block), so whatever delta comes out must rebuild the target exactly.
        assert.ok(equalBytes(await patchOf(basis, delta), target), `flip at ${at}: wrong delta`);
        t.accepted++;
    }
});
test("COPY and LITERAL lengths and offsets at every width edge, near 2^32 and 2^64", async () => {
    const t = tally("delta: integer edges");
    const edges = [0n, 1n, 0xffn, 0x100n, 0xffffn, 0xffffffffn, 0x100000000n, 0x100000001n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 64n - 1n];
    const size = BigInt(basis.length);
    for (const [oi, ow] of WIDTHS.entries()) {
        for (const [li, lw] of WIDTHS.entries()) {
            for (const off of edges) {
                for (const len of edges) {
                    if (off >= 1n << BigInt(8 * ow) || len >= 1n << BigInt(8 * lw))
                        continue;
                    const d = new Uint8Array([...MAGIC, 0x45 + oi * 4 + li, ...be(off, ow), ...be(len, lw), 0]);
                    t.tried++;
                    const want = off >= 2n ** 53n || len >= 2n ** 53n ? "CORRUPT" : off + len > size ? "OUT_OF_RANGE" : undefined;
                    if (want === undefined) {
                        assert.ok(equalBytes(await patchOf(basis, d), basis.subarray(Number(off), Number(off + len))));
                        t.accepted++;
                    }
                    else
                        countRefusal(t, await refusal(() => patchOf(basis, d), [want], `copy ${off}+${len} (${ow},${lw})`));
                }
            }
        }
    }
    for (const [wi, w] of WIDTHS.entries()) {
        for (const len of edges) {
            if (len === 0n || len >= 1n << BigInt(8 * w))
                continue;
            // The literal announces `len` bytes and the delta carries 3, then ends.
            const d = new Uint8Array([...MAGIC, 0x41 + wi, ...be(len, w), 1, 2, 3]);
            t.tried++;
            const want = len >= 2n ** 53n ? "CORRUPT" : len > 3n ? "TRUNCATED" : "CORRUPT";
            // len <= 3: the literal is complete and what follows is an unknown command or END missing.
            countRefusal(t, await refusal(() => patchOf(basis, d), len <= 3n ? ["CORRUPT", "TRUNCATED"] : [want], `literal ${len} (${w})`));
        }
    }
});
function generate(next) {
    const bytes = [...MAGIC];
    const out = [];
    let code;
    const n = Math.floor(next() * 8);
    for (let i = 0; i < n && !code; i++) {
        if (next() < 0.5) {
            const len = 1 + Math.floor(next() * 300);
            const data = randomBytes(next, len);
            if (len <= 64 && next() < 0.5)
                bytes.push(len);
            else {
                const wi = len < 256 ? Math.floor(next() * 4) : 1 + Math.floor(next() * 3);
                bytes.push(0x41 + wi, ...be(BigInt(len), WIDTHS[wi]));
            }
            bytes.push(...data);
            out.push(data);
        }
        else {
            // Mostly in range, sometimes just past the end, sometimes far.
            const r = next();
            const off = Math.floor(next() * basis.length);
            const len = r < 0.8 ? 1 + Math.floor(next() * (basis.length - off)) : r < 0.9 ? basis.length - off + 1 : 0x100000000 + Math.floor(next() * 1000);
            const ow = WIDTHS.findIndex((w) => off < 2 ** (8 * w)) + Math.floor(next() * 2);
            const lw = WIDTHS.findIndex((w) => len < 2 ** (8 * w));
            const oi = Math.min(3, ow);
            bytes.push(0x45 + oi * 4 + lw, ...be(BigInt(off), WIDTHS[oi]), ...be(BigInt(len), WIDTHS[lw]));
            if (off + len > basis.length)
                code = "OUT_OF_RANGE";
            else
                out.push(basis.subarray(off, off + len));
        }
    }
    const ending = next();
    if (code)
        return { delta: new Uint8Array(bytes), code };
    if (ending < 0.8)
        return { delta: new Uint8Array([...bytes, 0]), out: concat(...out) };
    if (ending < 0.9)
        return { delta: new Uint8Array(bytes), code: "TRUNCATED" };
    return { delta: new Uint8Array([...bytes, 0, 1 + Math.floor(next() * 255)]), code: "CORRUPT" };
}
test("generated command streams give exactly what the format says: the output or the error", async () => {
    const t = tally("delta: generated streams");
    const g = rng(99);
    for (let i = 0; i < scaled(2000); i++) {
        const c = generate(g);
        t.tried++;
        if (c.out) {
            assert.ok(equalBytes(await patchOf(basis, c.delta), c.out), `case ${i}`);
            t.accepted++;
        }
        else
            countRefusal(t, await refusal(() => patchOf(basis, c.delta), [c.code], `case ${i}`));
    }
    assert.ok(t.refused > 100 && t.accepted > 100);
});
async function cli(t, label, args, out, allowed) {
    t.tried++;
    const r = spawnSync(process.execPath, [join(ROOT, "dist/cli/ibt.cjs"), ...args], { encoding: "utf8" });
    assert.equal(r.status, 1, `${label}: ${r.stderr}`);
    const lines = r.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, `${label}: ${r.stderr}`);
    const code = /^ibt: ([A-Z_]+): /.exec(lines[0])?.[1];
    assert.ok(code && allowed.includes(code), `${label}: ${lines[0]}`);
    assert.ok(!existsSync(out), `${label}: an output file was left`);
    t.refused++;
    t.codes[code] = (t.codes[code] ?? 0) + 1;
}
test("ibt patch and ibt delta refuse bad input with one error line and no output file", async () => {
    const t = tally("cli: ibt patch / ibt delta");
    const dir = tempDir();
    const files = { basis: join(dir, "basis"), target: join(dir, "target") };
    writeFileSync(files.basis, basis);
    writeFileSync(files.target, target);
    const good = await deltaOf(sig, target);
    const g = rng(3);
    const deltas = [good.subarray(0, good.length >> 1), new Uint8Array([...MAGIC, 0x4d, ...be(0xffffffffn, 4), ...be(0xffffffffn, 4), 0]), new Uint8Array([1, 2, 3, 4])];
    for (let i = 0; deltas.length < 3 + scaled(5) && i < 1000; i++) {
        const c = generate(g);
        if (c.code)
            deltas.push(c.delta);
    }
    for (const [i, d] of deltas.entries()) {
        const f = join(dir, `d${i}`);
        writeFileSync(f, d);
        await cli(t, `patch ${i}`, ["patch", files.basis, f, join(dir, `o${i}`)], join(dir, `o${i}`), DELTA_CODES);
    }
    const sigs = [sig.subarray(0, 10), sig.subarray(0, sig.length - 3), concat(new Uint8Array([0x72, 0x73, 0x01, 0x99]), sig.subarray(4))];
    for (const [i, s] of sigs.entries()) {
        const f = join(dir, `s${i}`);
        writeFileSync(f, s);
        await cli(t, `delta ${i}`, ["delta", f, files.target, join(dir, `od${i}`)], join(dir, `od${i}`), SIG_CODES);
    }
});
//# sourceMappingURL=hostile-rsync.test.js.map