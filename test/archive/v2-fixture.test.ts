/**
 * A repository written by the library before manifest version 3 and index deltas of version 4
 * (test/fixtures/v2-repo, made by test/fixtures/make-v2-repo.mjs at commit e1b90fc): its
 * archives are version 2 and its index deltas version 2, one of them for a change of modes
 * only. Every snapshot restores exactly, modes included, and verifies with today's code; backups
 * on top of it write version 3 archives and version 4 deltas, over the version 2 chain.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DirIndex, FsStore, MANIFEST_NAME, MemoryFs, Repository, ZipReader, parseManifest, type FsAdapter, type Store } from "../../src/index.js";
import { NodeFs } from "../../src/node/index.js";
import { decodeIndexDelta } from "../../src/dirindex/index-delta.js";
import { indexFileOf } from "../../src/repo/index-object.js";
import { ROOT, tempDir } from "../support/helpers.js";

const FIXTURE = join(ROOT, "test", "fixtures", "v2-repo");
type Files = Record<string, { text: string; mode: number }>;
const expected = JSON.parse(readFileSync(join(ROOT, "test", "fixtures", "v2-repo.expected.json"), "utf8")) as { id: string; kind: string; files: Files }[];

async function files(fs: FsAdapter): Promise<Files> {
  const out: Files = {};
  for (const e of (await DirIndex.build(fs, { signatures: false })).entries.values()) {
    if (e.type === "file") out[e.path] = { text: new TextDecoder().decode(await fs.read(e.path, 0, e.size)), mode: e.mode & 0o777 };
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

async function manifestVersion(store: Store, id: string): Promise<number> {
  const name = `data/${id}.zip`;
  const { size } = await store.stat(name);
  const reader = await ZipReader.from({ size, read: (offset, length) => store.load(name, { offset, length }) });
  return parseManifest(await reader.bytes(MANIFEST_NAME)).version;
}

async function deltaFile(store: Store, id: string): Promise<Uint8Array[]> {
  const inner: Uint8Array[] = [];
  for await (const c of indexFileOf(store.loadStream(`index/${id}.ibtindex`))) inner.push(c.slice());
  return inner;
}

const deltaOf = async (store: Store, id: string) => decodeIndexDelta(await deltaFile(store, id));

/** The version of a snapshot's index delta, read from inside its stored index object. */
async function deltaVersion(store: Store, id: string): Promise<number> {
  const inner = await deltaFile(store, id);
  const version = new DataView(inner[0]!.buffer, inner[0]!.byteOffset).getUint32(8);
  assert.equal((await decodeIndexDelta(inner)).ownHashes, version === 4 ? undefined : true);
  return version;
}

test("a repository of version 2 archives and index deltas restores every snapshot exactly and verifies; backups on top write the current versions", async () => {
  const dir = tempDir();
  cpSync(FIXTURE, dir, { recursive: true });
  const store = new FsStore(new NodeFs(dir));
  const repo = await Repository.open(store);
  const snaps = await repo.snapshots();
  assert.deepEqual(snaps.map((s) => s.id), expected.map((e) => e.id));
  for (const [i, snap] of expected.entries()) {
    assert.equal(await manifestVersion(store, snap.id), 2, "the fixture's archives are version 2");
    if (i > 0) assert.equal(await deltaVersion(store, snap.id), 2, "the fixture's index deltas are version 2");
    const target = new MemoryFs();
    await repo.restore(snap.id, target);
    assert.deepEqual(await files(target), snap.files, `snapshot ${i} restores exactly`);
  }
  assert.equal(Object.values(expected[2]!.files).filter((f) => f.mode === 0o600).length, 12, "the third snapshot changed modes");
  const report = await repo.verify({ readData: true });
  assert.deepEqual(report.problems, []);

  // On top of the version 2 chain: a change of modes only, then of content.
  const source = new MemoryFs();
  await repo.restore(expected.at(-1)!.id, source);
  for (const path of Object.keys(expected.at(-1)!.files).slice(0, 20)) await source.chmod(path, 0o640);
  const modes = await repo.backup(source, { source: "fixture" });
  const afterModes = await files(source);
  await source.writeFile("lib/f0.js", new TextEncoder().encode("// version 3 now\n"));
  const content = await repo.backup(source, { source: "fixture" });
  for (const s of [modes, content]) {
    assert.equal(s.kind, "incremental");
    assert.equal(await manifestVersion(store, s.id), 3);
    assert.equal(await deltaVersion(store, s.id), 4);
  }
  // The restored tree has its own change times and inodes, so the delta holds every entry; each
  // file kept its content and carries no hash, where the fixture's version 2 delta gives each one.
  const filesOf = async (id: string) => (await deltaOf(store, id)).upserts.filter((e) => e.type === "file");
  const kept = await filesOf(modes.id);
  assert.equal(kept.length, Object.keys(afterModes).length);
  assert.deepEqual(kept.filter((e) => e.hash !== undefined), []);
  const old = await filesOf(expected[2]!.id);
  assert.ok(old.length >= 12 && old.every((e) => e.hash !== undefined), "version 2: every file its own hash");
  for (const [s, want] of [[modes, afterModes], [content, await files(source)]] as const) {
    const back = new MemoryFs();
    await repo.restore(s.id, back);
    assert.deepEqual(await files(back), want, `${s.id} restores exactly`);
  }
  assert.ok((await repo.verify({ readData: true })).ok);
});
