/**
 * The writer's Zstandard members (ZIP method 93): a member queued or added with `zstd: true` is
 * one zstd frame that the real `zstd` CLI decodes to the member's bytes, with its content size in
 * the frame header; it is deflated instead where the writer has no zstd level or the codec no
 * zstd, and stored where compression is off or does not pay. DiffData's groups take files up to
 * ZSTD_GROUPED_MAX when they are zstd, and only up to GROUPED_MAX when deflated.
 *
 * Making zstd needs node:zlib's zstd (Node 22.15 and later): on Node 20 these tests say so and
 * skip; `npm test` runs them on Node 24.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { DiffData, DiffIndex, DirIndex, MemoryFs, ZipReader, ZipWriter, fflateDeflate, isIbtError } from "../../src/index.js";
import type { DeflateCodec, RandomAccessFile, ZipWriterOptions } from "../../src/index.js";
import { nodeDeflate } from "../../src/node/index.js";
import { GROUPED_MAX, ZSTD_GROUPED_MAX } from "../../src/archive/group-format.js";
import { METHOD_DEFLATED, METHOD_STORED, METHOD_ZSTD, ZSTD_MAX_SIZE } from "../../src/archive/zip-format.js";
import { concatBytes } from "../../src/bytes.js";
import { LaterMember, type LaterData } from "../../src/archive/zip-later.js";
import { equalBytes, ok, randomBytes, rng, tempDir, textBytes } from "../support/helpers.js";

const skip = nodeDeflate.zstd === undefined ? "node:zlib has no zstd before Node 22.15 (npm test runs this on Node 24)" : false;
const dir = tempDir();
const T0 = Date.UTC(2024, 4, 6, 7, 8, 11);

function memoryFile(bytes: Uint8Array): RandomAccessFile {
  return { size: bytes.length, read: async (offset, length) => bytes.slice(offset, offset + length) };
}

async function archive(options: ZipWriterOptions, members: [string, Uint8Array, { zstd?: boolean; compress?: boolean | "auto"; queue?: boolean }][]): Promise<Uint8Array> {
  const out: Uint8Array[] = [];
  const zip = new ZipWriter((c) => void out.push(c.slice()), options);
  for (const [name, data, o] of members) {
    if (o.queue) await zip.queue(name, data, { mtimeMs: T0, zstd: o.zstd, compress: o.compress });
    else await zip.add(name, data, { mtimeMs: T0, zstd: o.zstd, compress: o.compress });
  }
  await zip.finish();
  return concatBytes(out);
}

/** A member's stored bytes, found through its local header. */
function rawMember(zip: Uint8Array, offset: number, compressedSize: number): Uint8Array {
  const v = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const start = offset + 30 + v.getUint16(offset + 26, true) + v.getUint16(offset + 28, true);
  return zip.subarray(start, start + compressedSize);
}

/** What the real zstd CLI decodes a frame to. */
function zstdCli(frame: Uint8Array): Uint8Array {
  const file = join(dir, `frame-${Math.random().toString(36).slice(2)}.zst`);
  writeFileSync(file, frame);
  return new Uint8Array(ok("zstd", ["-d", "-c", "-q", file]));
}

const text = textBytes(rng(7), 3_000_000);

test("a member written with zstd is one frame the zstd CLI decodes, with its content size", { skip }, async () => {
  for (const queue of [false, true]) {
    const zip = await archive({ deflate: nodeDeflate, zstdLevel: 6 }, [
      ["a.txt", text, { zstd: true, queue }],
      ["b.txt", text.subarray(0, 5000), { queue }],
    ]);
    const reader = await ZipReader.from(memoryFile(zip));
    const [a, b] = reader.entries();
    assert.equal(a!.method, METHOD_ZSTD, `queue ${queue}`);
    assert.equal(b!.method, METHOD_DEFLATED, "a member not asking for zstd is deflated");
    assert.ok(a!.compressedSize < text.length / 3, `zstd shrank text to ${a!.compressedSize}`);
    const frame = rawMember(zip, a!.offset, a!.compressedSize);
    assert.equal(new DataView(frame.buffer, frame.byteOffset).getUint32(0, true), 0xfd2fb528, "a zstd frame");
    assert.notEqual(frame[4]! >> 6, 0, "the frame header carries the content size");
    assert.ok(equalBytes(zstdCli(frame), text), "the zstd CLI decodes the member to its bytes");
    const listing = ok("unzip", ["-Z", "-v", writeTemp(zip)]).toString();
    assert.match(listing, /compression method:\s+unknown \(93\)/, "unzip reads the method as 93");
  }
});

function writeTemp(bytes: Uint8Array): string {
  const file = join(dir, `a-${Math.random().toString(36).slice(2)}.zip`);
  writeFileSync(file, bytes);
  return file;
}

test("the same members, queued or added, make the same archive", { skip }, async () => {
  const members = (queue: boolean): [string, Uint8Array, { zstd: boolean; queue: boolean }][] =>
    [0, 1, 2, 3].map((i) => [`m${i}`, text.subarray(i * 100_000, i * 100_000 + 600_000), { zstd: i % 2 === 0, queue }]);
  const added = await archive({ deflate: nodeDeflate, zstdLevel: 6 }, members(false));
  const queued = await archive({ deflate: nodeDeflate, zstdLevel: 6 }, members(true));
  assert.ok(equalBytes(added, queued));
});

test("zstd is asked for but not made: no level, a codec without zstd, compression off, data that does not shrink, a member over the bound", { skip }, async () => {
  const cases: [string, ZipWriterOptions, Uint8Array, number][] = [
    ["no zstd level", { deflate: nodeDeflate }, text, METHOD_DEFLATED],
    ["fflate has no zstd", { deflate: fflateDeflate, zstdLevel: 6 }, text, METHOD_DEFLATED],
    ["level 0 stores", { deflate: nodeDeflate, level: 0, zstdLevel: 6 }, text, METHOD_STORED],
    ["random bytes are stored", { deflate: nodeDeflate, zstdLevel: 6 }, randomBytes(rng(3), 200_000), METHOD_STORED],
    ["over ZSTD_MAX_SIZE is deflated", { deflate: nodeDeflate, zstdLevel: 1 }, textBytes(rng(9), ZSTD_MAX_SIZE + 1), METHOD_DEFLATED],
  ];
  for (const [what, options, data, method] of cases) {
    const zip = await archive(options, [["x", data, { zstd: true, queue: true }]]);
    const reader = await ZipReader.from(memoryFile(zip));
    assert.equal(reader.entries()[0]!.method, method, what);
  }
  // A group may start with noise and go on with text: zstd decides on the whole member, not on a probe of its start.
  const mixed = concatBytes([randomBytes(rng(5), 100_000), text]);
  for (const [what, options, method] of [
    ["zstd", { deflate: nodeDeflate, zstdLevel: 6 }, METHOD_ZSTD],
    ["deflate's probe", { deflate: nodeDeflate }, METHOD_STORED],
  ] as const) {
    const zip = await archive(options, [["x", mixed, { zstd: true, queue: true }]]);
    assert.equal((await ZipReader.from(memoryFile(zip))).entries()[0]!.method, method, `noise then text: ${what}`);
  }
  const forced = await archive({ deflate: nodeDeflate, zstdLevel: 6 }, [["x", text, { zstd: true, compress: false }]]);
  assert.equal((await ZipReader.from(memoryFile(forced))).entries()[0]!.method, METHOD_STORED, "compress: false stores");
});

test("a bad zstd level, or a codec whose zstd makes no frame, is refused", async () => {
  for (const zstdLevel of [0, 20, 1.5, Number.NaN]) {
    assert.throws(() => new ZipWriter(() => {}, { zstdLevel }), (e: unknown) => isIbtError(e, "BAD_ARGUMENT"), String(zstdLevel));
  }
  const empty: DeflateCodec = { deflate: fflateDeflate.deflate, zstd: () => new Uint8Array(0) };
  const huge: DeflateCodec = { deflate: fflateDeflate.deflate, zstd: (d) => new Uint8Array(d.length * 2 + 2048) };
  for (const [what, codec] of [["empty", empty], ["past the bound", huge]] as const) {
    const zip = new ZipWriter(() => {}, { deflate: codec, zstdLevel: 3 });
    await assert.rejects(zip.add("x", text.subarray(0, 10_000), { zstd: true, compress: true }), (e: unknown) => isIbtError(e, "BAD_ARGUMENT"), what);
  }
});

test("DiffData: zstd groups take files up to ZSTD_GROUPED_MAX, deflated groups only up to GROUPED_MAX", { skip }, async () => {
  const source = new MemoryFs();
  const medium = textBytes(rng(11), 3 * 1024 * 1024);
  const large = textBytes(rng(12), ZSTD_GROUPED_MAX + 1);
  await source.writeFile("small.txt", text.subarray(0, 4000));
  await source.writeFile("medium.txt", medium);
  await source.writeFile("large.txt", large);
  const empty = await DirIndex.build(new MemoryFs());
  const diff = new DiffIndex(await DirIndex.build(source), empty).compute();
  for (const [zstdLevel, inGroup] of [[6, ["new/small.txt", "new/medium.txt"]], [undefined, ["new/small.txt"]]] as const) {
    const out: Uint8Array[] = [];
    await new DiffData(diff, { source, deflate: nodeDeflate, ...(zstdLevel ? { zstdLevel } : {}) }).write((c) => void out.push(c.slice()));
    const reader = await ZipReader.from(memoryFile(concatBytes(out)));
    const names = reader.entries().map((e) => e.name);
    for (const name of ["new/small.txt", "new/medium.txt", "new/large.txt"]) {
      assert.equal(names.includes(name), !(inGroup as readonly string[]).includes(name), `${name} with zstd level ${zstdLevel}: ${names.join(", ")}`);
    }
    const group = reader.get("group/000001.tar")!;
    assert.equal(group.method, zstdLevel ? METHOD_ZSTD : METHOD_DEFLATED);
    assert.ok(medium.length > GROUPED_MAX);
  }
});

async function drain(data: LaterData): Promise<Uint8Array> {
  const pieces: Uint8Array[] = [];
  for await (const p of data.deflated) pieces.push(p);
  return concatBytes(pieces);
}

test("a later member asked for zstd is one frame while its data stays within the bound, and past it the deflate it would be without", { skip }, async () => {
  const zstd = { max: 50_000, compress: (d: Uint8Array) => nodeDeflate.zstd!(d, 6) };
  const pieces = (n: number) => Array.from({ length: n }, (_, i) => text.subarray(i * 7_000, (i + 1) * 7_000));
  for (const [count, frame] of [[7, true], [8, false], [30, false]] as const) {
    const data = concatBytes(pieces(count));
    const asked = new LaterMember("m", nodeDeflate, 6, undefined, zstd);
    const plain = new LaterMember("m", nodeDeflate, 6);
    for (const p of pieces(count)) {
      await asked.push(p);
      await plain.push(p);
    }
    const got = await asked.finish();
    const without = await plain.finish();
    assert.equal(got.zstd, frame, `${data.length} bytes against a bound of ${zstd.max}`);
    assert.equal(got.crc, without.crc);
    assert.equal(got.size, data.length);
    const bytes = await drain(got);
    assert.equal(bytes.length, got.compressedSize);
    if (frame) assert.ok(equalBytes(zstdCli(bytes), data), "the zstd CLI decodes the frame to the data");
    else assert.ok(equalBytes(bytes, await drain(without)), "past the bound: the same deflate bytes as without zstd");
    await asked.dispose();
    await plain.dispose();
  }
  const empty = new LaterMember("m", nodeDeflate, 6, undefined, zstd);
  const none = await empty.finish();
  assert.deepEqual([none.zstd, none.size, none.compressedSize], [false, 0, 0]);
});

test("ZipWriter.later with zstd: method 93 where the writer has zstd, deflate at level 0 or without a level; every form reads back", { skip }, async () => {
  const data = text.subarray(0, 200_000);
  for (const [options, method] of [
    [{ deflate: nodeDeflate, zstdLevel: 6 }, METHOD_ZSTD],
    [{ deflate: nodeDeflate }, METHOD_DEFLATED],
    [{ deflate: nodeDeflate, zstdLevel: 6, level: 0 }, METHOD_DEFLATED],
  ] as [ZipWriterOptions, number][]) {
    const out: Uint8Array[] = [];
    const zip = new ZipWriter((c) => void out.push(c.slice()), options);
    const member = zip.later("manifest.json", undefined, { zstd: true });
    for (let at = 0; at < data.length; at += 10_000) await member.push(data.subarray(at, at + 10_000));
    await zip.addLater(member, { mtimeMs: T0 });
    await zip.finish();
    const reader = await ZipReader.from(memoryFile(concatBytes(out)));
    assert.equal(reader.get("manifest.json")!.method, method, JSON.stringify(options));
    assert.ok(equalBytes(await reader.bytes("manifest.json"), data), JSON.stringify(options));
  }
});

test("DiffData: the manifest is zstd where the groups are, and deflated in format 1", { skip }, async () => {
  const source = new MemoryFs();
  for (let d = 0; d < 7; d++) await source.mkdir(`d${d}`);
  for (let i = 0; i < 200; i++) await source.writeFile(`d${i % 7}/file-${i}.txt`, text.subarray(i * 1000, i * 1000 + 500 + i));
  const diff = new DiffIndex(await DirIndex.build(source), await DirIndex.build(new MemoryFs())).compute();
  for (const [format, method] of [[2, METHOD_ZSTD], [1, METHOD_DEFLATED]] as const) {
    const out: Uint8Array[] = [];
    await new DiffData(diff, { source, deflate: nodeDeflate, zstdLevel: 6, format }).write((c) => void out.push(c.slice()));
    const zip = concatBytes(out);
    const reader = await ZipReader.from(memoryFile(zip));
    const entry = reader.get("ibt-manifest.json")!;
    assert.equal(entry.method, method, `format ${format}`);
    const manifest = await reader.bytes("ibt-manifest.json");
    assert.equal(JSON.parse(new TextDecoder().decode(manifest)).changes.length, diff.changes.length);
    if (method === METHOD_ZSTD) assert.ok(equalBytes(zstdCli(rawMember(zip, entry.offset, entry.compressedSize)), manifest), "the zstd CLI reads the manifest");
  }
});
