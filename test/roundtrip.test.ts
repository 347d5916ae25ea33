import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync, symlinkSync, utimesSync, chmodSync, readFileSync, rmSync, renameSync, lutimesSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { DirIndex, DiffIndex, DiffData, applyDiff, openArchive, saveIndex, loadIndex, MemoryFs, isIbtError, summarize, type FsAdapter } from "../src/index.js";
import { NodeFs } from "../src/node/index.js";
import { tempDir, rng, randomBytes, textBytes, equalBytes } from "./helpers.js";

const MiB = 1 << 20;

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** Version 1 of a fixture tree, on disk. */
function makeV1(dir: string): void {
  const next = rng(100);
  mkdirSync(join(dir, "docs/empty dir"), { recursive: true });
  mkdirSync(join(dir, "src/nested/deeper/deepest"), { recursive: true });
  mkdirSync(join(dir, "old subtree/a/b"), { recursive: true });
  mkdirSync(join(dir, "many"), { recursive: true });
  writeFileSync(join(dir, "README.md"), "# fixture\n");
  writeFileSync(join(dir, "docs/naïve café — notes.txt"), textBytes(next, 4000));
  writeFileSync(join(dir, "docs/日本語 ファイル.md"), textBytes(next, 3000));
  writeFileSync(join(dir, "src/empty.txt"), "");
  writeFileSync(join(dir, "src/nested/big.bin"), randomBytes(next, 3 * MiB + 17));
  writeFileSync(join(dir, "src/run.sh"), "#!/bin/sh\necho hi\n");
  chmodSync(join(dir, "src/run.sh"), 0o755);
  writeFileSync(join(dir, "old subtree/a/b/file"), "going away");
  writeFileSync(join(dir, "old subtree/a/x"), "also going");
  writeFileSync(join(dir, "to-move.txt"), textBytes(next, 2000));
  writeFileSync(join(dir, "type-change"), "a file that becomes a directory");
  for (let i = 0; i < 2000; i++) writeFileSync(join(dir, "many", `f${i}.txt`), `small file ${i}\n`);
  symlinkSync("../README.md", join(dir, "docs/readme-link"));
  symlinkSync("nested/big.bin", join(dir, "src/big-link"));
  let t = 1_500_000_000;
  for (const p of ["README.md", "src/run.sh", "docs/empty dir", "src/nested/deeper/deepest"]) utimesSync(join(dir, p), t, t++);
}

/** Version 2: edits, adds, deletes, moves, mode and mtime changes, symlinks, type changes. */
function makeV2(dir: string): void {
  const next = rng(200);
  const big = readFileSync(join(dir, "src/nested/big.bin"));
  for (let k = 0; k < 10; k++) big.set(randomBytes(next, 50), Math.floor(next() * (big.length - 50)));
  writeFileSync(join(dir, "src/nested/big.bin"), big);
  writeFileSync(join(dir, "README.md"), "# fixture, version 2\n");
  rmSync(join(dir, "old subtree"), { recursive: true });
  renameSync(join(dir, "to-move.txt"), join(dir, "docs/moved here.txt"));
  writeFileSync(join(dir, "docs/copy of run.sh"), readFileSync(join(dir, "src/run.sh")));
  chmodSync(join(dir, "src/run.sh"), 0o700);
  utimesSync(join(dir, "docs/日本語 ファイル.md"), 1_600_000_000, 1_600_000_000);
  rmSync(join(dir, "src/big-link"));
  symlinkSync("../README.md", join(dir, "src/big-link"));
  lutimesSync(join(dir, "src/big-link"), 1_550_000_000, 1_550_000_000);
  mkdirSync(join(dir, "new/empty/dirs"), { recursive: true });
  rmSync(join(dir, "docs/empty dir"), { recursive: true });
  rmSync(join(dir, "type-change"));
  mkdirSync(join(dir, "type-change"));
  writeFileSync(join(dir, "type-change/inside"), "now a directory");
  for (let i = 0; i < 2000; i += 97) writeFileSync(join(dir, "many", `f${i}.txt`), `edited ${i}\n`);
  for (let i = 0; i < 50; i++) rmSync(join(dir, "many", `f${i * 3 + 1}.txt`));
  writeFileSync(join(dir, "many/new file.txt"), "new");
}

async function snapshot(fs: FsAdapter): Promise<Map<string, string>> {
  const index = await DirIndex.build(fs, { signatures: false });
  return new Map([...index.entries.values()].map((e) => [e.path, JSON.stringify([e.type, e.size, e.mode, e.mtimeMs, e.hash, e.target])]));
}

test("round trip on disk: index, diff, archive, apply gives exactly the new tree", async () => {
  const root = tempDir();
  const v1 = join(root, "v1");
  const v2 = join(root, "v2");
  const target = join(root, "target");
  mkdirSync(v1);
  makeV1(v1);
  sh("cp", ["-a", v1, v2]);
  sh("cp", ["-a", v1, target]);
  makeV2(v2);
  const store = new NodeFs(root);

  // Python README, line for line (async): index and store, load, index the changed dir,
  // compare, write the archive, apply it to a copy of the old dir.
  await saveIndex(store, "v1.ibtindex", await DirIndex.build(new NodeFs(v1)));
  const old = await loadIndex(store, "v1.ibtindex");
  const now = await DirIndex.build(new NodeFs(v2));
  const diff = new DiffIndex(now, old).compute();
  const stats = await new DiffData(diff, { source: new NodeFs(v2) }).createArchive(store, "diff.zip");
  await applyDiff(new NodeFs(target), await openArchive(store, "diff.zip"));

  const want = await snapshot(new NodeFs(v2));
  const got = await snapshot(new NodeFs(target));
  assert.deepEqual([...got.keys()], [...want.keys()]);
  for (const [path, v] of want) assert.equal(got.get(path), v, path);
  assert.ok(!readdirSync(target).some((n) => n.startsWith(".ibt-staging")), "staging removed");

  const s = summarize(diff);
  assert.ok(s.moved.some((m) => m.to === "docs/moved here.txt"));
  assert.ok(s.copied.some((m) => m.to === "docs/copy of run.sh"));
  assert.ok(s.deletedDirs.includes("old subtree/a/b"));
  assert.ok(stats.deltas >= 1, "the big file went as a delta");
  assert.ok(stats.bytesOut < 200_000, `archive is ${stats.bytesOut} bytes for a 3 MiB file with 10 small edits`);

  // Any unzip accepts it, and rdiff applies its deltas.
  sh("unzip", ["-tq", join(root, "diff.zip")]);
  const deltas = (await openArchive(store, "diff.zip")).entries().filter((e) => e.name.startsWith("delta/"));
  assert.ok(deltas.length >= 1);
  for (const entry of deltas) {
    const file = entry.name.slice("delta/".length);
    writeFileSync(join(root, "x.delta"), spawnSync("unzip", ["-p", join(root, "diff.zip"), entry.name]).stdout);
    sh("rdiff", ["-f", "patch", join(v1, file), join(root, "x.delta"), join(root, "x.out")]);
    assert.ok(equalBytes(readFileSync(join(root, "x.out")), readFileSync(join(v2, file))), `rdiff patch of ${entry.name}`);
  }
});

test("a wrong base or a damaged archive is refused and the target is left exactly as it was", async () => {
  const root = tempDir();
  const v1 = join(root, "v1");
  const v2 = join(root, "v2");
  mkdirSync(v1);
  makeV1(v1);
  sh("cp", ["-a", v1, v2]);
  makeV2(v2);
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

  // Damaged archive: flip bytes inside the big file's delta.
  const bytes = readFileSync(join(root, "diff.zip"));
  const reader = await openArchive(store, "diff.zip");
  const member = reader.get("delta/src/nested/big.bin")!;
  for (const at of [member.offset + 200, member.offset + Math.floor(member.compressedSize / 2) + 100]) {
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
  const { ContentCache } = await import("../src/index.js");
  const fs = new MemoryFs();
  const enc = (s: string) => new TextEncoder().encode(s);
  for (let i = 0; i < 20; i++) await fs.writeFile(`f${i}`, enc(`version one of ${i}`));
  const old = await DirIndex.build(fs);
  for (let i = 0; i < 20; i += 2) await fs.writeFile(`f${i}`, enc(`version two of ${i}, longer`));
  await fs.writeFile("new", randomBytes(rng(4), 5000));
  const cache = new ContentCache();
  const now = await DirIndex.build(fs, { previous: old, cache });
  let reads = 0;
  const counted = Object.create(fs) as FsAdapter;
  counted.readStream = (p) => {
    reads++;
    return fs.readStream(p);
  };
  const store = new MemoryFs();
  const stats = await new DiffData(new DiffIndex(now, old).compute(), { source: counted, cache }).createArchive(store, "d.zip");
  assert.equal(reads, 0, "no file read twice");
  assert.equal(stats.wholeFiles + stats.deltas, 11);
  const target = new MemoryFs();
  for (let i = 0; i < 20; i++) await target.writeFile(`f${i}`, enc(`version one of ${i}`));
  for (const e of old.entries.values()) await target.utimes(e.path, e.mtimeMs);
  await applyDiff(target, await openArchive(store, "d.zip"));
  const got = await DirIndex.build(target);
  for (const [path, e] of now.entries) assert.equal(got.get(path)?.hash, e.hash, path);
});
