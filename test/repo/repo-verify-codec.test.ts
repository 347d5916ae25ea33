import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryStore, Repository } from "../../src/index.js";
import { fflateInflate, type InflateCodec } from "../../src/archive/inflate.js";
import { IbtError } from "../../src/errors.js";
import { randomBytes, rng, textBytes } from "../support/helpers.js";
import { memoryFactory } from "../support/repo-kit.js";

/** fflate behind a counter, or a codec that refuses everything once `broken` is set. */
function countingCodec(): { codec: InflateCodec; calls: () => number; broken: { on: boolean } } {
  let calls = 0;
  const broken = { on: false };
  const check = () => {
    calls++;
    if (broken.on) throw new IbtError("CORRUPT", "refused by the test codec");
  };
  const codec: InflateCodec = {
    inflate(data, limit) {
      check();
      return fflateInflate.inflate(data, limit);
    },
    inflateStream() {
      check();
      return fflateInflate.inflateStream();
    },
  };
  return { codec, calls: () => calls, broken };
}

test("verify --read-data inflates with the repository's codec, as restore does", async () => {
  const source = await memoryFactory.make();
  await source.mkdir("d");
  for (let i = 0; i < 20; i++) await source.writeFile(`d/small${i}.txt`, textBytes(rng(i), 3000));
  await source.writeFile("d/large.bin", randomBytes(rng(99), 400_000));
  const store = new MemoryStore();
  const { codec, calls, broken } = countingCodec();
  const repo = await Repository.init(store, { inflate: codec });
  await repo.backup(source);
  await source.writeFile("d/small3.txt", textBytes(rng(333), 3000));
  await repo.backup(source);

  const before = calls();
  const report = await repo.verify({ readData: true });
  assert.deepEqual(report.problems, []);
  assert.ok(calls() > before, "the codec inflated what verify read");

  broken.on = true;
  const bad = await repo.verify({ readData: true });
  assert.equal(bad.ok, false, "a codec that refuses the data makes verify fail: it is the codec verify reads with");
  assert.ok(bad.problems.some((p) => p.code === "CORRUPT" && /refused by the test codec/.test(p.message)), JSON.stringify(bad.problems));
  assert.equal((await repo.verify()).ok, true, "without readData nothing is inflated");
});
