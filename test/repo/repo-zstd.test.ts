/**
 * Repositories whose archives hold zstd groups: a chain that mixes snapshots written with zstd
 * (node:zlib's codec) and without it (fflate, as browsers and workerd write) restores every
 * snapshot exactly, whole and by path, through node:zlib's zstd and through the JavaScript
 * decoder, and verifies with its data read; an independent reader (libarchive's bsdtar, then tar)
 * extracts a zstd archive's group to the files that were backed up.
 *
 * Writing zstd needs node:zlib's zstd (Node 22.15 and later): on Node 20 these tests say so and
 * skip; `npm test` runs them on Node 24.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MemoryFs, MemoryStore, Repository, ZipReader, fflateDeflate, fflateInflate, type RepositoryOptions } from "../../src/index.js";
import { nodeDeflate, nodeInflate, nodeRepositoryOptions } from "../../src/node/index.js";
import { ok, rng, tempDir, textBytes } from "../support/helpers.js";
import { treeId } from "../support/repo-kit.js";

const skip = nodeDeflate.zstd === undefined ? "node:zlib has no zstd before Node 22.15 (npm test runs this on Node 24)" : false;

/** A tree with small files, files between 256 KiB and 8 MiB (grouped only with zstd), and a near-copy of one. */
function tree(): MemoryFs {
  const big = textBytes(rng(3), 1_200_000);
  return MemoryFs.from({
    "src/a.js": textBytes(rng(1), 4_000),
    "src/b.js": textBytes(rng(2), 30_000),
    "dist/bundle.cjs": big,
    "dist/bundle.mjs": big.map((b, i) => (i % 50_000 === 0 ? 0x2a : b)),
    "empty.txt": "",
  });
}

async function edit(fs: MemoryFs, step: number): Promise<void> {
  const big = await fs.read("dist/bundle.cjs", 0, 1 << 22);
  big.set(textBytes(rng(100 + step), 2_000), 10_000 * step);
  await fs.writeFile("dist/bundle.cjs", big);
  await fs.writeFile(`src/new${step}.js`, textBytes(rng(200 + step), 3_000));
}

const DECODERS: [string, Partial<RepositoryOptions>][] = [
  ["node:zlib's zstd", { inflate: nodeInflate }],
  ["the JavaScript decoder", { inflate: fflateInflate }],
];

test("a chain of zstd and deflate snapshots restores every snapshot, whole and by path, with either decoder, and verifies", { skip }, async () => {
  const store = new MemoryStore();
  const source = tree();
  const writers: RepositoryOptions[] = [nodeRepositoryOptions({ fullShare: Infinity }), { fullShare: Infinity, deflate: fflateDeflate }];
  await Repository.init(store, writers[0]);
  const snaps: { id: string; tree: string; bundle: Uint8Array }[] = [];
  for (let step = 0; step < 4; step++) {
    if (step > 0) await edit(source, step);
    const repo = await Repository.open(store, writers[step % 2]);
    const snap = await repo.backup(source);
    assert.equal(snap.kind, step === 0 ? "full" : "incremental");
    snaps.push({ id: snap.id, tree: await treeId(source), bundle: await source.read("dist/bundle.cjs", 0, 1 << 22) });
  }
  const methods = await groupMethods(store, snaps.map((s) => s.id));
  assert.deepEqual(methods, ["zstd", "deflate", "zstd", "deflate"], "the groups' methods follow the writer");
  for (const [name, options] of DECODERS) {
    const repo = await Repository.open(store, { ...nodeRepositoryOptions(), ...options });
    for (const s of snaps) {
      const out = new MemoryFs();
      await repo.restore(s.id, out);
      assert.equal(await treeId(out), s.tree, `${name}: snapshot ${s.id}`);
      const one = new MemoryFs();
      await repo.restore(s.id, one, { paths: ["dist/bundle.cjs"] });
      assert.deepEqual(await one.read("dist/bundle.cjs", 0, 1 << 22), s.bundle, `${name}: one path of ${s.id}`);
    }
    assert.equal((await repo.verify({ readData: true })).ok, true, name);
  }
});

/** Each archive's group method, read from its central directory's method field by our reader. */
async function groupMethods(store: MemoryStore, ids: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const id of ids) {
    const bytes = await store.load(`data/${id}.zip`);
    const reader = await ZipReader.from({ size: bytes.length, read: async (o, n) => bytes.slice(o, o + n) });
    const group = reader.get("group/000001.tar")!;
    const method = Number(group.method);
    out.push(method === 93 ? "zstd" : method === 8 ? "deflate" : String(method));
  }
  return out;
}

test("bsdtar extracts a zstd archive, and its group is a tar of the files backed up", { skip }, async () => {
  const source = tree();
  const repo = await Repository.init(new MemoryStore(), nodeRepositoryOptions());
  const snap = await repo.backup(source);
  const chunks: Uint8Array[] = [];
  for await (const c of repo.archiveChunks(snap.id)) chunks.push(c);
  const dir = tempDir();
  const zip = join(dir, "full.zip");
  writeFileSync(zip, Buffer.concat(chunks));
  assert.match(ok("unzip", ["-v", zip]).toString(), /Unk:093\s.*group\/000001\.tar/, "the group is a zstd member");
  const out = join(dir, "out");
  mkdirSync(out);
  ok("bsdtar", ["-xf", zip, "-C", out]);
  ok("tar", ["-xf", join(out, "group", "000001.tar"), "-C", out]);
  for (const path of ["src/a.js", "src/b.js", "dist/bundle.cjs", "dist/bundle.mjs"]) {
    assert.deepEqual(new Uint8Array(readFileSync(join(out, "new", path))), await source.read(path, 0, 1 << 22), path);
  }
});
