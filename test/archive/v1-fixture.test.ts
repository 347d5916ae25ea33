/**
 * A repository written by a library that knew only archive format 1 (test/fixtures/v1-repo, made
 * by test/fixtures/make-v1-repo.mjs): every snapshot restores exactly and verifies with today's
 * code, and a new backup into it writes the current format (and a deflated index object) on top
 * of the v1 chain.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DirIndex, FsStore, MANIFEST_NAME, MANIFEST_VERSION, MemoryFs, Repository, ZipReader, parseManifest, type FsAdapter, type Store } from "../../src/index.js";
import { NodeFs } from "../../src/node/index.js";
import { ROOT, tempDir } from "../support/helpers.js";

const FIXTURE = join(ROOT, "test", "fixtures", "v1-repo");
const expected = JSON.parse(readFileSync(join(ROOT, "test", "fixtures", "v1-repo.expected.json"), "utf8")) as {
  id: string;
  kind: string;
  files: Record<string, string>;
}[];

async function files(fs: FsAdapter): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of (await DirIndex.build(fs, { signatures: false })).entries.values()) {
    if (e.type === "file") out[e.path] = new TextDecoder().decode(await fs.read(e.path, 0, e.size));
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The u32 after the magic of a snapshot's stored index object: 1 whole, 2 delta, 3 deflated. */
async function indexVersionOf(store: Store, id: string): Promise<number> {
  const head = await store.load(`index/${id}.ibtindex`, { offset: 0, length: 12 });
  assert.equal(new TextDecoder().decode(head.subarray(0, 8)), "IBTINDEX");
  return new DataView(head.buffer, head.byteOffset).getUint32(8);
}

async function versionOf(store: Store, id: string): Promise<number> {
  const name = `data/${id}.zip`;
  const { size } = await store.stat(name);
  const reader = await ZipReader.from({ size, read: (offset, length) => store.load(name, { offset, length }) });
  return parseManifest(await reader.bytes(MANIFEST_NAME)).version;
}

test("a v1 repository restores every snapshot exactly and verifies; a new backup in it writes the current version", async () => {
  const dir = join(tempDir(), "repo");
  cpSync(FIXTURE, dir, { recursive: true });
  const store = new FsStore(new NodeFs(dir));
  const repo = await Repository.open(store);
  assert.deepEqual(
    (await repo.snapshots()).map((s) => [s.id, s.kind]),
    expected.map((e) => [e.id, e.kind]),
  );
  assert.equal(expected.map((e) => e.kind).join(" "), "full incremental incremental");
  for (const snap of expected) {
    assert.equal(await versionOf(store, snap.id), 1, "the fixture is format 1");
    assert.ok([1, 2].includes(await indexVersionOf(store, snap.id)), "the fixture's index objects are not deflated");
    const target = new MemoryFs();
    await repo.restore(snap.id, target);
    assert.deepEqual(await files(target), snap.files, `snapshot ${snap.id}`);
    const one = new MemoryFs();
    const path = "docs/guide.md";
    await repo.restore(snap.id, one, { paths: [path] });
    assert.equal(new TextDecoder().decode(await one.read(path, 0, 1 << 20)), snap.files[path]);
  }
  const report = await repo.verify({ readData: true });
  assert.deepEqual(report.problems, []);
  assert.ok(report.ok);

  // On top of the v1 chain: the newest tree, changed a little, backed up in the current format.
  const source = new MemoryFs();
  await repo.restore(expected.at(-1)!.id, source);
  await source.writeFile("src/m05.js", new TextEncoder().encode("export const v5 = 'v2 now';\n"));
  const next = await repo.backup(source, { source: "fixture" });
  assert.equal(next.kind, "incremental");
  assert.equal(await versionOf(store, next.id), MANIFEST_VERSION);
  assert.equal(await indexVersionOf(store, next.id), 3, "the new index object is deflated, on top of the fixture's plain ones");
  const back = new MemoryFs();
  await repo.restore(next.id, back);
  assert.deepEqual(await files(back), await files(source));
  assert.ok((await repo.verify({ readData: true })).ok);
});
