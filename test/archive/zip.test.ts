/**
 * The ZIP container layer: our writer checked by Info-ZIP unzip and our reader, our reader fed
 * Info-ZIP zip's archives, ZIP64 by member count and by member size (a 4 GiB + 1 MiB member
 * streamed into a virtual file; a real file with IBT_BIG_TESTS=1), and hostile archives.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, statSync, statfsSync, symlinkSync, writeFileSync, lstatSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { crc32 as zlibCrc32 } from "node:zlib";
import { crc32 } from "../../src/archive/crc32.js";
import { ZipReader, type RandomAccessFile, type ZipReaderOptions } from "../../src/archive/zip-read.js";
import { ZipWriter, type ZipAddOptions, type ZipWriterOptions } from "../../src/archive/zip-write.js";
import { concatBytes } from "../../src/bytes.js";
import { isIbtError, type ErrorCode } from "../../src/errors.js";
import { equalBytes, randomBytes, rng, split, tempDir, textBytes } from "../support/helpers.js";

const dir = tempDir();
const MiB = 1 << 20;
/** A fixed modification time with an odd second: only the extended timestamp keeps it exactly. */
const T0 = Date.UTC(2024, 4, 6, 7, 8, 11);
const utf8 = new TextEncoder();
const HOSTILE_CODES = new Set<ErrorCode>(["CORRUPT", "TRUNCATED", "UNSAFE_PATH", "UNSUPPORTED", "LIMIT"]);

// ---------------------------------------------------------------------------------------------
// Helpers

interface Member {
  name: string;
  data?: Uint8Array;
  dir?: boolean;
  options?: ZipAddOptions;
}

async function buildZip(
  members: Member[],
  options: { writer?: ZipWriterOptions; comment?: string; stream?: (data: Uint8Array) => Iterable<Uint8Array> | AsyncIterable<Uint8Array> } = {},
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const w = new ZipWriter((c) => {
    assert.ok(c.length > 0, "the sink never gets an empty chunk");
    chunks.push(c.slice());
  }, options.writer);
  for (const m of members) {
    if (m.dir) await w.addDirectory(m.name, { mtimeMs: T0, ...m.options });
    else await w.add(m.name, options.stream ? options.stream(m.data!) : m.data!, { mtimeMs: T0, ...m.options });
  }
  await w.finish(options.comment);
  return concatBytes(chunks);
}

function memoryFile(bytes: Uint8Array): RandomAccessFile {
  return { size: bytes.length, read: async (offset, length) => bytes.slice(offset, offset + length) };
}

function readZip(bytes: Uint8Array, options?: ZipReaderOptions): Promise<ZipReader> {
  return ZipReader.from(memoryFile(bytes), options);
}

/** Runs a command with a UTF-8 locale (for unzip's name handling). */
function sh(cmd: string, args: string[], input?: Uint8Array): { status: number | null; stdout: Buffer; stderr: Buffer } {
  const r = spawnSync(cmd, args, { input, maxBuffer: 1 << 30, env: { ...process.env, LC_ALL: "C.UTF-8" } });
  if (r.error) throw r.error;
  return r;
}

function save(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

function unzipTest(path: string): void {
  const r = sh("unzip", ["-tq", path]);
  assert.equal(r.status, 0, `unzip -t ${path}: ${r.stdout.toString()}${r.stderr.toString()}`);
  assert.match(r.stdout.toString(), /No errors detected/);
}

function unzipMember(path: string, name: string): Buffer {
  const r = sh("unzip", ["-p", path, name]);
  assert.equal(r.status, 0, `unzip -p ${name}: ${r.stderr.toString()}`);
  return r.stdout;
}

/** Settles a promise into its error code, "ok", or a failure for anything but an IbtError. */
async function outcome(f: () => Promise<unknown>): Promise<ErrorCode | "ok"> {
  try {
    await f();
    return "ok";
  } catch (e) {
    if (!isIbtError(e)) throw new Error(`not an IbtError: ${String(e)}`, { cause: e });
    return e.code;
  }
}

async function rejectsWith(f: () => Promise<unknown>, code: ErrorCode, message?: RegExp): Promise<void> {
  await assert.rejects(f, (e: unknown) => {
    assert.ok(isIbtError(e), `expected IbtError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}

/** Opens and reads every member; returns name -> bytes. */
async function readEverything(bytes: Uint8Array, options?: ZipReaderOptions): Promise<Map<string, Uint8Array>> {
  const reader = await readZip(bytes, options);
  const out = new Map<string, Uint8Array>();
  for (const e of reader.entries()) if (!e.isDirectory) out.set(e.name, await reader.bytes(e));
  return out;
}

/** The raw central directory of a small (non-ZIP64) archive, for inspecting and patching. */
function rawLayout(zip: Uint8Array): { end: number; cdOffset: number; records: { at: number; name: string; offset: number }[] } {
  const v = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let end = zip.length - 22;
  while (v.getUint32(end, true) !== 0x06054b50) end--;
  const count = v.getUint16(end + 10, true);
  const cdOffset = v.getUint32(end + 16, true);
  const records = [];
  for (let at = cdOffset, i = 0; i < count; i++) {
    const n = v.getUint16(at + 28, true);
    const total = 46 + n + v.getUint16(at + 30, true) + v.getUint16(at + 32, true);
    records.push({ at, name: new TextDecoder().decode(zip.subarray(at + 46, at + 46 + n)), offset: v.getUint32(at + 42, true) });
    at += total;
  }
  return { end, cdOffset, records };
}

function patch(zip: Uint8Array, edit: (v: DataView, layout: ReturnType<typeof rawLayout>) => void): Uint8Array {
  const copy = zip.slice();
  edit(new DataView(copy.buffer), rawLayout(copy));
  return copy;
}

function record(layout: ReturnType<typeof rawLayout>, name: string): { at: number; offset: number } {
  const r = layout.records.find((x) => x.name === name || x.name === `${name}/`);
  assert.ok(r, `record ${name}`);
  return r;
}

/** Replaces every occurrence of a same-length byte string (used to plant hostile names). */
function replaceAll(zip: Uint8Array, from: Uint8Array, to: Uint8Array): Uint8Array {
  assert.equal(from.length, to.length);
  const out = zip.slice();
  let hits = 0;
  for (let i = 0; i + from.length <= out.length; i++) {
    if (from.every((b, k) => out[i + k] === b)) {
      out.set(to, i);
      hits++;
    }
  }
  assert.ok(hits >= 2, "name found in the local header and the central directory");
  return out;
}

function streamOf(data: Uint8Array, next: () => number): AsyncIterable<Uint8Array> {
  return (async function* () {
    for (const c of split(data, next)) yield c;
  })();
}

function sampleMembers(seed: number): Member[] {
  const next = rng(seed);
  return [
    { name: "empty dir", dir: true, options: { mode: 0o700 } },
    { name: "empty.txt", data: new Uint8Array(0) },
    { name: "small.txt", data: utf8.encode("hello, zip\n"), options: { mode: 0o600 } },
    { name: "random.bin", data: randomBytes(next, 200_000) },
    { name: "text.txt", data: textBytes(next, 300_000) },
    { name: "dir one/sub dir/file with  spaces .txt", data: textBytes(next, 5000) },
    { name: "ünïcødé/日本語 ファイル.txt", data: textBytes(next, 70_000) },
    { name: "deep/a/b/c/d/e/f.bin", data: randomBytes(next, 70_000), options: { mode: 0o755 } },
    { name: "deep/a", dir: true },
    { name: "probe-sized.txt", data: textBytes(next, 65_536) },
    { name: "probe-plus-one.txt", data: textBytes(next, 65_537) },
  ];
}

// ---------------------------------------------------------------------------------------------
// CRC-32

test("crc32: known vectors, chunked equals one-shot, agrees with zlib at every alignment", () => {
  assert.equal(crc32(new Uint8Array(0)), 0);
  assert.equal(crc32(utf8.encode("123456789")), 0xcbf43926);
  assert.equal(crc32(utf8.encode("The quick brown fox jumps over the lazy dog")), 0x414fa339);
  const data = randomBytes(rng(1), 300_001);
  const whole = crc32(data);
  assert.equal(whole, zlibCrc32(data));
  for (const size of [1, 2, 3, 7, 15, 100, 10_000, 200_000]) {
    let c = 0;
    for (const chunk of split(data, size)) c = crc32(chunk, c);
    assert.equal(c, whole, `chunks of ${size}`);
  }
  for (let start = 0; start < 8; start++) {
    for (const length of [0, 1, 63, 64, 65, 1000, 4099]) {
      const part = data.subarray(start, start + length);
      assert.equal(crc32(part), zlibCrc32(part), `offset ${start} length ${length}`);
    }
  }
});

// ---------------------------------------------------------------------------------------------
// Round trips and interop

test("round trip of many members: unzip -t passes, unzip -p and our reader give the same bytes", async () => {
  const members = sampleMembers(11);
  const seedChunks = rng(12);
  const archives = {
    bytes: await buildZip(members, { comment: "in-memory members" }),
    streams: await buildZip(members, { stream: (d) => streamOf(d, seedChunks) }),
  };
  for (const [kind, zip] of Object.entries(archives)) {
    const path = save(`roundtrip-${kind}.zip`, zip);
    unzipTest(path);
    const reader = await readZip(zip);
    assert.equal(reader.zip64, false, "small archives are plain ZIP");
    assert.deepEqual(
      reader.entries().map((e) => e.name),
      members.map((m) => m.name),
    );
    for (const m of members) {
      const e = reader.get(m.name)!;
      assert.equal(e.isDirectory, !!m.dir, m.name);
      assert.equal(e.mtimeMs, T0, `${m.name}: exact modification time`);
      assert.equal(e.mode, m.options?.mode ?? (m.dir ? 0o755 : 0o644), `${m.name}: mode`);
      if (m.dir) continue;
      assert.equal(e.size, m.data!.length);
      assert.ok(equalBytes(await reader.bytes(m.name), m.data!), `${kind}: our reader, ${m.name}`);
      assert.ok(equalBytes(unzipMember(path, m.name), m.data!), `${kind}: unzip -p ${m.name}`);
    }
  }
  assert.equal((await readZip(archives.bytes)).comment, "in-memory members");
});

test("unzip restores modes and exact modification times", async () => {
  const zip = await buildZip(sampleMembers(13));
  const out = join(dir, "extracted");
  const r = sh("unzip", ["-q", "-o", save("restore.zip", zip), "-d", out]);
  assert.equal(r.status, 0, r.stderr.toString());
  assert.equal(statSync(join(out, "small.txt")).mode & 0o7777, 0o600);
  assert.equal(statSync(join(out, "deep/a/b/c/d/e/f.bin")).mode & 0o7777, 0o755);
  assert.equal(statSync(join(out, "random.bin")).mode & 0o7777, 0o644);
  assert.ok(statSync(join(out, "empty dir")).isDirectory());
  assert.equal(statSync(join(out, "empty dir")).mode & 0o7777, 0o700);
  assert.equal(statSync(join(out, "text.txt")).mtimeMs, T0);
  assert.equal(statSync(join(out, "ünïcødé/日本語 ファイル.txt")).mtimeMs, T0);
});

test("times outside the extended timestamp's range fall back to DOS time", async () => {
  const late = new Date(2050, 5, 7, 8, 9, 10).getTime();
  const zip = await buildZip([
    { name: "old", data: utf8.encode("x"), options: { mtimeMs: -5000 } },
    { name: "late", data: utf8.encode("y"), options: { mtimeMs: late } },
  ]);
  unzipTest(save("times.zip", zip));
  const reader = await readZip(zip);
  assert.equal(reader.get("old")!.mtimeMs, new Date(1980, 0, 1).getTime(), "clamped to the DOS epoch");
  assert.equal(reader.get("late")!.mtimeMs, late, "DOS time, even seconds");
});

test("source chunking does not change the bytes written", async () => {
  const next = rng(21);
  const data = concatBytes([textBytes(next, 100_000), randomBytes(next, 70_000), textBytes(next, 30_000)]);
  const variants: [string, () => Iterable<Uint8Array> | AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>][] = [
    ["one chunk", () => [data]],
    ["1-byte chunks", () => split(data, 1)],
    ["7-byte chunks", () => split(data, 7)],
    ["65535", () => split(data, 65_535)],
    ["65536", () => split(data, 65_536)],
    ["65537", () => split(data, 65_537)],
    ["random", () => streamOf(data, rng(22))],
    [
      "ReadableStream",
      () =>
        new ReadableStream<Uint8Array>({
          start(c) {
            for (const chunk of split(data, 10_000)) c.enqueue(chunk);
            c.close();
          },
        }),
    ],
  ];
  for (const compress of ["auto", true, false] as const) {
    const archives: Uint8Array[] = [];
    for (const [label, source] of variants) {
      if (label === "1-byte chunks" && compress !== "auto") continue; // slow, and the mode does not matter
      const chunks: Uint8Array[] = [];
      const w = new ZipWriter((c) => {
        chunks.push(c.slice());
      });
      await w.add("member.bin", source(), { mtimeMs: T0, compress });
      await w.finish();
      archives.push(concatBytes(chunks));
      assert.ok(equalBytes(archives[0]!, archives.at(-1)!), `compress ${compress}: ${label} equals one chunk`);
    }
    const inMemory = await buildZip([{ name: "member.bin", data, options: { compress } }]);
    assert.ok(equalBytes(await (await readZip(inMemory)).bytes("member.bin"), data));
    assert.ok(equalBytes(await (await readZip(archives[0]!)).bytes("member.bin"), data));
    unzipTest(save(`chunking-${compress}.zip`, archives[0]!));
  }
});

test("stored or deflated: the documented auto rule", async () => {
  const next = rng(31);
  const random = randomBytes(next, 200_000);
  const text = textBytes(next, 200_000);
  const textThenRandom = concatBytes([textBytes(next, 65_536), randomBytes(next, 1_000_000)]);
  const randomThenText = concatBytes([randomBytes(next, 65_536), textBytes(next, 1_000_000)]);
  const cases: [string, Uint8Array, ZipAddOptions["compress"], number, number][] = [
    // name, data, compress, method expected in memory, method expected as a stream
    ["random", random, "auto", 0, 0],
    ["text", text, "auto", 8, 8],
    ["random forced", random, true, 8, 8],
    ["text stored", text, false, 0, 0],
    ["tiny", utf8.encode("hello"), "auto", 0, 0],
    ["empty forced", new Uint8Array(0), true, 0, 0],
    // The probe decides for streams; in memory the whole deflated size is checked too.
    ["text then random", textThenRandom, "auto", 0, 8],
    ["random then text", randomThenText, "auto", 0, 0],
  ];
  for (const [name, data, compress, inMemory, streamed] of cases) {
    const a = await buildZip([{ name: "m", data, options: { compress } }]);
    const b = await buildZip([{ name: "m", data, options: { compress } }], { stream: (d) => split(d, 50_000) });
    for (const [zip, method, how] of [
      [a, inMemory, "in memory"],
      [b, streamed, "streamed"],
    ] as const) {
      const reader = await readZip(zip);
      assert.equal(reader.get("m")!.method, method, `${name} ${how}`);
      assert.ok(equalBytes(await reader.bytes("m"), data), `${name} ${how}`);
    }
  }
  // Streams longer than the probe carry a data descriptor (flag bit 3); in-memory members do not.
  const streamed = await buildZip([{ name: "m", data: text }], { stream: (d) => split(d, 1000) });
  const inMemory = await buildZip([{ name: "m", data: text }]);
  assert.equal(new DataView(streamed.buffer, streamed.byteOffset).getUint16(6, true) & 8, 8);
  assert.equal(new DataView(inMemory.buffer, inMemory.byteOffset).getUint16(6, true) & 8, 0);
});

test("archives made by Info-ZIP zip: files, symlinks, directories, streamed input", async () => {
  const next = rng(41);
  const src = join(dir, "zip-src");
  mkdirSync(join(src, "sub dir/deeper"), { recursive: true });
  mkdirSync(join(src, "empty"));
  const files: Record<string, Uint8Array> = {
    "a.txt": textBytes(next, 100_000),
    "sub dir/b.bin": randomBytes(next, 80_000),
    "sub dir/deeper/ü.txt": textBytes(next, 1000),
    "zero": new Uint8Array(0),
  };
  for (const [name, data] of Object.entries(files)) writeFileSync(join(src, name), data);
  symlinkSync("sub dir/b.bin", join(src, "link"));
  const path = join(dir, "infozip.zip");
  const r = spawnSync("zip", ["-q", "-r", "-y", path, "."], { cwd: src });
  assert.equal(r.status, 0, r.stderr.toString());
  const reader = await readZip(readFileSync(path));
  for (const [name, data] of Object.entries(files)) {
    assert.ok(equalBytes(await reader.bytes(name), data), name);
    assert.equal(reader.get(name)!.mtimeMs, Math.floor(lstatSync(join(src, name)).mtimeMs / 1000) * 1000, `${name} mtime`);
  }
  const link = reader.get("link")!;
  assert.equal(link.isSymlink, true);
  assert.equal(new TextDecoder().decode(await reader.bytes(link)), "sub dir/b.bin");
  assert.equal(reader.get("empty")!.isDirectory, true);
  assert.equal(reader.get("sub dir/deeper")!.isDirectory, true);

  // zip writing to a pipe: data descriptor, ZIP64 local extra field, 8-byte descriptor sizes.
  const data = randomBytes(next, 150_000);
  const piped = spawnSync("sh", ["-c", "zip -q - - | cat"], { input: data, maxBuffer: 1 << 30 });
  assert.equal(piped.status, 0, piped.stderr.toString());
  const streamed = await readZip(piped.stdout);
  assert.ok(equalBytes(await streamed.bytes("-"), data));
});

// ---------------------------------------------------------------------------------------------
// Writer contract

test("writer: names, options and call order are checked", async () => {
  const w = new ZipWriter(() => {});
  await w.add("a/b.txt", utf8.encode("x"));
  await rejectsWith(() => w.add("a/b.txt", utf8.encode("y")), "BAD_ARGUMENT", /already/);
  await rejectsWith(() => w.add("a", utf8.encode("y")), "BAD_ARGUMENT", /directory/);
  await rejectsWith(() => w.add("a/b.txt/c", utf8.encode("y")), "BAD_ARGUMENT", /is a file/);
  await w.addDirectory("a");
  await rejectsWith(() => w.addDirectory("a"), "BAD_ARGUMENT", /already/);
  for (const bad of ["../x", "/abs", "a\\b", "a\0b", "a//b", "./a", "C:/x", "x/"]) {
    await rejectsWith(() => w.add(bad, utf8.encode("y")), "UNSAFE_PATH");
  }
  await rejectsWith(() => w.add("", utf8.encode("y")), "BAD_ARGUMENT");
  await rejectsWith(() => w.add("m", utf8.encode("y"), { mode: 0o10000 }), "BAD_ARGUMENT");
  await rejectsWith(() => w.add("m", utf8.encode("y"), { mtimeMs: NaN }), "BAD_ARGUMENT");
  await rejectsWith(() => w.add("m", utf8.encode("y"), { compress: "yes" as unknown as boolean }), "BAD_ARGUMENT");
  assert.throws(() => new ZipWriter(() => {}, { level: 10 }), (e: unknown) => isIbtError(e, "BAD_ARGUMENT"));
  await rejectsWith(() => w.finish("PK\x05\x06 inside"), "BAD_ARGUMENT", /signature/);

  const slow = w.add("slow", [utf8.encode("x")]);
  await rejectsWith(() => w.add("other", utf8.encode("y")), "BAD_ARGUMENT", /one member at a time/);
  await slow;
  assert.equal(w.entryCount, 3);
  await w.finish("done");
  await rejectsWith(() => w.add("late", utf8.encode("y")), "BAD_ARGUMENT", /finished/);
});

test("writer: a source failing before any output leaves the writer usable; after output, not", async () => {
  const chunks: Uint8Array[] = [];
  const w = new ZipWriter((c) => {
    chunks.push(c.slice());
  });
  await w.add("first", utf8.encode("one"), { mtimeMs: T0 });
  const early = (async function* () {
    yield utf8.encode("a little");
    throw new Error("source failed early");
  })();
  await assert.rejects(() => w.add("early", early), /source failed early/);
  await w.add("second", utf8.encode("two"), { mtimeMs: T0 });
  await w.finish();
  const zip = concatBytes(chunks);
  unzipTest(save("source-failed-early.zip", zip));
  assert.deepEqual([...(await readEverything(zip)).keys()], ["first", "second"]);

  const w2 = new ZipWriter(() => {});
  const late = (async function* () {
    yield new Uint8Array(100_000);
    throw new Error("source failed late");
  })();
  await assert.rejects(() => w2.add("late", late), /source failed late/);
  await rejectsWith(() => w2.add("next", utf8.encode("x")), "BAD_ARGUMENT", /failed earlier/);
});

test("writer: an async sink is awaited, one chunk at a time (backpressure)", async () => {
  let inFlight = 0;
  let calls = 0;
  const chunks: Uint8Array[] = [];
  const w = new ZipWriter(async (c) => {
    assert.equal(inFlight, 0, "no overlapping sink calls");
    inFlight++;
    calls++;
    chunks.push(c.slice());
    await new Promise((r) => setTimeout(r, 1));
    inFlight--;
  });
  const data = textBytes(rng(51), 400_000);
  await w.add("big", split(data, 30_000), { mtimeMs: T0 });
  await w.add("raw", data, { mtimeMs: T0, compress: false });
  await w.finish();
  assert.ok(calls > 3);
  assert.equal(w.bytesWritten, chunks.reduce((n, c) => n + c.length, 0));
  assert.ok(equalBytes((await readEverything(concatBytes(chunks))).get("big")!, data));
});

// ---------------------------------------------------------------------------------------------
// ZIP64

async function manyEntries(count: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const w = new ZipWriter((c) => {
    chunks.push(c);
  });
  const data = utf8.encode("entry\n");
  for (let i = 0; i < count; i++) {
    const name = `d${Math.floor(i / 1000)}/e${i}`;
    await w.add(name, i % 7 === 0 ? new Uint8Array(0) : data, { mtimeMs: T0, compress: false });
  }
  await w.finish();
  return concatBytes(chunks);
}

test("65,535 members and more: ZIP64 end record and locator; 65,534: plain ZIP", async () => {
  const plain = await manyEntries(65_534);
  const plainReader = await readZip(plain);
  assert.equal(plainReader.zip64, false);
  assert.equal(plainReader.entries().length, 65_534);
  unzipTest(save("65534.zip", plain));

  const boundary = await readZip(await manyEntries(65_535));
  assert.equal(boundary.zip64, true);
  assert.equal(boundary.entries().length, 65_535);

  const zip = await manyEntries(70_000);
  const path = save("70000.zip", zip);
  unzipTest(path);
  assert.match(sh("zipinfo", ["-t", path]).stdout.toString(), /^70000 files/);
  const reader = await readZip(zip);
  assert.equal(reader.zip64, true);
  assert.equal(reader.entries().length, 70_000);
  assert.equal(new TextDecoder().decode(await reader.bytes("d69/e69999")), "entry\n");
  assert.equal((await reader.bytes("d0/e0")).length, 0);
  const v = new DataView(zip.buffer, zip.byteOffset);
  const end = zip.length - 22;
  assert.equal(v.getUint32(end, true), 0x06054b50);
  assert.equal(v.getUint16(end + 10, true), 0xffff, "classic count escaped");
  assert.equal(v.getUint32(end - 20, true), 0x07064b50, "locator before the end record");
});

/** A file made of recorded small chunks and references to one big repeated block. */
interface Segment {
  at: number;
  length: number;
  bytes?: Uint8Array;
}

function virtualFile(segments: Segment[], block: Uint8Array, size: number): RandomAccessFile {
  return {
    size,
    read: async (offset, length) => {
      const out = new Uint8Array(length);
      let lo = 0;
      let hi = segments.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (segments[mid]!.at + segments[mid]!.length <= offset) lo = mid + 1;
        else hi = mid;
      }
      for (let i = lo; i < segments.length && segments[i]!.at < offset + length; i++) {
        const s = segments[i]!;
        const from = Math.max(offset, s.at);
        const to = Math.min(offset + length, s.at + s.length);
        out.set((s.bytes ?? block).subarray(from - s.at, to - s.at), from - offset);
      }
      return out;
    },
  };
}

test("a member of 4 GiB + 1 MiB: ZIP64 sizes, offsets and end records (virtual file)", async () => {
  const block = randomBytes(rng(61), MiB);
  const blocks = 4097;
  const bigSize = blocks * MiB;
  const segments: Segment[] = [];
  let total = 0;
  const w = new ZipWriter((c) => {
    if (c === block) segments.push({ at: total, length: c.length });
    else {
      assert.ok(c.length <= 64 * 1024, "only headers and small members are recorded");
      segments.push({ at: total, length: c.length, bytes: c.slice() });
    }
    total += c.length;
  });
  const small = textBytes(rng(62), 10_000);
  await w.add("before.txt", small, { mtimeMs: T0 });
  const big = await w.add(
    "big.bin",
    (async function* () {
      for (let i = 0; i < blocks; i++) yield block;
    })(),
    { mtimeMs: T0, compress: false },
  );
  const after = await w.add("after.txt", small, { mtimeMs: T0 });
  const afterDir = await w.addDirectory("after dir", { mtimeMs: T0 });
  const { size } = await w.finish("over 4 GiB");
  assert.equal(size, total);

  let expectedCrc = 0;
  for (let i = 0; i < blocks; i++) expectedCrc = zlibCrc32(block, expectedCrc);
  assert.equal(big.size, bigSize);
  assert.equal(big.compressedSize, bigSize);
  assert.equal(big.crc32, expectedCrc, "CRC-32 agrees with zlib's");
  assert.ok(after.offset > 2 ** 32);

  const file = virtualFile(segments, block, size);
  const reader = await ZipReader.from(file);
  assert.equal(reader.zip64, true);
  assert.equal(reader.comment, "over 4 GiB");
  assert.deepEqual(
    reader.entries().map((e) => [e.name, e.size, e.offset]),
    [
      ["before.txt", small.length, 0],
      ["big.bin", bigSize, big.offset],
      ["after.txt", small.length, after.offset],
      ["after dir", 0, afterDir.offset],
    ],
  );
  assert.ok(equalBytes(await reader.bytes("after.txt"), small));

  // The raw records: escaped 32-bit fields, the ZIP64 extra field with just the escaped values.
  const tailAt = after.offset;
  const tail = await file.read(tailAt, size - tailAt);
  const v = new DataView(tail.buffer);
  const end = tail.length - 22 - "over 4 GiB".length;
  assert.equal(v.getUint32(end, true), 0x06054b50);
  assert.equal(v.getUint32(end + 16, true), 0xffffffff, "classic central directory offset escaped");
  assert.equal(v.getUint16(end + 10, true), 4, "classic count kept");
  assert.equal(v.getUint32(end - 20, true), 0x07064b50);
  const end64 = Number(v.getBigUint64(end - 20 + 8, true)) - tailAt;
  assert.equal(v.getUint32(end64, true), 0x06064b50);
  const cdOffset = Number(v.getBigUint64(end64 + 48, true)) - tailAt;
  const records: { name: string; size: number; csize: number; offset: number; zip64: number[] }[] = [];
  for (let at = cdOffset; v.getUint32(at, true) === 0x02014b50; ) {
    const n = v.getUint16(at + 28, true);
    const m = v.getUint16(at + 30, true);
    const extra = tail.subarray(at + 46 + n, at + 46 + n + m);
    const ev = new DataView(extra.buffer, extra.byteOffset, extra.length);
    const zip64: number[] = [];
    for (let e = 0; e < extra.length; e += 4 + ev.getUint16(e + 2, true)) {
      if (ev.getUint16(e, true) === 1) for (let k = 0; k < ev.getUint16(e + 2, true); k += 8) zip64.push(Number(ev.getBigUint64(e + 4 + k, true)));
    }
    records.push({
      name: new TextDecoder().decode(tail.subarray(at + 46, at + 46 + n)),
      csize: v.getUint32(at + 20, true),
      size: v.getUint32(at + 24, true),
      offset: v.getUint32(at + 42, true),
      zip64,
    });
    at += 46 + n + m + v.getUint16(at + 32, true);
  }
  assert.deepEqual(records, [
    { name: "before.txt", csize: reader.get("before.txt")!.compressedSize, size: small.length, offset: 0, zip64: [] },
    { name: "big.bin", csize: 0xffffffff, size: 0xffffffff, offset: big.offset, zip64: [bigSize, bigSize] },
    { name: "after.txt", csize: reader.get("after.txt")!.compressedSize, size: small.length, offset: 0xffffffff, zip64: [after.offset] },
    { name: "after dir/", csize: 0, size: 0, offset: 0xffffffff, zip64: [afterDir.offset] },
  ]);
  // The data descriptor after the big member has 8-byte sizes.
  const descriptor = new DataView((await file.read(after.offset - 24, 24)).buffer);
  assert.equal(descriptor.getUint32(0, true), 0x08074b50);
  assert.equal(descriptor.getUint32(4, true), expectedCrc);
  assert.equal(Number(descriptor.getBigUint64(8, true)), bigSize);
  assert.equal(Number(descriptor.getBigUint64(16, true)), bigSize);

  // Stream the whole member back: the reader checks its size and CRC-32.
  let read = 0;
  for await (const chunk of reader.open("big.bin")) {
    if (read === 0) assert.ok(equalBytes(chunk.subarray(0, 4096), block.subarray(0, 4096)));
    read += chunk.length;
  }
  assert.equal(read, bigSize);
});

const BIG = process.env.IBT_BIG_TESTS === "1";

test(
  "a real archive with 4 GiB members passes unzip -t",
  { skip: BIG ? false : "set IBT_BIG_TESTS=1 to write ~8.6 GB to the temp dir and run unzip -t over it", timeout: 15 * 60_000 },
  async (t) => {
    const free = statfsSync(dir);
    if (free.bavail * free.bsize < 9.5e9) return t.skip(`needs ~9 GB free in ${dir}`);
    const block = randomBytes(rng(71), MiB);
    const path = join(dir, "big.zip");
    const fh = await open(path, "w");
    try {
      const w = new ZipWriter(async (c) => {
        for (let at = 0; at < c.length; ) at += (await fh.write(c, at, c.length - at)).bytesWritten;
      });
      await w.add("small-before.txt", utf8.encode("before\n"), { mtimeMs: T0 });
      await w.add(
        "streamed.bin",
        (async function* () {
          for (let i = 0; i < 4097; i++) yield block;
        })(),
        { mtimeMs: T0, compress: false },
      );
      // An in-memory member of exactly 4 GiB: sizes in a ZIP64 extra field of the local header.
      const whole = new Uint8Array(2 ** 32);
      for (let at = 0; at < whole.length; at += MiB) whole.set(block, at);
      await w.add("in-memory.bin", whole, { mtimeMs: T0, compress: false });
      await w.add("small-after.txt", utf8.encode("after\n"), { mtimeMs: T0 });
      await w.finish();
    } finally {
      await fh.close();
    }
    const started = Date.now();
    unzipTest(path);
    t.diagnostic(`unzip -t over ${statSync(path).size} bytes took ${Date.now() - started} ms`);
    assert.equal(sh("unzip", ["-p", path, "small-after.txt"]).stdout.toString(), "after\n");
    const handle = await open(path, "r");
    try {
      const reader = await ZipReader.from({
        size: (await handle.stat()).size,
        read: async (offset, length) => {
          const b = new Uint8Array(length);
          for (let at = 0; at < length; ) at += (await handle.read(b, at, length - at, offset + at)).bytesRead;
          return b;
        },
      });
      assert.deepEqual(
        reader.entries().map((e) => [e.name, e.size]),
        [
          ["small-before.txt", 7],
          ["streamed.bin", 4097 * MiB],
          ["in-memory.bin", 2 ** 32],
          ["small-after.txt", 6],
        ],
      );
      assert.equal(new TextDecoder().decode(await reader.bytes("small-after.txt")), "after\n");
    } finally {
      await handle.close();
      rmSync(path, { force: true });
    }
  },
);

// ---------------------------------------------------------------------------------------------
// Hostile archives

async function hostileSample(): Promise<{ zip: Uint8Array; contents: Map<string, Uint8Array> }> {
  const next = rng(81);
  const members: Member[] = [
    { name: "stored.bin", data: randomBytes(next, 3000) },
    { name: "deflated.txt", data: textBytes(next, 20_000) },
    { name: "dir", dir: true },
    { name: "dir/empty", data: new Uint8Array(0) },
    { name: "dir/small.txt", data: utf8.encode("small") },
  ];
  const chunks: Uint8Array[] = [];
  const w = new ZipWriter((c) => {
    chunks.push(c.slice());
  });
  for (const m of members) {
    if (m.dir) await w.addDirectory(m.name, { mtimeMs: T0 });
    else await w.add(m.name, m.data!, { mtimeMs: T0 });
  }
  // Streamed members: data descriptors, stored and deflated.
  const streamedText = textBytes(next, 90_000);
  const streamedRandom = randomBytes(next, 90_000);
  await w.add("streamed.txt", split(streamedText, 7000), { mtimeMs: T0 });
  await w.add("streamed.bin", split(streamedRandom, 7000), { mtimeMs: T0 });
  await w.finish("a comment");
  const contents = new Map(members.filter((m) => !m.dir).map((m) => [m.name, m.data!]));
  contents.set("streamed.txt", streamedText);
  contents.set("streamed.bin", streamedRandom);
  return { zip: concatBytes(chunks), contents };
}

test("hostile: truncated at every structure and many points between: TRUNCATED", async () => {
  const { zip } = await hostileSample();
  const cuts = new Set<number>();
  for (let i = 0; i < zip.length; i += 97) cuts.add(i);
  for (let i = Math.max(0, zip.length - 600); i < zip.length; i++) cuts.add(i);
  for (const cut of cuts) {
    // Whatever the cut, the end record no longer ends the file: the archive is refused as a whole.
    assert.equal(await outcome(() => readEverything(zip.subarray(0, cut))), "TRUNCATED", `cut at ${cut}`);
  }
});

test("hostile: random bit flips give a correct result or an IbtError with a known code", async () => {
  const { zip, contents } = await hostileSample();
  const next = rng(91);
  const cdStart = rawLayout(zip).cdOffset;
  const seen = new Map<string, number>();
  for (let trial = 0; trial < 400; trial++) {
    const bad = zip.slice();
    // Half the trials hit the central directory and end records, where structure lives.
    const from = trial % 2 ? cdStart : 0;
    const flips = 1 + Math.floor(next() * 3);
    for (let k = 0; k < flips; k++) {
      const at = from + Math.floor(next() * (bad.length - from));
      bad[at]! ^= 1 << Math.floor(next() * 8);
    }
    let result: Map<string, Uint8Array> | undefined;
    const code = await outcome(async () => {
      result = await readEverything(bad);
    });
    seen.set(code, (seen.get(code) ?? 0) + 1);
    if (code === "ok") {
      for (const [name, data] of result!) {
        assert.ok(contents.has(name), `trial ${trial}: a member named ${name} appeared`);
        assert.ok(equalBytes(data, contents.get(name)!), `trial ${trial}: ${name} read back different bytes`);
      }
    } else {
      assert.ok(HOSTILE_CODES.has(code), `trial ${trial}: ${code}`);
    }
  }
  assert.ok((seen.get("CORRUPT") ?? 0) > 80, JSON.stringify([...seen]));
});

test("hostile: declared sizes that lie", async () => {
  const data = textBytes(rng(101), 200_000);
  const zip = await buildZip([{ name: "m.txt", data }, { name: "next", data: utf8.encode("x") }]);
  const at = (await readZip(zip)).get("m.txt")!;
  const withSize = (size: number): Uint8Array =>
    patch(zip, (v, l) => {
      v.setUint32(record(l, "m.txt").at + 24, size, true);
      v.setUint32(at.offset + 22, size, true);
    });

  // Smaller than real: refused as soon as output passes it, never handing out more.
  const smaller = await readZip(withSize(150_000));
  let handed = 0;
  await rejectsWith(async () => {
    for await (const c of smaller.open("m.txt")) handed += c.length;
  }, "CORRUPT", /past its declared size/);
  assert.ok(handed <= 150_000, `handed out ${handed}`);

  // Larger than real: refused at the end, before the last output.
  const larger = await readZip(withSize(200_001));
  handed = 0;
  await rejectsWith(async () => {
    for await (const c of larger.open("m.txt")) handed += c.length;
  }, "CORRUPT", /inflates to 200000 bytes, not the declared 200001/);
  assert.ok(handed < 200_000);

  // A stored member whose sizes disagree, and one whose data would run into the next member.
  const stored = await buildZip([{ name: "s", data: randomBytes(rng(102), 5000) }, { name: "t", data: utf8.encode("t") }]);
  await rejectsWith(
    () => readZip(patch(stored, (v, l) => v.setUint32(record(l, "s").at + 24, 4999, true))),
    "CORRUPT",
    /sizes differ/,
  );
  await rejectsWith(
    () =>
      readZip(
        patch(stored, (v, l) => {
          v.setUint32(record(l, "s").at + 20, 5100, true);
          v.setUint32(record(l, "s").at + 24, 5100, true);
        }),
      ),
    "CORRUPT",
    /overlaps/,
  );
  // A deflated member declaring more than deflate can produce from its compressed size.
  await rejectsWith(() => readZip(withSize(0xfffffff0)), "CORRUPT", /more than deflate can expand/);
});

test("hostile: a zip bomb is refused with bounded memory", async () => {
  const zeros = new Uint8Array(MiB);
  const real = 256 * MiB;
  const chunks: Uint8Array[] = [];
  const w = new ZipWriter((c) => {
    chunks.push(c.slice());
  });
  await w.add(
    "bomb",
    (async function* () {
      for (let i = 0; i < real / MiB; i++) yield zeros;
    })(),
    { mtimeMs: T0, compress: true },
  );
  await w.finish();
  const honest = concatBytes(chunks);
  const entry = (await readZip(honest)).get("bomb")!;
  assert.ok(entry.compressedSize < real / 500, `compressed to ${entry.compressedSize}`);

  // The same deflate data declaring 1 MiB (central directory and data descriptor agree).
  const declared = MiB;
  const lying = patch(honest, (v, l) => {
    v.setUint32(record(l, "bomb").at + 24, declared, true);
    const descriptor = l.cdOffset - 16;
    assert.equal(v.getUint32(descriptor, true), 0x08074b50);
    v.setUint32(descriptor + 12, declared, true);
  });
  // A refused bomb must not even allocate much: memory is sampled as it is, after a collection
  // before the read. Streamed to the end, 256 MiB pass through and what was allocated depends on
  // when the collector ran, so there what stays reachable is sampled, collecting every 16 chunks.
  setFlagsFromString("--expose-gc");
  const collect = runInNewContext("gc") as () => void;
  const measure = async (
    bytes: Uint8Array,
    options?: ZipReaderOptions,
    retainedOnly = false,
  ): Promise<{ code: string; handed: number; peak: number }> => {
    const reader = await readZip(bytes, options);
    collect();
    const base = process.memoryUsage().arrayBuffers;
    const sample = (collecting: boolean): number => {
      if (collecting) collect();
      return process.memoryUsage().arrayBuffers - base;
    };
    let peak = 0;
    let handed = 0;
    let chunks = 0;
    const code = await outcome(async () => {
      for await (const c of reader.open("bomb")) {
        handed += c.length;
        chunks++;
        if (!retainedOnly || chunks % 16 === 0) peak = Math.max(peak, sample(retainedOnly));
      }
    });
    peak = Math.max(peak, sample(retainedOnly));
    return { code, handed, peak };
  };
  const refused = await measure(lying);
  assert.equal(refused.code, "CORRUPT");
  assert.ok(refused.handed <= declared, `handed out ${refused.handed}`);
  assert.ok(refused.peak < 8 * MiB, `memory grew by ${refused.peak}`);

  assert.equal((await measure(honest, { maxMemberSize: 10 * MiB })).code, "LIMIT");

  // Read honestly to the end, the whole 256 MiB streams through in bounded memory.
  const streamed = await measure(honest, undefined, true);
  assert.equal(streamed.code, "ok");
  assert.equal(streamed.handed, real);
  assert.ok(streamed.peak < real / 4, `memory grew by ${streamed.peak}`);
});

test("hostile: unsafe, undecodable, duplicate and conflicting names", async () => {
  const plant = async (names: string[], targets: (string | Uint8Array)[], flagsOff = false): Promise<Uint8Array> => {
    let zip = await buildZip(names.map((name) => ({ name, data: utf8.encode("data") })));
    names.forEach((name, i) => {
      const target = targets[i]!;
      zip = replaceAll(zip, utf8.encode(name), typeof target === "string" ? utf8.encode(target) : target);
    });
    if (flagsOff) {
      zip = patch(zip, (v, l) => {
        for (const r of l.records) {
          v.setUint16(r.at + 8, v.getUint16(r.at + 8, true) & ~0x800, true);
          v.setUint16(r.offset + 6, v.getUint16(r.offset + 6, true) & ~0x800, true);
        }
      });
    }
    return zip;
  };
  for (const bad of ["../evil", "/etc/pw", "a\\..\\b", "a\0b", "C:/win", "a//b", "./a", "a/../b", "a/./b", "cafe\u0301"]) {
    const zip = await plant(["Q".repeat(utf8.encode(bad).length)], [bad]);
    await rejectsWith(() => readZip(zip), "UNSAFE_PATH");
  }
  await rejectsWith(() => readZip(new Uint8Array(0)), "TRUNCATED");

  const latin1 = new Uint8Array([0x63, 0x61, 0x66, 0xe9]); // "café" in Latin-1
  await rejectsWith(async () => readZip(await plant(["QQQQ"], [latin1], true)), "UNSUPPORTED", /not UTF-8/);
  await rejectsWith(async () => readZip(await plant(["QQQQ"], [latin1])), "CORRUPT", /not valid UTF-8/);
  await rejectsWith(async () => readZip(await plant(["QQQQ", "RRRR"], ["same", "same"])), "CORRUPT", /appears twice/);
  await rejectsWith(async () => readZip(await plant(["QQQQ", "RRRR/x"], ["file", "file/x"])), "CORRUPT", /inside file/);

  // A symlink "link" and a member "link/x" would write through the link.
  const zip = await plant(["QQQQ", "RRRR/x"], ["link", "link/x"]);
  const linked = patch(zip, (v, l) => v.setUint32(record(l, "link").at + 38, (0o120777 << 16) >>> 0, true));
  await rejectsWith(() => readZip(linked), "CORRUPT", /symlink/);
});

test("hostile: trailing and leading data, comments", async () => {
  const { zip, contents } = await hostileSample();
  const reader = await readZip(zip);
  assert.equal(reader.comment, "a comment");
  unzipTest(save("comment.zip", zip));
  await rejectsWith(() => readZip(concatBytes([zip, utf8.encode("junk")])), "CORRUPT", /4 bytes of trailing data/);
  // Past the 64 KiB + 22 search window, the end record is not found at all.
  await rejectsWith(() => readZip(concatBytes([zip, new Uint8Array(70_000)])), "TRUNCATED", /without its end record/);
  await rejectsWith(() => readZip(concatBytes([new Uint8Array(100), zip])), "CORRUPT", /does not end at the end record/);
  // A comment that claims more bytes than the file has.
  await rejectsWith(() => readZip(zip.subarray(0, zip.length - 1)), "TRUNCATED", /inside its comment/);
  await rejectsWith(() => readZip(randomBytes(rng(111), 5000)), "CORRUPT", /not a ZIP archive/);
  const empty = await buildZip([]);
  assert.equal(empty.length, 22);
  assert.equal((await readZip(empty)).entries().length, 0);
  assert.equal(contents.size, 6);
});

test("hostile: overlapping members, CRC mismatches, descriptors and headers that disagree", async () => {
  const { zip } = await hostileSample();
  const layout = rawLayout(zip);
  const first = record(layout, "stored.bin");
  // Two central records pointing at one local header (the "overlapping" bomb construction).
  await rejectsWith(
    () => readZip(patch(zip, (v, l) => v.setUint32(record(l, "deflated.txt").at + 42, first.offset, true))),
    "CORRUPT",
    /overlaps/,
  );
  // A member pointing into the middle of another.
  await rejectsWith(
    () => readZip(patch(zip, (v, l) => v.setUint32(record(l, "dir/small.txt").at + 42, first.offset + 100, true))),
    "CORRUPT",
    /overlaps/,
  );

  // One flipped data byte in a stored member: unzip -t and our reader both refuse it.
  const flipped = zip.slice();
  flipped[first.offset + 30 + "stored.bin".length + 9 + 1000]! ^= 0x40;
  assert.notEqual(sh("unzip", ["-tq", save("crc.zip", flipped)]).status, 0);
  const reader = await readZip(flipped);
  await rejectsWith(() => reader.bytes("stored.bin"), "CORRUPT", /CRC-32/);
  assert.equal((await reader.bytes("dir/small.txt")).length, 5, "other members still read");

  // The central CRC changed alone: the local header disagrees.
  const crcPatched = patch(zip, (v, l) => v.setUint32(record(l, "dir/small.txt").at + 16, 1234, true));
  await rejectsWith(async () => (await readZip(crcPatched)).bytes("dir/small.txt"), "CORRUPT", /local header/);
  // Streamed member: central CRC and descriptor must agree.
  const descriptorPatched = patch(zip, (v, l) => v.setUint32(record(l, "streamed.txt").at + 16, 1234, true));
  await rejectsWith(async () => (await readZip(descriptorPatched)).bytes("streamed.txt"), "CORRUPT", /data descriptor/);
  // Local name differs from the central name.
  const renamed = patch(zip, (v, l) => v.setUint8(record(l, "dir/small.txt").offset + 30, 0x44));
  await rejectsWith(async () => (await readZip(renamed)).bytes("dir/small.txt"), "CORRUPT", /names another member/);
  // Corrupt deflate data.
  const deflated = record(layout, "deflated.txt");
  const garbled = zip.slice();
  for (let i = 0; i < 64; i++) garbled[deflated.offset + 30 + 12 + 9 + 200 + i] = 0xff;
  const code = await outcome(async () => (await readZip(garbled)).bytes("deflated.txt"));
  assert.ok(code === "CORRUPT" || code === "TRUNCATED", code);
});

test("hostile: unsupported methods, encryption, multi-disk; configured limits", async () => {
  const { zip } = await hostileSample();
  const both = (name: string, field: number, localField: number, value: number) =>
    patch(zip, (v, l) => {
      v.setUint16(record(l, name).at + field, value, true);
      v.setUint16(record(l, name).offset + localField, value, true);
    });
  await rejectsWith(() => readZip(both("dir/small.txt", 10, 8, 14)), "UNSUPPORTED", /method 14/);
  await rejectsWith(() => readZip(both("dir/small.txt", 8, 6, 0x801)), "UNSUPPORTED", /encrypted/);
  await rejectsWith(() => readZip(patch(zip, (v, l) => v.setUint16(l.end + 4, 1, true))), "UNSUPPORTED", /multi-disk/);
  await rejectsWith(() => readZip(patch(zip, (v, l) => v.setUint16(l.end + 10, 6, true))), "CORRUPT", /counts differ/);
  await rejectsWith(
    () =>
      readZip(
        patch(zip, (v, l) => {
          v.setUint16(l.end + 8, 8, true);
          v.setUint16(l.end + 10, 8, true);
        }),
      ),
    "CORRUPT",
  );
  await rejectsWith(() => readZip(zip, { maxEntries: 6 }), "LIMIT");
  const reader = await readZip(zip, { maxMemberSize: 50_000 });
  await rejectsWith(() => reader.bytes("streamed.txt"), "LIMIT");
  assert.equal((await reader.bytes("deflated.txt")).length, 20_000);
  await rejectsWith(() => reader.bytes("missing"), "NOT_FOUND");
  await rejectsWith(() => reader.bytes("dir"), "IS_A_DIRECTORY");
});
