/**
 * Index objects as a repository stores them (src/repo/index-object.ts): deflated behind
 * "IBTINDEX" version 3, read back by an inflater we did not write (node:zlib) as exactly the index
 * or delta file, and refused when damaged, cut or made a bomb, with the target unchanged.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { crc32 as zlibCrc32, deflateRawSync, inflateRawSync } from "node:zlib";
import { MemoryFs, MemoryStore, Repository, isIbtError, type FsAdapter } from "../../src/index.js";
import { fflateInflate, type InflateCodec } from "../../src/archive/inflate.js";
import { decodeIndex } from "../../src/dirindex/index-file.js";
import { decodeIndexDelta } from "../../src/dirindex/index-delta.js";
import { indexFileOf } from "../../src/repo/index-object.js";
import { encodeRecord, indexPath, recordPath } from "../../src/repo/layout.js";
import { Hasher } from "../../src/rsync/hashes.js";
import { loadRecords } from "../../src/repo/snapshot.js";
import { collect, toHex } from "../../src/bytes.js";
import { randomBytes, rng, textBytes } from "../support/helpers.js";
import { listing, treeId } from "../support/repo-kit.js";

async function source(files = 120): Promise<FsAdapter> {
  const fs = new MemoryFs();
  for (const dir of ["lib", "lib/util", "docs", "test"]) await fs.mkdir(dir);
  for (let i = 0; i < files; i++) {
    const dir = ["lib", "lib/util", "docs", "test"][i % 4]!;
    await fs.writeFile(`${dir}/module-${i}.js`, textBytes(rng(i), 500 + ((i * 397) % 9000)));
  }
  return fs;
}

const versionOf = (bytes: Uint8Array): number => new DataView(bytes.buffer, bytes.byteOffset).getUint32(8);

/**
 * The file in a deflated index object, read as docs/formats.md describes it with an inflater we
 * did not write: frames of a varint length, a CRC-32 and raw deflate, each inflating to at most 64 KiB,
 * then a 0.
 */
function unframed(object: Uint8Array): Uint8Array {
  assert.equal(new TextDecoder().decode(object.subarray(0, 8)), "IBTINDEX");
  assert.equal(versionOf(object), 3);
  const parts: Buffer[] = [];
  let at = 12;
  for (;;) {
    let length = 0;
    for (let shift = 0; ; shift += 7) {
      const b = object[at++]!;
      length += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
    }
    if (length === 0) break;
    const sum = new DataView(object.buffer, object.byteOffset + at, 4).getUint32(0);
    at += 4;
    assert.equal(zlibCrc32(object.subarray(at, at + length)), sum, "the frame's CRC-32");
    const out = inflateRawSync(object.subarray(at, at + length));
    assert.ok(out.length > 0 && out.length <= 65536, `a frame of ${out.length} bytes`);
    parts.push(out);
    at += length;
  }
  assert.equal(at, object.length, "nothing after the end mark");
  return new Uint8Array(Buffer.concat(parts));
}

/** A deflated index object made of these frames (each raw deflate), with its end mark. */
function envelope(frames: Uint8Array[], end = true): Uint8Array {
  const parts: Uint8Array[] = [new TextEncoder().encode("IBTINDEX"), new Uint8Array([0, 0, 0, 3])];
  for (const f of frames) {
    const len: number[] = [];
    for (let v = f.length; ; v >>>= 7) {
      len.push(v > 0x7f ? (v & 0x7f) | 0x80 : v);
      if (v <= 0x7f) break;
    }
    const sum = new Uint8Array(4);
    new DataView(sum.buffer).setUint32(0, zlibCrc32(f));
    parts.push(new Uint8Array(len), sum, f);
  }
  if (end) parts.push(new Uint8Array([0]));
  return new Uint8Array(Buffer.concat(parts));
}

test("index objects are stored deflated: node:zlib inflates each to exactly the index or delta file, and they are smaller", async () => {
  const fs = await source();
  const store = new MemoryStore();
  const repo = await Repository.init(store);
  const first = await repo.backup(fs);
  await fs.writeFile("lib/module-0.js", textBytes(rng(1000), 700));
  const second = await repo.backup(fs);

  const whole = await store.load(indexPath(first.id));
  const file = unframed(whole);
  assert.equal(versionOf(file), 1, "a whole index inside");
  const index = await decodeIndex([file]);
  assert.equal(index.id, (await loadRecords(store)).records[0]!.tree);
  assert.ok(whole.length < file.length * 0.8, `stored ${whole.length} bytes of a ${file.length}-byte index`);

  const deltaFile = unframed(await store.load(indexPath(second.id)));
  assert.equal(versionOf(deltaFile), 4, "a delta inside");
  const d = await decodeIndexDelta([deltaFile]);
  assert.equal(d.base, index.id);
  assert.equal(d.target, await treeId(fs));

  const back = new MemoryFs();
  await repo.restore(second.id, back);
  assert.equal(await listing(back), await listing(fs));
  assert.ok((await repo.verify({ readData: true })).ok);
});

test("plain index objects (versions 1 and 2, as written before) are read as they are, beside deflated ones", async () => {
  const fs = await source();
  const store = new MemoryStore();
  const repo = await Repository.init(store);
  await repo.backup(fs);
  await fs.writeFile("docs/module-2.js", textBytes(rng(2000), 3000));
  const second = await repo.backup(fs);
  const secondTree = await listing(fs);
  // Both objects as an older library wrote them: the file without the envelope, its size and
  // hash in the record.
  for (const rec of (await loadRecords(store)).records) {
    const plain = unframed(await store.load(indexPath(rec.id)));
    await store.save(indexPath(rec.id), plain);
    const h = await Hasher.create();
    h.update(plain);
    await store.save(recordPath(rec.id), await encodeRecord({ ...rec, index: { ...rec.index, size: plain.length, hash: toHex(h.digest()) } }));
    h.dispose();
  }
  await fs.writeFile("docs/module-6.js", textBytes(rng(3000), 2500));
  const third = await repo.backup(fs);
  assert.equal(versionOf(await store.load(indexPath(third.id))), 3);
  for (const [snap, want] of [[second, secondTree], [third, await listing(fs)]] as const) {
    const back = new MemoryFs();
    await repo.restore(snap.id, back);
    assert.equal(await listing(back), want);
  }
  assert.ok((await repo.verify({ readData: true })).ok);
});

/** fflate's inflate, counting what it makes. */
function counting(): { codec: InflateCodec; made: () => number } {
  let made = 0;
  return {
    made: () => made,
    codec: {
      inflate(data, limit) {
        const out = fflateInflate.inflate(data, limit) as Uint8Array;
        made += out.length;
        return out;
      },
    },
  };
}

function flippedAt(object: Uint8Array, at: number): Uint8Array {
  const out = object.slice();
  out[at]! ^= 0x80;
  return out;
}

const deflate = (data: Uint8Array): Uint8Array => new Uint8Array(deflateRawSync(data, { level: 9 }));

test("hostile index objects: cut, bad frames or CRC-32s, a bomb, bytes after the end, a file that is not an index: refused with a stable code, the target unchanged", async () => {
  const fs = await source(600);
  const store = new MemoryStore();
  const snap = await (await Repository.init(store)).backup(fs);
  const name = indexPath(snap.id);
  const good = await store.load(name);
  const file = unframed(good);
  const frames = (bytes: Uint8Array): Uint8Array[] => {
    const out: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += 65536) out.push(deflate(bytes.subarray(i, i + 65536)));
    return out;
  };
  // 60 MiB of zeros deflate to one frame of about 60 KB, under the longest a frame may be.
  const bombFrame = deflate(new Uint8Array(60 << 20));
  assert.ok(bombFrame.length < 65 * 1024, `the bomb frame is ${bombFrame.length} bytes`);

  const cases: [string, Uint8Array, string][] = [
    ["cut short", good.subarray(0, good.length - 200), "TRUNCATED"],
    ["without its end mark", envelope(frames(file), false), "TRUNCATED"],
    ["the header alone", good.subarray(0, 12), "TRUNCATED"],
    ["a frame that is not deflate", envelope([randomBytes(rng(7), 5000)]), "CORRUPT"],
    ["a frame length past the longest", envelope([randomBytes(rng(8), 70_000)]), "CORRUPT"],
    ["a bomb in one frame", envelope([bombFrame, ...frames(file)]), "CORRUPT"],
    ["a frame of more than 64 KiB", envelope([deflate(file.subarray(0, 65537)), ...frames(file.subarray(65537))]), "CORRUPT"],
    ["an empty frame", envelope([deflate(new Uint8Array(0)), ...frames(file)]), "CORRUPT"],
    ["bytes after the end mark", new Uint8Array([...good, 0x42]), "CORRUPT"],
    ["a frame's CRC-32 changed", flippedAt(envelope(frames(file)), 13), "CORRUPT"],
    ["a frame cut from the middle", envelope(frames(file).filter((_, i) => i !== 0)), "BAD_MAGIC"],
    ["deflated frames of a file that is not an index", envelope(frames(textBytes(rng(9), 150_000))), "BAD_MAGIC"],
  ];
  assert.ok(frames(file).length >= 2, "the index spans frames");
  for (const [what, bytes, code] of cases) {
    await store.save(name, bytes);
    const { codec, made } = counting();
    const repo = await Repository.open(store, { inflate: codec });
    const target = new MemoryFs();
    await target.writeFile("keep.txt", new TextEncoder().encode("mine"));
    const before = await listing(target);
    await assert.rejects(repo.restore(snap.id, target), (e) => isIbtError(e, code as never) && e.message.includes(name), what);
    assert.equal(await listing(target), before, `${what}: the target is unchanged`);
    assert.ok(made() <= file.length + 65537, `${what}: inflated ${made()} bytes before refusing`);
    const report = await repo.verify({ readData: true });
    assert.ok(!report.ok && report.problems.some((p) => p.path === name), `${what}: verify names the index object`);
  }
  // The same frames, whole and well made, read back: the cases above fail for what they break.
  await store.save(name, envelope(frames(file)));
  const back = new MemoryFs();
  await (await Repository.open(store)).restore(snap.id, back);
  assert.equal(await listing(back), await listing(fs), "the same index in frames made by node:zlib restores");
});

test("an index object reads the same from any chunking of the stored bytes, deflated or plain", async () => {
  const fs = await source(600);
  const store = new MemoryStore();
  const snap = await (await Repository.init(store)).backup(fs);
  const stored = await store.load(indexPath(snap.id));
  const want = unframed(stored);
  const inChunks = (bytes: Uint8Array, size: number): Uint8Array[] => {
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
    return chunks;
  };
  for (const size of [1, 5, 11, 12, 13, 4095, 65_536, 65_537, stored.length]) {
    assert.deepEqual(await collect(indexFileOf(inChunks(stored, size))), want, `chunks of ${size}`);
  }
  for (const size of [1, 7, 12, 100_000]) {
    assert.deepEqual(await collect(indexFileOf(inChunks(want, size))), want, `a plain file in chunks of ${size}`);
  }
  assert.deepEqual(await collect(indexFileOf([])), new Uint8Array(0), "an empty object passes through as it is");
});

test("a change that inflating cannot see (a padding bit after deflate's last block) is refused by the frame's CRC-32", async () => {
  // The bits of the last byte past the end of the final block change nothing zlib inflates; a
  // stream that ends on a byte boundary has none, so a few deterministic inputs are tried.
  const unseenChange = (data: Uint8Array, deflated: Uint8Array): Uint8Array | undefined =>
    [0, 1, 2, 3, 4, 5, 6, 7].map((bit) => {
      const changed = deflated.slice();
      changed[changed.length - 1]! ^= 1 << bit;
      try {
        return Buffer.compare(inflateRawSync(changed), Buffer.from(data)) === 0 ? changed : undefined;
      } catch {
        return undefined;
      }
    }).find((c) => c !== undefined);
  let data: Uint8Array = new Uint8Array(0);
  let deflated: Uint8Array = new Uint8Array(0);
  let unseen: Uint8Array | undefined;
  for (let seed = 10; seed < 40 && !unseen; seed++) {
    data = textBytes(rng(seed), 30_000 + seed);
    deflated = deflate(data);
    unseen = unseenChange(data, deflated);
  }
  assert.ok(unseen, "this deflate stream ends with padding bits");
  assert.deepEqual(await collect(indexFileOf([envelope([deflated])])), data, "the frame as written reads");
  const object = envelope([deflated]);
  object.set(unseen, object.length - 1 - deflated.length);
  await assert.rejects(collect(indexFileOf([object])), (e) => isIbtError(e, "CORRUPT") && /CRC-32/.test((e as Error).message));
});
