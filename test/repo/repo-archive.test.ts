import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { MemoryFs, MemoryStore, Repository, isIbtError, type Progress } from "../../src/index.js";
import { ok, randomBytes, rng, tempDir } from "../support/helpers.js";

test("archiveChunks streams a snapshot's diff archive, a plain ZIP that unzip accepts; restore and verify report progress", async () => {
  const source = MemoryFs.from({ "a.bin": randomBytes(rng(1), 80_000), "b/c.txt": "text", "b/empty/": null });
  const repo = await Repository.init(new MemoryStore());
  await repo.backup(source);
  const bytes = await source.read("a.bin", 0, 1 << 20);
  bytes[40_000] ^= 1;
  await source.writeFile("a.bin", bytes);
  const snap = await repo.backup(source);

  const chunks: Uint8Array[] = [];
  for await (const c of repo.archiveChunks(snap.id)) chunks.push(c);
  const zip = Buffer.concat(chunks);
  assert.equal(zip.length, snap.bytesStored);
  const file = join(tempDir(), "snapshot.zip");
  writeFileSync(file, zip);
  ok("unzip", ["-tq", file]);
  const names = ok("unzip", ["-Z1", file]).toString().trim().split("\n").sort();
  assert.deepEqual(names, ["group/000001.tar", "ibt-manifest.json"], "the incremental holds a group and the manifest");
  const listed = ok("sh", ["-c", `unzip -p '${file}' group/000001.tar | tar tf -`]).toString().trim();
  assert.equal(listed, "delta/a.bin", "the group is a tar holding the delta");
  await assert.rejects(async () => {
    for await (const _ of repo.archiveChunks("ffffffffffffffff")) void _;
  }, (e) => isIbtError(e, "NOT_FOUND"));

  const seen: Progress[] = [];
  const result = await repo.restore(snap.id, new MemoryFs(), { onProgress: (p) => seen.push(p) });
  assert.equal(result.files, 2);
  assert.deepEqual(seen.map((p) => [p.phase, p.files, p.totalFiles]), [["restore", 1, 2], ["restore", 2, 2]]);
  assert.equal(seen.at(-1)!.bytes, seen.at(-1)!.totalBytes);
  seen.length = 0;
  await repo.verify({ readData: true, onProgress: (p) => seen.push(p) });
  assert.deepEqual(seen.map((p) => [p.phase, p.files, p.totalFiles]), [["verify", 1, 2], ["verify", 2, 2]]);
  assert.equal(seen.at(-1)!.bytes, seen.at(-1)!.totalBytes);
});
