import { test } from "node:test";
import assert from "node:assert/strict";
import { Repository, isIbtError, type FsAdapter, type FsStat } from "../../src/index.js";
import { rng } from "../support/helpers.js";
import { REPO_CASES, TreeChanger, treeId } from "../support/repo-kit.js";

const WRITES = ["writeFile", "mkdir", "remove", "rename", "symlink", "chmod", "utimes"] as const;

/** The adapter, with every write call logged as "method path". */
function logged(fs: FsAdapter): { fs: FsAdapter; log: string[] } {
  const log: string[] = [];
  const wrapped = Object.create(fs) as FsAdapter;
  for (const m of WRITES) {
    const original = (fs[m] as (...a: unknown[]) => Promise<unknown>).bind(fs);
    (wrapped as unknown as Record<string, unknown>)[m] = (...args: unknown[]) => {
      log.push(`${m} ${m === "symlink" ? String(args[1]) : m === "rename" ? `${String(args[0])} -> ${String(args[1])}` : String(args[0])}`);
      return original(...args);
    };
  }
  return { fs: wrapped, log };
}

async function stats(fs: FsAdapter, dir = "", out = new Map<string, FsStat>()): Promise<Map<string, FsStat>> {
  for (const name of await fs.list(dir)) {
    const path = dir ? `${dir}/${name}` : name;
    const st = await fs.lstat(path);
    out.set(path, st);
    if (st.type === "dir") await stats(fs, path, out);
  }
  return out;
}

const enc = (s: string) => new TextEncoder().encode(s);

for (const { name, trees: factory, store } of REPO_CASES) {
  test(`${name}: restoring one path writes that path only and leaves every other entry untouched`, async () => {
    const source = await factory.make();
    await new TreeChanger(source, rng(7)).seed();
    await source.writeFile("docs/deep/chosen.txt", enc("version one\n".repeat(500)));
    const repo = await Repository.init(await store.make());
    const first = await repo.backup(source);
    await source.writeFile("docs/deep/chosen.txt", enc("version two\n".repeat(400)));
    await new TreeChanger(source, rng(8)).change(5);
    await source.mkdir("docs/deep", { recursive: true });
    await source.writeFile("docs/deep/chosen.txt", enc("version two\n".repeat(400)));
    const second = await repo.backup(source);
    assert.equal(second.kind, "incremental");

    const target = await factory.make();
    await repo.restore(first.id, target);
    const before = await stats(target);
    const { fs, log } = logged(target);
    const result = await repo.restore(second.id, fs, { paths: ["docs/deep/chosen.txt"] });
    assert.equal(result.files, 1);
    assert.equal(new TextDecoder().decode(await target.read("docs/deep/chosen.txt", 0, 1 << 20)), "version two\n".repeat(400));

    // Writes: staging inside the target, the file renamed into place, its metadata, and its
    // parent's mtime put back. Nothing else.
    const allowed = /^(mkdir|remove|writeFile) \.ibt-staging-restore-[0-9a-f]+(\/\d+)?$|^rename \.ibt-staging-restore-[0-9a-f]+\/0 -> docs\/deep\/chosen\.txt$|^(chmod|utimes) docs\/deep(\/chosen\.txt)?$/;
    for (const line of log) assert.match(line, allowed);
    assert.ok(log.some((l) => l.startsWith("rename ")), log.join("\n"));
    const after = await stats(target);
    assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort(), "no entry appeared or vanished");
    for (const [path, st] of before) {
      if (path === "docs/deep/chosen.txt") continue;
      const now = after.get(path)!;
      assert.equal(now.mtimeMs, st.mtimeMs, `${path} mtime`);
      if (st.type !== "dir") assert.deepEqual([now.ino, now.ctimeMs, now.size], [st.ino, st.ctimeMs, st.size], `${path} not rewritten`);
    }

    // Restoring it again writes nothing at all: the file already has that content.
    log.length = 0;
    const again = await repo.restore(second.id, fs, { paths: ["docs/deep/chosen.txt"] });
    assert.equal(again.files, 0);
    assert.equal(again.unchanged, 1);
    assert.deepEqual(log, []);
  });

  test(`${name}: restoring a directory path into an empty target makes its parents; unknown paths are NOT_FOUND`, async () => {
    const source = await factory.make();
    await new TreeChanger(source, rng(9)).seed();
    const repo = await Repository.init(await store.make());
    const snap = await repo.backup(source);
    const target = await factory.make();
    await repo.restore(snap.id, target, { paths: ["docs/deep"] });
    assert.deepEqual((await target.list("")).sort(), ["docs"]);
    assert.deepEqual((await target.list("docs")).sort(), ["deep"]);
    assert.deepEqual((await target.list("docs/deep")).sort(), (await source.list("docs/deep")).sort());
    await assert.rejects(repo.restore(snap.id, target, { paths: ["no/such"] }), (e) => isIbtError(e, "NOT_FOUND"));
    const whole = await factory.make();
    await repo.restore(snap.id, whole, { paths: await source.list("") });
    assert.equal(await treeId(whole), await treeId(source), "the chosen paths together are the whole tree");
  });
}
