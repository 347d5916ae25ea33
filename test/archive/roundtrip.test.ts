import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { DirIndex, DiffIndex, DiffData, applyDiff, openArchive, MemoryFs, isIbtError, type FsAdapter } from "../../src/index.js";
import { NodeFs } from "../../src/node/index.js";
import { tempDir, rng, randomBytes, equalBytes } from "../support/helpers.js";
import { assertSameAsReference, directoryRoundTrip, makeV1, makeV2 } from "../shared/roundtrip-cases.js";


function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** Every file under `dir`, relative to it. */
function listFiles(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const d of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${d.name}` : d.name;
    if (d.isDirectory()) out.push(...listFiles(dir, rel));
    else out.push(rel);
  }
  return out;
}

async function snapshot(fs: FsAdapter): Promise<Map<string, string>> {
  const index = await DirIndex.build(fs, { signatures: false });
  return new Map([...index.entries.values()].map((e) => [e.path, JSON.stringify([e.type, e.size, e.mode, e.mtimeMs, e.hash, e.target])]));
}

test("round trip on disk: index, diff, archive, apply gives exactly the new tree (the suite Deno and Chromium run too)", async () => {
  const root = tempDir();
  for (const d of ["source", "target", "store"]) mkdirSync(join(root, d));
  const store = new NodeFs(join(root, "store"));
  const zip = join(root, "store", "diff.zip");
  const report = await directoryRoundTrip({
    source: new NodeFs(join(root, "source")),
    target: new NodeFs(join(root, "target")),
    store,
    // Any unzip accepts the archive, `tar x` unpacks its groups, and rdiff turns the target's v1
    // files into the source's v2, whether their delta is a member or inside a group.
    beforeApply: async () => {
      sh("unzip", ["-tq", zip]);
      const entries = (await openArchive(store, "diff.zip")).entries();
      const deltas = entries.filter((e) => e.name.startsWith("delta/"));
      assert.ok(deltas.length >= 1, "the big file's delta is a member of its own");
      const groups = entries.filter((e) => e.name.startsWith("group/"));
      assert.ok(groups.length >= 1, "small files went into groups");
      const unpacked = join(root, "unpacked");
      mkdirSync(unpacked);
      for (const g of groups) sh("sh", ["-c", `unzip -p '${zip}' '${g.name}' | tar xf - -C '${unpacked}'`]);
      for (const file of listFiles(join(unpacked, "new"))) {
        assert.ok(equalBytes(readFileSync(join(unpacked, "new", file)), readFileSync(join(root, "source", file))), `tar x of new/${file}`);
      }
      const grouped = listFiles(join(unpacked, "delta"));
      assert.ok(grouped.length >= 1, "some small file went as a delta in a group");
      const patches = [
        ...deltas.map((e) => ({ file: e.name.slice("delta/".length), delta: spawnSync("unzip", ["-p", zip, e.name]).stdout })),
        ...grouped.map((file) => ({ file, delta: readFileSync(join(unpacked, "delta", file)) })),
      ];
      for (const { file, delta } of patches) {
        writeFileSync(join(root, "x.delta"), delta);
        sh("rdiff", ["-f", "patch", join(root, "target", file), join(root, "x.delta"), join(root, "x.out")]);
        assert.ok(equalBytes(readFileSync(join(root, "x.out")), readFileSync(join(root, "source", file))), `rdiff patch of ${file}`);
      }
    },
  });

  // The same round trip in memory gives the same indexes and the same diff: what Deno and the
  // browser suite are compared against.
  const memory = await directoryRoundTrip({ source: new MemoryFs(), target: new MemoryFs(), store: new MemoryFs() });
  assertSameAsReference(report.fingerprint, memory.fingerprint);
});

test("a wrong base or a damaged archive is refused and the target is left exactly as it was", async () => {
  const root = tempDir();
  const v1 = join(root, "v1");
  const v2 = join(root, "v2");
  mkdirSync(v1);
  await makeV1(new NodeFs(v1));
  sh("cp", ["-a", v1, v2]);
  await makeV2(new NodeFs(v2));
  const store = new NodeFs(root);
  const diff = new DiffIndex(await DirIndex.build(new NodeFs(v2)), await DirIndex.build(new NodeFs(v1))).compute();
  await new DiffData(diff, { source: new NodeFs(v2) }).createArchive(store, "diff.zip");

  // Wrong base: one file of the copy differs.
  const wrong = join(root, "wrong");
  sh("cp", ["-a", v1, wrong]);
  writeFileSync(join(wrong, "README.md"), "# not the base\n");
  const before = await snapshot(new NodeFs(wrong));
  await assert.rejects(applyDiff(new NodeFs(wrong), await openArchive(store, "diff.zip")), (e) => isIbtError(e, "BASE_MISMATCH"));
  assert.deepEqual(await snapshot(new NodeFs(wrong)), before);
  assert.ok(!readdirSync(wrong).some((n) => n.startsWith(".ibt-staging")));

  // Damaged archive: flip bytes inside the big file's delta, and inside a group.
  const bytes = readFileSync(join(root, "diff.zip"));
  const reader = await openArchive(store, "diff.zip");
  const member = reader.get("delta/src/nested/big.bin")!;
  const group = reader.get("group/000001.tar")!;
  for (const at of [member.offset + 200, member.offset + Math.floor(member.compressedSize / 2) + 100, group.offset + Math.floor(group.compressedSize / 2) + 60]) {
    const bad = Buffer.from(bytes);
    bad[at] = bad[at]! ^ 0x55;
    writeFileSync(join(root, "bad.zip"), bad);
    const copy = join(root, `copy-${at}`);
    sh("cp", ["-a", v1, copy]);
    const was = await snapshot(new NodeFs(copy));
    await assert.rejects(applyDiff(new NodeFs(copy), await openArchive(store, "bad.zip")), (e) => isIbtError(e));
    assert.deepEqual(await snapshot(new NodeFs(copy)), was, `flip at ${at}`);
    assert.ok(!readdirSync(copy).some((n) => n.startsWith(".ibt-staging")));
  }
});

test("round trip in memory, the adapter tests and edge scripts use", async () => {
  const a = new MemoryFs();
  const enc = (s: string) => new TextEncoder().encode(s);
  await a.mkdir("x/y", { recursive: true });
  await a.writeFile("x/y/z.txt", enc("one"));
  await a.writeFile("keep.bin", randomBytes(rng(3), 100_000));
  await a.symlink("x/y/z.txt", "link");
  const old = await DirIndex.build(a);
  const b = new MemoryFs();
  for (const e of old.entries.values()) {
    if (e.type === "dir") await b.mkdir(e.path);
    else if (e.type === "symlink") await b.symlink(e.target!, e.path);
    else await b.writeFile(e.path, await a.read(e.path, 0, e.size));
  }
  for (const e of old.entries.values()) {
    if (e.type !== "symlink") await b.chmod(e.path, e.mode);
  }
  for (const e of [...old.entries.values()].reverse()) await b.utimes(e.path, e.mtimeMs);
  assert.equal((await DirIndex.build(b)).id, old.id, "copy equals the original");
  const big = (await a.read("keep.bin", 0, 100_000)).slice();
  big[500] ^= 1;
  await a.writeFile("keep.bin", big);
  await a.remove("x", { recursive: true });
  await a.mkdir("new");
  const now = await DirIndex.build(a);
  const store = new MemoryFs();
  await new DiffData(new DiffIndex(now, old).compute(), { source: a }).createArchive(store, "d.zip");
  await applyDiff(b, await openArchive(store, "d.zip"));
  assert.equal((await DirIndex.build(b)).id, now.id);
});

test("with a content cache, files read to index are not read again to archive", async () => {
  const { ContentCache } = await import("../../src/index.js");
  const fs = new MemoryFs();
  const enc = (s: string) => new TextEncoder().encode(s);
  for (let i = 0; i < 20; i++) await fs.writeFile(`f${i}`, enc(`version one of ${i}`));
  const old = await DirIndex.build(fs);
  for (let i = 0; i < 20; i += 2) await fs.writeFile(`f${i}`, enc(`version two of ${i}, longer`));
  await fs.writeFile("new", randomBytes(rng(4), 5000));
  const cache = new ContentCache();
  const now = await DirIndex.build(fs, { previous: old, cache });
  await fs.writeFile("f0", enc("changed again after the walk")); // cached: the archive keeps what was indexed
  let reads = 0;
  const counted = Object.create(fs) as FsAdapter;
  counted.readStream = (p, options) => {
    reads++;
    return fs.readStream(p, options);
  };
  const store = new MemoryFs();
  const stats = await new DiffData(new DiffIndex(now, old).compute(), { source: counted, cache }).createArchive(store, "d.zip");
  // The archive is made from exactly the bytes the index hashed, whatever happens to the files.
  assert.equal(reads, 0, "no file read twice");
  assert.equal(stats.wholeFiles + stats.deltas, 11);
  const target = new MemoryFs();
  for (let i = 0; i < 20; i++) await target.writeFile(`f${i}`, enc(`version one of ${i}`));
  for (const e of old.entries.values()) await target.utimes(e.path, e.mtimeMs);
  await applyDiff(target, await openArchive(store, "d.zip"));
  const got = await DirIndex.build(target);
  for (const [path, e] of now.entries) assert.equal(got.get(path)?.hash, e.hash, path);
});
