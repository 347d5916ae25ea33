import { test } from "node:test";
import assert from "node:assert/strict";
import { Hasher, blake2b, md4 } from "../../src/index.js";
import { hex, rng, randomBytes, split } from "../support/helpers.js";

const enc = (s: string) => new TextEncoder().encode(s);

test("BLAKE2b known vectors (RFC 7693 and the reference implementation)", async () => {
  assert.equal(hex(await blake2b(enc(""), 32)), "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
  assert.equal(hex(await blake2b(enc("abc"), 32)), "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
  assert.equal(
    hex(await blake2b(enc("abc"), 64)),
    "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923",
  );
  // A 32-byte digest is not a 64-byte digest cut short: the length is a parameter.
  assert.notEqual(hex(await blake2b(enc("abc"), 32)), hex(await blake2b(enc("abc"), 64)).slice(0, 64));
});

test("MD4 known vectors (RFC 1320)", async () => {
  const vectors: [string, string][] = [
    ["", "31d6cfe0d16ae931b73c59d7e0c089c0"],
    ["a", "bde52cb31de33e46245e05fbdbd6fb24"],
    ["abc", "a448017aaf21d8525fc10ae87aa6729d"],
    ["message digest", "d9130a8164549fe818874806e1c7014b"],
    ["abcdefghijklmnopqrstuvwxyz", "d79e1c308aa5bbcdeea8ed63df412da9"],
    ["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "043f8582f241db351ce627e153e7f0e4"],
    ["12345678901234567890123456789012345678901234567890123456789012345678901234567890", "e33b4ddc9c38f2199c3e7b164fcc0536"],
  ];
  for (const [input, digest] of vectors) assert.equal(hex(await md4(enc(input))), digest, JSON.stringify(input));
});

test("hashing in chunks equals one-shot, for every chunk size and both hashes", async () => {
  const data = randomBytes(rng(7), 300_001);
  for (const kind of ["blake2b", "md4"] as const) {
    const whole = hex((await Hasher.create(kind)).update(data).digest());
    for (const size of [1, 2, 3, 7, 15, 100, 10_000, 200_000]) {
      const h = await Hasher.create(kind);
      for (const c of split(size === 1 ? data.subarray(0, 5000) : data, size)) h.update(c);
      const expected = size === 1 ? hex((await Hasher.create(kind)).update(data.subarray(0, 5000)).digest()) : whole;
      assert.equal(hex(h.digest()), expected, `${kind} chunk ${size}`);
    }
  }
});

test("two hashers interleaved do not disturb each other", async () => {
  const a = randomBytes(rng(1), 100_000);
  const b = randomBytes(rng(2), 100_000);
  const ha = await Hasher.create("blake2b");
  const hb = await Hasher.create("blake2b");
  for (let i = 0; i < 100_000; i += 999) {
    ha.update(a.subarray(i, i + 999));
    hb.update(b.subarray(i, i + 999));
  }
  assert.equal(hex(ha.digest()), hex(await blake2b(a)));
  assert.equal(hex(hb.digest()), hex(await blake2b(b)));
});

test("a hasher refuses use after digest and bad digest lengths", async () => {
  const h = await Hasher.create("blake2b");
  h.digest();
  assert.throws(() => h.update(new Uint8Array(1)), /after digest/);
  await assert.rejects(Hasher.create("blake2b", 65), RangeError);
  await assert.rejects(Hasher.create("blake2b", 0), RangeError);
});
