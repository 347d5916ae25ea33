/**
 * ZIP method 93 (Zstandard) members read by ZipReader, through both decoders: the portable one
 * (fzstd, what a reader without a codec's zstd uses) and nodeInflate.zstd (node:zlib, Node 22.15
 * and later; on Node 20 every case for it says it is skipped). Frames come from the zstd CLI, an
 * independent encoder, and from node:zlib where it has one; the archives are laid out by hand
 * (handZip), as the writer does not write zstd yet.
 *
 * A real diff archive with its groups re-packed as zstd members applies to exactly the tree the
 * deflated one gives.
 *
 * Each hostile case asserts its exact code: TRUNCATED for data that ends inside the frame;
 * UNSUPPORTED for valid frames this reader does not take (no content size, a dictionary, a window
 * over 16 MiB, a second frame, a member over 16 MiB); CORRUPT for the rest.
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import * as zlib from "node:zlib";
import { applyDiff, isIbtError, type ErrorCode, type InflateCodec } from "../../src/index.js";
import { nodeInflate } from "../../src/node/index.js";
import { ASYNC_FROM } from "../../src/node/inflate.js";
import { ZSTD_MAX_SIZE } from "../../src/archive/zip-format.js";
import { zstdDecompress } from "../../src/archive/zstd.js";
import { BASE_SPEC, crc32, handZip, memoryTree, membersOf, readerOf, validFixture } from "../support/hostile-fixture.js";
import { sameSnapshot, snapshot } from "../support/hostile-kit.js";
import { headerLength, nodeZstdCompress, withDictionaryId, zstdCli, zstdMember, zstdZip } from "../support/zstd-kit.js";
import { equalBytes, randomBytes, rng, textBytes } from "../support/helpers.js";

const NO_NODE_ZSTD = "node:zlib has no zstd before Node 22.15";
const DECODERS: [string, InflateCodec | undefined][] = [
  ["fzstd", undefined],
  ["node:zlib", nodeInflate],
];

const text = textBytes(rng(31), 5000);
const frame = zstdCli(text, "-3");

/** Runs `body` unless the decoder is node:zlib's and this runtime has none. */
function decoderTest(name: string, body: (codec: InflateCodec | undefined, t: TestContext) => Promise<void>): void {
  for (const [label, codec] of DECODERS) {
    test(`${label}: ${name}`, async (t) => {
      if (codec !== undefined && codec.zstd === undefined) return t.skip(NO_NODE_ZSTD);
      await body(codec, t);
    });
  }
}

async function read(zip: Uint8Array, codec: InflateCodec | undefined): Promise<Uint8Array> {
  const r = await readerOf(zip, codec);
  return r.bytes("z.txt");
}

async function refused(zip: Uint8Array, codec: InflateCodec | undefined, code: ErrorCode, pattern?: RegExp): Promise<void> {
  await assert.rejects(read(zip, codec), (e) => {
    assert.ok(isIbtError(e, code), `wanted ${code}, got ${String(e)}`);
    assert.equal(e.path, "z.txt");
    if (pattern) assert.match(e.message, pattern);
    return true;
  });
}

test("the frames under test have the layout the cases below rely on", () => {
  // 5000 bytes: single segment, 2-byte content size, a checksum, no dictionary.
  assert.equal(frame[4], 0x64);
  assert.equal(headerLength(frame), 7);
  assert.equal((frame[7]! >> 1) & 3, 2, "one compressed block");
  assert.equal(frame[7]! & 1, 1, "the last block");
});

decoderTest("members decode to their exact bytes: empty, one byte, text, noise, 16 MiB, at several levels", async (codec) => {
  const big = textBytes(rng(32), ZSTD_MAX_SIZE);
  const noise = randomBytes(rng(33), 300_000);
  const cases: [string, Uint8Array, Uint8Array][] = [
    ["empty", new Uint8Array(0), zstdCli(new Uint8Array(0))],
    ["empty, no frame", new Uint8Array(0), new Uint8Array(0)],
    ["one byte", text.subarray(0, 1), zstdCli(text.subarray(0, 1))],
    ["text -1", text, zstdCli(text, "-1")],
    ["text -19 --no-check", text, zstdCli(text, "-19", "--no-check")],
    ["text, 1 KiB window (multi-segment)", text, zstdCli(text, "--zstd=wlog=10")],
    ["noise", noise, zstdCli(noise)],
    ["16 MiB of text", big, zstdCli(big, "-3")],
  ];
  if (nodeZstdCompress) cases.push(["text by node:zlib", text, nodeZstdCompress(text)]);
  for (const [label, content, f] of cases) {
    const out = await read(zstdMember(content, f), codec);
    assert.equal(Object.getPrototypeOf(out), Uint8Array.prototype, label);
    assert.ok(equalBytes(out, content), label);
  }
});

test("the central directory takes method 93 and names it in the entry", async () => {
  const r = await readerOf(zstdMember(text, frame));
  assert.equal(r.get("z.txt")?.method, 93);
  assert.equal(r.get("z.txt")?.compressedSize, frame.length);
});

test("the central directory refuses a zstd member over 16 MiB (UNSUPPORTED, named), no data for data, and padding past zstd's bound", async () => {
  await assert.rejects(readerOf(zstdZip(frame, ZSTD_MAX_SIZE + 1, 0)), (e) => {
    assert.ok(isIbtError(e, "UNSUPPORTED"), String(e));
    assert.equal(e.path, "z.txt");
    assert.match(e.message, /z\.txt.*16777217/);
    return true;
  });
  await assert.doesNotReject(readerOf(zstdZip(frame, ZSTD_MAX_SIZE, 0)));
  await assert.rejects(readerOf(zstdZip(new Uint8Array(0), 10, 0)), (e) => isIbtError(e, "CORRUPT") && /no compressed data/.test(e.message));
  // size + size/128 + 1 KiB is allowed, one more byte is not.
  const size = 12_800;
  await assert.doesNotReject(readerOf(zstdZip(new Uint8Array(size + 100 + 1024), size, 0)));
  await assert.rejects(readerOf(zstdZip(new Uint8Array(size + 100 + 1025), size, 0)), (e) => isIbtError(e, "CORRUPT") && /more than zstd/.test(e.message));
});

decoderTest("a frame with flipped bytes is CORRUPT, never wrong bytes", async (codec) => {
  const start = headerLength(frame) + 3;
  for (let at = start; at < frame.length - 4; at += 37) {
    const bad = frame.slice();
    bad[at]! ^= 0x5a;
    await refused(zstdMember(text, bad), codec, "CORRUPT");
  }
  // The frame's own checksum: fzstd skips it, the CRC-32 still holds, so both accept it...
  const sum = frame.slice();
  sum[sum.length - 1]! ^= 1;
  const out = await read(zstdMember(text, sum), codec).catch((e: unknown) => e);
  // ...or libzstd checks it and refuses: never anything else.
  assert.ok(out instanceof Uint8Array ? equalBytes(out, text) : isIbtError(out, "CORRUPT"), String(out));
});

decoderTest("a frame cut anywhere is TRUNCATED", async (codec) => {
  for (const cut of [1, 3, 5, 6, headerLength(frame) + 1, headerLength(frame) + 3, 500, frame.length - 5, frame.length - 1]) {
    await refused(zstdMember(text, frame.subarray(0, cut)), codec, "TRUNCATED");
  }
});

decoderTest("a content size other than the declared size is CORRUPT", async (codec) => {
  for (const size of [text.length - 1, text.length + 1, 4000]) {
    await refused(zstdZip(frame, size, crc32(text, 0)), codec, "CORRUPT", /declares 5000 bytes/);
  }
});

decoderTest("a frame without its content size is UNSUPPORTED", async (codec) => {
  const unsized = zstdCli(text, "--no-content-size");
  assert.equal(unsized[4]! >> 6, 0);
  await refused(zstdMember(text, unsized), codec, "UNSUPPORTED", /content size/);
});

decoderTest("a frame that needs a dictionary is UNSUPPORTED; a dictionary ID of 0 means none", async (codec) => {
  await refused(zstdMember(text, withDictionaryId(frame, 7)), codec, "UNSUPPORTED", /dictionary 7/);
  assert.ok(equalBytes(await read(zstdMember(text, withDictionaryId(frame, 0)), codec), text));
});

decoderTest("a window of 16 MiB is taken, a larger one is UNSUPPORTED", async (codec) => {
  const small = zstdCli(text, "--zstd=wlog=10");
  assert.equal(small[4]! & 0x20, 0, "multi-segment");
  assert.equal(small[5], 0, "a 1 KiB window");
  const windowed = (descriptor: number): Uint8Array => {
    const f = small.slice();
    f[5] = descriptor;
    return f;
  };
  assert.ok(equalBytes(await read(zstdMember(text, windowed(14 << 3)), codec), text));
  await refused(zstdMember(text, windowed((14 << 3) | 1)), codec, "UNSUPPORTED", /window/);
  await refused(zstdMember(text, windowed(15 << 3)), codec, "UNSUPPORTED", /window/);
});

decoderTest("a second frame is UNSUPPORTED, other bytes after the frame CORRUPT", async (codec) => {
  const join = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
  const skippable = Uint8Array.of(0x50, 0x2a, 0x4d, 0x18, 2, 0, 0, 0, 1, 2);
  await refused(zstdMember(text, join(frame, frame)), codec, "UNSUPPORTED", /more than one frame/);
  await refused(zstdMember(text, join(frame, zstdCli(new Uint8Array(0)))), codec, "UNSUPPORTED", /more than one frame/);
  await refused(zstdMember(text, join(frame, skippable)), codec, "UNSUPPORTED", /more than one frame/);
  await refused(zstdMember(text, join(frame, Uint8Array.of(0))), codec, "CORRUPT", /after the zstd frame/);
  await refused(zstdMember(text, join(frame, Uint8Array.of(1, 2, 3, 4, 5))), codec, "CORRUPT", /after the zstd frame/);
});

decoderTest("a CRC-32 that does not match is CORRUPT", async (codec) => {
  await refused(zstdZip(frame, text.length, crc32(text, 0) ^ 1), codec, "CORRUPT", /CRC-32/);
  await refused(zstdZip(new Uint8Array(0), 0, 1), codec, "CORRUPT", /CRC-32/);
});

/**
 * One compressed block of `count` sequences, each a literal length of 65,536 and a match of
 * 65,539 (RLE codes 35 and 52 with 16 zero extra bits each), in a frame declaring `size` bytes.
 */
function sequenceBomb(size: number, count: number, bits = 32 * count): Uint8Array {
  const stream = new Uint8Array(Math.ceil(bits / 8) + 1);
  stream[stream.length - 1] = 1; // the end mark, right above `bits` zero bits
  const header = count < 128 ? [count] : count < 0x7f00 ? [0x80 + (count >> 8), count & 255] : [255, (count - 0x7f00) & 255, (count - 0x7f00) >> 8];
  const body = [0x00, ...header, 0x54, 35, 0, 52, ...stream]; // no literals; RLE modes for LL, OF, ML
  const block = 1 | (2 << 1) | (body.length << 3);
  return Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd, 0xa0, ...[0, 8, 16, 24].map((s) => (size >>> s) & 255), block & 255, (block >> 8) & 255, block >> 16, ...body);
}

decoderTest("sequences that make more than their block are CORRUPT at once, however many", async (codec) => {
  // 30,000 such sequences would keep fzstd looping for minutes if it were handed them.
  for (const [size, count] of [[1 << 20, 30_000], [100, 4]] as const) {
    const started = Date.now();
    await refused(zstdZip(sequenceBomb(size, count), size, 0), codec, "CORRUPT");
    assert.ok(Date.now() - started < 5000, `${count} sequences took ${Date.now() - started} ms`);
  }
  // Too few bits for the sequences claimed: the portable decoder refuses before decoding.
  await assert.rejects(async () => zstdDecompress(sequenceBomb(1 << 20, 30_000, 8), 1 << 20), (e) => isIbtError(e, "CORRUPT") && /past the start/.test(e.message));
  await assert.rejects(async () => zstdDecompress(sequenceBomb(1 << 20, 30_000), 1 << 20), (e) => isIbtError(e, "CORRUPT") && /more than its 0 literals/.test(e.message));
});

test("a codec's zstd is used when it has one, and held to bytes of the declared size", async () => {
  let calls = 0;
  const fine: InflateCodec = { inflate: () => new Uint8Array(0), zstd: (data, size) => (calls++, zstdDecompress(data, size)) };
  assert.ok(equalBytes(await read(zstdMember(text, frame), fine), text));
  assert.equal(calls, 1);
  const lying: [string, InflateCodec["zstd"], RegExp][] = [
    ["not bytes", () => "text" as unknown as Uint8Array, /other than bytes/],
    ["short", () => text.slice(0, 10), /decodes to 10 bytes/],
    ["long", () => new Uint8Array(text.length + 1), /decodes to 5001 bytes/],
    ["wrong bytes", () => new Uint8Array(text.length), /CRC-32/],
    ["a TypeError", () => (null as unknown as { x: number }).x as unknown as Uint8Array, /invalid zstd data/],
    ["a rejection", () => Promise.reject(new RangeError("boom")), /invalid zstd data \(boom\)/],
  ];
  for (const [label, zstd, pattern] of lying) {
    const codec: InflateCodec = { inflate: () => new Uint8Array(0), zstd: zstd! };
    await refused(zstdMember(text, frame), codec, "CORRUPT", pattern).catch((e: unknown) => assert.fail(`${label}: ${String(e)}`));
  }
  const notAFunction = { inflate: () => new Uint8Array(0), zstd: 5 } as unknown as InflateCodec;
  await assert.rejects(readerOf(zstdMember(text, frame), notAFunction), (e) => isIbtError(e, "BAD_ARGUMENT"));
  // The reader checks the frame before a codec sees it.
  await refused(zstdMember(text, new Uint8Array(Buffer.concat([frame, frame]))), fine, "UNSUPPORTED");
  assert.equal(calls, 1);
});

test("a flipped byte anywhere, through the portable decoder: the right bytes or an archive error, never another exception", async () => {
  const r = rng(34);
  const codes = new Map<string, number>();
  for (let i = 0; i < 400; i++) {
    const bad = frame.slice();
    const pick = (n: number): number => Math.floor(r() * n);
    for (let k = 1 + pick(3); k > 0; k--) bad[pick(bad.length)] = pick(256);
    const out = await read(zstdMember(text, bad), undefined).catch((e: unknown) => e);
    if (out instanceof Uint8Array) assert.ok(equalBytes(out, text), "accepted, so exact");
    else {
      assert.ok(isIbtError(out) && ["CORRUPT", "TRUNCATED", "UNSUPPORTED"].includes(out.code), String(out));
      codes.set(out.code, (codes.get(out.code) ?? 0) + 1);
    }
  }
  assert.ok((codes.get("CORRUPT") ?? 0) > 200, JSON.stringify([...codes]));
});

test("nodeInflate.zstd is there exactly when node:zlib has zstd", (t) => {
  const has = typeof (zlib as unknown as { zstdDecompressSync?: unknown }).zstdDecompressSync === "function";
  assert.equal(typeof nodeInflate.zstd, has ? "function" : "undefined");
  if (!has) t.diagnostic(NO_NODE_ZSTD);
});

test("node:zlib: zstd from ASYNC_FROM compressed bytes runs off the thread and keeps every check", async (t) => {
  const zstd = nodeInflate.zstd;
  if (zstd === undefined) return t.skip(NO_NODE_ZSTD);
  const below = randomBytes(rng(35), ASYNC_FROM - 2048);
  const above = randomBytes(rng(36), ASYNC_FROM + 2048);
  const small = zstdCli(below);
  const large = zstdCli(above);
  assert.ok(small.length < ASYNC_FROM && large.length >= ASYNC_FROM, `${small.length} / ${large.length}`);
  assert.ok(!(zstd(small, below.length) instanceof Promise), "a small member decodes on the calling thread");
  const pending = zstd(large, above.length);
  assert.ok(pending instanceof Promise, "a large member decodes on the thread pool");
  assert.ok(equalBytes(await pending, above));
  for (const [data, f] of [[below, small], [above, large]] as const) {
    const what = `${f.length} compressed bytes`;
    await assert.rejects(async () => zstd(f.subarray(0, f.length - 100), data.length), (e) => isIbtError(e, "TRUNCATED"), `${what}: cut`);
    const bad = f.slice();
    bad[bad.length - 1000]! ^= 0xff; // inside a raw block: only the frame checksum can tell
    await assert.rejects(async () => zstd(bad, data.length), (e) => isIbtError(e, "CORRUPT") && /zstd/.test(e.message), `${what}: checksum`);
    await assert.rejects(async () => zstd(f, data.length + 1), (e) => isIbtError(e, "CORRUPT"), `${what}: size`);
  }
});

decoderTest("a diff archive whose groups are zstd members applies exactly as the deflated one", async (codec) => {
  const { archive, want } = await validFixture();
  const members = (await membersOf(archive)).map(([name, data]) => {
    const zstd = name.startsWith("group/");
    return { name, data: zstd ? zstdCli(data, "-6") : data, method: zstd ? (93 as const) : (0 as const), size: data.length, crc: crc32(data, 0) };
  });
  assert.ok(members.filter((m) => m.method === 93).length >= 2, "groups to re-pack");
  const target = await memoryTree(BASE_SPEC);
  await applyDiff(target, await readerOf(handZip(members), codec));
  assert.ok(sameSnapshot(await snapshot(target), want), "the tree the deflated archive gives");
});
