import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync, symlinkSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { ZipWriter, ZipReader, applyDiff, DirIndex, isIbtError, MANIFEST_NAME, type Manifest } from "../../src/index.js";
import { NodeFs } from "../../src/node/index.js";
import { tempDir } from "../support/helpers.js";

const enc = (s: string) => new TextEncoder().encode(s);

async function archive(members: Record<string, Uint8Array>): Promise<ZipReader> {
  const parts: Uint8Array[] = [];
  const zip = new ZipWriter((c) => {
    parts.push(c.slice());
  });
  for (const [name, data] of Object.entries(members)) await zip.add(name, data);
  await zip.finish();
  const bytes = Buffer.concat(parts);
  return ZipReader.from({ size: bytes.length, read: async (o, n) => bytes.subarray(o, o + n) });
}

async function setup() {
  const root = tempDir();
  const target = join(root, "target");
  const outside = join(root, "outside");
  mkdirSync(join(target, "dir"), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(target, "dir/file.txt"), "base content");
  symlinkSync(outside, join(target, "link"));
  const fs = new NodeFs(target);
  const index = await DirIndex.build(fs, { signatures: false });
  return { root, target, outside, fs, index };
}

function manifest(index: DirIndex, changes: unknown[]): Uint8Array {
  const m: Omit<Manifest, "changes"> & { changes: unknown[] } = {
    format: "incremental-backups-tools/diff",
    version: 1,
    base: index.id,
    target: "f".repeat(64),
    created: new Date().toISOString(),
    changes,
    parents: [],
  };
  return enc(JSON.stringify(m));
}

const HELLO_HASH = "324dcf027dd4a30a932c441f365a25e86b173defa4b8e58948253471b81b72cf"; // BLAKE2b-256("hello")

async function unchanged(s: Awaited<ReturnType<typeof setup>>, run: () => Promise<unknown>, code: string): Promise<void> {
  const before = s.index.id;
  await assert.rejects(run(), (e) => isIbtError(e, code as never), `expected ${code}`);
  assert.equal((await DirIndex.build(s.fs, { signatures: false })).id, before, "target unchanged");
  assert.deepEqual(readdirSync(s.outside), [], "nothing written outside");
  assert.ok(!readdirSync(s.target).some((n) => n.startsWith(".ibt-staging")), "no staging left");
}

test("hostile manifests and archives are refused and change nothing", async () => {
  const s = await setup();
  const file = { type: "file", size: 5, mtimeMs: 0, mode: 0o644, hash: HELLO_HASH };
  const cases: [string, Record<string, Uint8Array>, string][] = [
    ["path with ..", { [MANIFEST_NAME]: manifest(s.index, [{ kind: "create", path: "../escape", new: file, member: "new/x", encoding: "bytes" }]), "new/x": enc("hello") }, "UNSAFE_PATH"],
    ["absolute path", { [MANIFEST_NAME]: manifest(s.index, [{ kind: "create", path: "/etc/x", new: file, member: "new/x", encoding: "bytes" }]), "new/x": enc("hello") }, "UNSAFE_PATH"],
    ["backslash", { [MANIFEST_NAME]: manifest(s.index, [{ kind: "create", path: "a\\..\\..\\x", new: file, member: "new/x", encoding: "bytes" }]), "new/x": enc("hello") }, "UNSAFE_PATH"],
    ["through a symlink", { [MANIFEST_NAME]: manifest(s.index, [{ kind: "create", path: "link/evil", new: file, member: "new/x", encoding: "bytes" }]), "new/x": enc("hello") }, "BASE_MISMATCH"],
    ["missing member", { [MANIFEST_NAME]: manifest(s.index, [{ kind: "create", path: "dir/new", new: file, member: "new/x", encoding: "bytes" }]) }, "CORRUPT"],
    ["content not matching its hash", { [MANIFEST_NAME]: manifest(s.index, [{ kind: "create", path: "dir/new", new: file, member: "new/x", encoding: "bytes" }]), "new/x": enc("jello") }, "CORRUPT"],
    ["member longer than declared", { [MANIFEST_NAME]: manifest(s.index, [{ kind: "create", path: "dir/new", new: file, member: "new/x", encoding: "bytes" }]), "new/x": enc("hello, and much more") }, "CORRUPT"],
    ["wrong base", { [MANIFEST_NAME]: manifest(s.index, [{ kind: "delete", path: "dir/file.txt", old: { ...file, size: 12 } }]) }, "BASE_MISMATCH"],
    ["duplicate path", { [MANIFEST_NAME]: manifest(s.index, [{ kind: "create", path: "dir/n", new: { type: "dir", size: 0, mtimeMs: 0, mode: 0o755 } }, { kind: "create", path: "dir/n", new: { type: "dir", size: 0, mtimeMs: 0, mode: 0o755 } }]) }, "CORRUPT"],
    ["bad version", { [MANIFEST_NAME]: enc(JSON.stringify({ format: "incremental-backups-tools/diff", version: 99 })) }, "UNSUPPORTED"],
    ["not JSON", { [MANIFEST_NAME]: enc("{ nope") }, "CORRUPT"],
    ["no manifest", { "new/x": enc("hello") }, "CORRUPT"],
  ];
  for (const [label, members, code] of cases) {
    await unchanged(s, async () => applyDiff(s.fs, await archive(members)), code).catch((e) => {
      throw new Error(`${label}: ${String(e)}`);
    });
  }
  // A valid archive does apply, so the cases above failed for their reason.
  const ok = { [MANIFEST_NAME]: manifest(s.index, [{ kind: "create", path: "dir/new", new: file, member: "new/x", encoding: "bytes" }]), "new/x": enc("hello") };
  await applyDiff(s.fs, await archive(ok));
  assert.ok(existsSync(join(s.target, "dir/new")));
});
