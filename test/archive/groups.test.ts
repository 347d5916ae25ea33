/**
 * Archive format v2: group members. A one-path restore inflates at most one group and a full
 * restore each group once (counted reads); the next group is read ahead only while reads walk
 * the archive, and a read ahead that fails is seen only by a read of that group; hostile groups and spans are refused with CORRUPT and
 * the target unchanged; format 1 is still written on request and read.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ArchiveData,
  DiffData,
  DiffIndex,
  DirIndex,
  MANIFEST_NAME,
  MemoryFs,
  MemoryStore,
  Repository,
  ZipReader,
  ZipWriter,
  applyDiff,
  isIbtError,
  openArchive,
  parseManifest,
  type FsAdapter,
  type Manifest,
  type Store,
} from "../../src/index.js";
import { equalBytes, rng, textBytes } from "../support/helpers.js";
import { nodeInflate } from "../../src/node/index.js";
import { ASYNC_FROM } from "../../src/node/inflate.js";

const enc = (s: string) => new TextEncoder().encode(s);

async function put(fs: FsAdapter, path: string, data: Uint8Array): Promise<void> {
  if (path.includes("/")) await fs.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await fs.writeFile(path, data);
  // A fixed time: group members carry it in their tar headers, so archives are the same bytes
  // on every run, and so is what damaging them at a fixed offset does.
  await fs.utimes(path, 1_700_000_000_000);
}

/** Counts group inflations (through ZipReader.bytes, which ArchiveData uses) while `run` runs. */
async function countingGroupReads<T>(run: () => Promise<T>): Promise<{ result: T; groups: string[] }> {
  const original = ZipReader.prototype.bytes;
  const groups: string[] = [];
  ZipReader.prototype.bytes = function (this: ZipReader, target) {
    const name = typeof target === "string" ? target : target.name;
    if (name.startsWith("group/")) groups.push(name);
    return original.call(this, target);
  };
  try {
    return { result: await run(), groups };
  } finally {
    ZipReader.prototype.bytes = original;
  }
}

/** A store that counts the bytes loaded from archives. */
function countingStore(store: Store): { store: Store; loaded: () => number } {
  let n = 0;
  const wrapped = Object.create(store) as Store;
  wrapped.load = async (name, options) => {
    const bytes = await store.load(name, options);
    if (name.startsWith("data/")) n += bytes.length;
    return bytes;
  };
  wrapped.loadStream = async function* (name, options) {
    for await (const c of store.loadStream(name, options)) {
      if (name.startsWith("data/")) n += c.length;
      yield c;
    }
  };
  return { store: wrapped, loaded: () => n };
}

test("a one-path restore inflates one group; a full restore inflates each group once", async () => {
  const source = new MemoryFs();
  const next = rng(11);
  for (let i = 0; i < 700; i++) await put(source, `lib/${String(i).padStart(4, "0")}.js`, textBytes(next, 8000));
  const { store, loaded } = countingStore(new MemoryStore());
  const repo = await Repository.init(store);
  const snap = await repo.backup(source);
  const name = `data/${snap.id}.zip`;
  const archiveSize = (await store.stat(name)).size;
  const archive = await ZipReader.from({ size: archiveSize, read: (offset, length) => store.load(name, { offset, length }) });
  const groups = archive.entries().filter((e) => e.name.startsWith("group/"));
  assert.ok(groups.length >= 3, `${groups.length} groups`);

  const before = loaded();
  const one = await countingGroupReads(() => repo.restore(snap.id, new MemoryFs(), { paths: ["lib/0350.js"] }));
  assert.equal(one.result.files, 1);
  assert.equal(one.groups.length, 1, `groups inflated: ${one.groups.join(", ")}`);
  assert.ok(loaded() - before < archiveSize / 2, `read ${loaded() - before} of ${archiveSize} archive bytes`);

  const target = new MemoryFs();
  const all = await countingGroupReads(() => repo.restore(snap.id, target));
  assert.equal(all.result.files, 700);
  assert.deepEqual(all.groups, groups.map((g) => g.name), "each group once, in order");
  assert.equal((await DirIndex.build(target, { signatures: false })).id, (await DirIndex.build(source, { signatures: false })).id);
});

for (const [codecName, inflate, groupSize] of [
  ["fflate", undefined, 16_384],
  // Groups large enough to deflate to more than ASYNC_FROM, so node:zlib inflates them off the thread.
  ["node:zlib", nodeInflate, 1024 * 1024],
] as const) {
  test(`ArchiveData reads the next group ahead only once two neighbouring groups were read in turn; a failed read ahead fails only a read of its group (${codecName})`, async () => {
    const source = new MemoryFs();
    const next = rng(31);
    const fileSize = groupSize / 5;
    for (let i = 0; i < 40; i++) await put(source, `f/${String(i).padStart(2, "0")}.txt`, textBytes(next, fileSize));
    const diff = new DiffIndex(await DirIndex.build(source), await DirIndex.build(new MemoryFs())).compute();
    const out = new MemoryFs();
    await new DiffData(diff, { source, groupSize }).createArchive(out, "a.zip");
    const bytes = (await out.read("a.zip", 0, 1 << 26)).slice();
    const open = (b: Uint8Array) => ZipReader.from({ size: b.length, read: async (o, n) => b.slice(o, o + n) }, inflate ? { inflate } : {});
    const clean = await open(bytes);
    const manifest = parseManifest(await clean.bytes(MANIFEST_NAME));
    const members = clean.entries().map((e) => e.name);
    const groups = members.filter((n) => n.startsWith("group/"));
    assert.ok(groups.length >= 5, `${groups.length} groups`);
    assert.deepEqual(members.slice(members.indexOf(groups[0]!), members.indexOf(groups[0]!) + groups.length), groups, "the groups lie next to each other");
    const g1 = clean.get(groups[1]!)!;
    assert.equal(g1.method, 8, "groups are deflated");
    if (inflate) assert.ok(g1.compressedSize >= ASYNC_FROM, `inflated off the thread: ${g1.compressedSize} bytes`);
    const spanIn = (g: number) => manifest.changes.find((c) => c.member === groups[g])!;
    const read = async (data: ArchiveData, g: number) => {
      const parts: Uint8Array[] = [];
      for await (const part of data.open(spanIn(g))) parts.push(part);
      return parts;
    };
    const expect = async (g: number, parts: Uint8Array[]) => {
      const c = spanIn(g);
      assert.equal(parts.length, 1);
      assert.ok(equalBytes(parts[0]!, await source.read(c.path, 0, 1 << 24)), `${c.path} from group ${g}`);
    };

    const data = new ArchiveData(clean, manifest);
    const seen = await countingGroupReads(async () => {
      await expect(3, await read(data, 3)); // a one-path read: nothing ahead
      await expect(0, await read(data, 0)); // a jump back: nothing ahead
      await expect(1, await read(data, 1)); // 0 then 1: a walk, so 2 is read ahead
      await expect(2, await read(data, 2)); // taken from the read ahead; 3 is read ahead
    });
    assert.deepEqual(seen.groups, [groups[3], groups[0], groups[1], groups[2], groups[3]]);

    // Group 3's deflated bytes damaged: the read ahead that meets them fails unseen, a read of it fails.
    const entry = clean.get(groups[3]!)!;
    const damaged = bytes.slice();
    for (let i = entry.offset + 64; i < entry.offset + 64 + 16; i++) damaged[i] ^= 0x5a;
    const failed: unknown[] = [];
    const onRejection = (e: unknown) => failed.push(e);
    process.on("unhandledRejection", onRejection);
    try {
      const hurt = new ArchiveData(await open(damaged), manifest);
      await read(hurt, 1);
      await read(hurt, 2); // 3 is read ahead, and fails
      await new Promise((resolve) => setTimeout(resolve, 50));
      await expect(2, await read(hurt, 2)); // the group before still reads
      // Damaged deflate data is refused as invalid or as ending early, depending on the damage.
      const refused = (e: unknown) => isIbtError(e, "CORRUPT") || isIbtError(e, "TRUNCATED");
      await assert.rejects(read(hurt, 3), refused);
      await assert.rejects(read(hurt, 3), refused, "and again, read anew");
      await expect(4, await read(hurt, 4)); // the group after reads
    } finally {
      process.off("unhandledRejection", onRejection);
    }
    assert.deepEqual(failed, [], "no rejection went unhandled");
  });
}

// The hostile cases: a base tree, a new tree with small created and updated files, and the
// valid v2 archive between them (small groups, so there are several with several spans each).
async function base(): Promise<MemoryFs> {
  const fs = new MemoryFs();
  const next = rng(21);
  for (let i = 0; i < 20; i++) await put(fs, `d/f${String(i).padStart(2, "0")}.txt`, textBytes(next, 3000));
  return fs;
}

async function validArchive(): Promise<{ manifest: Manifest; members: Map<string, Uint8Array>; result: string }> {
  const old = await base();
  const oldIndex = await DirIndex.build(old);
  const now = await base();
  const next = rng(22);
  for (let i = 0; i < 20; i += 2) {
    const data = (await now.read(`d/f${String(i).padStart(2, "0")}.txt`, 0, 1 << 20)).slice();
    data.set(enc("EDITED"), 1500);
    await now.writeFile(`d/f${String(i).padStart(2, "0")}.txt`, data);
  }
  for (let i = 0; i < 10; i++) await put(now, `n/g${i}.txt`, textBytes(next, 2000));
  await put(now, "n/large.txt", textBytes(next, 300_000));
  const diff = new DiffIndex(await DirIndex.build(now), oldIndex).compute();
  const out = new MemoryFs();
  const stats = await new DiffData(diff, { source: now, groupSize: 8192 }).createArchive(out, "a.zip");
  assert.ok(stats.groups >= 3 && stats.deltas >= 5, JSON.stringify(stats));
  const reader = await openArchive(out, "a.zip");
  const members = new Map<string, Uint8Array>();
  for (const e of reader.entries()) members.set(e.name, await reader.bytes(e));
  assert.ok(members.has("new/n/large.txt"), "a large file is a member of its own");
  return { manifest: parseManifest(members.get(MANIFEST_NAME)!), members, result: (await DirIndex.build(now, { signatures: false })).id };
}

async function zipOf(manifest: unknown, members: Map<string, Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const zip = new ZipWriter((c) => {
    parts.push(c.slice());
  });
  await zip.add(MANIFEST_NAME, enc(JSON.stringify(manifest)));
  for (const [name, data] of members) if (name !== MANIFEST_NAME) await zip.add(name, data);
  await zip.finish();
  return Buffer.concat(parts);
}

const readerOf = (bytes: Uint8Array) => ZipReader.from({ size: bytes.length, read: async (o, n) => bytes.subarray(o, o + n) });

/** Rewrites the 32-bit uncompressed size of `name` in its local header and central record. */
function declareSize(bytes: Uint8Array, name: string, size: number): Uint8Array {
  const out = bytes.slice();
  const view = new DataView(out.buffer);
  const nameBytes = enc(name);
  const at = (i: number, headerLen: number) => nameBytes.every((b, k) => out[i + headerLen + k] === b);
  let patched = 0;
  for (let i = 0; i + 46 < out.length; i++) {
    const sig = view.getUint32(i, true);
    if (sig === 0x04034b50 && view.getUint16(i + 26, true) === nameBytes.length && at(i, 30)) (view.setUint32(i + 22, size, true), patched++);
    if (sig === 0x02014b50 && view.getUint16(i + 28, true) === nameBytes.length && at(i, 46)) (view.setUint32(i + 24, size, true), patched++);
  }
  assert.equal(patched, 2);
  return out;
}

test("hostile v2 archives (cut groups, lying spans, overlaps, bombs) are refused and change nothing", async () => {
  const { manifest, members, result } = await validArchive();
  const grouped = manifest.changes.filter((c) => c.member?.startsWith("group/"));
  const firstGroup = grouped[0]!.member!;
  const [a, b] = grouped.filter((c) => c.member === firstGroup);
  const last = grouped.filter((c) => c.member === firstGroup).at(-1)!;
  assert.ok(a && b && last !== a, "the first group holds two spans");
  const edit = (f: (m: Manifest) => void): Manifest => {
    const m = structuredClone(manifest);
    f(m);
    return m;
  };
  const byPath = (m: Manifest, path: string) => m.changes.find((c) => c.path === path)!;
  const withMember = (name: string, data: Uint8Array) => new Map([...members, [name, data]]);

  const cases: [string, () => Promise<Uint8Array>][] = [
    ["span past the group's end", () => zipOf(edit((m) => (byPath(m, last.path).length! += 1 << 20)), members)],
    ["lying offset (one block on)", () => zipOf(edit((m) => (byPath(m, last.path).offset! += 512)), members)],
    ["lying length", () => zipOf(edit((m) => (byPath(m, a.path).length! -= 1)), members)],
    ["offset off a block boundary", () => zipOf(edit((m) => (byPath(m, a.path).offset! += 1)), members)],
    ["overlapping spans", () => zipOf(edit((m) => Object.assign(byPath(m, b.path), { offset: a.offset, length: a.length })), members)],
    [
      "out-of-order spans",
      () => zipOf(edit((m) => (Object.assign(byPath(m, a.path), { offset: b.offset, length: b.length }), Object.assign(byPath(m, b.path), { offset: a.offset, length: a.length }))), members),
    ],
    ["group cut short", () => zipOf(manifest, withMember(firstGroup, members.get(firstGroup)!.subarray(0, b.offset! - 100)))],
    ["group bomb: declares more than a group may hold", () => zipOf(manifest, withMember(firstGroup, new Uint8Array(17 << 20)))],
    [
      "group bomb: inflates past its declared size",
      async () => declareSize(await zipOf(manifest, members), firstGroup, members.get(firstGroup)!.length - 512),
    ],
    ["a span on a member of its own", () => zipOf(edit((m) => Object.assign(byPath(m, "n/large.txt"), { offset: 512, length: 1 })), members)],
    ["a grouped change moved to a member of its own", () => zipOf(edit((m) => (byPath(m, a.path).member = "new/n/large.txt")), members)],
    ["a grouped span in a version 1 manifest", () => zipOf(edit((m) => (m.version = 1)), members)],
    ["a group with another group's bytes", () => zipOf(manifest, withMember(firstGroup, members.get(grouped.at(-1)!.member!)!))],
  ];
  for (const [label, make] of cases) {
    const target = await base();
    const before = (await DirIndex.build(target, { signatures: false })).id;
    await assert.rejects(applyDiff(target, await readerOf(await make())), (e) => isIbtError(e, "CORRUPT"), label);
    assert.equal((await DirIndex.build(target, { signatures: false })).id, before, `${label}: target unchanged`);
    assert.ok(!(await target.list("")).some((n) => n.startsWith(".ibt-staging")), `${label}: no staging left`);
  }

  // The same archive, rebuilt untouched, applies: the cases failed for their reason.
  const target = await base();
  await applyDiff(target, await readerOf(await zipOf(manifest, members)));
  assert.equal((await DirIndex.build(target, { signatures: false })).id, result);
});

test("format 1 is still written on request, without groups, and applies", async () => {
  const old = await base();
  const now = await base();
  await now.writeFile("d/f03.txt", enc("changed"));
  await put(now, "n/new.txt", enc("new"));
  const diff = new DiffIndex(await DirIndex.build(now), await DirIndex.build(old)).compute();
  const out = new MemoryFs();
  const stats = await new DiffData(diff, { source: now, format: 1 }).createArchive(out, "v1.zip");
  assert.equal(stats.groups, 0);
  const reader = await openArchive(out, "v1.zip");
  assert.equal(parseManifest(await reader.bytes(MANIFEST_NAME)).version, 1);
  assert.deepEqual(reader.entries().map((e) => e.name).sort(), [MANIFEST_NAME, "new/d/f03.txt", "new/n/new.txt"]);
  await applyDiff(old, reader);
  assert.equal((await DirIndex.build(old, { signatures: false })).id, (await DirIndex.build(now, { signatures: false })).id);
});
