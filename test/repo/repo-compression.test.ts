import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { MemoryFs, MemoryStore, Repository, isIbtError, type Compression, type RepositoryOptions } from "../../src/index.js";
import { nodeDeflate, nodeRepositoryOptions } from "../../src/node/index.js";
import { ok, randomBytes, rng, tempDir } from "../support/helpers.js";
import { treeId } from "../support/repo-kit.js";

/** Word-like text that deflates well, different for each seed. */
function text(seed: number, bytes: number): string {
  const next = rng(seed);
  const words = ["backup", "chain", "delta", "index", "group", "member", "restore", "snapshot", "archive", "verify"];
  let s = "";
  while (s.length < bytes) s += `${words[Math.floor(next() * words.length)]}${next() < 0.1 ? "\n" : " "}`;
  return s.slice(0, bytes);
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Small files that go into a group, a member of its own (over 1 MiB: streamed), and bytes that do not shrink. */
function source(): MemoryFs {
  return MemoryFs.from({
    "small/a.txt": text(1, 3_000),
    "small/b.txt": text(2, 40_000),
    "large.txt": text(3, 1_500_000),
    "noise.bin": randomBytes(rng(4), 300_000),
  });
}

/**
 * Each member of a snapshot's archive: its method as `unzip -v` names it ("Stored", "Defl:N",
 * "Unk:093" for zstd), its length and stored size. Info-ZIP cannot test zstd members, so an
 * archive that has them is checked by extracting it whole with libarchive's bsdtar instead.
 */
async function methods(repo: Repository, id: string): Promise<Map<string, { method: string; length: number; size: number }>> {
  const chunks: Uint8Array[] = [];
  for await (const c of repo.archiveChunks(id)) chunks.push(c);
  const file = join(tempDir(), `${id}.zip`);
  writeFileSync(file, Buffer.concat(chunks));
  const out = new Map<string, { method: string; length: number; size: number }>();
  for (const line of ok("unzip", ["-v", file]).toString().split("\n")) {
    const m = /^\s*(\d+)\s+(Stored|Defl:\w|Unk:093)\s+(\d+)\s.*\s(\S+)$/.exec(line);
    if (m) out.set(m[4]!, { method: m[2]!, length: Number(m[1]), size: Number(m[3]) });
  }
  if ([...out.values()].some((m) => m.method === "Unk:093")) ok("bsdtar", ["-xf", file, "-C", tempDir()]);
  else ok("unzip", ["-tq", file]);
  return out;
}

/**
 * The members that hold file data, by method. The manifest is compressed in every mode: zstd
 * where the archive's groups are, else deflated.
 */
async function dataMethods(repo: Repository, id: string, zstd = false): Promise<[string, string][]> {
  const all = await methods(repo, id);
  const manifest = all.get("ibt-manifest.json")!;
  // At the default level whatever the mode: stored or at level 0 its spill would bound nothing.
  const method = zstd ? manifest.method === "Unk:093" : manifest.method.startsWith("Defl:");
  assert.ok(method && manifest.size < manifest.length / 2, `the manifest is ${zstd ? "zstd" : "deflated"}: ${JSON.stringify(manifest)}`);
  return [...all].filter(([name]) => name !== "ibt-manifest.json").map(([name, m]): [string, string] => [name, m.method]).sort();
}

/** Whether a member stores its bytes as they are in `mode`: everything when off, else what does not shrink. */
const storedIn = (mode: Compression, name: string): boolean => mode === "off" || name === "new/noise.bin";

/** Whether the archives of `mode` are zstd with this codec: groups then hold every file of these trees. */
const zstdIn = (codec: string, mode: Compression): boolean => codec === "node:zlib" && nodeDeflate.zstd !== undefined && mode !== "off" && mode !== "deflate";

for (const [codec, options] of [
  ["fflate", {}],
  ["node:zlib", nodeRepositoryOptions()],
] as [string, RepositoryOptions][]) {
  test(`compression (${codec}): off stores file data, fastest, auto and max compress at their levels, in fulls, incrementals and dry runs; each restores exactly`, async () => {
    const stored: Record<string, number> = {};
    for (const mode of ["off", "fastest", "auto", "max", "deflate"] as Compression[]) {
      const tree = source();
      const wants = [await treeId(tree)];
      const repo = await Repository.init(new MemoryStore(), options);
      const dry = await repo.backup(tree, { compression: mode, dryRun: true });
      const full = await repo.backup(tree, { compression: mode });
      // The manifest holds a creation time, whose deflated size may differ by a few bytes.
      assert.ok(Math.abs(dry.bytesStored - full.bytesStored) < 16, `${mode}: the dry run counts ${dry.bytesStored} of ${full.bytesStored}`);
      stored[mode] = full.bytesStored;
      const data = await dataMethods(repo, full.id, zstdIn(codec, mode));
      if (zstdIn(codec, mode)) {
        assert.deepEqual(data, [["group/000001.tar", "Unk:093"]], `${mode}: one zstd group holds every file`);
      } else {
        assert.deepEqual(data.map(([name]) => name), ["group/000001.tar", "new/large.txt", "new/noise.bin"], `${mode}: a group and the two larger files`);
        for (const [name, method] of data) assert.equal(method === "Stored", storedIn(mode, name), `${mode}: ${name} is ${method}`);
      }

      // An incremental: a delta of its own, a new small file in a group, a new file of its own.
      await tree.writeFile("large.txt", utf8(text(3, 1_500_000).replace("backup", "BACKUP")));
      await tree.writeFile("small/c.txt", utf8(text(5, 2_000)));
      await tree.writeFile("medium.txt", utf8(text(6, 400_000)));
      wants.push(await treeId(tree));
      const inc = await repo.backup(tree, { compression: mode });
      assert.equal(inc.kind, "incremental");
      const incData = await dataMethods(repo, inc.id, zstdIn(codec, mode));
      if (zstdIn(codec, mode)) assert.deepEqual(incData, [["group/000001.tar", "Unk:093"]], `${mode}: the incremental's one zstd group`);
      else assert.deepEqual(incData.map(([name]) => name), ["delta/large.txt", "group/000001.tar", "new/medium.txt"], `${mode}: the incremental's members`);
      for (const [name, method] of zstdIn(codec, mode) ? [] : incData) {
        // The delta is a few hundred bytes of commands and literals, which need not shrink.
        if (name !== "delta/large.txt" || mode === "off") assert.equal(method === "Stored", storedIn(mode, name), `${mode}: incremental ${name} is ${method}`);
      }

      for (const [i, snap] of [full, inc].entries()) {
        const out = new MemoryFs();
        await repo.restore(snap.id, out);
        assert.equal(await treeId(out), wants[i], `${mode} restores the ${snap.kind}`);
      }
      assert.equal((await repo.verify({ readData: true })).ok, true, `${mode} verifies`);
    }
    const fileBytes = 3_000 + 40_000 + 1_500_000 + 300_000;
    assert.ok(stored.off! > fileBytes, `off stores every byte: ${stored.off} > ${fileBytes}`);
    assert.ok(stored.fastest! < stored.off! * 0.6, `fastest compresses: ${JSON.stringify(stored)}`);
    assert.ok(stored.auto! < stored.fastest!, `auto is smaller than fastest: ${JSON.stringify(stored)}`);
    assert.ok(stored.max! !== stored.auto && stored.max! <= stored.auto! * 1.01, `max compresses at another level, no larger: ${JSON.stringify(stored)}`);
    // deflate is auto without zstd: the same archive where there is none (the manifest's time aside).
    if (!zstdIn(codec, "auto")) assert.ok(Math.abs(stored.deflate! - stored.auto!) < 16, `deflate is auto without zstd: ${JSON.stringify(stored)}`);
    else assert.notEqual(stored.deflate, stored.auto, `deflate is not auto where there is zstd: ${JSON.stringify(stored)}`);
  });
}

test("compression: an incremental that passes its budget is made again as a full in the same mode", async () => {
  const tree = source();
  const repo = await Repository.init(new MemoryStore(), { fullShare: 0.05 });
  const first = await repo.backup(tree, { compression: "off" });
  // Every file rewritten: the incremental stores them whole, past 5% of the full.
  for (const [i, name] of ["small/a.txt", "small/b.txt", "large.txt"].entries()) await tree.writeFile(name, utf8(text(20 + i, 60_000 + i)));
  const again = await repo.backup(tree, { compression: "off" });
  assert.equal(again.kind, "full", "the incremental was abandoned for a full");
  assert.notEqual(again.id, first.id);
  for (const [name, method] of await dataMethods(repo, again.id)) assert.equal(method, "Stored", `${name} in the full made instead`);
  const out = new MemoryFs();
  await repo.restore(again.id, out);
  assert.equal(await treeId(out), await treeId(tree));
});

test("compression: one chain mixes modes, every snapshot restores and verifies; an unknown mode is BAD_ARGUMENT and writes nothing", async () => {
  const tree = source();
  const store = new MemoryStore();
  const repo = await Repository.init(store, { fullShare: Infinity });
  const snaps: { id: string; tree: string; kind: string }[] = [];
  const modes: Compression[] = ["off", "max", "fastest", "auto"];
  for (const [i, mode] of modes.entries()) {
    await tree.writeFile(`small/step${i}.txt`, utf8(text(10 + i, 5_000)));
    await tree.writeFile("large.txt", utf8(text(3, 1_500_000).replace(/backup/g, `step${i}`)));
    const snap = await repo.backup(tree, { compression: mode });
    snaps.push({ id: snap.id, tree: await treeId(tree), kind: snap.kind });
  }
  assert.deepEqual(snaps.map((s) => s.kind), ["full", "incremental", "incremental", "incremental"]);
  for (const s of snaps) {
    const out = new MemoryFs();
    await repo.restore(s.id, out);
    assert.equal(await treeId(out), s.tree, `snapshot ${s.id}`);
  }
  assert.equal((await repo.verify({ readData: true })).ok, true);

  const names = async (): Promise<string[]> => {
    const out: string[] = [];
    for await (const o of store.list("")) out.push(o.name);
    return out.sort();
  };
  const before = await names();
  await assert.rejects(repo.backup(tree, { compression: "zstd" as Compression }), (e) => isIbtError(e, "BAD_ARGUMENT") && /compression "zstd"/.test(e.message));
  assert.deepEqual(await names(), before, "nothing written, no lock left");
  assert.equal((await repo.snapshots()).length, 4);
});
