/**
 * Restores into a target that lacks some of the snapshot's subtrees: each such subtree is staged
 * whole and moved into place with one rename (restore.ts), its files created with their mode and
 * mtime in one call (`createFile`, NodeFs's own, on a worker thread or not, or the fallback
 * through writeFile + utimes). Checked: the result is exact (contents, modes, mtimes, symlinks,
 * empty directories); what is moved into place is one rename per missing subtree, and a subtree
 * the target has goes file by file; a failure while staging or committing leaves the target as
 * it was.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { Worker } from "node:worker_threads";
import { IbtError, MemoryFs, MemoryStore, Repository, isIbtError, type FsAdapter } from "../../src/index.js";
import { NodeFs } from "../../src/node/index.js";
import { fileCreator } from "../../src/fs/entry.js";
import { equalBytes, randomBytes, rng } from "../support/helpers.js";
import { TreeChanger, treeId } from "../support/repo-kit.js";

const WRITES = ["writeFile", "mkdir", "remove", "rename", "symlink", "chmod", "utimes"] as const;

function nodeDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "ibt-restore-fresh-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const TARGETS: { name: string; make: () => FsAdapter }[] = [
  { name: "MemoryFs", make: () => new MemoryFs() },
  { name: "NodeFs", make: () => new NodeFs(nodeDir()) },
  { name: "NodeFs (sync, createInWorker)", make: () => new NodeFs(nodeDir(), { sync: true, createInWorker: true }) },
];

/** The adapter with every write call logged ("method path"), and the `fail` hook run before each. */
function logged(fs: FsAdapter, fail: (line: string) => void = () => {}): { fs: FsAdapter; log: string[] } {
  const log: string[] = [];
  const wrapped = Object.create(fs) as FsAdapter;
  for (const m of WRITES) {
    const original = (fs[m] as (...a: unknown[]) => Promise<unknown>).bind(fs);
    (wrapped as unknown as Record<string, unknown>)[m] = async (...args: unknown[]) => {
      const line = `${m} ${m === "symlink" ? String(args[1]) : m === "rename" ? `${String(args[0])} -> ${String(args[1])}` : String(args[0])}`;
      fail(line);
      log.push(line);
      return original(...args);
    };
  }
  return { fs: wrapped, log };
}

/** A tree with nested and empty directories, symlinks, and modes and mtimes of its own. */
async function source(): Promise<MemoryFs> {
  const fs = new MemoryFs();
  await new TreeChanger(fs, rng(31)).seed(30);
  await fs.mkdir("top/a/b", { recursive: true });
  await fs.mkdir("top/empty");
  await fs.writeFile("top/a/b/x.txt", new TextEncoder().encode("x\n"));
  await fs.writeFile("lone.txt", new TextEncoder().encode("a file at the top\n"));
  await fs.chmod("top/a/b/x.txt", 0o600);
  await fs.chmod("top/a", 0o750);
  await fs.symlink("a/b/x.txt", "top/link");
  let t = Date.UTC(2025, 5, 1);
  for (const p of ["top/a/b/x.txt", "lone.txt", "top/link", "top/a/b", "top/a", "top/empty", "top"]) await fs.utimes(p, (t += 86_400_123));
  return fs;
}

async function snapshot(src: FsAdapter): Promise<{ repo: Repository; id: string }> {
  const repo = await Repository.init(new MemoryStore());
  return { repo, id: (await repo.backup(src)).id };
}

for (const { name, make } of TARGETS) {
  test(`${name}: into an empty target every top-level entry is moved into place by one rename, and the result is exact`, async () => {
    const src = await source();
    const { repo, id } = await snapshot(src);
    const target = make();
    const { fs, log } = logged(target);
    const result = await repo.restore(id, fs);
    assert.equal(await treeId(target), await treeId(src));
    const top = (await src.list("")).sort();
    const renames = log.filter((l) => l.startsWith("rename "));
    assert.deepEqual(
      renames.map((l) => l.replace(/^rename \.ibt-staging-restore-[0-9a-f]+\/tree\/(.*) -> (.*)$/, (all, from: string, to: string) => (from === to ? to : all))).sort(),
      top,
      renames.join("\n"),
    );
    assert.equal(result.files, (await countFiles(src, "")).files);
    assert.deepEqual((await target.list("")).sort(), top, "no staging directory left");
    // Unwrapped, so that the adapter's own createFile does the work.
    const direct = make();
    await repo.restore(id, direct);
    assert.equal(await treeId(direct), await treeId(src));
  });

  test(`${name}: a subtree the target has goes file by file, a sibling it lacks goes whole`, async () => {
    const src = await source();
    const { repo, id } = await snapshot(src);
    const target = make();
    await target.mkdir("top/a/b", { recursive: true });
    await target.writeFile("top/a/b/x.txt", new TextEncoder().encode("old\n"));
    const { fs, log } = logged(target);
    await repo.restore(id, fs);
    assert.equal(await treeId(target), await treeId(src));
    const renames = log.filter((l) => l.startsWith("rename "));
    // top, top/a and top/a/b exist: x.txt is staged alone; top/empty and top/link are moved as
    // missing entries; everything at the top but "top" is moved whole.
    assert.ok(renames.some((l) => /\/\d+ -> top\/a\/b\/x\.txt$/.test(l)), renames.join("\n"));
    assert.ok(renames.some((l) => /\/tree\/top\/empty -> top\/empty$/.test(l)), renames.join("\n"));
    assert.ok(renames.some((l) => /\/tree\/docs -> docs$/.test(l)), renames.join("\n"));
    assert.ok(!renames.some((l) => / -> docs\//.test(l)), "nothing inside a missing subtree is renamed on its own");
  });

  test(`${name}: a failure while staging or committing a restore into an empty target leaves it empty`, async () => {
    const src = await source();
    const { repo, id } = await snapshot(src);
    const clean = logged(make());
    await repo.restore(id, clean.fs);
    // Every write call of a clean run fails in turn: the target is left as it was, empty.
    const calls = clean.log.length;
    let failedInCommit = 0;
    for (let n = 1; n <= calls; n++) {
      const target = make();
      let seen = 0;
      let failedAt = "";
      const { fs } = logged(target, (line) => {
        if (++seen === n) {
          failedAt = line;
          throw new IbtError("IO", `injected: ${line}`);
        }
      });
      const error = await repo.restore(id, fs).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(isIbtError(error, "IO") && /injected/.test(String((error as Error).message)), `call ${n} (${failedAt}): ${String(error)}`);
      if (/was restored/.test((error as Error).message)) {
        // Only the staging directory's removal failed: the tree is whole, and the error names what to delete.
        assert.equal(await treeId(target), await treeId(src), `call ${n} (${failedAt})`);
        continue;
      }
      const left = await target.list("");
      assert.deepEqual(left, [], `call ${n} (${failedAt}) left ${left.join(", ")}`);
      if (/^rename .* -> [^.]/.test(failedAt) || /^(chmod|utimes) /.test(failedAt)) failedInCommit++;
    }
    assert.ok(failedInCommit > 0, "some failures struck the commit");
  });
}

async function countFiles(fs: FsAdapter, dir: string): Promise<{ files: number }> {
  let files = 0;
  for (const name of await fs.list(dir)) {
    const path = dir ? `${dir}/${name}` : name;
    const st = await fs.lstat(path);
    if (st.type === "file") files++;
    if (st.type === "dir") files += (await countFiles(fs, path)).files;
  }
  return { files };
}

test("NodeFs.createFile: a new file with its mode and mtime; EXISTS over a file or a symlink (not followed); NOT_FOUND without a parent, leaving nothing", async () => {
  for (const options of [{}, { sync: true }, { sync: true, createInWorker: true }]) {
    const fs = new NodeFs(nodeDir(), options);
    const create = fileCreator(fs);
    await create("a.txt", new TextEncoder().encode("hello"), { mode: 0o640, mtimeMs: 1_700_000_000_123 });
    const st = await fs.lstat("a.txt");
    assert.deepEqual([st.type, st.size, st.mode, st.mtimeMs], ["file", 5, 0o640, 1_700_000_000_123], JSON.stringify(options));
    await assert.rejects(create("a.txt", new Uint8Array(1), { mode: 0o644, mtimeMs: 0 }), (e) => isIbtError(e, "EXISTS"));
    assert.equal(new TextDecoder().decode(await fs.read("a.txt", 0, 100)), "hello", "the file is untouched");
    await fs.symlink("a.txt", "link");
    await assert.rejects(create("link", new Uint8Array(1), { mode: 0o644, mtimeMs: 0 }), (e) => isIbtError(e, "EXISTS"));
    assert.equal((await fs.lstat("link")).type, "symlink");
    await assert.rejects(create("no/such/b.txt", new Uint8Array(1), { mode: 0o644, mtimeMs: 0 }), (e) => isIbtError(e, "NOT_FOUND"));
    await assert.rejects(create("../escape", new Uint8Array(1), { mode: 0o644, mtimeMs: 0 }), (e) => isIbtError(e, "UNSAFE_PATH"));
    await assert.rejects(create("c.txt", new Uint8Array(1), { mode: 0o10000, mtimeMs: 0 }), (e) => isIbtError(e, "BAD_ARGUMENT"));
    assert.deepEqual((await fs.list("")).sort(), ["a.txt", "link"]);
    // Many at once (a restore keeps several in flight): all land.
    await fs.mkdir("many");
    await Promise.all(Array.from({ length: 300 }, (_, i) => create(`many/${i}`, new TextEncoder().encode(String(i)), { mode: 0o600, mtimeMs: 1_600_000_000_000 + i })));
    assert.equal((await fs.list("many")).length, 300);
    assert.equal((await fs.lstat("many/299")).mtimeMs, 1_600_000_000_299);
  }
});

test("NodeFs createInWorker: each small file's bytes go to the worker in a buffer of their own, not the whole buffer its view looks into; a large file is made on the calling thread", async () => {
  const fs = new NodeFs(nodeDir(), { sync: true, createInWorker: true });
  const create = fileCreator(fs);
  const group = randomBytes(rng(51), 1 << 20);
  const FILES = 200;
  const SIZE = 1000;
  let sent = 0;
  const post = Worker.prototype.postMessage;
  // Every buffer a message carries, whole, as structured cloning copies (or moves) it.
  const buffers = (value: unknown, seen: Set<ArrayBufferLike>): void => {
    if (value instanceof ArrayBuffer) seen.add(value);
    else if (ArrayBuffer.isView(value)) seen.add(value.buffer);
    else if (Array.isArray(value)) for (const v of value) buffers(v, seen);
  };
  Worker.prototype.postMessage = function (this: Worker, message: unknown, transfer?: readonly unknown[]) {
    const seen = new Set<ArrayBufferLike>();
    buffers(message, seen);
    for (const b of seen) sent += b.byteLength;
    return post.call(this, message, transfer as never);
  };
  const own = [randomBytes(rng(52), 5000), randomBytes(rng(53), 7000), randomBytes(rng(54), 100_000)];
  try {
    await untilWorkerRuns(create, () => sent > 0);
    sent = 0;
    const made = Array.from({ length: FILES }, (_, i) => create(`f${i}`, group.subarray(i * SIZE, (i + 1) * SIZE), { mode: 0o600, mtimeMs: 1_600_000_000_000 }));
    made.push(...own.map((data, i) => create(`own${i}`, data, { mode: 0o600, mtimeMs: 1_600_000_000_000 })));
    await Promise.all(made);
  } finally {
    Worker.prototype.postMessage = post;
  }
  assert.equal(sent, FILES * SIZE + 5000 + 7000, "each small file's bytes, once, and none of the large one's");
  assert.equal((await fs.lstat("own2")).mtimeMs, 1_600_000_000_000, "the large file has its time");
  for (const [i, data] of own.entries()) assert.ok(equalBytes(await fs.read(`own${i}`, 0, 200_000), data), `own${i}`);
  for (const i of [0, 77, FILES - 1]) assert.ok(equalBytes(await fs.read(`f${i}`, 0, 2 * SIZE), group.subarray(i * SIZE, (i + 1) * SIZE)), `f${i}`);
  assert.ok(equalBytes(group.subarray(0, 8), randomBytes(rng(51), 8)), "the caller's buffer is untouched (not transferred away)");
});

/** Creates small files one at a time until `used()` says one went to the worker (it runs from then on). */
async function untilWorkerRuns(create: ReturnType<typeof fileCreator>, used: () => boolean): Promise<number> {
  let warm = 0;
  while (!used()) {
    if (warm === 2000) throw new Error("the file-creating worker never took a job");
    await create(`warm${warm++}`, new Uint8Array(1), { mode: 0o600, mtimeMs: 1_600_000_000_000 });
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return warm;
}

test("NodeFs createInWorker: until the worker runs, files are made on the calling thread (a small restore does not wait for it to start); then it takes them", async () => {
  const fs = new NodeFs(nodeDir(), { sync: true, createInWorker: true });
  const create = fileCreator(fs);
  let messages = 0;
  const post = Worker.prototype.postMessage;
  Worker.prototype.postMessage = function (this: Worker, message: unknown, transfer?: readonly unknown[]) {
    messages++;
    return post.call(this, message, transfer as never);
  };
  try {
    // Asked for at once on a new adapter: the worker is only starting, so none of these reach it.
    await Promise.all(Array.from({ length: 100 }, (_, i) => create(`early${i}`, new TextEncoder().encode(`e${i}`), { mode: 0o640, mtimeMs: 1_600_000_000_000 + i })));
    assert.equal(messages, 0, "no job was sent to a worker that was not running yet");
    assert.equal((await fs.lstat("early99")).mtimeMs, 1_600_000_000_099);
    assert.equal((await fs.lstat("early42")).mode, 0o640);
    const warm = await untilWorkerRuns(create, () => messages > 0);
    assert.ok(warm >= 1, "a file was made in the meantime");
    const before = messages;
    await Promise.all(Array.from({ length: 100 }, (_, i) => create(`late${i}`, new TextEncoder().encode(`l${i}`), { mode: 0o600, mtimeMs: 1_600_000_000_000 })));
    assert.ok(messages > before, "once it runs, the worker makes them");
    assert.equal(new TextDecoder().decode(await fs.read("late7", 0, 10)), "l7");
    // close() stops the thread; the adapter stays usable, on this thread until another runs.
    await fs.close();
    const closedAt = messages;
    await create("after-close", new TextEncoder().encode("c"), { mode: 0o600, mtimeMs: 1_600_000_000_000 });
    assert.equal(messages, closedAt, "made on the calling thread while a new worker starts");
    assert.equal(new TextDecoder().decode(await fs.read("after-close", 0, 10)), "c");
    await fs.close();
  } finally {
    Worker.prototype.postMessage = post;
  }
});

test("fileCreator falls back to writeFile + utimes on an adapter without createFile, or one wrapping NodeFs's writeFile", async () => {
  const mem = new MemoryFs();
  await fileCreator(mem)("m.txt", new TextEncoder().encode("m"), { mode: 0o600, mtimeMs: 1_234_567_000 });
  const st = await mem.lstat("m.txt");
  assert.deepEqual([st.mode, st.mtimeMs], [0o600, 1_234_567_000]);
  const node = new NodeFs(nodeDir());
  const { fs, log } = logged(node);
  await fileCreator(fs)("n.txt", new TextEncoder().encode("n"), { mode: 0o600, mtimeMs: 1_234_567_000 });
  assert.deepEqual(log, ["writeFile n.txt", "utimes n.txt"]);
  assert.equal((await node.lstat("n.txt")).mtimeMs, 1_234_567_000);
});
