/**
 * Two writers on one bucket. Two processes (../support/repo-s3-child.ts) back up to one S3
 * repository at the same moment: exactly one proceeds and the other gets LOCKED, the lock being
 * the conditional create (`If-None-Match: *`) that the strict server answers with a real 412.
 * And a lock whose owner vanished (a child killed while it held the lock) is taken over only
 * when the taker may judge it abandoned: at once by a writer on the same host that sees the pid
 * is dead (Node's `isAlive`), and by a writer that cannot ask (no `isAlive`) only once the lock
 * is stale by its `lockTiming`; a live holder's lock is never taken.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Repository, isIbtError } from "../../src/index.js";
import { NodeFs, nodeRepositoryOptions } from "../../src/node/index.js";
import { ROOT, randomBytes, rng, tempDir } from "../support/helpers.js";
import { repoStoreOn, serverForThisTest } from "../support/s3-repo-kit.js";

const CHILD = join(ROOT, "dist", "test", "support", "repo-s3-child.js");
const PART = 256 * 1024;

interface Child {
  pid: number;
  done: Promise<{ ok: boolean; code?: string } | undefined>;
  said(word: string): Promise<void>;
  kill(): void;
}

function child(args: string[]): Child {
  const proc = spawn(process.execPath, [CHILD, ...args], { env: { ...process.env, IBT_PART_SIZE: String(PART) } });
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

/** New content in every file: a backup then uploads it all, and lasts. */
async function fill(source: NodeFs, seed: number): Promise<void> {
  for (let i = 0; i < 6; i++) await source.writeFile(`f${i}`, randomBytes(rng(seed * 100 + i), 1 << 20));
}

async function setup() {
  const server = await serverForThisTest(PART);
  const sourceDir = join(tempDir(), "source");
  mkdirSync(sourceDir);
  await fill(new NodeFs(sourceDir), 0);
  const store = repoStoreOn(server, "two", { partSize: PART, minPartSize: PART });
  return { server, sourceDir, store, repo: await Repository.init(store, nodeRepositoryOptions()) };
}

test("two processes backing up to one S3 repository at once: exactly one proceeds, the other gets LOCKED", async () => {
  const { server, sourceDir, repo } = await setup();
  for (let round = 0; round < 3; round++) {
    await fill(new NodeFs(sourceDir), round + 1);
    const startAt = String(Date.now() + 1500);
    const args = ["backup", server.endpoint, "two", sourceDir, startAt];
    const results = await Promise.all([child(args).done, child(args).done]);
    assert.deepEqual(results.map((r) => (r?.ok ? "ok" : r?.code)).sort(), ["LOCKED", "ok"], `round ${round}: ${JSON.stringify(results)}`);
    assert.equal((await repo.snapshots()).length, round + 1);
    assert.equal((await repo.verify({ readData: true })).ok, true);
  }
  // Both tried the lock: two conditional creates of it per round, one of them refused with 412.
  const lockPuts = server.requests("PutObject").filter((e) => e.key === "two/lock");
  assert.ok(lockPuts.filter((e) => e.status === 412).length >= 3, JSON.stringify(lockPuts.map((e) => e.status)));
});

test("a lock whose S3 writer vanished is taken over only when it may be judged abandoned: dead pid on this host at once, otherwise once stale", async () => {
  const { server, sourceDir, store } = await setup();
  const source = new NodeFs(sourceDir);
  const holdAndDie = async () => {
    const holder = child(["hold", server.endpoint, "two", sourceDir]);
    await holder.said("holding");
    holder.kill();
    await holder.done;
    return holder.pid;
  };

  // A writer that cannot ask whether the owner lives waits for the lock to go stale.
  const timing = { refreshMs: 200, staleMs: 2500 };
  const pid = await holdAndDie();
  const elsewhere = await Repository.open(store, { owner: { pid: 1, host: "elsewhere" }, lockTiming: timing });
  const owner = (await elsewhere.lockOwner())!;
  assert.equal(owner.pid, pid, "the lock names the dead writer");
  await assert.rejects(elsewhere.backup(source), (e) => isIbtError(e, "LOCKED") && e.message.includes(String(pid)));
  const staleAt = Date.parse(owner.time) + timing.staleMs;
  await new Promise((r) => setTimeout(r, Math.max(0, staleAt - Date.now()) + 50));
  const taken = await elsewhere.backup(source);
  assert.equal((await elsewhere.snapshots()).at(-1)!.id, taken.id, "taken over once stale");

  // A writer on the same host sees the pid is dead and takes over at once.
  await holdAndDie();
  const node = await Repository.open(store, nodeRepositoryOptions());
  const s = await node.backup(source);
  assert.equal((await node.snapshots()).at(-1)!.id, s.id, "the dead writer's fresh lock was broken");

  // A live holder's lock is taken by no one: not by this host, which sees it live, nor from elsewhere while it is fresh.
  const live = child(["hold", server.endpoint, "two", sourceDir]);
  await live.said("holding");
  await assert.rejects(node.backup(source), (e) => isIbtError(e, "LOCKED"));
  const patient = await Repository.open(store, { owner: { pid: 1, host: "elsewhere" } });
  await assert.rejects(patient.backup(source), (e) => isIbtError(e, "LOCKED"));
  live.kill();
  await live.done;
  await node.backup(source);
  assert.equal((await node.snapshots()).length, 3);
  assert.equal((await node.verify({ readData: true })).ok, true);
});
