/**
 * Whole restores into an empty target made as a stream (restore-stream.ts): the tree read from
 * its index and each link's manifest read beside it, in path order (streamManifest). Checked:
 * every snapshot of random chains restores exactly, files moved or copied (made after the tree,
 * from the manifests read again) and a file moved twice included; a manifest is handed on in batches bounded by the piece read, equal to what the whole read
 * gives; and a manifest out of path order, or with its head after its changes, is not streamed
 * though it is valid.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryFs, MemoryStore, Repository, isIbtError } from "../../src/index.js";
import { restoreStreamed } from "../../src/repo/restore-stream.js";
import { chainOf, loadRecords } from "../../src/repo/snapshot.js";
import { openChain } from "../../src/repo/stored.js";
import { NotStreamable, readManifest, streamManifest, type ManifestChange } from "../../src/archive/manifest.js";
import { STAGING_PREFIX } from "../../src/dirindex/entry.js";
import { rng } from "../support/helpers.js";
import { TreeChanger, treeId } from "../support/repo-kit.js";

const LIMITS = { batchFiles: 16, wholeWrite: 1 << 20, createsInFlight: 8, createBytesInFlight: 1 << 20, metaConcurrency: 4 };
const staging = () => `${STAGING_PREFIX}restore-test`;

test("streamed restores of every snapshot of random chains are exact, moved and copied files included", async () => {
  let moved = 0;
  for (let seed = 1; seed <= 6; seed++) {
    const store = new MemoryStore();
    // One chain, however much it grows: every snapshot but the first is an incremental.
    const repo = await Repository.init(store, { fullShare: Infinity });
    const source = new MemoryFs();
    const changer = new TreeChanger(source, rng(seed));
    await changer.seed(30);
    const trees = new Map<string, string>();
    for (let v = 0; v < 5; v++) {
      if (v > 0) await changer.change(6);
      const made = await repo.backup(source);
      trees.set(made.id, await treeId(source));
    }
    const { records } = await loadRecords(store);
    for (const [id, tree] of trees) {
      const chain = chainOf(records, id);
      const target = new MemoryFs();
      const result = await restoreStreamed(store, chain, records, target, {}, { staging: staging(), ...LIMITS });
      assert.ok(result, `seed ${seed}, snapshot ${id}: streamed`);
      assert.equal(await treeId(target), tree, `seed ${seed}, snapshot ${id}`);
      assert.equal(result.files, chain.at(-1)!.files);
      assert.ok(!(await target.list("")).some((n) => n.startsWith(STAGING_PREFIX)));
      const links = await openChain(store, chain);
      if (links.slice(1).some((l) => l.manifest.changes.some((c) => c.kind === "move" || c.kind === "copy"))) moved++;
    }
  }
  // Files made after the tree, from the manifests read again, were among them (the seeds are fixed).
  assert.ok(moved >= 3, `${moved} chains with moves or copies`);
});

test("a file moved in one snapshot and again in the next is followed back two links", async () => {
  const store = new MemoryStore();
  const repo = await Repository.init(store, { fullShare: Infinity });
  const source = new MemoryFs();
  const text = (s: string) => new TextEncoder().encode(s.repeat(400));
  await source.mkdir("b");
  await source.writeFile("moved.txt", text("moved twice "));
  await source.writeFile("keep.txt", text("kept "));
  await repo.backup(source);
  await source.rename("moved.txt", "b/once.txt");
  await repo.backup(source);
  await source.rename("b/once.txt", "a-twice.txt"); // before the other paths, then after
  const last = await repo.backup(source);
  const { records } = await loadRecords(store);
  const chain = chainOf(records, last.id);
  assert.equal(chain.length, 3);
  const kinds = (await openChain(store, chain)).map((l) => l.manifest.changes.filter((c) => c.kind === "move").map((c) => `${c.from} -> ${c.path}`));
  assert.deepEqual(kinds, [[], ["moved.txt -> b/once.txt"], ["b/once.txt -> a-twice.txt"]]);
  const target = new MemoryFs();
  assert.ok(await restoreStreamed(store, chain, records, target, {}, { staging: staging(), ...LIMITS }));
  assert.equal(await treeId(target), await treeId(source));
});

test("a move and a copy of one file in one snapshot, from a file moved the snapshot before, both restore", async () => {
  const store = new MemoryStore();
  const repo = await Repository.init(store, { fullShare: Infinity });
  const source = new MemoryFs();
  await source.writeFile("r.txt", new TextEncoder().encode("twins ".repeat(500)));
  await repo.backup(source);
  await source.rename("r.txt", "q.txt");
  await repo.backup(source);
  await source.writeFile("b.txt", await source.read("q.txt", 0, 1 << 20));
  await source.rename("q.txt", "a.txt");
  const last = await repo.backup(source);
  const { records } = await loadRecords(store);
  const chain = chainOf(records, last.id);
  const kinds = (await openChain(store, chain)).map((l) => l.manifest.changes.filter((c) => c.from).map((c) => `${c.kind} ${c.from} -> ${c.path}`));
  assert.deepEqual(kinds, [[], ["move r.txt -> q.txt"], ["move q.txt -> a.txt", "copy q.txt -> b.txt"]]);
  // a.txt needs q.txt, which needs r.txt a round later; b.txt, made in the first round too, needs them as well.
  const target = new MemoryFs();
  assert.ok(await restoreStreamed(store, chain, records, target, {}, { staging: staging(), ...LIMITS }));
  assert.equal(await treeId(target), await treeId(source));
});

test("Repository.restore into an empty target is streamed, and leaves no staging directory", async () => {
  const store = new MemoryStore();
  const repo = await Repository.init(store);
  const source = new MemoryFs();
  await new TreeChanger(source, rng(99)).seed(40);
  await repo.backup(source);
  const target = new MemoryFs();
  let created = 0;
  const real = target.writeFile.bind(target);
  target.writeFile = async (...args: Parameters<MemoryFs["writeFile"]>) => {
    // Staged under the staging directory's tree/, not one by one at numbered names.
    assert.match(args[0], new RegExp(`^${STAGING_PREFIX}restore-[^/]+/tree/`));
    created++;
    return real(...args);
  };
  const result = await repo.restore("latest", target);
  assert.equal(created, result.files);
  assert.equal(await treeId(target), await treeId(source));
  assert.ok(!(await target.list("")).some((n) => n.startsWith(STAGING_PREFIX)));
});

/** A manifest of `n` metadata changes of directories, in path order, as JSON text. */
function manifestText(n: number, order: "path" | "swapped" | "headLast" = "path"): { text: string; doc: Record<string, unknown> } {
  const dir = { type: "dir", size: 0, mtimeMs: 1_600_000_000_000, mode: 0o755 };
  const changes: ManifestChange[] = [];
  for (let i = 0; i < n; i++) changes.push({ kind: "metadata", path: `d/${String(i).padStart(6, "0")}`, old: dir as never, new: { ...dir, mode: 0o700 } as never });
  if (order === "swapped") [changes[n - 2], changes[n - 1]] = [changes[n - 1]!, changes[n - 2]!];
  const head = { format: "incremental-backups-tools/diff", version: 2, base: "a".repeat(64), created: "2026-12-07T00:00:00.000Z" };
  const tail = { parents: [], target: "b".repeat(64) };
  const doc = order === "headLast" ? { changes, ...tail, ...head } : { ...head, changes, ...tail };
  return { text: JSON.stringify(doc), doc };
}

async function* pieces(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

/** Every batch the stream hands on, and what it returns. */
async function drain(text: string, size: number): Promise<{ batches: ManifestChange[][]; rest: unknown }> {
  const batches: ManifestChange[][] = [];
  const stream = streamManifest(pieces(text, size));
  for (;;) {
    const r = await stream.next();
    if (r.done) return { batches, rest: r.value };
    batches.push(r.value);
  }
}

test("streamManifest hands on the whole read's changes in batches bounded by the piece read", async () => {
  const { text, doc } = manifestText(20_000);
  const { batches, rest } = await drain(text, 64 * 1024);
  assert.deepEqual(batches.flat(), doc.changes);
  assert.deepEqual(rest, { ...doc, changes: [] });
  // About 140 bytes per change: a 64 KiB piece ends at most ~470 of them.
  const largest = Math.max(...batches.map((b) => b.length));
  assert.ok(largest <= 500, `a batch of ${largest} changes`);
  assert.ok(batches.length >= 40, `${batches.length} batches`);
  // Read in one piece, it is one batch: the bound comes from the pieces, not from a cap.
  assert.equal((await drain(text, text.length * 2)).batches.length, 1);
});

test("streamManifest gives up on a valid manifest out of path order or with its head last, and refuses damage as the whole read does", async () => {
  for (const order of ["swapped", "headLast"] as const) {
    const { text, doc } = manifestText(3_000, order);
    assert.deepEqual((await readManifest(pieces(text, 4096))).changes, doc.changes, `${order}: valid for the whole read`);
    await assert.rejects(drain(text, 4096), (e) => e instanceof NotStreamable, order);
  }
  const { text } = manifestText(3_000);
  const damaged = text.replace('"mode":448', '"mode":"x"');
  await assert.rejects(readManifest(pieces(damaged, 4096)), (e) => isIbtError(e) && e.code === "CORRUPT");
  await assert.rejects(drain(damaged, 4096), (e) => isIbtError(e) && e.code === "CORRUPT" && e.message.includes(".mode"));
});
