import { test } from "node:test";
import assert from "node:assert/strict";
import { argon2id as referenceArgon2id, argon2d as referenceArgon2d, argon2i as referenceArgon2i } from "hash-wasm";
import { argon2id, calibrateArgon2id, ARGON2ID_DEFAULTS, type Argon2idParams } from "../../src/crypto/index.js";
import { argon2, type Argon2Variant } from "../../src/crypto/argon2.js";
import { acquireEngine, releaseEngine } from "../../src/rsync/engine.js";
import { toHex } from "../../src/bytes.js";
import { IbtError } from "../../src/errors.js";
import { rng, randomBytes } from "../shared/data.js";

const filled = (length: number, byte: number) => new Uint8Array(length).fill(byte);

// RFC 9106 section 5: the same inputs for all three variants.
const RFC_PASSWORD = filled(32, 0x01);
const RFC_SALT = filled(16, 0x02);
const RFC_PARAMS: Argon2idParams = {
  memoryKiB: 32,
  passes: 3,
  parallelism: 4,
  tagLength: 32,
  secret: filled(8, 0x03),
  associatedData: filled(12, 0x04),
};

test("RFC 9106 section 5.3: the Argon2id test vector", async () => {
  const tag = await argon2id(RFC_PASSWORD, RFC_SALT, RFC_PARAMS);
  assert.equal(toHex(tag), "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659");
});

test("RFC 9106 sections 5.1 and 5.2: the Argon2d and Argon2i vectors, which share the core", async () => {
  assert.equal(
    toHex(await argon2("argon2d", RFC_PASSWORD, RFC_SALT, RFC_PARAMS)),
    "512b391b6f1162975371d30919734294f868e3be3984f3c1a13a4db9fabe4acb",
  );
  assert.equal(
    toHex(await argon2("argon2i", RFC_PASSWORD, RFC_SALT, RFC_PARAMS)),
    "c814d9d1dc7f37aa13f0d77f2494bda1c8de6b016dd388d29952a4c4672b6ce8",
  );
});

interface Case {
  memoryKiB: number;
  passes: number;
  parallelism: number;
  tagLength: number;
  passwordLength: number;
  saltLength: number;
  secretLength?: number;
}

// Memory that is not a multiple of 4p, segments longer than one address block (128 blocks),
// tags longer than 64 bytes (H' chaining) and as short as allowed, lanes from 1 to 8.
const CASES: Case[] = [
  { memoryKiB: 8, passes: 1, parallelism: 1, tagLength: 32, passwordLength: 3, saltLength: 8 },
  { memoryKiB: 37, passes: 2, parallelism: 1, tagLength: 65, passwordLength: 13, saltLength: 16 },
  { memoryKiB: 65, passes: 5, parallelism: 1, tagLength: 4, passwordLength: 1, saltLength: 9 },
  { memoryKiB: 100, passes: 3, parallelism: 3, tagLength: 100, passwordLength: 64, saltLength: 31 },
  { memoryKiB: 1023, passes: 1, parallelism: 2, tagLength: 64, passwordLength: 20, saltLength: 16 },
  { memoryKiB: 2049, passes: 2, parallelism: 1, tagLength: 1000, passwordLength: 7, saltLength: 16 },
  { memoryKiB: 256, passes: 4, parallelism: 4, tagLength: 128, passwordLength: 33, saltLength: 16, secretLength: 32 },
  { memoryKiB: 4099, passes: 1, parallelism: 8, tagLength: 97, passwordLength: 200, saltLength: 64, secretLength: 5 },
  { memoryKiB: 3000, passes: 3, parallelism: 1, tagLength: 32, passwordLength: 16, saltLength: 16 },
];

const REFERENCES: Record<Argon2Variant, typeof referenceArgon2id> = {
  argon2id: referenceArgon2id,
  argon2d: referenceArgon2d,
  argon2i: referenceArgon2i,
};

async function crossCheck(variant: Argon2Variant, c: Case, seed: number): Promise<void> {
  const next = rng(seed);
  const password = randomBytes(next, c.passwordLength);
  const salt = randomBytes(next, c.saltLength);
  const secret = c.secretLength === undefined ? undefined : randomBytes(next, c.secretLength);
  const params: Argon2idParams = { memoryKiB: c.memoryKiB, passes: c.passes, parallelism: c.parallelism, tagLength: c.tagLength };
  if (secret) params.secret = secret;
  const ours = await argon2(variant, password, salt, params);
  const theirs = await REFERENCES[variant]({
    password,
    salt,
    ...(secret ? { secret } : {}),
    iterations: c.passes,
    parallelism: c.parallelism,
    memorySize: c.memoryKiB,
    hashLength: c.tagLength,
    outputType: "binary",
  });
  assert.equal(ours.length, c.tagLength);
  assert.equal(toHex(ours), toHex(theirs), `${variant} ${JSON.stringify(c)}`);
}

test("Argon2id equals hash-wasm's for many shapes of parameters", async () => {
  for (const [i, c] of CASES.entries()) await crossCheck("argon2id", c, 100 + i);
});

test("Argon2d and Argon2i equal hash-wasm's too (each addressing mode alone)", async () => {
  for (const [i, c] of CASES.slice(0, 6).entries()) {
    await crossCheck("argon2d", c, 200 + i);
    await crossCheck("argon2i", c, 300 + i);
  }
});

test("secret and associated data change the tag; the same inputs give the same tag", async () => {
  const password = filled(10, 7);
  const salt = filled(16, 9);
  const base = { memoryKiB: 64, passes: 1, parallelism: 1, tagLength: 32 };
  const plain = toHex(await argon2id(password, salt, base));
  assert.equal(toHex(await argon2id(password, salt, base)), plain);
  assert.notEqual(toHex(await argon2id(password, salt, { ...base, secret: filled(1, 0) })), plain);
  assert.notEqual(toHex(await argon2id(password, salt, { ...base, associatedData: filled(1, 0) })), plain);
  // An empty secret is no secret: its length (0) is hashed either way.
  assert.equal(toHex(await argon2id(password, salt, { ...base, secret: new Uint8Array(0) })), plain);
});

test("derivations running interleaved give what each gives alone", async () => {
  const jobs = [
    { password: filled(5, 1), salt: filled(8, 2), params: { memoryKiB: 512, passes: 2, parallelism: 1, tagLength: 32 } },
    { password: filled(6, 3), salt: filled(16, 4), params: { memoryKiB: 300, passes: 3, parallelism: 2, tagLength: 80 } },
    { password: filled(7, 5), salt: filled(12, 6), params: { memoryKiB: 1024, passes: 1, parallelism: 4, tagLength: 16 } },
  ];
  const alone: string[] = [];
  for (const j of jobs) alone.push(toHex(await argon2id(j.password, j.salt, j.params)));
  const together = await Promise.all(jobs.map((j) => argon2id(j.password, j.salt, j.params)));
  assert.deepEqual(together.map((t) => toHex(t)), alone);
  assert.equal(new Set(alone).size, jobs.length);
});

async function rejects(promise: Promise<unknown>, code: string, what: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof IbtError, `${what}: ${String(err)}`);
    assert.equal(err.code, code, `${what}: ${err.message}`);
    return true;
  });
}

test("parameters outside RFC 9106's bounds are BAD_ARGUMENT, past the library's caps LIMIT", async () => {
  const password = filled(8, 1);
  const salt = filled(16, 2);
  const good: Argon2idParams = { memoryKiB: 64, passes: 1, parallelism: 1, tagLength: 32 };
  const badArguments: [string, Uint8Array, Uint8Array, Partial<Argon2idParams>][] = [
    ["salt of 7 bytes", password, filled(7, 2), {}],
    ["salt not bytes", password, "saltsalt" as unknown as Uint8Array, {}],
    ["password not bytes", [1, 2, 3] as unknown as Uint8Array, salt, {}],
    ["tag of 3 bytes", password, salt, { tagLength: 3 }],
    ["tag not an integer", password, salt, { tagLength: 32.5 }],
    ["no passes", password, salt, { passes: 0 }],
    ["no lanes", password, salt, { parallelism: 0 }],
    ["2^24 lanes", password, salt, { parallelism: 2 ** 24, memoryKiB: 2 ** 27 }],
    ["memory under 8p", password, salt, { parallelism: 4, memoryKiB: 31 }],
    ["memory not a number", password, salt, { memoryKiB: "64" as unknown as number }],
    ["memory NaN", password, salt, { memoryKiB: Number.NaN }],
    ["memory past 2^32 - 1 KiB", password, salt, { memoryKiB: 2 ** 32 }],
    ["secret not bytes", password, salt, { secret: "pepper" as unknown as Uint8Array }],
    ["associated data not bytes", password, salt, { associatedData: 5 as unknown as Uint8Array }],
  ];
  for (const [what, p, s, change] of badArguments) await rejects(argon2id(p, s, { ...good, ...change }), "BAD_ARGUMENT", what);
  await rejects(argon2id(password, salt, null as unknown as Argon2idParams), "BAD_ARGUMENT", "no parameters");

  const limits: [string, Partial<Argon2idParams>][] = [
    ["memory past 1 GiB", { memoryKiB: 1024 * 1024 + 1 }],
    ["memory at 4 GiB", { memoryKiB: 4 * 1024 * 1024 }],
    ["65 passes", { passes: 65 }],
    ["a 64 KiB + 1 tag", { tagLength: 64 * 1024 + 1 }],
  ];
  for (const [what, change] of limits) await rejects(argon2id(password, salt, { ...good, ...change }), "LIMIT", what);
  await rejects(argon2id(new Uint8Array(17 << 20), salt, good), "LIMIT", "a 17 MiB password");

  // The smallest legal values work.
  assert.equal((await argon2id(new Uint8Array(0), filled(8, 0), { memoryKiB: 8, passes: 1, parallelism: 1, tagLength: 4 })).length, 4);
});

test("an engine instance that grew for a derivation is not handed to the next job", async () => {
  await argon2id(filled(8, 1), filled(16, 2), { memoryKiB: 32 * 1024, passes: 1, parallelism: 1, tagLength: 32 });
  // The pool hands out the instance released last; a grown one must not be there.
  const engine = await acquireEngine();
  try {
    assert.ok(engine.exports.memory.buffer.byteLength <= 16 << 20, `${engine.exports.memory.buffer.byteLength} bytes`);
  } finally {
    releaseEngine(engine);
  }
});

test("an instance returned to the pool keeps no trace of the password, the blocks or the tag", async () => {
  const password = randomBytes(rng(5), 32);
  const tag = await argon2id(password, filled(16, 2), { memoryKiB: 256, passes: 2, parallelism: 1, tagLength: 32 });
  const engine = await acquireEngine();
  try {
    const memory = new Uint8Array(engine.exports.memory.buffer);
    // It is the derivation's instance: it grew by the 256 KiB of blocks.
    assert.ok(memory.length >= 256 * 1024, `${memory.length} bytes`);
    const text = Buffer.from(memory);
    assert.equal(text.indexOf(Buffer.from(password)), -1, "password left in memory");
    assert.equal(text.indexOf(Buffer.from(tag)), -1, "tag left in memory");
    // The blocks region is the top of memory; it must be all zero.
    assert.ok(memory.subarray(memory.length - 256 * 1024).every((b) => b === 0), "blocks left in memory");
  } finally {
    releaseEngine(engine);
  }
});

test("calibration keeps the floor, stays within the memory cap and reports its measurement", async () => {
  const small = await calibrateArgon2id({ targetMs: 40, minMemoryKiB: 256, minPasses: 1, maxMemoryKiB: 2048 });
  assert.ok(small.params.memoryKiB >= 256 && small.params.memoryKiB <= 2048, JSON.stringify(small));
  assert.ok(small.params.passes >= 1);
  assert.equal(small.params.parallelism, 1);
  assert.equal(small.params.tagLength, 32);
  assert.ok(small.measuredMs > 0);

  // A target no derivation can meet returns the floor itself.
  const floor = await calibrateArgon2id({ targetMs: 0.001, minMemoryKiB: 512, minPasses: 2 });
  assert.deepEqual(floor.params, { memoryKiB: 512, passes: 2, parallelism: 1, tagLength: 32 });

  await rejects(calibrateArgon2id({ targetMs: 0 }), "BAD_ARGUMENT", "zero target");
  await rejects(calibrateArgon2id({ targetMs: 100, minMemoryKiB: 4096, maxMemoryKiB: 1024 }), "BAD_ARGUMENT", "cap below floor");
});

test("the default parameters are RFC 9106's second recommendation with one lane", () => {
  assert.deepEqual({ ...ARGON2ID_DEFAULTS }, { memoryKiB: 65536, passes: 3, parallelism: 1, tagLength: 32 });
  assert.ok(Object.isFrozen(ARGON2ID_DEFAULTS));
});
