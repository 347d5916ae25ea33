/**
 * The repository under FaultyFs, through FsStore (so every Store call a repository makes on a
 * file tree meets the faults of the adapter calls it is made of): backup #1 (full), backup #2 (incremental), restore and forget,
 * each run once per planned fault, with one adapter wrapped at a time: the repository's (every
 * phase), the source's (the backups' reads) or the restore target's. The plan is every
 * operation of every kind failing in turn for each N a clean run performs (every Nth on NodeFs
 * in the quick run), every read coming back short in turn, and the disk filling up after N bytes.
 *
 * The repository adapter's runs are made once more on an encrypted repository (an
 * EncryptedStore over FsStore(FaultyFs(MemoryFs))), every N, where every fault also meets the
 * key objects' reads and the segment layer's ranged loads.
 *
 * Each run starts from a fresh repository built without faults, so a run sees exactly the
 * operations the clean run counted. Afterwards, without faults: a failure is an IbtError caused
 * by the injected fault (its message or a cause says "injected", or, for a short read, a size or
 * hash check caught the lie); the repository lists only complete snapshots (those before, plus
 * the new one for a backup, minus some of the removed ones for forget), verifies with readData,
 * and every listed snapshot restores exactly the tree it was taken from; a restore target holds
 * its old tree or exactly the snapshot, or, when the fault struck in the middle of the commit,
 * an old-or-new mix in which every entry has its old or its new type and content (restore has
 * no journal; modes and mtimes, set last, may lag: see the README); and the operation retried without faults succeeds with the right result.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DirIndex, FsStore, IbtError, MemoryFs, Repository, type FsAdapter } from "../../src/index.js";
import type { IndexEntry } from "../../src/dirindex/entry.js";
import { rng } from "../support/helpers.js";
import { FUZZ_SCALE, tally, type Tally } from "../support/hostile-kit.js";
import { FAULT_OPS, FaultState, FaultyFs, type Fault } from "../support/faulty-fs.js";
import { CONFIG, DATA, INDEXES, SNAPSHOTS, archivePath, indexPath } from "../../src/repo/layout.js";
import { TreeChanger, memoryFactory, nodeFactory, treeId, type AdapterFactory } from "../support/repo-kit.js";
import { encrypt, reopen } from "../support/encrypted-repo-kit.js";
import type { Store } from "../../src/store/types.js";
import { KEYS_PREFIX } from "../../src/crypto/keys.js";

/** How a repository's folder becomes its Store: as it is, or encrypted. */
interface StoreKind {
  name: string;
  init(fs: FsAdapter): Promise<Store>;
  open(fs: FsAdapter): Promise<Store>;
  /** Objects at the root besides the repository's own. */
  extraRoot: string[];
}

const PLAIN: StoreKind = { name: "", init: async (fs) => new FsStore(fs), open: async (fs) => new FsStore(fs), extraRoot: [] };
const ENCRYPTED: StoreKind = { name: "encrypted ", init: (fs) => encrypt(new FsStore(fs)), open: (fs) => reopen(new FsStore(fs)), extraRoot: [KEYS_PREFIX.replace(/\/$/, "")] };

type Phase = "backup #1" | "backup #2" | "restore" | "restore to empty" | "forget";
type Wrapped = "repository" | "source" | "target";

/** The source trees the snapshots are taken from: A, then A changed (B), then B changed (C). */
interface Sources {
  trees: FsAdapter[];
  ids: string[];
}

async function sources(factory: AdapterFactory): Promise<Sources> {
  const trees: FsAdapter[] = [];
  // Each tree is made from the same seed and then changed further, so B is A with changes.
  for (let i = 0; i < 3; i++) {
    const fs = await factory.make();
    const changer = new TreeChanger(fs, rng(61));
    await changer.seed(8);
    for (let k = 0; k < i; k++) await changer.change(5);
    trees.push(fs);
  }
  return { trees, ids: await Promise.all(trees.map((t) => treeId(t))) };
}

const TIME = (day: number) => ({ time: new Date(Date.UTC(2026, 0, day)) });

/** A repository (and target) in the state just before `phase`, built without faults. */
async function world(factory: AdapterFactory, kind: StoreKind, src: Sources, phase: Phase) {
  const store = await factory.make();
  const repo = await Repository.init(await kind.init(store));
  const trees = new Map<string, string>();
  const snap = async (i: number, full = false) => trees.set((await repo.backup(src.trees[i]!, { ...TIME(i + 1), full })).id, src.ids[i]!);
  if (phase !== "backup #1") await snap(0);
  if (phase.startsWith("restore") || phase === "forget") await snap(1);
  if (phase === "forget") await snap(2, true);
  // The restore target holds the first snapshot (only what differs is written) or nothing.
  const target = phase.startsWith("restore") ? await factory.make() : undefined;
  if (phase === "restore") await repo.restore([...trees.keys()][0]!, target!);
  return { store, trees, target };
}

function causedByInjection(e: unknown): boolean {
  for (let at = e, n = 0; at instanceof Error && n < 10; at = at.cause, n++) if (at.message.includes("injected")) return true;
  return false;
}

/** Same type and content (bytes or link target): what a half-done commit must never mix up. */
function sameContent(a: IndexEntry, b: IndexEntry | undefined): boolean {
  return b !== undefined && a.type === b.type && a.size === b.size && a.hash === b.hash && a.target === b.target;
}

/** Restores `id` into a fresh MemoryFs and checks the tree is exactly `want`. */
async function restoresExactly(repo: Repository, id: string, want: string, label: string): Promise<void> {
  const out = new MemoryFs();
  await repo.restore(id, out);
  assert.equal(await treeId(out), want, `${label}: snapshot ${id} does not restore exactly`);
}

interface Outcome {
  state: FaultState;
  error?: unknown;
  /** A restore target left as an old-or-new mix (a fault in the middle of the commit). */
  mixed?: boolean;
  /** The failed writer's lock stayed (its release failed) and the retry had to unlock. */
  unlocked?: boolean;
}

async function run(factory: AdapterFactory, kind: StoreKind, src: Sources, phase: Phase, wrapped: Wrapped, fault: Fault | undefined, check: boolean): Promise<Outcome> {
  const { store, trees, target } = await world(factory, kind, src, phase);
  const state = new FaultState(fault);
  const wrap = (fs: FsAdapter, as: Wrapped) => (as === wrapped ? new FaultyFs(fs, state) : fs);
  const before = [...trees.keys()];
  const sourceIndex = phase === "backup #1" ? 0 : 1;
  const out: Outcome = { state };
  const restoring = phase.startsWith("restore");
  const targetBefore = restoring ? await DirIndex.build(target!, { signatures: false }) : undefined;
  let result: unknown;
  try {
    const repo = await Repository.open(await kind.open(wrap(store, "repository")));
    if (restoring) result = await repo.restore(before[1]!, wrap(target!, "target"), { delete: true });
    else if (phase === "forget") result = await repo.forget({ keepLast: 1 });
    else result = await repo.backup(wrap(src.trees[sourceIndex]!, "source"), TIME(10));
  } catch (e) {
    out.error = e;
  }
  if (!check) return out;
  const label = `${kind.name}${factory.name} ${phase}, ${wrapped} adapter, ${JSON.stringify(fault)}`;
  if (out.error !== undefined) {
    assert.ok(out.error instanceof IbtError, `${label}: not an IbtError: ${out.error instanceof Error ? out.error.stack : String(out.error)}`);
    assert.ok(state.injected > 0, `${label}: failed with no fault injected: ${out.error.message}`);
    if (fault?.kind !== "short") assert.ok(causedByInjection(out.error), `${label}: the error is not the injected fault's: ${out.error.message}`);
  }

  // The repository, read without faults: only complete snapshots, all of them sound.
  const repo = await Repository.open(await kind.open(store));
  const listed = (await repo.snapshots()).map((s) => s.id);
  const report = await repo.verify({ readData: true });
  assert.ok(report.ok, `${label}: verify: ${JSON.stringify(report.problems)}`);
  if (phase === "forget") {
    assert.ok(listed.includes(before[2]!), `${label}: the kept snapshot is gone`);
    assert.ok(listed.every((id) => before.includes(id)), `${label}: a snapshot appeared`);
    if (out.error === undefined) assert.deepEqual(listed, [before[2]], `${label}: forget succeeded and kept ${listed.join(",")}`);
  } else {
    assert.deepEqual(listed.slice(0, before.length), before, `${label}: a snapshot that existed is gone`);
    const added = listed.slice(before.length);
    assert.ok(added.length <= (restoring ? 0 : 1), `${label}: ${added.length} snapshots added`);
    if (added.length) trees.set(added[0]!, src.ids[sourceIndex]!);
    if (!restoring && out.error === undefined) assert.equal(added[0], (result as { id: string }).id, `${label}: success without its snapshot`);
  }
  for (const id of listed) await restoresExactly(repo, id, trees.get(id)!, label);

  if (restoring) {
    const now = await DirIndex.build(target!, { signatures: false });
    const newTree = trees.get(before[1]!)!;
    if (out.error === undefined) assert.equal(now.id, newTree, `${label}: restore succeeded with a wrong tree`);
    else if (now.id !== targetBefore!.id && now.id !== newTree) {
      // Interrupted inside the commit: every entry must still be either the old or the new one.
      const t = new MemoryFs();
      await repo.restore(before[1]!, t);
      const [oldIx, newIx] = [targetBefore!, await DirIndex.build(t, { signatures: false })];
      for (const [path, e] of now.entries) {
        // Modes and mtimes are set after the renames, so those may lag; the retry sets them.
        assert.ok(sameContent(e, oldIx!.get(path)) || sameContent(e, newIx!.get(path)), `${label}: ${path} is neither old nor new`);
      }
      out.mixed = true;
    }
  }

  // The retry, without faults, succeeds with the right result.
  const retry = async (): Promise<unknown> => {
    if (restoring) return repo.restore(before[1]!, target!, { delete: true });
    if (phase === "forget") return repo.forget({ keepLast: 1 });
    if (listed.length > before.length) return undefined; // the backup did commit
    return repo.backup(src.trees[sourceIndex]!, TIME(10));
  };
  if ((await repo.lockOwner()) !== undefined) {
    // A writer whose release failed leaves its lock, and says so: clearing it is unlock's job.
    // A writer that reported success must never leave one.
    assert.ok(out.error !== undefined && !restoring, `${label}: the lock stayed after ${out.error === undefined ? "a success" : "a restore"}`);
    assert.match((out.error as Error).message, /unlock/, `${label}: the lock stayed and the error does not say how to clear it`);
    await repo.unlock();
    out.unlocked = true;
  }
  await retry();
  const again = await repo.snapshots();
  if (restoring) {
    assert.equal(await treeId(target!), trees.get(before[1]!), `${label}: the retried restore is wrong`);
    // No staging directory stays, unless the failed run's error names it for deletion.
    for (const name of (await target!.list("")).filter((n) => n.startsWith(".ibt-staging-"))) {
      assert.ok(out.error instanceof Error && out.error.message.includes(name), `${label}: ${name} left in the target unreported`);
    }
  }
  else if (phase === "forget") assert.deepEqual(again.map((s) => s.id), [before[2]], `${label}: the retried forget`);
  else {
    assert.equal(again.length, before.length + 1, `${label}: the retried backup`);
    await restoresExactly(repo, again.at(-1)!.id, src.ids[sourceIndex]!, `${label} (retried)`);
  }
  assert.equal(await repo.lockOwner(), undefined, `${label}: locked after the retry`);
  // Whatever the failed run left in the store is gone after a writer's retry (and a reader's
  // failure leaves nothing): exactly the listed snapshots' files remain.
  const ids = again.map((s) => s.id).sort();
  assert.deepEqual((await store.list(DATA)).sort(), ids.map((id) => archivePath(id).slice(DATA.length + 1)), `${label}: data leftovers`);
  assert.deepEqual((await store.list(INDEXES)).sort(), ids.map((id) => indexPath(id).slice(INDEXES.length + 1)), `${label}: index leftovers`);
  // A backup that committed and then failed to finish releasing its lock is not retried: its
  // retired lock (FsStore's "lock~old-…") stays for the next writer's sweep, like the leftovers
  // of a crash.
  const committed = !restoring && phase !== "forget" && listed.length > before.length;
  const root = (await store.list("")).filter((n) => !(committed && n.startsWith("lock~old-")));
  assert.deepEqual(root.sort(), [CONFIG, DATA, INDEXES, SNAPSHOTS, ...kind.extraRoot].sort(), `${label}: leftovers at the root`);
  return out;
}

const GROUPS: [Wrapped, Phase[]][] = [
  ["repository", ["backup #1", "backup #2", "restore", "restore to empty", "forget"]],
  ["source", ["backup #1", "backup #2"]],
  ["target", ["restore", "restore to empty"]],
];

const CASES: [AdapterFactory, StoreKind][] = [
  [memoryFactory, PLAIN],
  [nodeFactory, PLAIN],
  [memoryFactory, ENCRYPTED],
];

for (const [factory, kind] of CASES) {
  // Encryption sits between the repository and its folder only: the source's and target's
  // faults meet the same code with or without it.
  for (const [wrapped, phases] of GROUPS.filter(([w]) => kind === PLAIN || w === "repository")) {
    test(`every fault in the ${wrapped} adapter surfaces and damages nothing backed up or restored (${kind.name}${factory.name})`, async () => {
      const src = await sources(factory);
      const t: Tally = tally(`faults: ${kind.name}repository, ${wrapped} adapter on ${factory.name}`);
      // In memory every N; on disk every fifth in the quick run (every one from IBT_FUZZ_SCALE=5).
      const stride = factory === memoryFactory ? 1 : Math.max(1, Math.round(5 / FUZZ_SCALE));
      let failed = 0;
      let mixed = 0;
      let unlocked = 0;
      let planned = 0;
      const notes: string[] = [];
      for (const phase of phases) {
        const clean = await run(factory, kind, src, phase, wrapped, undefined, true);
        assert.equal(clean.error, undefined);
        const faults: Fault[] = [];
        for (const op of FAULT_OPS) for (let n = 1; n <= clean.state.counts[op]; n += stride) faults.push({ kind: "fail", op, n });
        for (let n = 1; n <= clean.state.counts.read; n += stride) faults.push({ kind: "short", n });
        const bytes = (await run(factory, kind, src, phase, wrapped, { kind: "full", bytes: Infinity }, false)).state.bytesWritten;
        if (bytes > 0) for (let i = 0; i < 20; i += stride) faults.push({ kind: "full", bytes: Math.floor((bytes * i) / 20) });
        planned += faults.length;
        for (const fault of faults) {
          t.tried++;
          const o = await run(factory, kind, src, phase, wrapped, fault, true);
          t.injected += o.state.injected;
          if (o.mixed) mixed++;
          if (o.unlocked) unlocked++;
          if (o.error !== undefined) {
            failed++;
            t.refused++;
            const code = (o.error as IbtError).code;
            t.codes[code] = (t.codes[code] ?? 0) + 1;
          } else {
            // The fault hit a best-effort clean-up (its leftover checked gone after the retry) or
            // a read whose short answer was not needed: the result was checked exactly above.
            t.accepted++;
            const what = `accepted (${phase}, ${fault.kind === "fail" ? `${fault.op} fails` : fault.kind === "short" ? "short read" : "disk full"})`;
            t.codes[what] = (t.codes[what] ?? 0) + 1;
          }
        }
        notes.push(`${phase} ${faults.length} (${JSON.stringify(clean.state.counts)}, ${bytes} B)`);
      }
      if (mixed) t.codes["restore interrupted in its commit (old-or-new mix)"] = mixed;
      if (unlocked) t.codes["retry needed unlock (release failed)"] = unlocked;
      assert.ok(t.injected > planned * 0.9, `${t.injected} of ${planned} planned faults fired`);
      assert.ok(failed > planned / 2, `only ${failed} of ${planned} runs failed`);
      process.stderr.write(`# ${kind.name}${factory.name}, ${wrapped}: ${planned} runs, ${t.injected} faults fired, ${failed} failed cleanly, ${mixed} mixed, ${unlocked} unlocked; ${notes.join("; ")}\n`);
    });
  }
}
