/**
 * The pluggable deflate codec: node:zlib's (nodeDeflate) makes archives that unzip, our reader
 * and applyDiff accept; its stream form joins pieces into one deflate stream; the codec a caller
 * gives is the one used, by ZipWriter, DiffData, the repository and the CLI; and a codec that
 * returns wrong bytes is refused when that is cheap to see, or else caught by the CRC on read.
 * What is read back is read with every inflate codec (fflate, node:zlib).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { deflateRawSync, inflateRawSync } from "node:zlib";
import { inflateSync } from "fflate";
import { DiffData, DiffIndex, DirIndex, MemoryFs, MemoryStore, Repository, ZipReader, ZipWriter, applyDiff, fflateDeflate, fflateInflate, isIbtError, openArchive } from "../../src/index.js";
import type { DeflateCodec, InflateCodec, RandomAccessFile, ZipWriterOptions } from "../../src/index.js";
import { NodeFs, nodeDeflate, nodeInflate, nodeRepositoryOptions } from "../../src/node/index.js";
import { concatBytes } from "../../src/bytes.js";
import { directoryRoundTrip, makeV1, makeV2, copyTree } from "../shared/roundtrip-cases.js";
import { TreeChanger, treeId } from "../support/repo-kit.js";
import { equalBytes, ibt, ok, randomBytes, rng, run, split, tempDir, textBytes } from "../support/helpers.js";

const dir = tempDir();
const INFLATE_CODECS: [string, InflateCodec][] = [
  ["fflate", fflateInflate],
  ["node:zlib", nodeInflate],
];
const T0 = Date.UTC(2024, 4, 6, 7, 8, 11);

/** Valid deflate of the wrong bytes (the first one flipped): no cheap check can tell. */
const flipFirst: DeflateCodec = { deflate: (d, level) => nodeDeflate.deflate(d.map((b, i) => (i === 0 ? b ^ 1 : b)), level) };

/** Wraps a codec, counting its calls and the levels it is asked for. */
function counting(codec: DeflateCodec) {
  const seen = { whole: 0, pushes: 0, levels: new Set<number>() };
  const wrapped: DeflateCodec = {
    deflate(data, level) {
      seen.whole++;
      seen.levels.add(level);
      return codec.deflate(data, level);
    },
  };
  if (codec.deflateStream) {
    wrapped.deflateStream = (level) => {
      seen.levels.add(level);
      const inner = codec.deflateStream!(level);
      return { push: (piece, final) => (seen.pushes++, inner.push(piece, final)) };
    };
  }
  return { codec: wrapped, seen };
}

function memoryFile(bytes: Uint8Array): RandomAccessFile {
  return { size: bytes.length, read: async (offset, length) => bytes.slice(offset, offset + length) };
}

async function* chunked(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  yield* split(data, size);
}

const text = textBytes(rng(1), 1_500_000);
const noise = randomBytes(rng(2), 300_000);
/** Small text (whole), large text in memory (probe + whole), large text streamed, noise streamed (probe says store), empty. */
async function writeSample(options: ZipWriterOptions): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const w = new ZipWriter((c) => void chunks.push(c.slice()), options);
  await w.add("small.txt", text.subarray(0, 3000), { mtimeMs: T0 });
  await w.add("memory.txt", text.subarray(0, 200_000), { mtimeMs: T0 });
  await w.add("stream.txt", chunked(text, 10_000), { mtimeMs: T0 });
  await w.add("noise.bin", chunked(noise, 70_000), { mtimeMs: T0 });
  await w.add("empty", new Uint8Array(0), { mtimeMs: T0 });
  await w.finish();
  return concatBytes(chunks);
}

async function checkSample(zip: Uint8Array, name: string): Promise<void> {
  const path = join(dir, name);
  writeFileSync(path, zip);
  assert.match(ok("unzip", ["-tq", path]).toString(), /No errors detected/);
  for (const [codecName, inflate] of INFLATE_CODECS) {
    const reader = await ZipReader.from(memoryFile(zip), { inflate });
    const want: Record<string, Uint8Array> = { "small.txt": text.subarray(0, 3000), "memory.txt": text.subarray(0, 200_000), "stream.txt": text, "noise.bin": noise, empty: new Uint8Array(0) };
    for (const [member, data] of Object.entries(want)) assert.ok(equalBytes(await reader.bytes(member), data), `${member} (${codecName})`);
    assert.equal(reader.get("stream.txt")!.method, 8);
    assert.equal(reader.get("noise.bin")!.method, 0);
  }
}

test("nodeDeflate's stream joins pieces of any size into one raw deflate stream, even when the caller reuses its buffer", () => {
  const all = textBytes(rng(3), 300_000);
  for (const size of [1, 2, 3, 7, 15, 100, 10_000, 32_768, 65_536, 200_000]) {
    const data = all.subarray(0, size * 1500); // each push costs a zlib call: at most 1500 of them
    const stream = nodeDeflate.deflateStream(6);
    const scratch = new Uint8Array(size);
    const out: Uint8Array[] = [];
    const pieces = split(data, size);
    pieces.forEach((piece, i) => {
      scratch.set(piece);
      out.push(stream.push(scratch.subarray(0, piece.length), i === pieces.length - 1));
      scratch.fill(0xaa); // a codec that kept the piece would now remember the wrong window
    });
    const joined = concatBytes(out);
    assert.ok(equalBytes(inflateRawSync(joined), data), `zlib inflates pieces of ${size}`);
    assert.ok(equalBytes(inflateSync(joined), data), `fflate inflates pieces of ${size}`);
  }
  const empty = nodeDeflate.deflateStream(6);
  assert.equal(empty.push(new Uint8Array(0), false).length, 0);
  assert.equal(inflateRawSync(empty.push(new Uint8Array(0), true)).length, 0);
});

test("nodeDeflate sizes zlib's window to a whole input: output any inflater reads, as small as with zlib's defaults", () => {
  const text = textBytes(rng(5), 80_000);
  const noise = randomBytes(rng(6), 80_000);
  let sized = 0;
  let defaults = 0;
  for (const n of [0, 1, 2, 100, 511, 512, 513, 4095, 4096, 4097, 20_000, 32_767, 32_768, 40_000, 80_000]) {
    for (const [kind, source] of [["text", text], ["noise", noise], ["repeats", new Uint8Array(n).fill(7)]] as const) {
      const data = source.subarray(0, n);
      for (const level of [1, 6, 9]) {
        const out = nodeDeflate.deflate(data, level);
        const plain = deflateRawSync(data, { level });
        assert.ok(equalBytes(inflateRawSync(out), data), `zlib inflates ${kind} of ${n} at level ${level}`);
        assert.ok(equalBytes(inflateSync(out), data), `fflate inflates ${kind} of ${n} at level ${level}`);
        // From 16 KiB on the window is zlib's own 32 KiB and so is the hash: the same bytes.
        if (n > 16_384) assert.ok(equalBytes(out, plain), `${kind} of ${n} at level ${level}: zlib's default parameters`);
        sized += out.length;
        defaults += plain.length;
      }
    }
  }
  assert.ok(sized <= defaults * 1.001 + 64, `sized windows: ${sized} bytes in all, zlib's defaults: ${defaults}`);
});

test("nodeDeflate's stream reaches back into the previous piece (the preset dictionary)", () => {
  const block = randomBytes(rng(4), 20_000);
  const stream = nodeDeflate.deflateStream(6);
  const first = stream.push(block, false);
  const second = stream.push(block, true);
  assert.ok(first.length > 20_000, "noise does not shrink");
  assert.ok(second.length < 200, `a repeat of the previous piece is ${second.length} bytes: matches across pieces`);
  assert.ok(equalBytes(inflateRawSync(concatBytes([first, second])), concatBytes([block, block])));
});

test("ZipWriter uses the codec it is given for whole members, the probe and streams; unzip and our reader accept the archive", async () => {
  const native = counting(nodeDeflate);
  const zip = await writeSample({ deflate: native.codec, level: 9 });
  await checkSample(zip, "native.zip");
  // small + memory (probe + whole) + the stream's probe + the noise's probe.
  assert.equal(native.seen.whole, 5);
  assert.ok(native.seen.pushes >= Math.ceil(text.length / 65_536), `${native.seen.pushes} pieces pushed`);
  assert.deepEqual([...native.seen.levels], [9]);
  const portable = await writeSample({ level: 9 });
  await checkSample(portable, "fflate.zip");
  assert.ok(!equalBytes(zip, portable), "the native codec's bytes are the ones written");

  // A codec without a stream form: streams fall back to fflate.
  const wholeOnly = counting({ deflate: nodeDeflate.deflate });
  await checkSample(await writeSample({ deflate: wholeOnly.codec }), "whole-only.zip");
  assert.equal(wholeOnly.seen.whole, 5);
  assert.throws(() => new ZipWriter(() => {}, { deflate: {} as DeflateCodec }), (e) => isIbtError(e, "BAD_ARGUMENT"));
});

test("a codec's output that is plainly not deflate is refused; wrong deflate data fails the CRC on every read", async () => {
  const data = text.subarray(0, 100_000);
  const liars: [string, DeflateCodec][] = [
    ["not bytes", { deflate: () => "deflated" as unknown as Uint8Array }],
    ["nothing", { deflate: () => new Uint8Array(0) }],
    ["too little", { deflate: () => new Uint8Array(10) }],
  ];
  for (const [what, codec] of liars) {
    // The whole member's check comes before anything reaches the sink: the writer goes on.
    const w = new ZipWriter(() => {}, { deflate: codec });
    await assert.rejects(w.add("a.txt", data, { compress: true }), (e) => isIbtError(e, "BAD_ARGUMENT"), what);
    await w.add("b.txt", data, { compress: false });
  }
  const probed = new ZipWriter(() => {}, { deflate: liars[0]![1] });
  await assert.rejects(probed.add("a.txt", chunked(data, 70_000)), (e) => isIbtError(e, "BAD_ARGUMENT"), "the probe");
  const streams: [string, DeflateCodec][] = [
    ["stream not bytes", { deflate: nodeDeflate.deflate, deflateStream: () => ({ push: () => null as unknown as Uint8Array }) }],
    ["stream too little", { deflate: nodeDeflate.deflate, deflateStream: () => ({ push: (_, final) => new Uint8Array(final ? 1 : 0) }) }],
  ];
  for (const [what, codec] of streams) {
    const w = new ZipWriter(() => {}, { deflate: codec });
    await assert.rejects(w.add("a.txt", chunked(data, 70_000), { compress: true }), (e) => isIbtError(e, "BAD_ARGUMENT"), what);
  }

  // Valid deflate of other bytes: nothing cheap can tell, but the CRC is the writer's own.
  const chunks: Uint8Array[] = [];
  const bad = new ZipWriter((c) => void chunks.push(c.slice()), { deflate: flipFirst });
  await bad.add("a.txt", data);
  await bad.finish();
  const zip = concatBytes(chunks);
  writeFileSync(join(dir, "lying.zip"), zip);
  assert.notEqual(run("unzip", ["-tq", join(dir, "lying.zip")]).status, 0, "unzip -t finds the CRC error");
  for (const [codecName, inflate] of INFLATE_CODECS) {
    await assert.rejects((await ZipReader.from(memoryFile(zip), { inflate })).bytes("a.txt"), (e) => isIbtError(e, "CORRUPT"), codecName);
  }
});

test("DiffData with nodeDeflate: the directory round trip, an archive unzip accepts, and the codec used", async () => {
  const store = join(dir, "store");
  mkdirSync(store);
  const native = counting(nodeDeflate);
  await directoryRoundTrip({
    source: new MemoryFs(),
    target: new MemoryFs(),
    store: new NodeFs(store),
    manyFiles: 300,
    deflate: native.codec,
    beforeApply: async () => void ok("unzip", ["-tq", join(store, "diff.zip")]),
  });
  assert.ok(native.seen.whole > 0);
});

test("applyDiff refuses an archive from a codec that deflated the wrong bytes, and the target stays as it was", async () => {
  const source = new MemoryFs();
  await makeV1(source, 20);
  const target = new MemoryFs();
  await copyTree(source, target);
  const old = await DirIndex.build(source);
  await makeV2(source, 20);
  const diff = new DiffIndex(await DirIndex.build(source), old).compute();
  const store = new MemoryFs();
  await new DiffData(diff, { source, deflate: flipFirst }).createArchive(store, "diff.zip");
  const before = await treeId(target);
  for (const [codecName, inflate] of INFLATE_CODECS) {
    await assert.rejects(applyDiff(target, await openArchive(store, "diff.zip", { inflate })), (e) => isIbtError(e, "CORRUPT"), codecName);
    assert.equal(await treeId(target), before);
  }
});

test("the repository deflates with the codec in its options (backups and dry runs); nodeRepositoryOptions gives node:zlib", async () => {
  assert.equal(nodeRepositoryOptions().deflate, nodeDeflate);
  assert.equal(nodeRepositoryOptions({ deflate: fflateDeflate }).deflate, fflateDeflate, "the caller's choice wins");
  await assert.rejects(Repository.init(new MemoryStore(), { deflate: {} as DeflateCodec }), (e) => isIbtError(e, "BAD_ARGUMENT"));

  const source = new MemoryFs();
  await new TreeChanger(source, rng(5)).seed(30);
  const native = counting(nodeDeflate);
  const repo = await Repository.init(new MemoryStore(), { deflate: native.codec });
  await repo.backup(source, { dryRun: true });
  const dryRun = native.seen.whole;
  assert.ok(dryRun > 0, "the dry run measured with the codec");
  const snapshot = await repo.backup(source);
  assert.ok(native.seen.whole > dryRun);
  const restored = new MemoryFs();
  await repo.restore(snapshot.id, restored);
  assert.equal(await treeId(restored), await treeId(source));
  assert.ok((await repo.verify({ readData: true })).ok);

  // A codec that deflates the wrong bytes: the backup is written, and verify names the damage.
  const lying = await Repository.init(new MemoryStore(), { deflate: flipFirst });
  await lying.backup(source);
  const report = await lying.verify({ readData: true });
  assert.ok(!report.ok && report.problems.some((p) => p.code === "CORRUPT"), JSON.stringify(report.problems.slice(0, 2)));
});

test("ibt diff deflates with node:zlib: the group holding a new file is exactly nodeDeflate's bytes", () => {
  const root = join(dir, "cli");
  mkdirSync(join(root, "v1"), { recursive: true });
  const idx = join(root, "v1.idx");
  assert.equal(ibt(["index", join(root, "v1"), idx]).status, 0);
  const content = text.subarray(0, 5000);
  writeFileSync(join(root, "v1", "new.txt"), content);
  const zipPath = join(root, "d.zip");
  const r = ibt(["diff", join(root, "v1"), idx, zipPath]);
  assert.equal(r.status, 0, r.stderr.toString());
  const zip = readFileSync(zipPath);
  const at = zip.indexOf("group/000001.tar") - 30; // the local header, which the name follows
  assert.equal(zip.readUInt32LE(at), 0x04034b50);
  assert.equal(zip.readUInt16LE(at + 8), 8, "deflated");
  const start = at + 30 + zip.readUInt16LE(at + 26) + zip.readUInt16LE(at + 28);
  const stored = zip.subarray(start, start + zip.readUInt32LE(at + 18));
  const tar = inflateRawSync(stored);
  assert.ok(tar.includes(Buffer.from(content)), "the group holds the file's bytes");
  assert.ok(equalBytes(stored, nodeDeflate.deflate(tar, 6)), "nodeDeflate's bytes");
  assert.ok(!equalBytes(stored, fflateDeflate.deflate(tar, 6)), "not fflate's");
});
