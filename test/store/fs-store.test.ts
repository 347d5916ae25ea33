/**
 * What FsStore adds to the Store contract: objects are files at their names (so a repository's
 * folder looks as it always did), a conditional create is a directory holding one file that
 * FsStore hides, leftovers of killed conditional creates are swept, and openStore maps a
 * location to a store.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { FsStore, IbtError, MemoryFs, Repository, isIbtError } from "../../src/index.js";
import { S3Store } from "../../src/store/index.js";
import { NodeFs, openStore } from "../../src/node/index.js";
import { tempDir } from "../support/helpers.js";

const enc = (s: string) => new TextEncoder().encode(s);

test("FsStore: an object is the file at its name; a conditional create is a directory FsStore hides", async () => {
  const dir = tempDir();
  const store = new FsStore(new NodeFs(dir));
  await store.save("data/0123456789abcdef.zip", enc("zip bytes"));
  assert.equal(readFileSync(join(dir, "data", "0123456789abcdef.zip"), "utf8"), "zip bytes");
  await store.save("lock", enc("owner"), { ifAbsent: true });
  assert.ok(statSync(join(dir, "lock")).isDirectory());
  assert.equal(readFileSync(join(dir, "lock", "~object"), "utf8"), "owner");
  assert.deepEqual(await store.stat("lock"), { name: "lock", size: 5 });
  await store.save("lock", enc("refreshed"));
  assert.equal(readFileSync(join(dir, "lock", "~object"), "utf8"), "refreshed");
  await store.remove("lock");
  assert.equal(existsSync(join(dir, "lock")), false);
  // A file written by hand (or by an older version) is an object like any other.
  const fs = new NodeFs(dir);
  await fs.writeFile("ibt-repo.json", enc("{}"));
  assert.equal(new TextDecoder().decode(await store.load("ibt-repo.json")), "{}");
});

test("FsStore: entries that are not objects are not listed; sweep removes what killed conditional creates and removals left", async () => {
  const fs = new MemoryFs();
  const store = new FsStore(fs);
  await store.save("a/b", enc("b"));
  await fs.mkdir("a/lock~new-0011223344556677");
  await fs.writeFile("a/lock~new-0011223344556677/~object", enc("half"));
  await fs.mkdir("x~old-8899aabbccddeeff");
  await fs.writeFile("x~old-8899aabbccddeeff/~object", enc("retired"));
  await fs.writeFile("a/has space", enc("foreign"));
  await fs.symlink("b", "a/link");
  const names: string[] = [];
  for await (const o of store.list("")) names.push(o.name);
  assert.deepEqual(names.sort(), ["a/b"]);
  assert.equal(await store.sweep(60_000), 0, "young leftovers may belong to a live writer");
  assert.equal(await store.sweep(0), 2);
  assert.deepEqual((await fs.list("a")).sort(), ["b", "has space", "link"]);
  assert.deepEqual((await fs.list("")).sort(), ["a"]);
  await assert.rejects(store.load("a/link"), (e) => isIbtError(e, "NOT_FOUND"), "symlinks are not objects");
});

test("FsStore: sweep passes over a candidate that a conditional create fills while it is being removed", async () => {
  // The lock holder sweeps every candidate, and another writer trying for the lock may be
  // writing one at that moment: the recursive removal then finds the directory not empty.
  class Filling extends MemoryFs {
    override async remove(path: string, options?: { recursive?: boolean }): Promise<void> {
      if (path.includes("~new-")) throw new IbtError("EXISTS", `remove: ${path}: directory not empty`, { path, caller: "remove" });
      return super.remove(path, options);
    }
  }
  const fs = new Filling();
  const store = new FsStore(fs);
  await fs.mkdir("lock~new-0011223344556677");
  await fs.mkdir("x~old-8899aabbccddeeff");
  assert.equal(await store.sweep(0), 1, "the retired object is removed, the candidate being written is not counted");
  assert.deepEqual(await fs.list(""), ["lock~new-0011223344556677"]);
});

test("FsStore: a name under an object cannot be saved (a file is not a directory): IO naming it", async () => {
  const store = new FsStore(new MemoryFs());
  await store.save("a", enc("file"));
  await assert.rejects(store.save("a/b", enc("under")), (e) => isIbtError(e, "IO") && e.message.includes("a/b"));
  assert.throws(() => new FsStore({} as never), (e) => isIbtError(e, "BAD_ARGUMENT"));
});

test("a repository made through FsStore holds exactly today's layout on disk", async () => {
  const dir = tempDir();
  const source = MemoryFs.from({ "a.txt": "a", "d/b.txt": "b" });
  const repo = await Repository.init(new FsStore(new NodeFs(dir)));
  const s = await repo.backup(source);
  const fs = new NodeFs(dir);
  assert.deepEqual((await fs.list("")).sort(), ["data", "ibt-repo.json", "index", "snapshots"]);
  assert.deepEqual(await fs.list("data"), [`${s.id}.zip`]);
  assert.deepEqual(await fs.list("index"), [`${s.id}.ibtindex`]);
  assert.deepEqual(await fs.list("snapshots"), [`${s.id}.json`]);
});

test("openStore: a path is FsStore over NodeFs, s3: an S3Store, other schemes UNSUPPORTED", async () => {
  const dir = tempDir();
  const store = await openStore(dir);
  assert.ok(store instanceof FsStore);
  assert.equal(store.location, dir);
  await store.save("x", enc("y"));
  assert.equal(readFileSync(join(dir, "x"), "utf8"), "y");
  const env = { AWS_ACCESS_KEY_ID: "AKID", AWS_SECRET_ACCESS_KEY: "secret", AWS_REGION: "eu-west-3" };
  const s3 = await openStore("s3:http://127.0.0.1:9000/bucket/some/prefix", { env });
  assert.ok(s3 instanceof S3Store);
  assert.ok(s3.location.includes("bucket") && !s3.location.includes("secret"), s3.location);
  await assert.rejects(openStore("s3:http://127.0.0.1:9000/bucket", { env: { AWS_SHARED_CREDENTIALS_FILE: join(dir, "none") } }), (e) => isIbtError(e, "BAD_ARGUMENT") && /credentials/.test(e.message));
  await assert.rejects(openStore("s3:http:///", { env }), (e) => isIbtError(e, "BAD_ARGUMENT"));
  await assert.rejects(openStore("gs:bucket"), (e) => isIbtError(e, "UNSUPPORTED"));
  await assert.rejects(openStore(""), (e) => isIbtError(e, "BAD_ARGUMENT"));
});

test("a lock of the older folder layout (lock/owner.json) blocks writers until unlock clears it", async () => {
  const fs = new MemoryFs();
  const repo = await Repository.init(new FsStore(fs));
  await fs.mkdir("lock");
  await fs.writeFile("lock/owner.json", enc("{}"));
  const source = MemoryFs.from({ f: "x" });
  await assert.rejects(repo.backup(source), (e) => isIbtError(e, "LOCKED") && /unlock/.test(e.message));
  assert.equal((await repo.unlock()).removed, true);
  await repo.backup(source);
  assert.equal((await repo.snapshots()).length, 1);
});
