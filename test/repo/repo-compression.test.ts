import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { MemoryFs, MemoryStore, Repository, isIbtError, type Compression, type RepositoryOptions } from "../../src/index.js";
import { nodeRepositoryOptions } from "../../src/node/index.js";
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

/** Each member of a snapshot's archive and its method as `unzip -v` names it ("Stored", "Defl:N"). */
async function methods(repo: Repository, id: string): Promise<Map<string, string>> {
  const chunks: Uint8Array[] = [];
  for await (const c of repo.archiveChunks(id)) chunks.push(c);
  const file = join(tempDir(), `${id}.zip`);
  writeFileSync(file, Buffer.concat(chunks));
  ok("unzip", ["-tq", file]);
  const out = new Map<string, string>();
  for (const line of ok("unzip", ["-v", file]).toString().split("\n")) {
    const m = /^\s*\d+\s+(Stored|Defl:\w)\s+.*\s(\S+)$/.exec(line);
    if (m) out.set(m[2]!, m[1]!);
  }
  return out;
}

for (const [codec, options] of [
  ["fflate", {}],
  ["node:zlib", nodeRepositoryOptions()],
] as [string, RepositoryOptions][]) {
  test(`compression (${codec}): off stores every file member, fast, auto and max deflate at their levels; each restores exactly`, async () => {
    const tree = source();
    const want = await treeId(tree);
    const stored: Record<string, number> = {};
    for (const mode of ["off", "fast", "auto", "max"] as Compression[]) {
      const repo = await Repository.init(new MemoryStore(), options);
      const snap = await repo.backup(tree, { compression: mode });
      stored[mode] = snap.bytesStored;
      const members = await methods(repo, snap.id);
      const data = [...members].filter(([name]) => name !== "ibt-manifest.json");
      assert.deepEqual(data.map(([name]) => name).sort(), ["group/000001.tar", "new/large.txt", "new/noise.bin"], `${mode}: a group and the two larger files`);
      for (const [name, method] of data) {
        // What does not shrink is stored whatever the mode.
        if (mode === "off" || name === "new/noise.bin") assert.equal(method, "Stored", `${mode}: ${name}`);
        else assert.match(method, /^Defl:/, `${mode}: ${name}`);
      }
      const out = new MemoryFs();
      await repo.restore(snap.id, out);
      assert.equal(await treeId(out), want, `${mode} restores the tree`);
      assert.equal((await repo.verify({ readData: true })).ok, true, `${mode} verifies`);
    }
    const fileBytes = 3_000 + 40_000 + 1_500_000 + 300_000;
    assert.ok(stored.off! > fileBytes, `off stores every byte: ${stored.off} > ${fileBytes}`);
    assert.ok(stored.fast! < stored.off! * 0.6, `fast deflates: ${JSON.stringify(stored)}`);
    assert.ok(stored.auto! < stored.fast!, `auto is smaller than fast: ${JSON.stringify(stored)}`);
    assert.ok(stored.max! !== stored.auto && stored.max! <= stored.auto! * 1.01, `max is deflated at another level, no larger: ${JSON.stringify(stored)}`);
  });
}

test("compression: one chain mixes modes, every snapshot restores and verifies; an unknown mode is BAD_ARGUMENT and writes nothing", async () => {
  const tree = source();
  const store = new MemoryStore();
  const repo = await Repository.init(store, { fullShare: Infinity });
  const snaps: { id: string; tree: string; kind: string }[] = [];
  const modes: Compression[] = ["off", "max", "fast", "auto"];
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
