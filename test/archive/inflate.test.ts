/**
 * The pluggable inflate codec: fflateInflate and nodeInflate keep the contract ZipReader relies
 * on (whole and streamed output equal, at most limit + 1 bytes made, TRUNCATED and CORRUPT for
 * bad data, plain Uint8Array out); ZipReader uses the codec it is given for whole members and
 * streams, and names the member in a codec's error; the repository and ibt restore with the codec
 * in their options, nodeRepositoryOptions giving node:zlib.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { deflateRawSync } from "node:zlib";
import { MemoryFs, MemoryStore, Repository, ZipReader, ZipWriter, fflateInflate, isIbtError } from "../../src/index.js";
import type { InflateCodec, RandomAccessFile } from "../../src/index.js";
import { nodeInflate, nodeRepositoryOptions } from "../../src/node/index.js";
import { ASYNC_FROM } from "../../src/node/inflate.js";
import { concatBytes } from "../../src/bytes.js";
import { TreeChanger, treeId } from "../support/repo-kit.js";
import { zeroBomb } from "../support/hostile-fixture.js";
import { equalBytes, randomBytes, rng, split, textBytes } from "../support/helpers.js";

const CODECS: [string, Required<Omit<InflateCodec, "zstd">>][] = [
  ["fflate", fflateInflate],
  ["node:zlib", nodeInflate],
];

const text = textBytes(rng(11), 600_000);
const noise = randomBytes(rng(12), 100_000);

async function streamed(codec: Required<Omit<InflateCodec, "zstd">>, data: Uint8Array, size: number): Promise<Uint8Array> {
  const stream = codec.inflateStream();
  const out: Uint8Array[] = [];
  const pieces = split(data, size);
  for (const [i, piece] of pieces.entries()) out.push(...(await stream.push(piece, i === pieces.length - 1)));
  return concatBytes(out);
}

for (const [name, codec] of CODECS) {
  test(`${name}: whole and streamed in pieces of any size give the data back, as plain Uint8Array`, async () => {
    for (const data of [new Uint8Array(0), text.subarray(0, 1), text.subarray(0, 5000), text, noise]) {
      const deflated = deflateRawSync(data, { level: 6 });
      const whole = await codec.inflate(deflated, data.length);
      assert.equal(Object.getPrototypeOf(whole), Uint8Array.prototype, "no Buffer");
      assert.ok(equalBytes(whole, data), `whole ${data.length}`);
      for (const size of [1, 7, 100, 10_000, 200_000]) {
        if (size < 100 && deflated.length > 20_000) continue; // a push per byte of a large input says nothing more
        const got = await streamed(codec, deflated, size);
        assert.ok(equalBytes(got, data), `${data.length} bytes in pieces of ${size}`);
      }
    }
  });

  test(`${name}: two streams interleaved do not share state`, async () => {
    const a = deflateRawSync(text.subarray(0, 200_000));
    const b = deflateRawSync(noise);
    const sa = codec.inflateStream();
    const sb = codec.inflateStream();
    const pa = split(a, 3000);
    const pb = split(b, 3000);
    const outA: Uint8Array[] = [];
    const outB: Uint8Array[] = [];
    for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
      if (i < pa.length) outA.push(...(await sa.push(pa[i]!, i === pa.length - 1)));
      if (i < pb.length) outB.push(...(await sb.push(pb[i]!, i === pb.length - 1)));
    }
    assert.ok(equalBytes(concatBytes(outA), text.subarray(0, 200_000)));
    assert.ok(equalBytes(concatBytes(outB), noise));
  });

  test(`${name}: a whole inflate makes at most limit + 1 bytes, even of a bomb`, async () => {
    const data = text.subarray(0, 50_000);
    const deflated = deflateRawSync(data);
    for (const limit of [0, 1, 49_999]) {
      // Refused by throwing, or cut off one byte past the limit: either way the reader sees "past".
      const out = await Promise.resolve()
        .then(() => codec.inflate(deflated, limit))
        .catch((e: unknown) => {
          assert.ok(isIbtError(e, "CORRUPT"), String(e));
          return undefined;
        });
      if (out) assert.equal(out.length, limit + 1, `limit ${limit}`);
    }
    const bomb = zeroBomb(400_000); // ~100 MB of zeros
    const out = await Promise.resolve()
      .then(() => codec.inflate(bomb, 1000))
      .catch((e: unknown) => (assert.ok(isIbtError(e, "CORRUPT"), String(e)), undefined));
    if (out) assert.equal(out.length, 1001);
  });

  test(`${name}: data that ends early is TRUNCATED, data that is not deflate is CORRUPT, whole or streamed`, async () => {
    const deflated = deflateRawSync(text.subarray(0, 100_000));
    const cut = deflated.subarray(0, deflated.length >> 1);
    await assert.rejects(async () => codec.inflate(cut, 100_000), (e) => isIbtError(e, "TRUNCATED"));
    await assert.rejects(streamed(codec, cut, 4096), (e) => isIbtError(e, "TRUNCATED"));
    const garbage = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x00, 0x01]);
    await assert.rejects(async () => codec.inflate(garbage, 100), (e) => isIbtError(e, "CORRUPT"));
    await assert.rejects(streamed(codec, garbage, 2), (e) => isIbtError(e, "CORRUPT"));
    // Closing a stream at any point is allowed.
    const s = codec.inflateStream();
    await s.push(deflated.subarray(0, 1000), false);
    s.close?.();
    codec.inflateStream().close?.();
  });
}

test("node:zlib: whole inflates from ASYNC_FROM compressed bytes run off the thread and keep every check of the synchronous form", async () => {
  // Random bytes barely shrink, so their deflated length is chosen by their length.
  const below = randomBytes(rng(21), ASYNC_FROM - 2048);
  const above = randomBytes(rng(22), ASYNC_FROM + 2048);
  const small = deflateRawSync(below);
  const large = deflateRawSync(above);
  assert.ok(small.length < ASYNC_FROM && large.length >= ASYNC_FROM, `${small.length} / ${large.length}`);
  assert.ok(!(nodeInflate.inflate(small, below.length) instanceof Promise), "a small member inflates on the calling thread");
  const pending = nodeInflate.inflate(large, above.length);
  assert.ok(pending instanceof Promise, "a large member inflates on the thread pool");
  assert.ok(equalBytes(await pending, above));
  for (const [data, deflated] of [[below, small], [above, large]] as const) {
    const what = `${deflated.length} compressed bytes`;
    await assert.rejects(async () => nodeInflate.inflate(deflated, data.length - 100), (e) => isIbtError(e, "CORRUPT") && /past/.test(e.message), `${what}: past the limit`);
    await assert.rejects(async () => nodeInflate.inflate(deflated.subarray(0, deflated.length - 100), data.length), (e) => isIbtError(e, "TRUNCATED"), `${what}: cut`);
    const garbage = deflated.slice();
    garbage[0] = 0xff; // block type 3: reserved, so invalid
    await assert.rejects(async () => nodeInflate.inflate(garbage, data.length), (e) => isIbtError(e, "CORRUPT") && !/past/.test(e.message), `${what}: not deflate`);
  }
  // A bomb of ASYNC_FROM bytes or more is stopped by zlib on the thread pool too.
  const bomb = zeroBomb(8 * ASYNC_FROM);
  assert.ok(bomb.length >= ASYNC_FROM);
  await assert.rejects(async () => nodeInflate.inflate(bomb, 1_000_000), (e) => isIbtError(e, "CORRUPT") && /past/.test(e.message));
});

function memoryFile(bytes: Uint8Array): RandomAccessFile {
  return { size: bytes.length, read: async (offset, length) => bytes.slice(offset, offset + length) };
}

/** Wraps a codec, counting whole inflates and stream pushes. */
function counting(codec: Required<Omit<InflateCodec, "zstd">>) {
  const seen = { whole: 0, pushes: 0 };
  const wrapped: InflateCodec = {
    inflate: (data, limit) => (seen.whole++, codec.inflate(data, limit)),
    inflateStream() {
      const inner = codec.inflateStream();
      return { push: (piece, final) => (seen.pushes++, inner.push(piece, final)), close: () => inner.close?.() };
    },
  };
  return { codec: wrapped, seen };
}

const LARGE_COPIES = 30;

async function sampleZip(): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const w = new ZipWriter((c) => void chunks.push(c.slice()));
  await w.add("small.txt", text.subarray(0, 3000));
  // Past the size the reader inflates whole, so it is streamed.
  await w.add("large.txt", (async function* () {
    for (let i = 0; i < LARGE_COPIES; i++) yield text;
  })());
  await w.finish();
  return concatBytes(chunks);
}

test("ZipReader inflates with the codec it is given, whole members and streams, and names the member in a codec's error", async () => {
  const zip = await sampleZip();
  const large = concatBytes(Array.from({ length: LARGE_COPIES }, () => text));
  for (const [name, codec] of CODECS) {
    const c = counting(codec);
    const reader = await ZipReader.from(memoryFile(zip), { inflate: c.codec });
    assert.ok(equalBytes(await reader.bytes("small.txt"), text.subarray(0, 3000)), name);
    assert.equal(c.seen.whole, 1, `${name}: the small member inflated whole`);
    assert.ok(equalBytes(await reader.bytes("large.txt"), large), name);
    assert.equal(c.seen.whole, 1, `${name}: the large member streamed`);
    assert.ok(c.seen.pushes > 10, `${name}: ${c.seen.pushes} pushes`);
  }
  // A codec without a stream form: streams fall back to fflate.
  const wholeOnly = counting(nodeInflate);
  const reader = await ZipReader.from(memoryFile(zip), { inflate: { inflate: wholeOnly.codec.inflate } });
  assert.ok(equalBytes(await reader.bytes("large.txt"), large));
  assert.equal(wholeOnly.seen.pushes, 0);
  await assert.rejects(ZipReader.from(memoryFile(zip), { inflate: {} as InflateCodec }), (e) => isIbtError(e, "BAD_ARGUMENT"));

  const failing: InflateCodec = {
    inflate: () => {
      throw new Error("boom");
    },
    inflateStream: () => ({
      push: () => {
        throw new Error("boom");
      },
    }),
  };
  const bad = await ZipReader.from(memoryFile(zip), { inflate: failing });
  for (const member of ["small.txt", "large.txt"]) {
    await assert.rejects(bad.bytes(member), (e) => isIbtError(e, "CORRUPT") && e.path === member && e.offset !== undefined, member);
  }
  // A codec that returns more than it may, or the wrong bytes: refused by the reader's own checks.
  const liars: [string, InflateCodec][] = [
    ["too much", { inflate: (_, limit) => new Uint8Array(limit + 2), inflateStream: () => ({ push: () => [new Uint8Array(10_000_000)] }) }],
    ["wrong bytes", { inflate: (d, limit) => (fflateInflate.inflate(d, limit) as Uint8Array).map((b) => b ^ 1), inflateStream: () => { const s = nodeInflate.inflateStream(); return { push: async (p, f) => (await s.push(p, f)).map((c) => c.map((b) => b ^ 1)) }; } }],
    ["not bytes", { inflate: () => "text" as unknown as Uint8Array, inflateStream: () => ({ push: () => ["text"] as unknown as Uint8Array[] }) }],
  ];
  for (const [what, codec] of liars) {
    const r = await ZipReader.from(memoryFile(zip), { inflate: codec });
    await assert.rejects(r.bytes("small.txt"), (e) => isIbtError(e, "CORRUPT"), `${what}: small`);
    await assert.rejects(r.bytes("large.txt"), (e) => isIbtError(e, "CORRUPT"), `${what}: large`);
  }
});

test("the repository restores with the codec in its options; nodeRepositoryOptions gives node:zlib", async () => {
  assert.equal(nodeRepositoryOptions().inflate, nodeInflate);
  assert.equal(nodeRepositoryOptions({ inflate: fflateInflate }).inflate, fflateInflate, "the caller's choice wins");
  await assert.rejects(Repository.init(new MemoryStore(), { inflate: {} as InflateCodec }), (e) => isIbtError(e, "BAD_ARGUMENT"));

  const source = new MemoryFs();
  await new TreeChanger(source, rng(13)).seed(30);
  const store = new MemoryStore();
  const snapshot = await (await Repository.init(store)).backup(source);
  for (const [name, codec] of CODECS) {
    const c = counting(codec);
    const restored = new MemoryFs();
    await (await Repository.open(store, { inflate: c.codec })).restore(snapshot.id, restored);
    assert.equal(await treeId(restored), await treeId(source), name);
    assert.ok(c.seen.whole > 0, `${name}: the codec was used`);
  }
});
