/**
 * A repository's whole life on an R2 bucket binding, in workerd: init (with its conditional-write
 * probe), a full backup of a MemoryFs tree whose archive is a multipart object, an incremental,
 * both snapshots restored exactly, verify reading every byte, a second writer kept out by the
 * lock, a forced full and a forget that removes the older chain's objects from the bucket.
 *
 * The binding is wrapped to record each put, so the test can see that the lock was made with a
 * conditional put (R2's `onlyIf`) and not merely that some object called `lock` appeared.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { DirIndex, MemoryFs, R2Store, Repository, isIbtError, type FsAdapter, type R2BucketLike } from "../../src/index.js";

const MiB = 1 << 20;

/** Bytes from a seeded generator: deflate cannot shrink them, so the archive keeps their size. */
function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const treeId = async (fs: FsAdapter) => (await DirIndex.build(fs, { signatures: false })).id;

interface PutSeen {
  key: string;
  conditional: boolean;
}

/** The binding with every put recorded: its key and whether it carried a condition. */
function recording(bucket: R2BucketLike, puts: PutSeen[]): R2BucketLike {
  return {
    head: (k) => bucket.head(k),
    get: (k, o) => bucket.get(k, o),
    put: (k, v, o) => (puts.push({ key: k, conditional: o?.onlyIf !== undefined }), bucket.put(k, v, o)),
    delete: (k) => bucket.delete(k),
    list: (o) => bucket.list(o),
    createMultipartUpload: (k) => bucket.createMultipartUpload(k),
  };
}

async function keys(bucket: R2BucketLike, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix, ...(cursor ? { cursor } : {}) });
    out.push(...page.objects.map((o) => o.key.slice(prefix.length)));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return out.sort();
}

export function r2RepositoryCases(bucket: R2BucketLike, fresh: (name: string) => string): void {
  test("R2 repository: init, full (multipart archive) and incremental backups, exact restores, verify --read-data, the lock, forget", async (t) => {
    const prefix = fresh("repo");
    const puts: PutSeen[] = [];
    const store = new R2Store(recording(bucket, puts), { prefix, partSize: 5 * MiB, name: "BUCKET" });
    const repo = await Repository.init(store);
    assert.ok(puts.some((p) => p.key.startsWith(`${prefix}/lock-probe-`) && p.conditional), "init probed conditional writes");
    assert.ok(puts.some((p) => p.key === `${prefix}/lock` && p.conditional), "init's lock was a conditional put");

    const source = MemoryFs.from({
      "README.md": "# on R2\n",
      "big.bin": noise(6 * MiB + 123, 1),
      "docs/a.txt": "alpha\n".repeat(500),
      "docs/b.txt": "beta\n",
      "empty/": null,
    });
    const v1 = await treeId(source);
    const first = await repo.backup(source, { source: "tree" });
    assert.equal(first.kind, "full");
    assert.ok(first.bytesStored > 6 * MiB, "the archive holds the big file whole, more than one part");

    const big = await source.read("big.bin", 0, 7 * MiB);
    big.set(noise(100, 2), 3 * MiB);
    await source.writeFile("big.bin", big);
    await source.writeFile("docs/a.txt", new TextEncoder().encode("alpha, edited\n"));
    await source.remove("docs/b.txt");
    await source.mkdir("new/dir", { recursive: true });
    await source.writeFile("new/dir/c.txt", new TextEncoder().encode("new"));
    const v2 = await treeId(source);
    const second = await repo.backup(source, { source: "tree" });
    assert.equal(second.kind, "incremental");
    assert.equal(second.parent, first.id);
    assert.ok(second.bytesStored < 100_000, `the incremental stored ${second.bytesStored} bytes for a 100-byte edit`);

    const layout = await keys(bucket, `${prefix}/`);
    t.diagnostic(`bucket layout: ${layout.join(" ")}`);
    const ids = [first.id, second.id];
    assert.deepEqual(layout, ["ibt-repo.json", ...ids.map((id) => `data/${id}.zip`), ...ids.map((id) => `index/${id}.ibtindex`), ...ids.map((id) => `snapshots/${id}.json`)].sort());

    const reopened = await Repository.open(new R2Store(bucket, { prefix }));
    assert.deepEqual((await reopened.snapshots()).map((s) => s.id), ids);
    for (const [id, want] of [[first.id, v1], [second.id, v2]] as const) {
      const target = new MemoryFs();
      await reopened.restore(id, target);
      assert.equal(await treeId(target), want, `snapshot ${id} restores exactly`);
    }
    const report = await reopened.verify({ readData: true });
    assert.ok(report.ok, JSON.stringify(report.problems));
    assert.equal(report.snapshots, 2);
    assert.ok(report.bytesRead >= first.bytesStored, "verify read the archives");

    // A second writer meets the first one's lock: of two backups at once, one is LOCKED.
    await source.writeFile("docs/d.txt", new TextEncoder().encode("d"));
    const other = await Repository.open(new R2Store(bucket, { prefix }));
    const both = await Promise.allSettled([repo.backup(source), other.backup(source)]);
    const locked = both.filter((r) => r.status === "rejected");
    assert.equal(locked.length, 1, "exactly one of two concurrent backups proceeds");
    assert.ok(isIbtError((locked[0] as PromiseRejectedResult).reason, "LOCKED"), String((locked[0] as PromiseRejectedResult).reason));
    assert.ok(!(await keys(bucket, `${prefix}/`)).includes("lock"), "the lock is released");

    const third = await repo.backup(source, { full: true });
    const v3 = await treeId(source);
    const forgot = await repo.forget({ keepLast: 1 });
    assert.deepEqual(forgot.kept, [third.id]);
    assert.equal(forgot.removed.length, 3);
    const left = await keys(bucket, `${prefix}/`);
    assert.deepEqual(left, [`data/${third.id}.zip`, "ibt-repo.json", `index/${third.id}.ibtindex`, `snapshots/${third.id}.json`]);
    const target = new MemoryFs();
    await repo.restore("latest", target);
    assert.equal(await treeId(target), v3);
    assert.ok((await repo.verify({ readData: true })).ok);
  });
}
