/**
 * The archive's manifest made as the archive is written: ManifestText's pieces join to exactly
 * `JSON.stringify`'s UTF-8 bytes (round-trip manifests and random ones with hostile paths and
 * odd numbers); a ZipWriter.later member is byte for byte what `add` writes for the same data
 * with `compress: true`, whatever the codec, level and piece sizes; node:zlib's incremental form
 * gives `deflate`'s bytes; DiffData's manifest member is the one the whole-text encoding made
 * before; no string or deflate input the size of the manifest is built along the way; and with
 * a spill the deflated manifest past its `keep` waits there as it is made, the archive unchanged.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { inflateRawSync } from "node:zlib";
import { DiffData, DiffIndex, DirIndex, MemoryFs, ZipReader, ZipWriter, fflateDeflate, isIbtError, parseManifest } from "../../src/index.js";
import type { DeflateCodec, LaterSpill, RandomAccessFile } from "../../src/index.js";
import { nodeDeflate } from "../../src/node/index.js";
import { concatBytes } from "../../src/bytes.js";
import { ManifestText, MANIFEST_FORMAT, MANIFEST_NAME, type Manifest, type ManifestChange, type ManifestEntry } from "../../src/archive/manifest.js";
import type { Diff } from "../../src/dirindex/diff-index.js";
import { makeV1, makeV2 } from "../shared/roundtrip-cases.js";
import { equalBytes, randomBytes, rng, split, textBytes } from "../support/helpers.js";
import { deletions } from "../support/manifest-cases.js";

const T0 = Date.UTC(2025, 2, 3, 4, 5, 6, 789);

/** The manifest's encoding before it was streamed: the reference. */
function encodeManifestWhole(m: Manifest): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(m));
}

/** ManifestText's pieces for `m`, in order. */
async function streamed(m: Manifest): Promise<Uint8Array[]> {
  const pieces: Uint8Array[] = [];
  const text = new ManifestText(m, async (p) => void pieces.push(p));
  for (const c of m.changes) await text.change(c);
  await text.end(m.parents, m.target);
  return pieces;
}

/** nodeDeflate with only its synchronous whole form: DiffData's and ZipWriter's simplest path. */
const wholeOnly: DeflateCodec = { deflate: nodeDeflate.deflate };

const CODECS: [string, DeflateCodec][] = [
  ["node:zlib", nodeDeflate],
  ["fflate", fflateDeflate],
  ["node:zlib, whole only", wholeOnly],
];

function memoryFile(bytes: Uint8Array): RandomAccessFile {
  return { size: bytes.length, read: async (offset, length) => bytes.slice(offset, offset + length) };
}

async function archiveOf(diff: Diff, source: MemoryFs | undefined, deflate: DeflateCodec, format: 1 | 2 | 3 = 3): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  await new DiffData(diff, { source: source ?? new MemoryFs(), deflate, format, time: new Date(T0) }).write(async (c) => void chunks.push(c.slice()));
  return concatBytes(chunks);
}

/** The bytes of the member `ZipWriter.add` writes for `data` (local header and payload), wherever it goes. */
async function memberAsAdded(name: string, data: Uint8Array, deflate: DeflateCodec, mtimeMs: number, level?: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const zip = new ZipWriter(async (c) => void chunks.push(c.slice()), { deflate, ...(level === undefined ? {} : { level }) });
  await zip.add(name, data, { compress: true, mtimeMs });
  const end = zip.bytesWritten;
  await zip.finish();
  return concatBytes(chunks).subarray(0, end);
}

// --- the text --------------------------------------------------------------------------------

/** Strings that JSON escapes or that UTF-8 encodes in several bytes. */
const ODD = ['"', "\\", "\n", "\t", "\u0000", "\u001f", "\u007f", "é", "ß", "日本", "😀", "\ud800", "\udfff", "\u2028", "</script>", "'", "/"];

function randomPath(next: () => number): string {
  const parts: string[] = [];
  const n = 1 + Math.floor(next() * 4);
  for (let i = 0; i < n; i++) {
    let s = "";
    const len = 1 + Math.floor(next() * 6);
    for (let j = 0; j < len; j++) s += next() < 0.4 ? ODD[Math.floor(next() * ODD.length)]! : String.fromCharCode(97 + Math.floor(next() * 26));
    parts.push(s);
  }
  return parts.join("/");
}

const NUMBERS = [0, -0, 1, 0.5, 1e21, 1.5e-7, 1733400000000.123, -86400000, 8.64e15, 2 ** 53 - 1, 33188, 0o755];

function randomEntry(next: () => number): ManifestEntry {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(next() * a.length)]!;
  const e: ManifestEntry = { type: pick(["file", "dir", "symlink"] as const), size: pick(NUMBERS), mtimeMs: pick(NUMBERS), mode: pick(NUMBERS) };
  if (next() < 0.7) e.hash = randomBytes(next, 8).reduce((s, b) => s + b.toString(16).padStart(2, "0"), "");
  if (next() < 0.3) e.target = randomPath(next);
  if (next() < 0.1) e.target = undefined; // an explicitly undefined key: left out, as JSON.stringify does
  return e;
}

function randomManifest(seed: number, changes: number): Manifest {
  const next = rng(seed);
  const kinds = ["create", "update", "delete", "move", "copy", "relink", "metadata"] as const;
  const list: ManifestChange[] = [];
  for (let i = 0; i < changes; i++) {
    const c: ManifestChange = { kind: kinds[Math.floor(next() * kinds.length)]!, path: randomPath(next) };
    if (next() < 0.3) c.from = randomPath(next);
    if (next() < 0.6) c.old = randomEntry(next);
    if (next() < 0.8) c.new = randomEntry(next);
    if (next() < 0.5) {
      c.member = `group/${String(i).padStart(6, "0")}.tar`;
      c.encoding = next() < 0.5 ? "bytes" : "delta";
      c.offset = Math.floor(next() * 1e9);
      c.length = NUMBERS[Math.floor(next() * NUMBERS.length)]!;
    }
    list.push(c);
  }
  const parents = Array.from({ length: Math.floor(next() * 50) }, () => ({ path: randomPath(next), mtimeMs: NUMBERS[Math.floor(next() * NUMBERS.length)]!, mode: 0o755 }));
  return { format: MANIFEST_FORMAT, version: 2, base: "a".repeat(64), created: new Date(T0).toISOString(), changes: list, parents, target: "b".repeat(64) };
}

test("ManifestText: JSON.stringify's bytes for random manifests with hostile paths and odd numbers, in pieces that are each valid UTF-8", async () => {
  for (const [seed, n] of [[1, 0], [2, 1], [3, 7], [4, 500], [5, 3000]] as const) {
    const m = randomManifest(seed, n);
    const pieces = await streamed(m);
    assert.ok(equalBytes(concatBytes(pieces), encodeManifestWhole(m)), `seed ${seed}, ${n} changes`);
    // A piece that split a character would not decode on its own.
    const strict = new TextDecoder("utf-8", { fatal: true });
    for (const p of pieces) strict.decode(p);
    if (n >= 3000) assert.ok(pieces.length > 3, `${pieces.length} pieces for ${n} changes`);
  }
});

test("ManifestText: a manifest with no changes and no parents, and the head's keys in JSON.stringify's order whatever the caller's", async () => {
  const m: Manifest = { format: MANIFEST_FORMAT, version: 1, base: "0".repeat(64), created: "2020-01-01T00:00:00.000Z", changes: [], parents: [], target: "f".repeat(64) };
  const shuffled = { parents: [], created: m.created, target: m.target, changes: [], base: m.base, version: 1, format: MANIFEST_FORMAT } as Manifest;
  const pieces = await streamed(shuffled);
  assert.equal(new TextDecoder().decode(concatBytes(pieces)), JSON.stringify(m));
});

// --- the member ------------------------------------------------------------------------------

test("ZipWriter.later: byte for byte the member add writes with compress: true, for every codec, level and piece size (a writer at level 0 deflates it at the default level)", async () => {
  const next = rng(11);
  const text = textBytes(next, 150_000);
  const datas = [new Uint8Array(0), text.subarray(0, 10), text.subarray(0, 16_384), text.subarray(0, 16_385), text, concatBytes([randomBytes(next, 70_000), text.subarray(0, 50_000)])];
  for (const [codecName, codec] of CODECS) {
    for (const level of [0, 1, 6, 9]) {
      for (const data of datas) {
        const want = memberAsAdded(MANIFEST_NAME, data, codec, T0, level === 0 ? 6 : level);
        for (const size of [1, 7, 4096, 65_536, () => 1 + Math.floor(next() * 100_000)]) {
          if ((size === 1 || size === 7) && data.length > 20_000) continue;
          const chunks: Uint8Array[] = [];
          const zip = new ZipWriter(async (c) => void chunks.push(c.slice()), { deflate: codec, level });
          const member = zip.later(MANIFEST_NAME);
          for (const piece of split(data, size)) {
            const copy = piece.slice();
            await member.push(copy);
            copy.fill(0x55); // the caller may reuse a piece once push returns
          }
          await zip.addLater(member, { mtimeMs: T0 });
          await zip.finish();
          const got = concatBytes(chunks);
          const end = new DataView(got.buffer, got.byteOffset).getUint32(got.length - 6, true);
          assert.ok(equalBytes(got.subarray(0, end), await want), `${codecName}, level ${level}, ${data.length} bytes in pieces of ${typeof size === "number" ? size : "random size"}`);
        }
      }
    }
  }
});

test("ZipWriter.later: other members written meanwhile; the archive is the one add writes with the member added last", async () => {
  const next = rng(12);
  const data = textBytes(next, 300_000);
  const others = Array.from({ length: 5 }, (_, i) => [`m/${i}.txt`, textBytes(next, 20_000 + i * 30_000)] as const);
  for (const [codecName, codec] of CODECS) {
    const reference: Uint8Array[] = [];
    const plain = new ZipWriter(async (c) => void reference.push(c.slice()), { deflate: codec });
    for (const [name, bytes] of others) await plain.add(name, bytes, { mtimeMs: T0 });
    await plain.add("manifest.json", data, { compress: true, mtimeMs: T0 });
    await plain.finish();

    const chunks: Uint8Array[] = [];
    const zip = new ZipWriter(async (c) => void chunks.push(c.slice()), { deflate: codec });
    const member = zip.later("manifest.json");
    const pieces = split(data, 50_000);
    for (const [i, [name, bytes]] of others.entries()) {
      await member.push(pieces[i]!);
      await zip.queue(name, bytes, { mtimeMs: T0 });
    }
    for (const piece of pieces.slice(others.length)) await member.push(piece);
    await zip.addLater(member, { mtimeMs: T0 });
    await zip.finish();
    assert.ok(equalBytes(concatBytes(chunks), concatBytes(reference)), codecName);
  }
});

test("ZipWriter.later: a name already taken is refused up front and when written; a disposed member cannot be pushed to or written", async () => {
  const zip = new ZipWriter(() => {}, { deflate: nodeDeflate });
  await zip.add("a.txt", new Uint8Array(3));
  assert.throws(() => zip.later("a.txt"), { code: "BAD_ARGUMENT" });
  const late = zip.later("b.txt");
  await late.push(textBytes(rng(1), 40_000));
  await zip.add("b.txt", new Uint8Array(1));
  await assert.rejects(zip.addLater(late), { code: "BAD_ARGUMENT" });
  late.dispose();
  const gone = zip.later("c.txt");
  gone.dispose();
  await assert.rejects(gone.push(new Uint8Array(1)), { code: "BAD_ARGUMENT" });
  await assert.rejects(zip.addLater(gone), { code: "BAD_ARGUMENT" });
  await zip.finish();
});

test("nodeDeflate.deflateIncremental: exactly deflate's bytes, around the size where its options settle, at every level", async () => {
  const next = rng(13);
  const text = textBytes(next, 300_000);
  for (const level of [0, 1, 4, 6, 9]) {
    for (const n of [0, 1, 1000, 16_384, 16_385, 16_400, 40_000, 300_000]) {
      const data = text.subarray(0, n);
      const inc = nodeDeflate.deflateIncremental(level);
      for (const piece of split(data, () => 1 + Math.floor(next() * 20_000))) await inc.push(piece);
      const got = concatBytes(await inc.finish());
      assert.ok(equalBytes(got, nodeDeflate.deflate(data, level)), `level ${level}, ${n} bytes`);
      assert.ok(equalBytes(inflateRawSync(got), data));
    }
  }
  const dropped = nodeDeflate.deflateIncremental(6);
  await dropped.push(text);
  dropped.dispose();
});

// --- DiffData --------------------------------------------------------------------------------

test("DiffData: the manifest member is the one the whole-text encoding wrote (round-trip cases, formats 1, 2 and 3, every codec)", async () => {
  const source = new MemoryFs();
  await makeV1(source, 3000);
  const v1 = await DirIndex.build(source);
  await makeV2(source, 3000);
  const v2 = await DirIndex.build(source);
  const diffs = { incremental: new DiffIndex(v2, v1).compute(), full: new DiffIndex(v2, await DirIndex.fromEntries([])).compute() };
  for (const [diffName, diff] of Object.entries(diffs)) {
    for (const format of [1, 2, 3] as const) {
      for (const [codecName, codec] of CODECS) {
        const what = `${diffName} diff, format ${format}, ${codecName}`;
        const archive = await archiveOf(diff, source, codec, format);
        const reader = await ZipReader.from(memoryFile(archive));
        const entry = reader.entries().find((e) => e.name === MANIFEST_NAME)!;
        const text = await reader.bytes(entry);
        const manifest = parseManifest(text);
        assert.equal(manifest.changes.length, diff.changes.length, what);
        assert.ok(equalBytes(text, encodeManifestWhole(manifest)), `${what}: the text is JSON.stringify's`);
        // The manifest is the last member: what lies between its header and the central
        // directory is exactly the member the whole-text encoding made.
        const old = await memberAsAdded(MANIFEST_NAME, encodeManifestWhole(manifest), codec, T0);
        assert.ok(equalBytes(archive.subarray(entry.offset, entry.offset + old.length), old), `${what}: the member's bytes`);
        const cdOffset = new DataView(archive.buffer, archive.byteOffset).getUint32(archive.length - 6, true);
        assert.equal(entry.offset + old.length, cdOffset, what);
      }
    }
  }
});

test("DiffData: nothing the size of the manifest is built, counted: no JSON text, encoded text or deflate input over a bound while the manifest is many MB", async () => {
  const diff = deletions(50_000);
  const seen = { stringify: 0, encode: 0, deflate: 0 };
  const counting: DeflateCodec = {
    deflate: (d, l) => ((seen.deflate = Math.max(seen.deflate, d.length)), nodeDeflate.deflate(d, l)),
    deflateAsync: (d, l) => ((seen.deflate = Math.max(seen.deflate, d.length)), nodeDeflate.deflateAsync(d, l)),
    deflateIncremental: (l) => {
      const inner = nodeDeflate.deflateIncremental(l);
      return { ...inner, push: (p) => ((seen.deflate = Math.max(seen.deflate, p.length)), inner.push(p)) };
    },
  };
  const stringify = JSON.stringify;
  const encode = TextEncoder.prototype.encode;
  JSON.stringify = function (this: unknown, ...args: Parameters<typeof stringify>) {
    const out = stringify.apply(this, args);
    if (typeof out === "string") seen.stringify = Math.max(seen.stringify, out.length);
    return out;
  } as typeof stringify;
  TextEncoder.prototype.encode = function (this: TextEncoder, input?: string) {
    seen.encode = Math.max(seen.encode, input?.length ?? 0);
    return encode.call(this, input);
  };
  let archive: Uint8Array;
  try {
    archive = await archiveOf(diff, undefined, counting);
  } finally {
    JSON.stringify = stringify;
    TextEncoder.prototype.encode = encode;
  }
  const reader = await ZipReader.from(memoryFile(archive));
  const text = await reader.bytes(MANIFEST_NAME);
  assert.ok(text.length > 8_000_000, `the manifest has ${text.length} bytes`);
  assert.equal(parseManifest(text).changes.length, 50_000);
  const bound = 128 * 1024;
  assert.ok(seen.stringify < 1024, `largest JSON.stringify: ${seen.stringify} characters`);
  assert.ok(seen.encode < bound, `largest text encoded: ${seen.encode} characters`);
  assert.ok(seen.deflate < bound, `largest deflate input: ${seen.deflate} bytes`);
  assert.ok(archive.length < text.length / 3, `the archive (${archive.length} bytes) holds the manifest deflated`);
});

test("DiffData: a write that fails half-way lets go of the manifest's deflater, and never finishes it", async () => {
  const diff = deletions(3_000);
  const path = "zz/missing.txt";
  diff.changes.push({ kind: "create", path, entry: { path, type: "file", size: 5, mtimeMs: T0, mode: 0o100644, hash: "e".repeat(64) } });
  const calls = { push: 0, finish: 0, dispose: 0 };
  const counting: DeflateCodec = {
    ...nodeDeflate,
    deflateIncremental: (l) => {
      const inner = nodeDeflate.deflateIncremental(l);
      return {
        push: (p) => (calls.push++, inner.push(p)),
        take: () => inner.take(),
        finish: () => (calls.finish++, inner.finish()),
        dispose: () => (calls.dispose++, inner.dispose()),
      };
    },
  };
  await assert.rejects(archiveOf(diff, new MemoryFs(), counting), { code: "NOT_FOUND" });
  assert.ok(calls.push > 5, `${calls.push} pieces of the manifest were deflated before the failure`);
  assert.deepEqual([calls.finish, calls.dispose], [0, 1]);
});

/** A spill in memory that records what it is asked, and can damage or fail on request. */
function memorySpill(keep: number, opts: { damage?: boolean; failWrite?: number; short?: boolean; long?: boolean } = {}) {
  const objects: Uint8Array[] = [];
  const calls = { writes: 0, reads: 0, disposes: 0, changesAtWrite: [] as number[] };
  let changes = 0;
  const spill: LaterSpill = {
    keep,
    async write(pieces) {
      calls.writes++;
      calls.changesAtWrite.push(changes);
      if (calls.writes === opts.failWrite) throw new Error("the spill's store is full");
      objects.push(concatBytes(pieces));
    },
    async *read() {
      calls.reads++;
      for (const [i, o] of objects.entries()) {
        const copy = o.slice();
        if (opts.damage && i === objects.length - 1) copy[copy.length >> 1] ^= 1;
        yield opts.short && i === objects.length - 1 ? copy.subarray(1) : copy;
      }
      if (opts.long) yield new Uint8Array(3);
    },
    async dispose() {
      calls.disposes++;
      objects.length = 0;
    },
  };
  return { spill, calls, objects, progress: (n: number) => void (changes = n), spilledBytes: () => objects.reduce((n, o) => n + o.length, 0) };
}

async function archiveWithSpill(diff: Diff, spill: ReturnType<typeof memorySpill>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let spilledAtEnd = 0;
  await new DiffData(diff, {
    source: new MemoryFs(),
    deflate: nodeDeflate,
    time: new Date(T0),
    manifestSpill: { ...spill.spill, read: () => ((spilledAtEnd = spill.spilledBytes()), spill.spill.read()) },
    onProgress: (p) => spill.progress(p.changes),
  }).write(async (c) => void chunks.push(c.slice()));
  (spill as { spilledAtEnd?: number }).spilledAtEnd = spilledAtEnd;
  return concatBytes(chunks);
}

test("DiffData with a manifest spill: the same archive; the deflated manifest past `keep` goes to the spill as it is made, comes back once, and is let go", async () => {
  const diff = deletions(30_000);
  const plain = await archiveOf(diff, undefined, nodeDeflate);
  const reader = await ZipReader.from(memoryFile(plain));
  const compressed = reader.get(MANIFEST_NAME)!.compressedSize;
  for (const keep of [0, 64 * 1024]) {
    const s = memorySpill(keep);
    const got = await archiveWithSpill(diff, s);
    assert.ok(equalBytes(got, plain), `keep ${keep}: the archive is the one written without a spill`);
    const spilled = (s as { spilledAtEnd?: number }).spilledAtEnd!;
    const chunk = Math.min(1 << 20, Math.max(4096, keep));
    // Besides what the member keeps, the deflater's last block comes out only at the end: the
    // input zlib still holds (up to 16K symbols) deflates to less than 16 KiB of this text. How
    // much that is depends on where the last block boundary falls: 12.1 KB for 30,000 deletions
    // in format 2, under 4 KiB for 20,000.
    const lastBlock = 16 * 1024;
    assert.ok(compressed - spilled <= keep + chunk + lastBlock, `keep ${keep}: ${compressed - spilled} of ${compressed} deflated bytes were held to the end`);
    assert.ok(s.calls.writes >= 3, `keep ${keep}: ${s.calls.writes} writes`);
    assert.ok(s.calls.changesAtWrite[0]! < diff.changes.length / 2, `keep ${keep}: the first write came after ${s.calls.changesAtWrite[0]} of ${diff.changes.length} changes`);
    assert.deepEqual([s.calls.reads, s.calls.disposes, s.objects.length], [1, 1, 0], `keep ${keep}: read once, then let go`);
  }
  // A manifest that stays within `keep` never touches the spill.
  const small = memorySpill(1 << 30);
  assert.ok(equalBytes(await archiveWithSpill(diff, small), plain));
  assert.deepEqual([small.calls.writes, small.calls.reads], [0, 0]);
});

test("DiffData with a manifest spill: bytes that come back changed, short or long are CORRUPT, a failed spill write fails the archive, and the spill is let go either way", async () => {
  const diff = deletions(5_000);
  const damaged = memorySpill(0, { damage: true });
  await assert.rejects(archiveWithSpill(diff, damaged), (e) => isIbtError(e, "CORRUPT") && /came back changed/.test(e.message));
  assert.equal(damaged.calls.disposes, 1);
  for (const odd of [{ short: true }, { long: true }]) {
    const wrong = memorySpill(0, odd);
    await assert.rejects(archiveWithSpill(diff, wrong), (e) => isIbtError(e, "CORRUPT"), JSON.stringify(odd));
    assert.equal(wrong.calls.disposes, 1);
  }
  const failing = memorySpill(0, { failWrite: 2 });
  await assert.rejects(archiveWithSpill(diff, failing), /the spill's store is full/);
  assert.deepEqual([failing.calls.reads, failing.calls.disposes], [0, 1]);
});

test("DiffData: the manifest's deflater is let go once, whether the archive is written or fails in addLater", async () => {
  const calls = { dispose: 0 };
  const counting: DeflateCodec = {
    ...nodeDeflate,
    deflateIncremental: (l) => {
      const inner = nodeDeflate.deflateIncremental(l);
      return { ...inner, dispose: () => (calls.dispose++, inner.dispose()) };
    },
  };
  const diff = deletions(2_000);
  await archiveOf(diff, undefined, counting);
  assert.equal(calls.dispose, 1, "written");
  calls.dispose = 0;
  // The sink fails once the manifest is being written: addLater fails, then DiffData lets go.
  let written = 0;
  await assert.rejects(
    new DiffData(diff, { source: new MemoryFs(), deflate: counting, time: new Date(T0) }).write(async (c) => {
      written += c.length;
      if (written > 1000) throw new Error("the sink is gone");
    }),
    /the sink is gone/,
  );
  assert.equal(calls.dispose, 1, "failed in addLater");
});
