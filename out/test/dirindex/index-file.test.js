/**
 * The index file as a stream: decoding in chunks of any size gives the one-shot result (records
 * and signatures straddling chunks, signatures larger than a chunk), a damaged file fails with
 * the same error whatever the chunking, the encoder's chunks stay valid however long they are
 * kept and a loaded index saves to the bytes it came from, DirIndex.fromSorted checks its order,
 * and the identity of a fixed set of entries never changes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DirIndex, collect, decodeIndex, encodeIndex, isIbtError } from "../../src/index.js";
import { randomBytes, rng } from "../support/helpers.js";
const HASH = "0123456789abcdef".repeat(4);
function entries(bigSignature) {
    const next = rng(11);
    const file = (path, signature, more = {}) => ({
        path,
        type: "file",
        size: signature * 7,
        mtimeMs: 1_700_000_000_000 + signature,
        mode: 0o644,
        ctimeMs: 1_700_000_000_500,
        ino: 1_000_000 + signature,
        hash: HASH,
        signature: randomBytes(next, signature),
        ...more,
    });
    const bare = file("d/no-change-info", 12);
    delete bare.ctimeMs;
    delete bare.ino;
    return [
        { path: "d", type: "dir", size: 0, mtimeMs: 0, mode: 0o755 },
        file("d/empty-signature", 0),
        file("d/just-below-pass-on", 1023),
        file("d/pass-on", 1024),
        file("d/large", bigSignature),
        file(`d/${"long-name-".repeat(20)}`, 40, { ctimeMs: 1.5 }),
        bare,
        { path: "d/link", type: "symlink", size: 9, mtimeMs: 2, mode: 0o777, hash: HASH, target: "../日本/x" },
        file("d/naïve café", 300),
        { path: "e", type: "dir", size: 0, mtimeMs: 3, mode: 0o700, ctimeMs: 4, ino: 2 ** 40 },
    ];
}
function split(bytes, size) {
    const out = [];
    for (let at = 0; at < bytes.length; at += size)
        out.push(bytes.subarray(at, at + size));
    return out;
}
async function outcome(chunks) {
    try {
        return `ok ${(await decodeIndex(chunks)).id}`;
    }
    catch (e) {
        assert.ok(isIbtError(e), String(e));
        return `${e.code} ${e.message} @${e.offset}`;
    }
}
test("decoding in chunks of any size gives the one-shot result", async () => {
    const index = await DirIndex.fromEntries(entries(300_000));
    const bytes = await collect(encodeIndex(index));
    for (const size of [1, 2, 3, 7, 15, 100, 1023, 10_000, 200_000, bytes.length]) {
        const back = await decodeIndex(split(bytes, size));
        assert.equal(back.id, index.id, `chunks of ${size}`);
        assert.deepEqual([...back.entries.values()], [...index.entries.values()], `chunks of ${size}`);
    }
    const next = rng(3);
    const ragged = [];
    for (let at = 0; at < bytes.length;) {
        const n = Math.floor(next() * 70_000);
        ragged.push(bytes.subarray(at, at + n)); // empty chunks included
        at += n;
    }
    assert.deepEqual([...(await decodeIndex(ragged)).entries.values()], [...index.entries.values()]);
});
test("a cut or damaged index fails with the same error whatever the chunking", async () => {
    const bytes = await collect(encodeIndex(await DirIndex.fromEntries(entries(5000))));
    const cases = [];
    for (let n = 0; n < bytes.length; n += n < 300 || n > bytes.length - 300 ? 1 : 37)
        cases.push([`cut at ${n}`, bytes.subarray(0, n)]);
    const next = rng(8);
    for (let i = 0; i < 300; i++) {
        const bad = bytes.slice();
        bad[Math.floor(next() * (i % 2 ? 600 : bad.length))] ^= 1 << Math.floor(next() * 8);
        cases.push([`flip ${i}`, bad]);
    }
    cases.push(["a byte after the end", new Uint8Array([...bytes, 0])]);
    for (const [i, [name, b]] of cases.entries()) {
        const whole = await outcome([b]);
        assert.ok(!whole.startsWith("ok"), `${name} loaded`);
        if (name.startsWith("cut"))
            assert.match(whole, new RegExp(`^(TRUNCATED .* @${b.length}|BAD_MAGIC .*)$`), name);
        // One-byte chunks (every field straddles) for a tenth of the cases: they cost the most.
        for (const size of i % 10 ? [7, 100, 4096] : [1, 7, 100, 4096])
            assert.equal(await outcome(split(b, size)), whole, `${name}, chunks of ${size}`);
    }
});
test("empty chunks are no data; data after the end is refused at its offset", async () => {
    const bytes = await collect(encodeIndex(await DirIndex.fromEntries(entries(100))));
    const empty = new Uint8Array(0);
    assert.match(await outcome([empty, bytes.subarray(0, 10), empty, bytes.subarray(10), empty]), /^ok /);
    const after = `CORRUPT data after the end of the index @${bytes.length}`;
    assert.equal(await outcome([bytes, new Uint8Array([0])]), after);
    assert.equal(await outcome([new Uint8Array([...bytes, 0, 0])]), after);
    assert.equal(await outcome([bytes.subarray(0, bytes.length - 3), new Uint8Array([...bytes.subarray(bytes.length - 3), 0])]), after);
});
test("encoded chunks stay valid when kept, large signatures go out uncopied, and a loaded index saves to the same bytes", async () => {
    const list = entries(300_000);
    const index = await DirIndex.fromEntries(list);
    const chunks = [];
    for await (const c of encodeIndex(index))
        chunks.push(c);
    const bytes = await collect(chunks);
    assert.deepEqual(bytes, await collect(encodeIndex(index)));
    const large = list.find((e) => e.path === "d/large").signature;
    assert.ok(chunks.includes(large), "the large signature is one of the chunks, as it is");
    const loaded = await decodeIndex(split(bytes, 65_536));
    assert.deepEqual(await collect(encodeIndex(loaded)), bytes);
});
test("a hash that is not 64 hex digits is refused when encoding; upper case is read as lower", async () => {
    const dir = { path: "a", type: "dir", size: 0, mtimeMs: 0, mode: 0o755 };
    for (const hash of ["", "abc", HASH.slice(1) + "g", HASH + "00"]) {
        const index = await DirIndex.fromEntries([{ ...dir, hash }]);
        await assert.rejects(collect(encodeIndex(index)), (e) => isIbtError(e, "BAD_ARGUMENT"), JSON.stringify(hash));
    }
    const upper = await collect(encodeIndex(await DirIndex.fromEntries([{ ...dir, hash: HASH.toUpperCase() }])));
    const lower = await collect(encodeIndex(await DirIndex.fromEntries([{ ...dir, hash: HASH }])));
    assert.deepEqual(upper, lower);
});
test("DirIndex.fromSorted checks the order it is given and agrees with fromEntries", async () => {
    const dir = (path) => ({ path, type: "dir", size: 0, mtimeMs: 0, mode: 0o755 });
    assert.equal((await DirIndex.fromSorted([dir("a"), dir("a/b"), dir("b")])).id, (await DirIndex.fromEntries([dir("b"), dir("a/b"), dir("a")])).id);
    for (const paths of [["b", "a"], ["a", "a"], ["a", "c", "b"]]) {
        await assert.rejects(DirIndex.fromSorted(paths.map(dir)), (e) => isIbtError(e, "CORRUPT"), paths.join());
    }
});
test("the identity of a fixed set of entries does not change", async () => {
    // Computed by the first implementation, which built each line as a string: any rewrite must
    // hash the same bytes (numbers as String writes them, text as UTF-8, lone surrogates as U+FFFD).
    const index = await DirIndex.fromEntries([
        { path: "a", type: "dir", size: 0, mtimeMs: 0, mode: 0o755 },
        { path: "a/café", type: "file", size: 12, mtimeMs: 1_700_000_000_123, mode: 0o644, hash: "0f".repeat(32), ctimeMs: 5, ino: 7 },
        { path: "a/link", type: "symlink", size: 6, mtimeMs: 1.5, mode: 0o777, hash: "a0".repeat(32), target: "../日本\ud800" },
        { path: "b".repeat(70_000), type: "file", size: 2 ** 53 - 1, mtimeMs: -0, mode: 0, hash: "ff".repeat(32) },
        { path: "c", type: "file", size: 0, mtimeMs: -1e21, mode: 0o600 },
    ]);
    assert.equal(index.id, "add707eb801ecfb3af393c5a10ecb9bdca0a01f3034dcca500e32ceffcc21eee");
});
//# sourceMappingURL=index-file.test.js.map