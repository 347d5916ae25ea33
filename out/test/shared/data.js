/**
 * Deterministic test data with no runtime behind it: a seeded PRNG, random bytes and text-like
 * bytes. Kept apart from test/helpers.ts (which spawns processes and touches the disk) so the
 * shared suites can use it in Deno and in a browser and still build the same bytes as Node.
 */
/** Deterministic PRNG (mulberry32): tests are reproducible from their seed. */
export function rng(seed) {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}
export function randomBytes(next, n) {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
        const v = (next() * 4294967296) >>> 0;
        out[i] = v;
        if (i + 1 < n)
            out[i + 1] = v >>> 8;
        if (i + 2 < n)
            out[i + 2] = v >>> 16;
        if (i + 3 < n)
            out[i + 3] = v >>> 24;
    }
    return out;
}
/** Text-like data: words from a small vocabulary, so that it has repeats and structure. */
export function textBytes(next, n) {
    const words = ["backup", "delta", "signature", "block", "rolling", "the", "of", "and", "file", "änderung", "日本", "\n"];
    const parts = [];
    let len = 0;
    while (len < n) {
        const w = words[Math.floor(next() * words.length)] + " ";
        parts.push(w);
        len += w.length;
    }
    return new TextEncoder().encode(parts.join("")).subarray(0, n);
}
export function toHex(b) {
    let s = "";
    for (const x of b)
        s += x.toString(16).padStart(2, "0");
    return s;
}
//# sourceMappingURL=data.js.map