import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { readFileChunks, openBasis, writeFileAtomic, readFileChunksSync, openBasisSync, AtomicFileSync } from "../../src/node/index.js";
import { isIbtError, patch, collect, signatureOf, deltaOf } from "../../src/index.js";
import { tempDir, rng, randomBytes, equalBytes, edit } from "../support/helpers.js";

const dir = tempDir();
const data = randomBytes(rng(1), 3_000_001);
writeFileSync(join(dir, "data"), data);

test("readFileChunks and readFileChunksSync read whole files, fresh or through reused buffers", async () => {
  for (const opts of [{}, { chunkSize: 65536 }, { reuseBuffer: true, chunkSize: 100_000 }]) {
    const parts: Uint8Array[] = [];
    for await (const c of readFileChunks(join(dir, "data"), opts)) parts.push(c.slice());
    assert.ok(equalBytes(Buffer.concat(parts), data), JSON.stringify(opts));
  }
  const fresh: Uint8Array[] = [];
  for await (const c of readFileChunks(join(dir, "data"), { chunkSize: 1 << 20 })) fresh.push(c);
  assert.notEqual(fresh[0]!.buffer, fresh[1]!.buffer, "fresh chunks do not share memory");
  const sync: Uint8Array[] = [];
  for (const c of readFileChunksSync(join(dir, "data"), 70_000)) sync.push(c.slice());
  assert.ok(equalBytes(Buffer.concat(sync), data));
  await assert.rejects(collect(readFileChunks(join(dir, "missing"))), (e) => isIbtError(e, "NOT_FOUND"));
});

test("openBasis and openBasisSync give random access that patch can use", async () => {
  const target = edit(rng(2), data, "move");
  const d = await deltaOf(await signatureOf(data), target);
  const basis = await openBasis(join(dir, "data"));
  try {
    assert.equal(basis.size, data.length);
    assert.ok(equalBytes(await collect(patch(basis.read, [d], { basisSize: basis.size })), target));
  } finally {
    await basis.close();
  }
  const sync = openBasisSync(join(dir, "data"));
  try {
    assert.ok(equalBytes(sync.read(1000, 10).slice(), data.subarray(1000, 1010)));
    assert.equal(sync.read(data.length - 5, 10).length, 5, "short at the end");
  } finally {
    sync.close();
  }
});

test("writeFileAtomic and AtomicFileSync write whole or not at all", async () => {
  const out = join(dir, "out");
  await writeFileAtomic(out, (async function* () {
    yield data.subarray(0, 1000);
    yield data.subarray(1000);
  })());
  assert.ok(equalBytes(readFileSync(out), data));
  await assert.rejects(writeFileAtomic(out, [data]), (e) => isIbtError(e, "EXISTS"));
  await assert.rejects(
    writeFileAtomic(out, (async function* () {
      yield new Uint8Array(10);
      throw new Error("source failed");
    })(), { overwrite: true }),
    /source failed/,
  );
  assert.ok(equalBytes(readFileSync(out), data), "the old content survives a failed write");
  const sync = new AtomicFileSync(join(dir, "sync-out"));
  sync.write(data.subarray(0, 10));
  assert.equal(existsSync(join(dir, "sync-out")), false, "invisible until commit");
  sync.abort();
  assert.equal(existsSync(join(dir, "sync-out")), false);
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes("ibt-tmp")), [], "no temporary files left");
});
