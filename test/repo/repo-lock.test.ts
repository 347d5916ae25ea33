import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { FsStore, MemoryStore, Repository, isIbtError } from "../../src/index.js";
import { LOCK, encodeRecord } from "../../src/repo/layout.js";
import { readOwner, unlock } from "../../src/repo/lock.js";
import { NodeFs, nodeRepositoryOptions } from "../../src/node/index.js";
import { ROOT, randomBytes, rng, tempDir } from "../support/helpers.js";
import { tally } from "../support/hostile-kit.js";
import { encrypt } from "../support/encrypted-repo-kit.js";

const CHILD = join(ROOT, "dist", "test", "support", "repo-child.js");

interface Child {
  pid: number;
  /** Resolves with the child's JSON result (or undefined if it printed none) once it exits. */
  done: Promise<{ ok: boolean; code?: string } | undefined>;
  /** Resolves when the child prints `word`. */
  said(word: string): Promise<void>;
  kill(): void;
}

function child(args: string[]): Child {
  const proc = spawn(process.execPath, [CHILD, ...args]);
  let out = "";
  const waiting: { word: string; resolve: () => void }[] = [];
  proc.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    for (const w of waiting.filter((w) => out.includes(w.word))) w.resolve();
  });
  return {
    pid: proc.pid!,
    done: new Promise((resolve) => proc.on("exit", () => resolve(out.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l))[0]))),
    said: (word) => new Promise((resolve) => (out.includes(word) ? resolve() : waiting.push({ word, resolve }))),
    kill: () => proc.kill("SIGKILL"),
  };
}

/** New content in every file: a backup then reads and stores it all, and lasts. */
async function fill(source: NodeFs, seed: number): Promise<void> {
  for (let i = 0; i < 12; i++) await source.writeFile(`f${i}`, randomBytes(rng(seed * 100 + i), 1 << 20));
}

async function setup(): Promise<{ repoDir: string; sourceDir: string; repo: Repository }> {
  const dir = tempDir();
  const sourceDir = join(dir, "source");
  const repoDir = join(dir, "repo");
  mkdirSync(sourceDir);
  mkdirSync(repoDir);
  const source = new NodeFs(sourceDir);
  await fill(source, 0);
  return { repoDir, sourceDir, repo: await Repository.init(new FsStore(new NodeFs(repoDir)), nodeRepositoryOptions()) };
}

test("two processes backing up into one repository at once: exactly one proceeds, the other gets LOCKED", async () => {
  const { repoDir, sourceDir, repo } = await setup();
  const t = tally("two writers at once (repository)");
  for (let round = 0; round < 3; round++) {
    // Enough new data that a backup lasts long past the moment both writers try the lock.
    await fill(new NodeFs(sourceDir), round + 1);
    const startAt = String(Date.now() + 1500);
    const results = await Promise.all([child(["backup", repoDir, sourceDir, startAt]).done, child(["backup", repoDir, sourceDir, startAt]).done]);
    assert.deepEqual(results.map((r) => (r?.ok ? "ok" : r?.code)).sort(), ["LOCKED", "ok"], `round ${round}: ${JSON.stringify(results)}`);
    assert.equal((await repo.snapshots()).length, round + 1);
    assert.equal((await repo.verify({ readData: true })).ok, true);
    t.tried++;
    t.accepted++;
    t.codes["one ok, one LOCKED"] = (t.codes["one ok, one LOCKED"] ?? 0) + 1;
  }
});

test("a stale lock: the core cannot judge it and says LOCKED until unlock; Node's options see the dead pid and take over", async () => {
  const { repoDir, sourceDir } = await setup();
  const store = new FsStore(new NodeFs(repoDir));
  const source = new NodeFs(sourceDir);
  const holdAndDie = async () => {
    const holder = child(["hold", repoDir, sourceDir]);
    await holder.said("holding");
    holder.kill();
    await holder.done;
    return holder.pid;
  };

  const pid = await holdAndDie();
  const plain = await Repository.open(store);
  assert.equal((await plain.lockOwner())?.pid, pid, "the lock names its writer's pid");
  await assert.rejects(plain.backup(source), (e) => isIbtError(e, "LOCKED") && e.message.includes(String(pid)) && /unlock/.test(e.message));
  assert.equal((await plain.unlock()).removed, true);
  await plain.backup(source);

  await holdAndDie();
  const node = await Repository.open(store, nodeRepositoryOptions());
  const s = await node.backup(source);
  assert.deepEqual((await node.snapshots()).map((x) => x.id).at(-1), s.id, "the dead writer's lock was broken");

  // A live writer's lock is not cleared by unlock, only by unlock({ force: true }).
  const live = child(["hold", repoDir, sourceDir]);
  await live.said("holding");
  await assert.rejects(node.unlock(), (e) => isIbtError(e, "LOCKED"));
  await assert.rejects(node.backup(source), (e) => isIbtError(e, "LOCKED"));
  assert.equal((await node.unlock({ force: true })).removed, true);
  live.kill();
  await live.done;
  assert.equal((await node.verify({ readData: true })).ok, true);
  assert.equal((await node.snapshots()).length, 2);
});

test("a lock sealed under no key of this repository still locks: LOCKED, not an authentication failure, and unlock clears it", async () => {
  const inner = new MemoryStore();
  const store = await encrypt(inner);
  // The plain lock a writer holds while it makes a new encrypted repository's key.
  await inner.save(LOCK, await encodeRecord({ id: "creating", pid: 1, host: "elsewhere", time: new Date().toISOString(), operation: "init" }));
  await assert.rejects(Repository.init(store), (e: unknown) => isIbtError(e, "LOCKED") && /cannot be read/.test((e as Error).message));
  assert.equal(await readOwner(store), undefined);
  await inner.remove(LOCK);
  await inner.save(LOCK, new Uint8Array(3)); // a size no sealed object has
  await assert.rejects(Repository.init(store), (e: unknown) => isIbtError(e, "LOCKED"));
  assert.deepEqual((await unlock(store, {}, false)).removed, true);
  assert.ok((await Repository.init(store)).id);
});
