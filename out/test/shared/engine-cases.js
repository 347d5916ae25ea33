/**
 * The engine checks every runtime runs (Node in test/engine-fixtures.test.ts, Deno, Chromium):
 * digest vectors, then signatures, deltas and patches on fixtures made in Node by the real rdiff
 * (engine-fixtures.ts). A runtime passes only if its signatures are rdiff's byte for byte, it
 * patches rdiff's deltas to the right bytes, and its own deltas are Node's byte for byte, so an
 * engine that computes differently under another runtime (a WASM, BigInt or TextEncoder quirk)
 * fails here. Imports only node:test, node:assert and the library.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { blake2b, deltaOf, isIbtError, md4, parseSignature, patchOf, signature, signatureOf, collect } from "../../src/index.js";
import { toHex } from "./data.js";
const enc = (s) => new TextEncoder().encode(s);
function same(actual, expected, what) {
    if (actual.length === expected.length && actual.every((b, i) => b === expected[i]))
        return;
    let at = 0;
    while (at < actual.length && actual[at] === expected[at])
        at++;
    assert.fail(`${what}: ${actual.length} bytes vs ${expected.length}, first difference at byte ${at}`);
}
export function engineCases(load) {
    let fixtures;
    const cases = async () => {
        fixtures ??= load("fixtures.json").then((b) => JSON.parse(new TextDecoder().decode(b)));
        const { cases } = await fixtures;
        assert.ok(cases.length >= 20, `${cases.length} fixture cases`);
        return cases;
    };
    test("engine: MD4 (RFC 1320) and BLAKE2b (RFC 7693) known vectors", async () => {
        assert.equal(toHex(await md4(enc(""))), "31d6cfe0d16ae931b73c59d7e0c089c0");
        assert.equal(toHex(await md4(enc("message digest"))), "d9130a8164549fe818874806e1c7014b");
        assert.equal(toHex(await blake2b(enc("abc"), 32)), "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
        assert.equal(toHex(await blake2b(enc("abc"), 64)), "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923");
    });
    test("engine: signatures are rdiff's byte for byte, one-shot and streamed in odd chunks", async () => {
        for (const c of await cases()) {
            const basis = await load(c.basis);
            const expected = await load(`${c.name}.sig`);
            same(await signatureOf(basis, c.options), expected, `${c.name} signature`);
            const chunks = [];
            for (let at = 0; at < basis.length; at += 7919)
                chunks.push(basis.subarray(at, at + 7919));
            same(await collect(signature(chunks, { ...c.options, size: basis.length })), expected, `${c.name} streamed signature`);
        }
    });
    test("engine: rdiff's deltas patch the basis into the new version", async () => {
        for (const c of await cases()) {
            same(await patchOf(await load(c.basis), await load(`${c.name}.rdelta`)), await load(c.next), `${c.name} patch of rdiff's delta`);
        }
    });
    test("engine: deltas are Node's byte for byte, patch back to the new version, and stay small for small edits", async () => {
        for (const c of await cases()) {
            const basis = await load(c.basis);
            const next = await load(c.next);
            const delta = await deltaOf(await signatureOf(basis, c.options), next);
            same(delta, await load(`${c.name}.delta`), `${c.name} delta against Node's`);
            same(await patchOf(basis, delta), next, `${c.name} patch of our delta`);
            if (basis.length > 1_000_000)
                assert.ok(delta.length < next.length / 20, `${c.name}: ${delta.length} byte delta for ${next.length} bytes`);
        }
    });
    test("engine: a signature or delta with a wrong magic is refused with BAD_MAGIC", async () => {
        const junk = enc("not a signature, not a delta");
        assert.throws(() => parseSignature(junk), (e) => isIbtError(e, "BAD_MAGIC"));
        await assert.rejects(patchOf(new Uint8Array(10), junk), (e) => isIbtError(e, "BAD_MAGIC"));
    });
}
//# sourceMappingURL=engine-cases.js.map