import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { signatureOf, signature, SignatureJob, signatureParams, isIbtError, collect } from "../../src/index.js";
import { ok, ibt, tempDir, rng, randomBytes, textBytes, split, hex } from "../support/helpers.js";
import { KINDS } from "../shared/engine-fixtures.js";
const dir = tempDir();
const MiB = 1 << 20;
const SIZES = [0, 1, 255, 256, 257, 65535, 65536, 65537, 3 * MiB + 12345];
function fixture(size) {
    const path = join(dir, `basis-${size}`);
    const next = rng(size + 1);
    // Half random, half text, so the sums see both structured and unstructured data.
    const half = size >> 1;
    const data = new Uint8Array(size);
    data.set(randomBytes(next, half));
    data.set(textBytes(next, size - half), half);
    writeFileSync(path, data);
    return path;
}
const files = new Map(SIZES.map((s) => [s, fixture(s)]));
test("ibt signature (CLI) is byte-identical to rdiff signature for every magic and size", () => {
    for (const [hash, roll] of KINDS) {
        for (const [size, path] of files) {
            const expected = ok("rdiff", ["-H", hash, "-R", roll, "signature", path, "-"]);
            const ours = ibt(["-H", hash, "-R", roll, "signature", path, "-"]);
            assert.equal(ours.status, 0, ours.stderr.toString());
            assert.equal(hex(ours.stdout), hex(expected), `${hash}/${roll} size ${size}`);
        }
    }
});
test("signatureOf matches rdiff for block sizes that do and do not divide the file, and strong lengths", async () => {
    const cases = [];
    for (const size of [0, 1, 255, 256, 257, 65535, 65536, 65537]) {
        for (const b of ["128", "100", "7", "1000"])
            cases.push([size, ["-b", b]]);
        cases.push([size, ["-S", "-1"]]);
        cases.push([size, ["-S", "8", "-b", "300"]]);
    }
    cases.push([3 * MiB + 12345, ["-b", "4096"]], [3 * MiB + 12345, ["-b", "3000", "-S", "-1"]]);
    for (const [size, args] of cases) {
        for (const [hash, roll] of KINDS) {
            const path = files.get(size);
            const expected = ok("rdiff", ["-H", hash, "-R", roll, ...args, "signature", path, "-"]);
            const b = args.includes("-b") ? Number(args[args.indexOf("-b") + 1]) : 0;
            const s = args.includes("-S") ? Number(args[args.indexOf("-S") + 1]) : 0;
            const ours = await signatureOf(readFileSync(path), { hash, weak: roll, blockLength: b, strongLength: s });
            assert.equal(hex(ours), hex(expected), `${hash}/${roll} size ${size} ${args.join(" ")}`);
        }
    }
});
test("a basis of unknown size (a pipe) gets rdiff's defaults for that case", () => {
    const data = readFileSync(files.get(3 * MiB + 12345));
    for (const args of [[], ["-S", "-1"]]) {
        const expected = ok("rdiff", [...args, "signature", "-", "-"], data);
        const ours = ibt([...args, "signature", "-", "-"], data);
        assert.equal(ours.status, 0, ours.stderr.toString());
        assert.equal(hex(ours.stdout), hex(expected), args.join(" "));
    }
});
test("streaming equals one-shot for chunk sizes 1, 7, 4096, 1 MiB and random splits", async () => {
    const data = readFileSync(files.get(3 * MiB + 12345));
    for (const opts of [{}, { hash: "md4", weak: "rollsum", blockLength: 1000 }]) {
        const whole = hex(await signatureOf(data, opts));
        const sized = { ...opts, size: data.length };
        for (const size of [1, 7, 4096, MiB]) {
            // Chunks of 1 byte over 3 MiB would take long through an async iterable: the push API is
            // what a chunk of one byte exercises, the async form gets the larger sizes.
            const part = size === 1 ? data.subarray(0, 200_000) : data;
            const expected = size === 1 ? hex(await signatureOf(part, opts)) : whole;
            const job = await SignatureJob.create({ ...opts, size: part.length });
            const out = [];
            job.ondata = (d) => out.push(d);
            for (const c of split(part, size))
                job.push(c);
            job.push(new Uint8Array(0), true);
            assert.equal(hex(Buffer.concat(out)), expected, `push, chunks of ${size}`);
            if (size > 1)
                assert.equal(hex(await collect(signature(split(part, size), sized))), expected, `async, chunks of ${size}`);
        }
        const next = rng(99);
        for (let trial = 0; trial < 5; trial++) {
            assert.equal(hex(await collect(signature(split(data, next), sized))), whole, `random split ${trial}`);
        }
    }
});
test("signature parameters follow rs_sig_args and refuse what rdiff refuses", () => {
    assert.deepEqual(signatureParams({ size: 1_000_000 }), {
        magic: 0x72730147,
        hash: "blake2",
        weak: "rabinkarp",
        blockLength: 896,
        strongLength: 32,
    });
    assert.equal(signatureParams({ size: 268435456, strongLength: -1 }).strongLength, 8);
    assert.equal(signatureParams({ strongLength: -1 }).strongLength, 12);
    assert.equal(signatureParams({}).blockLength, 2048);
    // minBlockLength raises the recommendation only, never a length given outright.
    assert.equal(signatureParams({ size: 5000, minBlockLength: 1024 }).blockLength, 1024);
    assert.equal(signatureParams({ size: 1_000_000, minBlockLength: 1024 }).blockLength, 1024);
    assert.equal(signatureParams({ size: 4_000_000, minBlockLength: 1024 }).blockLength, 1920);
    assert.equal(signatureParams({ size: 5000, blockLength: 300, minBlockLength: 1024 }).blockLength, 300);
    for (const bad of [{ hash: "md4", strongLength: 17 }, { strongLength: 33 }, { blockLength: -5 }, { blockLength: 1.5 }, { minBlockLength: -1 }, { minBlockLength: 2.5 }]) {
        assert.throws(() => signatureParams(bad), (e) => isIbtError(e, "BAD_ARGUMENT"), JSON.stringify(bad));
    }
    const r = ibt(["-S", "40", "signature", files.get(1), "-"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr.toString(), /^ibt: BAD_ARGUMENT: strong length must be from 1 to 32/);
});
test("zero-copy input (inputSpace/filled) gives the same signature as push", async () => {
    const data = readFileSync(files.get(3 * MiB + 12345));
    const job = await SignatureJob.create({ size: data.length, blockLength: 3000 });
    const out = [];
    job.onview = (v) => out.push(v.slice());
    const next = rng(4);
    for (let at = 0; at < data.length;) {
        const space = job.inputSpace();
        const n = Math.min(space.length, data.length - at, 1 + Math.floor(next() * 100_000));
        space.set(data.subarray(at, at + n));
        job.filled(n);
        at += n;
    }
    job.push(new Uint8Array(0), true);
    assert.equal(hex(Buffer.concat(out)), hex(await signatureOf(data, { blockLength: 3000 })));
});
//# sourceMappingURL=signature.test.js.map