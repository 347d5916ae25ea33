/**
 * An independent client reads what ibt wrote to S3. The same three backups (a full and two
 * incrementals, at the same times, of the same trees) go to an S3 repository on the strict
 * server and to a folder (FsStore over NodeFs). AWS's own client, @aws-sdk/client-s3, lists the
 * S3 repository (through the server's pages of three) and downloads every object. Snapshot ids
 * are random, so the two repositories are compared through the pairing of their snapshots in
 * order: with each S3 id read as its folder twin, the object names and sizes are the folder's
 * files, the records say the same (ids, hashes and repository id aside), every downloaded
 * archive and index has the size and hash its record names, and each archive unzips to the same
 * members as its twin with the same bytes (the manifest's ids and time of writing aside).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { GetObjectCommand, S3Client, paginateListObjectsV2 } from "@aws-sdk/client-s3";
import { unzipSync } from "fflate";
import { FsStore, MemoryFs, Repository, type FsAdapter } from "../../src/index.js";
import { NodeFs } from "../../src/node/index.js";
import { decodeRecord, hashHex } from "../../src/repo/layout.js";
import { rng, tempDir } from "../support/helpers.js";
import { TreeChanger } from "../support/repo-kit.js";
import { BUCKET, KEY, repoStoreOn, serverForThisTest } from "../support/s3-repo-kit.js";

const PREFIX = "read-by-sdk";

/** Every file under `dir`, as "relative/path" → bytes. */
function folderFiles(dir: string): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath ?? entry.path, entry.name);
    if (statSync(path).isFile()) out.set(relative(dir, path), new Uint8Array(readFileSync(path)));
  }
  return out;
}

/** Replaces every S3-side id in `text` with its folder twin. */
function twin(text: string, ids: Map<string, string>): string {
  return text.replace(/[0-9a-f]{16}/g, (id) => ids.get(id) ?? id);
}

test("AWS's S3 client lists and downloads an S3 repository that equals, object for object, the same backups in a folder", async () => {
  const server = await serverForThisTest();
  const tree: FsAdapter = new MemoryFs();
  const changer = new TreeChanger(tree, rng(515));
  await changer.seed(16);
  const folder = tempDir();
  const repos = [await Repository.init(repoStoreOn(server, PREFIX)), await Repository.init(new FsStore(new NodeFs(folder)))];
  for (let i = 0; i < 3; i++) {
    if (i) await changer.change(4);
    for (const repo of repos) await repo.backup(tree, { time: new Date(Date.UTC(2026, 2, 1 + i)), source: "tree" });
  }
  const [s3Snaps, folderSnaps] = await Promise.all(repos.map((r) => r.snapshots()));
  assert.deepEqual(s3Snaps!.map((s) => s.kind), ["full", "incremental", "incremental"]);
  const ids = new Map<string, string>(s3Snaps!.map((s, i) => [s.id, folderSnaps![i]!.id]));
  ids.set(repos[0]!.id, repos[1]!.id);

  const sdk = new S3Client({
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    credentials: KEY,
    maxAttempts: 1,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  const downloaded = new Map<string, Uint8Array>();
  try {
    const pagesBefore = server.requests("ListObjectsV2").length;
    for await (const page of paginateListObjectsV2({ client: sdk }, { Bucket: BUCKET, Prefix: `${PREFIX}/` })) {
      for (const o of page.Contents ?? []) {
        const got = await sdk.send(new GetObjectCommand({ Bucket: BUCKET, Key: o.Key! }));
        const bytes = await got.Body!.transformToByteArray();
        assert.equal(bytes.length, o.Size, `${o.Key}: downloaded as many bytes as listed`);
        downloaded.set(o.Key!.slice(PREFIX.length + 1), bytes);
      }
    }
    assert.ok(server.requests("ListObjectsV2").length - pagesBefore >= 4, "the SDK followed the listing across pages");
  } finally {
    sdk.destroy();
  }

  // Names and sizes: the folder's files, each S3 id read as its folder twin. The sizes of archives
  // and records are left out: an archive's deflated manifest holds the snapshot's ids and time,
  // which compress a little differently from run to run, and a record holds the archive's size.
  // Archives are compared member by member and records field by field below.
  const files = folderFiles(folder);
  const sizes = (m: Map<string, Uint8Array>, rename: (n: string) => string) =>
    [...m].map(([n, b]) => `${rename(n)} ${n.startsWith("data/") || n.startsWith("snapshots/") ? "-" : b.length}`).sort();
  assert.deepEqual(sizes(downloaded, (n) => twin(n, ids)), sizes(files, (n) => n));

  for (const [i, snap] of s3Snaps!.entries()) {
    const mine = await decodeRecord(downloaded.get(`snapshots/${snap.id}.json`)!, snap.id);
    const theirs = await decodeRecord(files.get(`snapshots/${folderSnaps![i]!.id}.json`)!, folderSnaps![i]!.id);
    // Every object downloads intact against the record's sizes and hashes.
    for (const [what, name] of [["archive", `data/${snap.id}.zip`], ["index", `index/${snap.id}.ibtindex`]] as const) {
      const bytes = downloaded.get(name)!;
      const stored = mine[what] as { size: number; hash: string };
      assert.equal(bytes.length, stored.size, `${name}: size`);
      assert.equal(await hashHex(bytes), stored.hash, `${name}: hash`);
    }
    // The records agree on everything but ids, the archive's size and hash, and the bytes stored.
    const comparable = (r: Record<string, unknown>) => ({ ...r, id: undefined, parent: undefined, archive: undefined, bytesStored: undefined, index: (r.index as { size: number }).size });
    assert.deepEqual(comparable(mine), comparable(theirs), `snapshot ${i}: records`);
    assert.equal(mine.parent === null ? null : ids.get(mine.parent as string), theirs.parent);
    // The archives unzip to the same members with the same bytes, ids read as their twins.
    const a = unzipSync(downloaded.get(`data/${snap.id}.zip`)!);
    const b = unzipSync(files.get(`data/${folderSnaps![i]!.id}.zip`)!);
    assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort(), `snapshot ${i}: archive members`);
    let differing = 0;
    for (const [member, bytes] of Object.entries(a)) {
      if (Buffer.compare(bytes, b[member]!) === 0) continue;
      differing++;
      // Only the manifest may differ, and only in ids and the moment it was written.
      assert.equal(member, "ibt-manifest.json", `snapshot ${i}: member ${member} differs`);
      const manifest = (text: string) => ({ ...(JSON.parse(text) as Record<string, unknown>), created: undefined });
      assert.deepEqual(manifest(twin(new TextDecoder().decode(bytes), ids)), manifest(new TextDecoder().decode(b[member]!)), `snapshot ${i}: manifest`);
    }
    assert.ok(differing <= 1, `snapshot ${i}: ${differing} members differ beyond the manifest`);
  }
  // The config is the same record but for the repository's id and creation time.
  const config = (bytes: Uint8Array) => decodeRecord(bytes, "ibt-repo.json").then((r) => ({ ...r, id: undefined, created: undefined }));
  assert.deepEqual(await config(downloaded.get("ibt-repo.json")!), await config(files.get("ibt-repo.json")!));
});
