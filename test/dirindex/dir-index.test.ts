import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync, utimesSync, statSync, renameSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { MemoryFs, DirIndex, DiffIndex, summarize, saveIndex, loadIndex, encodeIndex, decodeIndex, isIbtError, collect, type FsAdapter } from "../../src/index.js";
import { NodeFs } from "../../src/node/index.js";
import { tempDir, rng, randomBytes, textBytes } from "../support/helpers.js";
import { ParentTree, appliedBatches } from "../../src/dirindex/parent-tree.js";

const enc = (s: string) => new TextEncoder().encode(s);

async function sampleTree(): Promise<MemoryFs> {
  const fs = new MemoryFs();
  await fs.mkdir("docs/empty", { recursive: true });
  await fs.mkdir("src/deep/er", { recursive: true });
  await fs.writeFile("README.md", enc("# hello\n"));
  await fs.writeFile("docs/naïve café.txt", enc("unicode and spaces"));
  await fs.writeFile("docs/日本語.md", textBytes(rng(1), 5000));
  await fs.writeFile("src/empty.bin", new Uint8Array(0));
  await fs.writeFile("src/deep/er/big.bin", randomBytes(rng(2), 300_000));
  await fs.symlink("../README.md", "docs/link");
  await fs.chmod("README.md", 0o600);
  await fs.utimes("README.md", 1_600_000_000_000);
  return fs;
}

/** Counts content reads through an adapter. */
function counting(fs: FsAdapter): { fs: FsAdapter; reads: () => number } {
  let n = 0;
  const wrapped = Object.create(fs) as FsAdapter;
  wrapped.read = (p, o, l) => {
    n++;
    return fs.read(p, o, l);
  };
  wrapped.readStream = (p) => {
    n++;
    return fs.readStream(p);
  };
  return { fs: wrapped, reads: () => n };
}

test("DirIndex records files, empty dirs and symlinks with metadata, hashes and signatures", async () => {
  const fs = await sampleTree();
  const index = await DirIndex.build(fs);
  assert.deepEqual([...index.entries.keys()], [
    "README.md",
    "docs",
    "docs/empty",
    "docs/link",
    "docs/naïve café.txt",
    "docs/日本語.md",
    "src",
    "src/deep",
    "src/deep/er",
    "src/deep/er/big.bin",
    "src/empty.bin",
  ]);
  const readme = index.get("README.md")!;
  assert.equal(readme.type, "file");
  assert.equal(readme.size, 8);
  assert.equal(readme.mode & 0o777, 0o600);
  assert.equal(readme.mtimeMs, 1_600_000_000_000);
  assert.match(readme.hash!, /^[0-9a-f]{64}$/);
  assert.equal(readme.signature, undefined, "a file shorter than one block has no signature");
  assert.ok(index.get("src/deep/er/big.bin")!.signature!.length > 12);
  assert.equal(index.get("docs/link")!.type, "symlink");
  assert.equal(index.get("docs/link")!.target, "../README.md");
  assert.equal(index.get("docs/empty")!.type, "dir");
  assert.equal(index.stats.files, 5);
  assert.equal(index.stats.dirs, 5);
  assert.equal(index.stats.symlinks, 1);
});

test("an index saves and loads through an adapter with the same identity and entries", async () => {
  const fs = await sampleTree();
  const index = await DirIndex.build(fs);
  const store = new MemoryFs();
  await saveIndex(store, "tree.ibtindex", index);
  const back = await loadIndex(store, "tree.ibtindex");
  assert.equal(back.id, index.id);
  assert.deepEqual([...back.entries.values()], [...index.entries.values()]);
});

test("a damaged index file is refused with a clear code", async () => {
  const index = await DirIndex.build(await sampleTree());
  const bytes = await collect(encodeIndex(index));
  for (let n = 0; n < bytes.length; n += 7) {
    await assert.rejects(decodeIndex([bytes.subarray(0, n)]), (e) => isIbtError(e) && ["TRUNCATED", "BAD_MAGIC", "CORRUPT"].includes(e.code), `cut at ${n}`);
  }
  const flips = rng(5);
  for (let k = 0; k < 300; k++) {
    const bad = bytes.slice();
    bad[Math.floor(flips() * bad.length)]! ^= 1 << Math.floor(flips() * 8);
    await assert.rejects(decodeIndex([bad]), (e) => isIbtError(e), `flip ${k}`);
  }
  const wrongVersion = bytes.slice();
  wrongVersion[11] = 9;
  await assert.rejects(decodeIndex([wrongVersion]), (e) => isIbtError(e, "UNSUPPORTED"));
  const hostile = await DirIndex.fromEntries([{ path: "../escape", type: "file", size: 0, mtimeMs: 0, mode: 0o644 }]);
  await assert.rejects(decodeIndex(encodeIndex(hostile)), (e) => isIbtError(e, "UNSAFE_PATH"));
});

test("re-indexing an unchanged tree of 10,000 files reads no file contents", async () => {
  const fs = new MemoryFs();
  const next = rng(9);
  for (let d = 0; d < 100; d++) {
    await fs.mkdir(`d${d}`);
    for (let f = 0; f < 100; f++) await fs.writeFile(`d${d}/f${f}.txt`, randomBytes(next, 1 + Math.floor(next() * 300)));
  }
  const first = await DirIndex.build(fs);
  assert.equal(first.stats.files, 10_000);
  const { fs: watched, reads } = counting(fs);
  const again = await DirIndex.build(watched, { previous: first });
  assert.equal(reads(), 0, "no file was read");
  assert.equal(again.stats.filesRead, 0);
  assert.equal(again.id, first.id);
  // One changed file is read again, and only that one.
  await fs.writeFile("d5/f5.txt", enc("changed"));
  const third = await DirIndex.build(watched, { previous: again });
  assert.equal(third.stats.filesRead, 1);
  assert.notEqual(third.id, again.id);
  const forced = await DirIndex.build(fs, { previous: again, force: true });
  assert.equal(forced.stats.filesRead, 10_000);
});

test("the quick check distrusts equal size and mtime when ctime or inode changed (Node)", async () => {
  const dir = tempDir();
  writeFileSync(join(dir, "a.txt"), "aaaa");
  utimesSync(join(dir, "a.txt"), 1_000_000, 1_000_000);
  const fs = new NodeFs(dir);
  const first = await DirIndex.build(fs);
  const mtime = statSync(join(dir, "a.txt")).mtime;
  writeFileSync(join(dir, "a.txt"), "bbbb"); // same size
  utimesSync(join(dir, "a.txt"), mtime, mtime); // same mtime, as an unpacker would leave it
  const second = await DirIndex.build(fs, { previous: first });
  assert.equal(second.stats.filesRead, 1);
  assert.notEqual(second.get("a.txt")!.hash, first.get("a.txt")!.hash);
});

test("files moved with a renamed directory are recognised by inode and not read again beside a DirIndex; beside a parent read as a stream they are read (Node)", async () => {
  const dir = tempDir();
  mkdirSync(join(dir, "old/sub"), { recursive: true });
  for (let i = 0; i < 20; i++) writeFileSync(join(dir, `old/sub/f${i}.txt`), `file ${i} `.repeat(50));
  const fs = new NodeFs(dir);
  const first = await DirIndex.build(fs);
  renameSync(join(dir, "old"), join(dir, "new"));
  // One moved file is rewritten to the same size and mtime: its change time gives it away.
  const mtime = statSync(join(dir, "new/sub/f3.txt")).mtime;
  writeFileSync(join(dir, "new/sub/f3.txt"), "FILE 3 ".repeat(50).slice(0, ("file 3 ".repeat(50)).length));
  utimesSync(join(dir, "new/sub/f3.txt"), mtime, mtime);
  const { fs: watched, reads } = counting(fs);
  const second = await DirIndex.build(watched, { previous: first });
  assert.equal(reads(), 1, "only the rewritten file was read");
  // Beside the previous index read as a stream, as a backup reads its parent, a moved file is not looked up by inode.
  const { fs: watchedAgain, reads: readsAgain } = counting(fs);
  const file = await collect(encodeIndex(first));
  const streamed = await DirIndex.build(watchedAgain, { previous: new ParentTree(first.id, () => appliedBatches([file], [])) });
  assert.equal(readsAgain(), 20, "every moved file was read, beside a parent read as a stream");
  assert.equal(streamed.id, second.id);
  assert.equal(second.get("new/sub/f7.txt")!.hash, first.get("old/sub/f7.txt")!.hash);
  assert.deepEqual(second.get("new/sub/f7.txt")!.signature, first.get("old/sub/f7.txt")!.signature);
  assert.notEqual(second.get("new/sub/f3.txt")!.hash, first.get("old/sub/f3.txt")!.hash);
  const moves = new DiffIndex(second, first).compute().changes.filter((c) => c.kind === "move");
  assert.equal(moves.length, 19);
  // Forced, every file is read and the hashes agree with what was reused.
  const forced = await DirIndex.build(fs, { previous: first, force: true });
  assert.equal(forced.stats.filesRead, 20);
  assert.equal(forced.id, second.id);
});

function git(dir: string, args: string[], input?: string): string {
  const r = spawnSync("git", args, { cwd: dir, input, encoding: "utf8" });
  if (r.status !== 0 && r.status !== 1) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

test("the include/exclude set equals git's on generated trees with nested ignore files", async () => {
  const next = rng(77);
  const names = ["a.log", "b.txt", "build", "keep.log", "c.tmp", "doc", "x", "deep"];
  const patterns = ["*.log", "!keep.log", "build/", "/c.tmp", "doc/*.txt", "x", "!x/b.txt", "**/deep/*.tmp", "*.tmp", "!/deep", "b.*", "!b.txt"];
  for (let trial = 0; trial < 12; trial++) {
    const dir = tempDir();
    const files: string[] = [];
    const make = (rel: string, level: number) => {
      mkdirSync(join(dir, rel), { recursive: true });
      if (next() < 0.7) {
        const lines = Array.from({ length: 1 + Math.floor(next() * 4) }, () => patterns[Math.floor(next() * patterns.length)]!);
        writeFileSync(join(dir, rel, ".gitignore"), lines.join("\n") + "\n");
        files.push(rel ? `${rel}/.gitignore` : ".gitignore");
      }
      for (const n of names) {
        if (next() < 0.5) continue;
        const p = rel ? `${rel}/${n}` : n;
        if (level < 3 && next() < 0.4) make(p, level + 1);
        else {
          writeFileSync(join(dir, p), "x");
          files.push(p);
        }
      }
    };
    make("", 0);
    git(dir, ["init", "-q"]);
    const ignored = new Set(git(dir, ["check-ignore", "--stdin", "--no-index"], files.join("\n") + "\n").split("\n").filter(Boolean));
    const expected = files.filter((f) => !ignored.has(f)).sort();
    const index = await DirIndex.build(new NodeFs(dir), { exclude: [".git"], signatures: false });
    const ours = [...index.entries.values()].filter((e) => e.type === "file").map((e) => e.path).sort();
    assert.deepEqual(ours, expected, `trial ${trial}`);
  }
});

test("exclude patterns given as options apply from the root, weaker than ignore files", async () => {
  const fs = new MemoryFs();
  await fs.mkdir("a");
  await fs.writeFile("a/x.bak", enc("1"));
  await fs.writeFile("a/y.bak", enc("2"));
  await fs.writeFile("a/.ibtignore", enc("!y.bak\n"));
  const index = await DirIndex.build(fs, { exclude: ["*.bak"] });
  assert.equal(index.get("a/x.bak"), undefined);
  assert.ok(index.get("a/y.bak"));
});

test("DiffIndex names every kind of change", async () => {
  const fs = await sampleTree();
  await fs.mkdir("gone/sub", { recursive: true });
  await fs.writeFile("gone/sub/f", enc("bye"));
  await fs.writeFile("stays.txt", enc("same content 1234"));
  await fs.writeFile("moves.txt", enc("moving content 5678"));
  await fs.writeFile("type.change", enc("was a file"));
  const old = await DirIndex.build(fs);

  await fs.writeFile("docs/日本語.md", enc("edited"));
  await fs.remove("gone", { recursive: true });
  await fs.rename("moves.txt", "moved.txt");
  await fs.writeFile("copy.txt", enc("same content 1234"));
  await fs.writeFile("new.txt", enc("brand new"));
  await fs.mkdir("newdir");
  await fs.chmod("stays.txt", 0o700);
  await fs.remove("docs/link");
  await fs.symlink("naïve café.txt", "docs/link");
  await fs.remove("type.change");
  await fs.mkdir("type.change");
  const now = await DirIndex.build(fs);

  const diff = new DiffIndex(now, old).compute();
  assert.equal(diff.base, old.id);
  assert.equal(diff.target, now.id);
  const kinds = Object.fromEntries(diff.changes.map((c) => [`${c.kind} ${c.path}`, c]));
  for (const key of [
    "update docs/日本語.md",
    "delete gone",
    "delete gone/sub",
    "delete gone/sub/f",
    "move moved.txt",
    "delete moves.txt",
    "copy copy.txt",
    "create new.txt",
    "create newdir",
    "metadata stays.txt",
    "relink docs/link",
    "delete type.change",
    "create type.change",
  ]) {
    assert.ok(kinds[key], `missing ${key}; got ${Object.keys(kinds).join(", ")}`);
  }
  assert.equal((kinds["move moved.txt"] as { from: string }).from, "moves.txt");
  assert.equal((kinds["copy copy.txt"] as { from: string }).from, "stays.txt");
  const s = summarize(diff);
  assert.deepEqual(s.deletedDirs, ["gone", "gone/sub"]);
  assert.deepEqual(new DiffIndex(now, now).compute().changes, []);
});

test("DirIndex: an entry it cannot index (a FIFO) is no error where the rules exclude it, and goes to onError where they do not", async (t) => {
  const dir = tempDir();
  mkdirSync(join(dir, "run"));
  writeFileSync(join(dir, "keep.txt"), "kept");
  if (spawnSync("mkfifo", [join(dir, "run", "pipe"), join(dir, "pipe2")]).status !== 0) return t.skip("no mkfifo here");
  for (const sync of [false, true]) {
    const fs = new NodeFs(dir, { sync });
    const excluded = await DirIndex.build(fs, { exclude: ["pipe*"] });
    assert.deepEqual([...excluded.entries.keys()], ["keep.txt", "run"], `sync ${sync}`);
    const seen: string[] = [];
    const skipped = await DirIndex.build(fs, { onError: (e, path) => (seen.push(`${e.code} ${path}`), "skip") });
    assert.deepEqual(seen.sort(), ["UNSUPPORTED pipe2", "UNSUPPORTED run/pipe"]);
    assert.deepEqual(skipped.stats.skipped.sort(), ["pipe2", "run/pipe"]);
    await assert.rejects(DirIndex.build(fs), (e) => isIbtError(e, "UNSUPPORTED"));
  }
});

test("an index keeps 16-byte strong sums and blocks of 2 KiB or more: byte for byte what rdiff signature -S 16 -b writes, and rdiff makes deltas from them", async () => {
  const dir = tempDir();
  const big = randomBytes(rng(9), 300_000);
  writeFileSync(join(dir, "big.bin"), big);
  writeFileSync(join(dir, "small.txt"), textBytes(rng(10), 5000));
  writeFileSync(join(dir, "large.bin"), randomBytes(rng(12), 2_000_000));
  const index = await DirIndex.build(new NodeFs(dir));
  // rdiff would give them 256, 512 and 1408-byte blocks (floor(sqrt) to 128s); an index raises each to 2 KiB.
  const blocks: Record<string, number> = { "big.bin": 2048, "small.txt": 2048, "large.bin": 2048 };
  for (const [name, block] of Object.entries(blocks)) {
    const sig = index.get(name)!.signature!;
    const header = new DataView(sig.buffer, sig.byteOffset);
    assert.equal(header.getUint32(4), block, `${name}: block length in the header`);
    assert.equal(header.getUint32(8), 16, `${name}: strong length in the header`);
    const r = spawnSync("rdiff", ["-b", String(block), "-S", "16", "signature", join(dir, name), "-"], { maxBuffer: 1 << 26 });
    assert.equal(r.status, 0, r.stderr.toString());
    assert.deepEqual(new Uint8Array(r.stdout), sig, `${name}: rdiff's signature`);
  }
  // rdiff takes the stored signature: delta against it, patch the old file, get the new one.
  writeFileSync(join(dir, "big.sig"), index.get("big.bin")!.signature!);
  const edited = big.slice();
  edited.set(randomBytes(rng(11), 100), 150_000);
  writeFileSync(join(dir, "edited"), edited);
  assert.equal(spawnSync("rdiff", ["delta", join(dir, "big.sig"), join(dir, "edited"), join(dir, "d")]).status, 0);
  assert.equal(spawnSync("rdiff", ["patch", join(dir, "big.bin"), join(dir, "d"), join(dir, "out")]).status, 0);
  assert.deepEqual(new Uint8Array(readFileSync(join(dir, "out"))), edited);
});
