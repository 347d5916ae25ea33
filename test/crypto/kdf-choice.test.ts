/**
 * Choosing a new key's Argon2id cost: calibration against a simulated clock (each derivation
 * "takes" a fixed number of milliseconds per KiB and pass, so the fit is exact and no assertion
 * depends on this machine's speed), the floor and caps it keeps, pinned parameters taken as
 * given, and a key made through a target holding, and opening with, exactly what was chosen.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  argon2id,
  calibrateArgon2id,
  ARGON2_MAX_PASSES,
  DEFAULT_KDF_CHOICE,
  DEFAULT_KDF_PARAMS,
  DEFAULT_KDF_TARGET_MS,
  EncryptedStore,
  MemoryStore,
  type Argon2idCost,
  type Kdf,
  type KdfParams,
} from "../../src/index.js";
import { chooseKdfParams } from "../../src/crypto/kdf-choice.js";
import { KEYS_PREFIX } from "../../src/crypto/keys.js";
import { rejectsWith } from "../support/encrypted-kit.js";

const FLOOR = { memoryKiB: 65536, passes: 3, parallelism: 1, tagLength: 32 };

/**
 * A clock and a derivation that advances it by `msAtFloor` for the floor's cost, in proportion
 * to memory × passes (times `overshoot` above the floor, to model a machine slower than linear).
 */
function simulated(msAtFloor: number, overshoot = 1) {
  let clock = 1000;
  const calls: Argon2idCost[] = [];
  const msPerKiBPass = msAtFloor / (FLOOR.memoryKiB * FLOOR.passes);
  const derive = async (_password: Uint8Array, _salt: Uint8Array, cost: Argon2idCost) => {
    calls.push({ ...cost });
    const work = cost.memoryKiB * cost.passes;
    clock += work * msPerKiBPass * (work > FLOOR.memoryKiB * FLOOR.passes ? overshoot : 1);
    return new Uint8Array(32);
  };
  return { derive, now: () => clock, calls, msFor: (p: Argon2idCost) => p.memoryKiB * p.passes * msPerKiBPass };
}

test("the default target is stated, and the floor is RFC 9106's second setting with one lane", () => {
  assert.equal(DEFAULT_KDF_TARGET_MS, 500);
  assert.deepEqual({ ...DEFAULT_KDF_CHOICE }, { targetMs: 500 });
  assert.deepEqual({ ...DEFAULT_KDF_PARAMS }, FLOOR);
});

test("calibration: a target the floor cannot meet gets the floor, with the floor's time", async () => {
  const sim = simulated(300);
  const result = await calibrateArgon2id({ targetMs: 200, derive: sim.derive, now: sim.now });
  assert.deepEqual(result, { params: FLOOR, measuredMs: 300 });
  // Measured twice (the first run warms the engine), nothing more.
  assert.deepEqual(sim.calls, [FLOOR, FLOOR]);
});

test("calibration: within the default memory cap, extra time buys passes, and the fit stays within the target", async () => {
  // Floors whose third is exact in binary, so the expected pass counts are not at the mercy of rounding.
  for (const [floorMs, targetMs] of [[300, 1000], [120, 500], [48, 500], [480, 500], [300, 350]] as const) {
    const sim = simulated(floorMs);
    const { params, measuredMs } = await calibrateArgon2id({ targetMs, derive: sim.derive, now: sim.now });
    const label = `floor ${floorMs} ms, target ${targetMs} ms: ${JSON.stringify(params)}`;
    assert.equal(params.memoryKiB, FLOOR.memoryKiB, label);
    assert.equal(params.passes, Math.max(3, Math.floor(targetMs / (floorMs / 3))), label);
    assert.ok(measuredMs <= targetMs, label);
    // One more pass would have passed the target.
    assert.ok(sim.msFor({ ...params, passes: params.passes + 1 }) > targetMs, label);
    assert.ok(Math.abs(measuredMs - sim.msFor(params)) < 1e-6, label);
  }
});

test("calibration: a raised memory cap is spent first, in whole MiB, never past the cap", async () => {
  const sim = simulated(300);
  const { params, measuredMs } = await calibrateArgon2id({ targetMs: 1000, maxMemoryKiB: 512 * 1024, derive: sim.derive, now: sim.now });
  // 1000 ms at 3 passes affords 213⅓ MiB.
  assert.deepEqual(params, { ...FLOOR, memoryKiB: 213 * 1024, passes: 3 });
  assert.ok(measuredMs <= 1000);

  const capped = simulated(300);
  const big = await calibrateArgon2id({ targetMs: 5000, maxMemoryKiB: 128 * 1024, derive: capped.derive, now: capped.now });
  assert.equal(big.params.memoryKiB, 128 * 1024, JSON.stringify(big));
  assert.equal(big.params.passes, Math.floor(5000 / capped.msFor({ ...FLOOR, memoryKiB: 128 * 1024, passes: 1 })));
});

test("calibration: passes stop at the library's cap however long the target", async () => {
  const sim = simulated(30);
  const { params } = await calibrateArgon2id({ targetMs: 1e7, derive: sim.derive, now: sim.now });
  assert.deepEqual(params, { ...FLOOR, passes: ARGON2_MAX_PASSES });
});

test("calibration: a prediction that overshoots by more than a tenth is measured again and scaled back", async () => {
  // Above the floor this "machine" is twice as slow as the floor predicts: 40 ms a pass
  // predicts 25 passes, which take 2000 ms; at the measured 80 ms a pass, 12 fit.
  const sim = simulated(120, 2);
  const { params, measuredMs } = await calibrateArgon2id({ targetMs: 1000, derive: sim.derive, now: sim.now });
  assert.equal(sim.calls.length, 4, JSON.stringify(sim.calls));
  assert.deepEqual(sim.calls[2], { ...FLOOR, passes: 25 });
  assert.deepEqual(params, { ...FLOOR, passes: 12 });
  assert.equal(measuredMs, 960);
});

test("calibration: a prediction that undershoots (the first pass costs the most) is refitted upwards", async () => {
  // Above the floor, passes cost three quarters of what the floor predicts: 25 passes take
  // 750 ms, which shows 30 ms a pass, so 33 fit.
  const sim = simulated(120, 0.75);
  const { params, measuredMs } = await calibrateArgon2id({ targetMs: 1000, derive: sim.derive, now: sim.now });
  assert.deepEqual(sim.calls.map((c) => c.passes), [3, 3, 25, 33]);
  assert.deepEqual(params, { ...FLOOR, passes: 33 });
  assert.equal(measuredMs, 990);
});

test("calibration: a clock that stands still is UNSUPPORTED after one derivation; bad targets and caps are refused", async () => {
  const sim = simulated(300);
  await rejectsWith(calibrateArgon2id({ targetMs: 500, derive: sim.derive, now: () => 7 }), "UNSUPPORTED");
  assert.equal(sim.calls.length, 1);
  for (const targetMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
    await rejectsWith(calibrateArgon2id({ targetMs, derive: sim.derive, now: sim.now }), "BAD_ARGUMENT", undefined, String(targetMs));
  }
  await rejectsWith(calibrateArgon2id({ targetMs: 500, maxMemoryKiB: 2 * 1024 * 1024, derive: sim.derive, now: sim.now }), "LIMIT");
  assert.equal(sim.calls.length, 1, "nothing derived for refused options");
});

test("chooseKdfParams: pinned parameters are taken as given, with no derivation", async () => {
  const never: Kdf = async () => assert.fail("a pinned choice derives nothing");
  const pinned: KdfParams = { memoryKiB: 64, passes: 1, parallelism: 1, tagLength: 32 };
  assert.equal(await chooseKdfParams(pinned, never), pinned);
});

test("chooseKdfParams: a target is fitted above the floor with the caller's KDF and clock; a still clock gives the floor", async () => {
  const sim = simulated(120);
  assert.deepEqual(await chooseKdfParams({ targetMs: 500, now: sim.now }, sim.derive), { ...FLOOR, passes: 12 });
  assert.ok(sim.calls.every((c) => c.memoryKiB >= FLOOR.memoryKiB && c.passes >= FLOOR.passes), "never timed below the floor");
  const slow = simulated(120);
  assert.deepEqual(await chooseKdfParams({ targetMs: 50, now: slow.now }, slow.derive), FLOOR);
  assert.deepEqual(await chooseKdfParams({ targetMs: 500, now: () => 0 }, sim.derive), FLOOR);
  for (const maxMemoryKiB of [1024, 2 * 1024 * 1024, 65536.5]) {
    await rejectsWith(chooseKdfParams({ targetMs: 500, maxMemoryKiB, now: sim.now }, sim.derive), "BAD_ARGUMENT", undefined, String(maxMemoryKiB));
  }
});

test("a key made through a target stores what was chosen, and opening derives with exactly that", async () => {
  // The real Argon2id, timed on the simulated clock: the floor "takes" 100 ms, so a
  // 140 ms target buys a fourth pass.
  let clock = 0;
  const made: KdfParams[] = [];
  const timed: Kdf = async (password, salt, params) => {
    made.push({ ...params });
    clock += (params.memoryKiB * params.passes * 100) / (FLOOR.memoryKiB * FLOOR.passes);
    // Calibration's probes (a dummy 16-byte salt; keys have 32) are only timed, never used:
    // computing them would only make this test slower.
    return salt.length === 32 ? argon2id(password, salt, params) : new Uint8Array(32);
  };
  const inner = new MemoryStore();
  const store = await EncryptedStore.create(inner, "pass phrase", timed, { targetMs: 140, now: () => clock });
  await store.save("data/x", new TextEncoder().encode("contents"));
  const chosen = { ...FLOOR, passes: 4 };
  const { keys } = await store.listKeys();
  assert.equal(keys.length, 1);
  assert.deepEqual(keys[0]!.params, chosen);
  // The stored object says so too, in the clear, for any reader.
  const stored = JSON.parse(new TextDecoder().decode(await inner.load(KEYS_PREFIX + keys[0]!.id)));
  assert.deepEqual(stored.params, chosen);
  // Probes at the floor, the fitted cost once to check it, then the sealing derivation.
  assert.deepEqual(made, [FLOOR, FLOOR, chosen, chosen]);

  const opened: KdfParams[] = [];
  const reopened = await EncryptedStore.open(inner, "pass phrase", async (p, s, params) => {
    opened.push({ ...params });
    return argon2id(p, s, params);
  });
  assert.deepEqual(opened, [chosen]);
  assert.equal(new TextDecoder().decode(await reopened.load("data/x")), "contents");
});

test("keys added with a target or pinned above the floor open; each key keeps its own parameters", async () => {
  const small: KdfParams = { memoryKiB: 256, passes: 1, parallelism: 1, tagLength: 32 };
  const inner = new MemoryStore();
  const store = await EncryptedStore.create(inner, "first", argon2id, small);
  const higher = { ...FLOOR, memoryKiB: 72 * 1024, passes: 4 };
  const added = await store.addKey("second", argon2id, higher);
  assert.deepEqual(added.params, higher);
  await store.save("data/y", new TextEncoder().encode("shared"));
  for (const [password, params] of [["first", small], ["second", higher]] as const) {
    const seen: KdfParams[] = [];
    const opened = await EncryptedStore.open(inner, password, async (p, s, q) => {
      seen.push({ ...q });
      return argon2id(p, s, q);
    });
    assert.equal(new TextDecoder().decode(await opened.load("data/y")), "shared", password);
    // Keys are tried in id order; the one that opened was derived with its own parameters.
    assert.deepEqual(seen.at(-1), params, password);
    assert.equal(opened.keyId, (await store.listKeys()).keys.find((k) => k.params.passes === params.passes)!.id);
  }
});
