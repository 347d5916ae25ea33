/**
 * Deflating off the main thread: nodeDeflate's async forms give exactly the bytes of its
 * synchronous ones; ZipWriter's `queue` and its parallel stream pieces write exactly the archive
 * the serial path writes, whatever order the deflates finish in, with at most `parallel` of them
 * running; DiffData's archives (the round-trip cases, a tree of large files) are byte for byte
 * the same with the synchronous and the asynchronous codec; a failure off the thread surfaces
 * as an error of the writer, never as an unhandled rejection.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { inflateRawSync } from "node:zlib";
import { DiffData, DiffIndex, DirIndex, MemoryFs, ZipReader, ZipWriter, applyDiff, isIbtError, openArchive } from "../../src/index.js";
import type { DeflateCodec, FsAdapter, RandomAccessFile, ZipWriterOptions } from "../../src/index.js";
import { nodeDeflate } from "../../src/node/index.js";
import { concatBytes } from "../../src/bytes.js";
import { copyTree, makeV1, makeV2 } from "../shared/roundtrip-cases.js";
import { equalBytes, randomBytes, rng, split, textBytes } from "../support/helpers.js";

const T0 = Date.UTC(2024, 4, 6, 7, 8, 11);

/** nodeDeflate without its async forms: the serial path. */
const serial: DeflateCodec = {
  deflate: nodeDeflate.deflate,
  deflateStream: (level) => {
    const inner = nodeDeflate.deflateStream(level);
    return { push: (piece, final) => inner.push(piece, final) };
  },
};

/**
 * nodeDeflate's synchronous bytes, handed back asynchronously after a seeded random delay, so
 * later calls often finish first; counts the calls running at once.
 */
function shuffling(seed: number) {
  const next = rng(seed);
  const seen = { running: 0, most: 0, calls: 0 };
  const later = <T>(make: () => T): Promise<T> => {
    seen.calls++;
    seen.running++;
    seen.most = Math.max(seen.most, seen.running);
    const out = make();
    return new Promise((resolve) =>
      setTimeout(() => {
        seen.running--;
        resolve(out);
      }, Math.floor(next() * 4)),
    );
  };
  const codec: DeflateCodec = {
    deflate: nodeDeflate.deflate,
    deflateAsync: (data, level) => later(() => nodeDeflate.deflate(data, level)),
    deflateStream: (level) => {
      const inner = nodeDeflate.deflateStream(level);
      return { push: (piece, final) => inner.push(piece, final), pushAsync: (piece, final) => later(() => inner.push(piece, final)) };
    },
  };
  return { codec, seen };
}

function memoryFile(bytes: Uint8Array): RandomAccessFile {
  return { size: bytes.length, read: async (offset, length) => bytes.slice(offset, offset + length) };
}

async function* chunked(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  yield* split(data, size);
}

const text = textBytes(rng(1), 2_000_000);
const noise = randomBytes(rng(2), 400_000);

/** Members of every kind, some queued: small, probed, incompressible, streamed (text and noise), empty, a directory. */
const MEMBERS: [string, () => Uint8Array | AsyncGenerator<Uint8Array> | "dir"][] = [
  ["a/small.txt", () => text.subarray(0, 3000)],
  ["a/group.tar", () => text.subarray(5000, 2_100_000 - 5000)],
  ["a/noise.bin", () => noise],
  ["a/tiny", () => text.subarray(7, 9)],
  ["b", () => "dir"],
  ["b/stream.txt", () => chunked(text, 10_000)],
  ["b/half-noise", () => concatBytes([noise.subarray(0, 200_000), text.subarray(0, 200_000)])],
  ["b/noise-stream.bin", () => chunked(noise, 70_000)],
  ["c/empty", () => new Uint8Array(0)],
  ["c/probe-then-whole.txt", () => text.subarray(100, 300_100)],
  ["c/last.txt", () => text.subarray(0, 40_000)],
];

async function writeMembers(options: ZipWriterOptions, useQueue: boolean): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const w = new ZipWriter((c) => void chunks.push(c.slice()), options);
  for (const [name, make] of MEMBERS) {
    const source = make();
    if (source === "dir") await w.addDirectory(name, { mtimeMs: T0 });
    else if (useQueue && source instanceof Uint8Array) await w.queue(name, source, { mtimeMs: T0 });
    else await w.add(name, source, { mtimeMs: T0 });
  }
  await w.queue("z/after-all.txt", text.subarray(0, 100_000), { mtimeMs: T0, compress: true });
  await w.finish("the end");
  return concatBytes(chunks);
}

test("nodeDeflate's async forms give exactly its synchronous bytes", async () => {
  const repeats = new Uint8Array(300_000).fill(7);
  for (const [kind, source] of [["text", text], ["noise", noise], ["repeats", repeats]] as const) {
    for (const n of [0, 1, 100, 511, 4097, 32_768, 65_536, 65_537, 300_000]) {
      const data = source.subarray(0, n);
      for (let level = 0; level <= 9; level++) {
        const want = nodeDeflate.deflate(data, level);
        const got = await nodeDeflate.deflateAsync(data, level);
        assert.ok(equalBytes(got, want), `${kind} of ${n} at level ${level}`);
      }
    }
  }
  // Pieces pushed several at a time, each before the previous has settled.
  for (const [size, level] of [[1000, 6], [65_536, 6], [100_000, 6], [65_536, 0], [65_536, 1], [65_536, 9]] as const) {
    const data = text.subarray(0, 900_000);
    const pieces = split(data, size);
    const one = nodeDeflate.deflateStream(level);
    const want = concatBytes(pieces.map((p, i) => one.push(p, i === pieces.length - 1)));
    const other = nodeDeflate.deflateStream(level);
    const got = concatBytes(await Promise.all(pieces.map((p, i) => other.pushAsync!(p, i === pieces.length - 1))));
    assert.ok(equalBytes(got, want), `pieces of ${size} at level ${level}`);
    assert.ok(equalBytes(inflateRawSync(got), data));
  }
});

test("ZipWriter: queued members and parallel stream pieces make the serial path's archive, byte for byte", async () => {
  const reference = await writeMembers({ deflate: serial }, false);
  assert.ok(equalBytes(await writeMembers({ deflate: serial }, true), reference), "queue without deflateAsync is add");
  for (const parallel of [1, 2, 3, 5]) {
    assert.ok(equalBytes(await writeMembers({ deflate: nodeDeflate, parallel }, true), reference), `nodeDeflate, parallel ${parallel}`);
    const { codec, seen } = shuffling(parallel);
    assert.ok(equalBytes(await writeMembers({ deflate: codec, parallel }, true), reference), `deflates finishing out of order, parallel ${parallel}`);
    assert.ok(seen.calls > 10, `${seen.calls} async calls`);
    assert.ok(seen.most <= parallel, `${seen.most} deflates ran at once, parallel ${parallel}`);
    if (parallel > 1) assert.ok(seen.most > 1, `deflates overlapped (${seen.most} at once)`);
  }
  const reader = await ZipReader.from(memoryFile(reference));
  assert.ok(equalBytes(await reader.bytes("b/stream.txt"), text));
  assert.ok(equalBytes(await reader.bytes("a/group.tar"), text.subarray(5000, 2_100_000 - 5000)));
  assert.equal(reader.get("a/noise.bin")!.method, 0, "the probe stored the noise");
  assert.equal(reader.get("a/group.tar")!.method, 8);
  assert.throws(() => new ZipWriter(() => {}, { parallel: 0 }), (e) => isIbtError(e, "BAD_ARGUMENT"));
});

test("queue: a bad name is refused at once; names queued but not yet written count as taken", async () => {
  const w = new ZipWriter(() => {}, { deflate: nodeDeflate, parallel: 3 });
  await w.queue("a/one.txt", text.subarray(0, 1000));
  await assert.rejects(w.queue("a/one.txt", text.subarray(0, 10)), (e) => isIbtError(e, "BAD_ARGUMENT"), "repeated name");
  await assert.rejects(w.add("a/one.txt/x", text.subarray(0, 10)), (e) => isIbtError(e, "BAD_ARGUMENT"), "a file as a directory");
  await assert.rejects(w.queue("../up", text.subarray(0, 10)), (e) => isIbtError(e, "UNSAFE_PATH") || isIbtError(e, "BAD_ARGUMENT"));
  await w.queue("a/two.txt", text.subarray(0, 1000));
  assert.equal(w.entryCount, 0, "queued, not yet written");
  await w.flush();
  assert.equal(w.entryCount, 2);
  const { entries } = await w.finish();
  assert.equal(entries, 2);
});

test("a deflate that fails off the thread fails the writer at its next call, with no unhandled rejection", async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => void unhandled.push(e);
  process.on("unhandledRejection", onUnhandled);
  try {
    const failing = (after: number): DeflateCodec => {
      let n = 0;
      return {
        deflate: nodeDeflate.deflate,
        deflateAsync: async (data, level) => {
          if (n++ >= after) throw new Error("zlib broke");
          return nodeDeflate.deflate(data, level);
        },
      };
    };
    // The third queued member fails while two later ones deflate: the error comes from the call that writes it.
    const chunks: Uint8Array[] = [];
    const w = new ZipWriter((c) => void chunks.push(c), { deflate: failing(2), parallel: 2 });
    await w.queue("m1", text.subarray(0, 1000));
    await w.queue("m2", text.subarray(0, 1000));
    await w.queue("m3", text.subarray(0, 1000));
    await w.queue("m4", text.subarray(0, 1000));
    await assert.rejects(w.queue("m5", text.subarray(0, 1000)), /zlib broke/);
    await assert.rejects(w.finish(), (e) => isIbtError(e, "BAD_ARGUMENT"), "the writer is failed");

    // Bytes that are not deflate's, from the async form: refused as from the sync one.
    const liar = new ZipWriter(() => {}, { deflate: { deflate: nodeDeflate.deflate, deflateAsync: async () => new Uint8Array(3) } });
    await liar.queue("a.txt", text.subarray(0, 100_000), { compress: true });
    await assert.rejects(liar.flush(), (e) => isIbtError(e, "BAD_ARGUMENT"));

    // A streamed member whose piece fails while others are in flight.
    let pieces = 0;
    const brokenStream: DeflateCodec = {
      deflate: nodeDeflate.deflate,
      deflateStream: (level) => {
        const inner = nodeDeflate.deflateStream(level);
        return {
          push: inner.push,
          pushAsync: async (piece, final) => {
            if (pieces++ === 3) throw new Error("piece broke");
            return inner.push(piece, final);
          },
        };
      },
    };
    const s = new ZipWriter(() => {}, { deflate: brokenStream, parallel: 3 });
    await assert.rejects(s.add("big.txt", chunked(text, 50_000)), /piece broke/);
    await new Promise((r) => setTimeout(r, 50));
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
  assert.deepEqual(unhandled, []);
});

/** Files of 0.3–3 MiB, some text, some noise, some half and half: members of their own and streamed. */
async function largeFiles(fs: FsAdapter, seed: number): Promise<void> {
  const next = rng(seed);
  await fs.mkdir("large/deep", { recursive: true });
  for (let i = 0; i < 8; i++) {
    const n = 300_000 + Math.floor(next() * 2_800_000);
    const at = Math.floor(next() * (text.length - n));
    const kind = i % 3;
    const data = kind === 0 ? text.subarray(at, at + n) : kind === 1 ? randomBytes(next, n) : concatBytes([randomBytes(next, n >> 1), text.subarray(at, at + (n >> 1))]);
    await fs.writeFile(`large/${i % 2 ? "deep/" : ""}f${i}.${kind === 1 ? "bin" : "txt"}`, data);
  }
  for (let i = 0; i < 300; i++) await fs.writeFile(`large/small-${i}.txt`, textBytes(next, 200 + Math.floor(next() * 20_000)));
}

async function archiveOf(diff: ReturnType<DiffIndex["compute"]>, source: FsAdapter, deflate: DeflateCodec, format?: 1 | 2): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  await new DiffData(diff, { source, deflate, time: new Date(T0), ...(format ? { format } : {}) }).write(async (c) => void chunks.push(c.slice()));
  return concatBytes(chunks);
}

test("DiffData: the same archive bytes with the synchronous and the asynchronous codec (round-trip cases, large files)", async () => {
  const source = new MemoryFs();
  await makeV1(source, 600);
  await largeFiles(source, 7);
  const v1 = await DirIndex.build(source);
  const target = new MemoryFs();
  await copyTree(source, target);
  const empty = await DirIndex.fromEntries([]);
  const full = new DiffIndex(v1, empty).compute();
  for (const format of [2, 1] as const) {
    const want = await archiveOf(full, source, serial, format);
    assert.ok(equalBytes(await archiveOf(full, source, nodeDeflate, format), want), `full, format ${format}`);
    assert.ok(equalBytes(await archiveOf(full, source, shuffling(format).codec, format), want), `full, out of order, format ${format}`);
  }

  await makeV2(source, 600);
  await largeFiles(source, 8);
  const v2 = await DirIndex.build(source);
  const incremental = new DiffIndex(v2, v1).compute();
  const want = await archiveOf(incremental, source, serial);
  const got = await archiveOf(incremental, source, nodeDeflate);
  assert.ok(equalBytes(got, want), "incremental");
  assert.ok(equalBytes(await archiveOf(incremental, source, shuffling(3).codec), want), "incremental, out of order");

  // And it applies: the copy of v1 becomes v2.
  const store = new MemoryFs();
  await store.writeFile("diff.zip", got);
  await applyDiff(target, await openArchive(store, "diff.zip"));
  assert.equal((await DirIndex.build(target)).id, v2.id);
});
