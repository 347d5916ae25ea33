/**
 * The example Worker (examples/worker/worker.ts) as a user deploys it: run.mjs bundles it as its
 * own Worker, with the library taken as `incremental-backups-tools/workerd` and its BACKUPS
 * binding on an R2 bucket that this test Worker also has, as BUCKET. The test talks to it only
 * over HTTP (the EXAMPLE service binding) and looks into the bucket directly: two posted versions
 * of a tree land as a full and an incremental snapshot in the repository's layout, and each
 * restores to exactly what was posted.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { R2BucketLike } from "../../src/index.js";
import { suiteWorker, type Fetcher } from "./harness.js";

type Tree = Record<string, string | null>;

const b64 = (bytes: Uint8Array): string => {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
};
const text = (s: string): string => b64(new TextEncoder().encode(s));

function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) out[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  return out;
}

async function call(example: Fetcher, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const r = await example.fetch(`http://example${path}`, { method, ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }) });
  return { status: r.status, json: await r.json() };
}

async function keys(bucket: R2BucketLike): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ ...(cursor ? { cursor } : {}) });
    out.push(...page.objects.map((o) => o.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return out.sort();
}

export default suiteWorker((env) => {
  const example = env.EXAMPLE as Fetcher;
  const bucket = env.BUCKET as R2BucketLike;

  test("example Worker: two posted versions of a tree become a full and an incremental snapshot in R2, and each restores exactly", async (t) => {
    assert.deepEqual((await call(example, "GET", "/snapshots")).json, [], "no repository yet: no snapshots");
    assert.equal((await call(example, "GET", "/restore?snapshot=latest")).status, 404);

    const big = noise(300_000, 1);
    const v1: Tree = {
      "README.md": text("# posted\n"),
      "data/big.bin": b64(big),
      "data/empty.txt": "",
      "docs/naïve café.txt": text("crème brûlée\n".repeat(100)),
      "docs/old.txt": text("going away"),
      "cache/": null,
    };
    const first = await call(example, "POST", "/backup?source=site", { files: v1 });
    assert.equal(first.status, 201, JSON.stringify(first.json));
    assert.equal(first.json.kind, "full");
    assert.equal(first.json.source, "site");

    const edited = big.slice();
    edited.set(noise(64, 2), 150_000);
    const v2: Tree = {
      "README.md": text("# posted, version 2\n"),
      "data/big.bin": b64(edited),
      "data/empty.txt": "",
      "docs/naïve café.txt": text("crème brûlée\n".repeat(100)),
      "docs/new.txt": text("new"),
      "new/empty/": null,
    };
    const second = await call(example, "POST", "/backup?source=site", { files: v2 });
    assert.equal(second.status, 201, JSON.stringify(second.json));
    assert.equal(second.json.kind, "incremental");
    assert.equal(second.json.parent, first.json.id);
    assert.ok(second.json.bytesStored < 20_000, `a 64-byte edit of a 300 kB file stored ${second.json.bytesStored} bytes`);

    const snapshots = (await call(example, "GET", "/snapshots")).json as { id: string }[];
    assert.deepEqual(snapshots.map((s) => s.id), [first.json.id, second.json.id]);

    const layout = await keys(bucket);
    t.diagnostic(`bucket: ${layout.join(" ")}`);
    const ids = [first.json.id, second.json.id];
    assert.deepEqual(layout, [...ids.map((id) => `data/${id}.zip`), "ibt-repo.json", ...ids.map((id) => `index/${id}.ibtindex`), ...ids.map((id) => `snapshots/${id}.json`)].sort());

    for (const [id, posted] of [[first.json.id, v1], [second.json.id, v2]] as const) {
      const restored = await call(example, "GET", `/restore?snapshot=${id}`);
      assert.equal(restored.status, 200, JSON.stringify(restored.json));
      assert.equal(restored.json.snapshot, id);
      assert.deepEqual(restored.json.files, posted);
    }
    assert.equal((await call(example, "GET", "/restore?snapshot=latest")).json.snapshot, second.json.id);
  });

  test("example Worker: bad requests are answered 4xx with the error's code, and write nothing", async () => {
    const before = await keys(bucket);
    const cases: [string, string, unknown, number, string][] = [
      ["POST", "/backup", "not json", 400, "BAD_ARGUMENT"],
      ["POST", "/backup", { files: ["a"] }, 400, "BAD_ARGUMENT"],
      ["POST", "/backup", { files: { "../escape": text("x") } }, 400, "UNSAFE_PATH"],
      ["POST", "/backup", { files: { "a.txt": "not base64!" } }, 400, "BAD_ARGUMENT"],
      ["POST", "/backup", { files: { "dir/": "x" } }, 400, "BAD_ARGUMENT"],
      ["GET", "/restore", undefined, 400, "BAD_ARGUMENT"],
      ["GET", "/restore?snapshot=0123456789abcdef", undefined, 404, "NOT_FOUND"],
      ["GET", "/nothing", undefined, 404, "NOT_FOUND"],
    ];
    for (const [method, path, body, status, code] of cases) {
      const r = await call(example, method, path, body);
      assert.equal(r.status, status, `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(r.json)}`);
      assert.equal(r.json.error, code, `${method} ${path}`);
    }
    assert.deepEqual(await keys(bucket), before);
  });
});
