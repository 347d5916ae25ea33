/**
 * Manifest version 3: content hashes recorded in 16 bytes. New archives are written in it;
 * versions 1 and 2 (whole hashes) are still written on request and read. A hash of the wrong
 * length for its version, and content that does not match a short hash, are refused with the
 * target unchanged.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DirIndex, DiffIndex, DiffData, applyDiff, MANIFEST_NAME, MANIFEST_VERSION, isIbtError, type FsAdapter, type Manifest } from "../../src/index.js";
import { matchesHash, parseManifest } from "../../src/archive/manifest.js";
import { membersOf, memoryTree, BASE_SPEC, NEW_SPEC, readerOf, zipOf } from "../support/hostile-fixture.js";
import { snapshot } from "../support/hostile-kit.js";

const enc = (s: string) => new TextEncoder().encode(s);

async function archiveOf(format: 1 | 2 | 3 | undefined): Promise<{ archive: Uint8Array; base: DirIndex; next: DirIndex }> {
  const baseFs = await memoryTree(BASE_SPEC);
  const nextFs = await memoryTree(NEW_SPEC);
  await nextFs.chmod("mode.txt", 0o600);
  const [base, next] = [await DirIndex.build(baseFs), await DirIndex.build(nextFs)];
  const parts: Uint8Array[] = [];
  await new DiffData(new DiffIndex(next, base).compute(), { source: nextFs, ...(format ? { format } : {}) }).write(async (c) => {
    parts.push(c.slice());
  });
  return { archive: new Uint8Array(Buffer.concat(parts)), base, next };
}

async function manifestOf(archive: Uint8Array): Promise<Manifest> {
  const members = await membersOf(archive);
  return parseManifest(members.find(([name]) => name === MANIFEST_NAME)![1]);
}

/** The archive with its manifest replaced by `edit` of the manifest's document. */
async function withManifest(archive: Uint8Array, edit: (m: Manifest) => void): Promise<Uint8Array> {
  const members = await membersOf(archive);
  const m = JSON.parse(new TextDecoder().decode(members.find(([name]) => name === MANIFEST_NAME)![1])) as Manifest;
  edit(m);
  return zipOf(members.map(([name, bytes]) => [name, name === MANIFEST_NAME ? enc(JSON.stringify(m)) : bytes]));
}

async function applied(archive: Uint8Array): Promise<FsAdapter> {
  const target = await memoryTree(BASE_SPEC);
  await applyDiff(target, await readerOf(archive));
  return target;
}

test("new archives are version 3: every content hash is the first 32 hex digits of the index's, the indexes' identities whole; versions 1 and 2 write whole hashes; all three apply", async () => {
  assert.equal(MANIFEST_VERSION, 3);
  for (const format of [undefined, 3, 2, 1] as const) {
    const { archive, base, next } = await archiveOf(format);
    const m = await manifestOf(archive);
    assert.equal(m.version, format ?? 3);
    assert.equal(m.base, base.id);
    assert.equal(m.target, next.id);
    const length = m.version === 3 ? 32 : 64;
    let hashes = 0;
    for (const c of m.changes) {
      for (const [entry, tree] of [[c.old, base], [c.new, next]] as const) {
        if (entry?.hash === undefined) continue;
        hashes++;
        const whole = tree.get(c.kind === "move" || c.kind === "copy" ? (entry === c.old ? c.from! : c.path) : c.path)!.hash!;
        assert.equal(entry.hash.length, length, `${c.path} in version ${m.version}`);
        assert.ok(whole.startsWith(entry.hash), `${c.path}: the index's hash begins with the manifest's`);
      }
    }
    assert.ok(hashes >= 5, `${hashes} hashes checked`);
    assert.equal((await DirIndex.build(await applied(archive))).id, next.id, `version ${m.version} applies`);
  }
});

test("a hash of the wrong length for its version is CORRUPT; content or a base that does not match a short hash is refused, the target unchanged", async () => {
  const { archive: v3 } = await archiveOf(undefined);
  const { archive: v2, next } = await archiveOf(2);
  const created = (m: Manifest) => m.changes.find((c) => c.kind === "create" && c.new?.type === "file")!;
  const updated = (m: Manifest) => m.changes.find((c) => c.kind === "update")!;

  const cases: [string, Uint8Array, string][] = [
    ["a whole hash in version 3", await withManifest(v3, (m) => void (created(m).new!.hash = next.get(created(m).path)!.hash!)), "CORRUPT"],
    ["a short hash in version 2", await withManifest(v2, (m) => void (created(m).new!.hash = created(m).new!.hash!.slice(0, 32))), "CORRUPT"],
    ["a hash of 31 digits in version 3", await withManifest(v3, (m) => void (created(m).new!.hash = created(m).new!.hash!.slice(0, 31))), "CORRUPT"],
    // Well formed, but not the content's: the first digit changed.
    ["a created file's short hash off by one digit", await withManifest(v3, (m) => void (created(m).new!.hash = flip(created(m).new!.hash!))), "CORRUPT"],
    ["an updated file's base hash off by one digit", await withManifest(v3, (m) => void (updated(m).old!.hash = flip(updated(m).old!.hash!))), "BASE_MISMATCH"],
  ];
  for (const [label, archive, code] of cases) {
    const target = await memoryTree(BASE_SPEC);
    const before = await snapshot(target);
    await assert.rejects(
      (async () => applyDiff(target, await readerOf(archive)))(),
      (e) => isIbtError(e, code as never),
      label,
    );
    assert.deepEqual(await snapshot(target), before, `${label}: the target is unchanged`);
  }
});

test("matchesHash: a whole hash matches itself and its first 32 digits, nothing shorter, nothing else", () => {
  const whole = "0123456789abcdef".repeat(4);
  assert.equal(matchesHash(whole, whole), true);
  assert.equal(matchesHash(whole, whole.slice(0, 32)), true);
  assert.equal(matchesHash(whole, whole.slice(0, 31)), false);
  assert.equal(matchesHash(whole, ""), false);
  assert.equal(matchesHash(whole, undefined), false);
  assert.equal(matchesHash(whole, flip(whole.slice(0, 32))), false);
  assert.equal(matchesHash(whole.slice(0, 32), whole.slice(0, 32)), false, "the computed side is always whole");
});

function flip(hash: string): string {
  return (hash[0] === "0" ? "1" : "0") + hash.slice(1);
}
