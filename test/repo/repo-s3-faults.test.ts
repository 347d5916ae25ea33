/**
 * The repository on S3Store with the strict S3 test server committing faults: backup #1 (full),
 * backup #2 (incremental), restore and forget, each run once per planned fault. A fault is one
 * of the server's kinds (500, 503 SlowDown, 429, a dropped connection, a drop after the
 * operation took effect, a connection reset mid-answer, a CompleteMultipartUpload that fails
 * inside a 200) striking the request at index N of what a clean run of that phase sends, and
 * then the retries of that same request (same operation, key and range). Parts are 24 KiB, so
 * the archives go up as multipart uploads and the faults land among their parts.
 *
 * Half the runs give up: the store tries `attempts` times (1 or 2) and the fault strikes that
 * many times, so the request fails for good. The other half recover: the store tries three
 * times and the fault strikes once or twice. A run that recovers must succeed; a run that gives
 * up either fails with an IbtError or the request it hit was one the repository may lose
 * (a best-effort clean-up). Afterwards, through a store without faults: the repository lists
 * only complete snapshots, verifies with readData, and every listed snapshot restores exactly
 * its tree; a lock left behind is said in the error (with how to clear it); the operation
 * retried succeeds; and after a writer's retry no data, index or multipart upload of the failed
 * run remains.
 *
 * Every index N of every phase is struck, each by one kind in turn (the kinds rotate over N,
 * so each kind hits every sixth request of each phase), and every CompleteMultipartUpload by
 * complete-fail; IBT_FUZZ_SCALE=6 or more strikes every N with every kind.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { IbtError, MemoryFs, Repository, type FsAdapter } from "../../src/index.js";
import type { S3StoreOptions } from "../../src/store/index.js";
import { rng } from "../support/helpers.js";
import { FUZZ_SCALE, tally } from "../support/hostile-kit.js";
import { TreeChanger, treeId } from "../support/repo-kit.js";
import { BUCKET, repoStoreOn, serverForThisTest, uploadsUnder } from "../support/s3-repo-kit.js";
import type { Fault, FaultKind, S3TestServer } from "../support/s3-server.js";
import { DATA, INDEXES, archivePath, indexPath } from "../../src/repo/layout.js";

type Phase = "backup #1" | "backup #2" | "restore" | "forget";
const PHASES: Phase[] = ["backup #1", "backup #2", "restore", "forget"];
/** Kinds that may strike any request; complete-fail strikes CompleteMultipartUpload only. */
const ANY_REQUEST: FaultKind[] = ["500", "503-slowdown", "429", "drop", "drop-after-apply", "reset-mid-body"];
const PART = 24 * 1024;
const storeOn = (server: S3TestServer, prefix: string, more: Partial<S3StoreOptions> = {}) => repoStoreOn(server, prefix, { partSize: PART, minPartSize: PART, streamChunkSize: PART, ...more });

/** Three trees: A, A changed (B), B changed (C). Files of up to ~70 KiB, so a full archive spans several parts. */
async function sources(): Promise<{ trees: FsAdapter[]; ids: string[] }> {
  const trees: FsAdapter[] = [];
  for (let i = 0; i < 3; i++) {
    const fs = new MemoryFs();
    const changer = new TreeChanger(fs, rng(61));
    await changer.seed(10);
    for (let k = 0; k < i; k++) await changer.change(5);
    trees.push(fs);
  }
  return { trees, ids: await Promise.all(trees.map((t) => treeId(t))) };
}

const TIME = (day: number) => ({ time: new Date(Date.UTC(2026, 0, day)) });

interface World {
  /** The prefix that holds the repository as it is just before the phase. */
  prefix: string;
  /** Snapshot id → the tree id it was taken of. */
  trees: Map<string, string>;
}

/** Builds, without faults, the repository as it is just before `phase`. */
async function world(server: S3TestServer, src: Awaited<ReturnType<typeof sources>>, phase: Phase): Promise<World> {
  const prefix = `world-${phase.replace(/\W/g, "")}`;
  const repo = await Repository.init(storeOn(server, prefix));
  const trees = new Map<string, string>();
  const snap = async (i: number, full = false) => trees.set((await repo.backup(src.trees[i]!, { ...TIME(i + 1), full })).id, src.ids[i]!);
  if (phase !== "backup #1") await snap(0);
  if (phase === "restore" || phase === "forget") await snap(1);
  if (phase === "forget") await snap(2, true);
  return { prefix, trees };
}

let copies = 0;

/** A fresh prefix holding a copy of `from`'s objects, made on the server directly. */
function copyOf(server: S3TestServer, from: string): string {
  const prefix = `run-${++copies}`;
  for (const o of server.objects(BUCKET).filter((o) => o.key.startsWith(from + "/"))) {
    server.putObject(BUCKET, prefix + o.key.slice(from.length), o.body);
  }
  return prefix;
}

interface Plan {
  kind: FaultKind;
  /** Index, among the requests of the phase (or among its CompleteMultipartUploads for complete-fail), of the first one struck. */
  n: number;
  /** Tries the store makes of each request. */
  attempts: number;
  /** Times the fault strikes: the first request and then its retries. */
  strikes: number;
}

/** A fault striking request `n` (counted by `counts`) and then the next `strikes - 1` requests like it. */
function strike(plan: Plan): { fault: Fault; struck: () => number } {
  let seen = 0;
  let struck = 0;
  let same: string | undefined;
  const fault: Fault = {
    kind: plan.kind,
    times: Infinity,
    when: (t) => {
      if (plan.kind === "complete-fail" && t.op !== "CompleteMultipartUpload") return false;
      const what = `${t.op} ${t.key} ${t.range}`;
      if (same === undefined) {
        if (seen++ !== plan.n) return false;
        same = what;
      } else if (what !== same || struck >= plan.strikes) return false;
      struck++;
      return true;
    },
  };
  return { fault, struck: () => struck };
}

async function operate(repo: Repository, phase: Phase, src: Awaited<ReturnType<typeof sources>>, before: string[]): Promise<unknown> {
  switch (phase) {
    case "backup #1":
      return repo.backup(src.trees[0]!, TIME(10));
    case "backup #2":
      return repo.backup(src.trees[1]!, TIME(10));
    case "restore": {
      const target = new MemoryFs();
      await repo.restore(before[1]!, target);
      return treeId(target);
    }
    case "forget":
      return repo.forget({ keepLast: 1 });
  }
}

interface Outcome {
  error?: IbtError;
  struck: number;
  unlocked: boolean;
  /** Requests the operation sent, and how many of them were CompleteMultipartUpload. */
  sent: number;
  completes: number;
}

async function run(server: S3TestServer, src: Awaited<ReturnType<typeof sources>>, w: World, phase: Phase, plan: Plan): Promise<Outcome> {
  const prefix = copyOf(server, w.prefix);
  const before = [...w.trees.keys()];
  const label = `${phase}, ${plan.kind} at ${plan.n}, ${plan.strikes} strike(s) of ${plan.attempts} attempt(s)`;
  const { fault, struck } = strike(plan);
  server.faults.push(fault);
  const at = server.log.length;
  let result: unknown;
  let error: unknown;
  try {
    const faulty = storeOn(server, prefix, { retry: { attempts: plan.attempts, baseDelayMs: 1, maxDelayMs: 2 } });
    result = await operate(await Repository.open(faulty), phase, src, before);
  } catch (e) {
    error = e;
  } finally {
    server.faults.splice(server.faults.indexOf(fault), 1);
  }
  const sent = server.log.slice(at);
  const out: Outcome = { struck: struck(), unlocked: false, sent: sent.length, completes: sent.filter((e) => e.op === "CompleteMultipartUpload").length };
  if (error !== undefined) {
    assert.ok(error instanceof IbtError, `${label}: not an IbtError: ${error instanceof Error ? error.stack : String(error)}`);
    assert.ok(out.struck > 0, `${label}: failed with no fault: ${error.message}`);
    assert.ok(plan.strikes >= plan.attempts, `${label}: failed although retries should have recovered: ${error.message}`);
    assert.match(error.message, /S3 |HTTP|connection|request|upload/i, `${label}: the error does not say which request failed: ${error.message}`);
    out.error = error;
  }

  // Through a store without faults: only complete snapshots, all sound, all restoring exactly.
  const store = storeOn(server, prefix);
  const repo = await Repository.open(store);
  const listed = (await repo.snapshots()).map((s) => s.id);
  const report = await repo.verify({ readData: true });
  assert.deepEqual(report.problems, [], `${label}: verify`);
  const trees = new Map(w.trees);
  if (phase === "forget") {
    assert.ok(listed.includes(before[2]!), `${label}: the kept snapshot is gone`);
    assert.ok(listed.every((id) => before.includes(id)), `${label}: a snapshot appeared`);
    if (!out.error) assert.deepEqual(listed, [before[2]], `${label}: forget succeeded and kept ${listed.join(",")}`);
  } else {
    assert.deepEqual(listed.slice(0, before.length), before, `${label}: a snapshot that existed is gone`);
    const added = listed.slice(before.length);
    assert.ok(added.length <= (phase === "restore" ? 0 : 1), `${label}: ${added.length} snapshots added`);
    if (added.length) trees.set(added[0]!, src.ids[phase === "backup #1" ? 0 : 1]!);
    if (phase !== "restore" && !out.error) assert.equal(added[0], (result as { id: string }).id, `${label}: success without its snapshot`);
    if (phase === "restore" && !out.error) assert.equal(result, w.trees.get(before[1]!), `${label}: restore succeeded with a wrong tree`);
  }
  for (const id of listed) {
    const target = new MemoryFs();
    await repo.restore(id, target);
    assert.equal(await treeId(target), trees.get(id), `${label}: snapshot ${id} does not restore exactly`);
  }

  // A lock left by a writer whose release failed is said in its error; clearing it is unlock's job.
  if ((await repo.lockOwner()) !== undefined) {
    assert.ok(out.error !== undefined && phase !== "restore", `${label}: the lock stayed after ${out.error ? "a restore" : "a success"}`);
    assert.match(out.error.message, /unlock/, `${label}: the lock stayed and the error does not say how to clear it`);
    await repo.unlock();
    out.unlocked = true;
  }
  // The retry, without faults, succeeds; a writer's retry leaves nothing of the failed run.
  if (phase === "restore") {
    assert.equal(await operate(repo, phase, src, before), w.trees.get(before[1]!));
  } else {
    if (phase === "forget" || listed.length === before.length) await operate(repo, phase, src, before);
    if (phase === "forget") assert.deepEqual((await repo.snapshots()).map((s) => s.id), [before[2]], `${label}: the retried forget`);
    else assert.equal((await repo.snapshots()).length, before.length + 1, `${label}: the retried backup`);
  }
  if (phase !== "restore" && (listed.length === before.length || phase === "forget")) {
    const ids = (await repo.snapshots()).map((s) => s.id).sort();
    const names = async (dir: string) => {
      const out: string[] = [];
      for await (const o of store.list(dir + "/")) out.push(o.name);
      return out.sort();
    };
    assert.deepEqual(await names(DATA), ids.map(archivePath).sort(), `${label}: data leftovers`);
    assert.deepEqual(await names(INDEXES), ids.map(indexPath).sort(), `${label}: index leftovers`);
    assert.deepEqual(uploadsUnder(server, prefix), [], `${label}: multipart uploads left`);
  }
  assert.equal(await repo.lockOwner(), undefined, `${label}: locked after the retry`);
  // The copy is done with: empty it (the server's state has no removal), so memory holds one run's objects at a time.
  for (const o of server.objects(BUCKET).filter((o) => o.key.startsWith(prefix + "/"))) server.putObject(BUCKET, o.key, new Uint8Array(0));
  return out;
}

/** The plans of a phase whose clean run sent `requests` requests, `completes` of them CompleteMultipartUpload. */
function plansFor(phaseIndex: number, requests: number, completes: number): Plan[] {
  const plans: Plan[] = [];
  const everyKind = FUZZ_SCALE >= 6;
  let k = 0;
  // Alternate giving up (1 or 2 attempts, struck that often) with recovering (3 attempts, struck once or twice).
  const retries = (): Pick<Plan, "attempts" | "strikes"> => {
    const i = k++;
    if (i % 2 === 0) return { attempts: 1 + ((i >> 1) % 2), strikes: 1 + ((i >> 1) % 2) };
    return { attempts: 3, strikes: 1 + ((i >> 1) % 2) };
  };
  for (let n = 0; n < requests; n++) {
    const kinds = everyKind ? ANY_REQUEST : [ANY_REQUEST[(n + phaseIndex) % ANY_REQUEST.length]!];
    for (const kind of kinds) plans.push({ kind, n, ...retries() });
  }
  for (let n = 0; n < completes; n++) {
    plans.push({ kind: "complete-fail", n, attempts: 1, strikes: 1 });
    plans.push({ kind: "complete-fail", n, attempts: 3, strikes: 2 });
  }
  return plans;
}

test("every S3 fault in a backup, restore or forget is retried to success or surfaces as an IbtError, and damages nothing", async () => {
  const server = await serverForThisTest(PART);
  const src = await sources();
  const t = tally("faults: repository on S3 (strict server)");
  const notes: string[] = [];
  let gaveUp = 0;
  let failed = 0;
  let recovered = 0;
  for (const [phaseIndex, phase] of PHASES.entries()) {
    const w = await world(server, src, phase);
    // The clean run, counted.
    const clean = await run(server, src, w, phase, { kind: "500", n: -1, attempts: 1, strikes: 0 });
    assert.equal(clean.error, undefined);
    const { sent: requests, completes } = clean;
    assert.ok(requests > 5, `${phase}: ${requests} requests counted`);
    if (phase === "backup #1") assert.ok(completes >= 1, `the full backup's archive goes up as a multipart upload (${completes})`);
    const plans = plansFor(phaseIndex, requests, completes);
    for (const plan of plans) {
      t.tried++;
      const o = await run(server, src, w, phase, plan);
      t.injected += o.struck > 0 ? 1 : 0;
      const giveUp = plan.strikes >= plan.attempts;
      if (giveUp) gaveUp++;
      if (o.error) {
        failed++;
        t.refused++;
        t.codes[o.error.code] = (t.codes[o.error.code] ?? 0) + 1;
        if (o.unlocked) t.codes["lock left, cleared by unlock"] = (t.codes["lock left, cleared by unlock"] ?? 0) + 1;
      } else {
        t.accepted++;
        if (!giveUp) recovered++;
        const what = giveUp ? `succeeded, the struck request ${o.struck ? "was best-effort or its fault harmless" : "not reached"}` : "retried to success";
        t.codes[what] = (t.codes[what] ?? 0) + 1;
      }
    }
    notes.push(`${phase}: ${requests} requests (${completes} completes), ${plans.length} runs`);
  }
  assert.ok(failed > gaveUp / 2, `only ${failed} of ${gaveUp} runs that gave up failed`);
  assert.equal(recovered, t.tried - gaveUp, "every run with retries to spare succeeded");
  process.stderr.write(`# S3 faults: ${t.tried} runs (${gaveUp} giving up, ${failed} failed cleanly), ${t.injected} struck; ${notes.join("; ")}; ${JSON.stringify(t.codes)}\n`);
});
