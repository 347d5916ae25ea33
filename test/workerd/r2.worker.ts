/**
 * The R2 store in workerd, on a real R2 bucket binding (Miniflare's R2, in workerd itself): the
 * Store conformance suite, the one every store runs (test/support/store-conformance.ts, through
 * the node:test shim), on `new R2Store(env.BUCKET)`; then what only R2 can show: which forms of
 * `onlyIf` the binding honours for a create-if-absent, listings over many pages, multipart saves
 * of parts of R2's minimum size, and a repository's whole life on the bucket (r2-repo-cases.ts).
 *
 * Every store the suite makes lives under a fresh prefix of the one bucket, so each starts empty
 * without clearing the others, and the prefix code path is the one under test.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { R2Store, collect, isIbtError, type R2BucketLike } from "../../src/index.js";
import { storeConformance } from "../support/store-conformance.js";
import { suiteWorker } from "./harness.js";
import { r2RepositoryCases } from "./r2-repo-cases.js";

const MiB = 1 << 20;
/** R2's smallest part but the last: what makes several parts out of a few MiB. */
const PART = 5 * MiB;

let stores = 0;

export default suiteWorker((env) => {
  const bucket = env.BUCKET as R2BucketLike;
  const fresh = (name: string) => `${name}-${++stores}`;

  storeConformance({
    name: "R2Store (workerd R2 binding)",
    make: async () => new R2Store(bucket, { prefix: fresh("conformance"), partSize: PART, pageSize: 3, name: "BUCKET" }),
  });

  test("R2 binding: which onlyIf forms refuse a put over an existing object (the store uses one that does)", async (t) => {
    const key = fresh("onlyif");
    const raw = bucket as unknown as {
      put(key: string, value: Uint8Array, options?: { onlyIf?: unknown }): Promise<{ key: string } | null>;
    };
    const enc = (s: string) => new TextEncoder().encode(s);
    assert.ok(await raw.put(key, enc("first"), { onlyIf: new Headers({ "if-none-match": "*" }) }), "Headers form creates an absent object");
    const forms: [string, unknown][] = [
      ["Headers { if-none-match: * }", new Headers({ "if-none-match": "*" })],
      ["{ etagDoesNotMatch: \"*\" }", { etagDoesNotMatch: "*" }],
    ];
    const honoured: string[] = [];
    for (const [label, onlyIf] of forms) {
      const put = await raw.put(key, enc(label), { onlyIf });
      if (put === null) honoured.push(label);
      else await raw.put(key, enc("first")); // put it back for the next form
      t.diagnostic(`${label}: ${put === null ? "refused (null), object kept" : "NOT honoured: the put replaced the object"}`);
    }
    assert.equal(new TextDecoder().decode(await (await bucket.get(key))!.arrayBuffer()), "first");
    assert.ok(honoured.includes("Headers { if-none-match: * }"), `the form R2Store uses must be honoured; honoured: ${honoured.join(", ") || "none"}`);
    await bucket.delete(key);
  });

  test("R2 binding: a listing of more objects than a page holds yields each once, with a store page of 2 and the binding's own", async () => {
    const prefix = fresh("pages");
    const small = new R2Store(bucket, { prefix, pageSize: 2 });
    const names = Array.from({ length: 23 }, (_, i) => `p/${String(i).padStart(2, "0")}`);
    for (const n of names) await small.save(n, new Uint8Array(n.length));
    let pages = 0;
    const counting: R2BucketLike = {
      ...bucket,
      list: (o) => (pages++, bucket.list(o)),
      head: (k) => bucket.head(k),
      get: (k, o) => bucket.get(k, o),
      put: (k, v, o) => bucket.put(k, v, o),
      delete: (k) => bucket.delete(k),
      createMultipartUpload: (k) => bucket.createMultipartUpload(k),
    };
    const listed: string[] = [];
    for await (const o of new R2Store(counting, { prefix, pageSize: 2 }).list("p/")) listed.push(o.name);
    assert.deepEqual(listed.sort(), names);
    assert.equal(pages, 12, "23 objects in pages of 2");
    const whole: string[] = [];
    for await (const o of new R2Store(bucket, { prefix }).list("")) whole.push(o.name);
    assert.deepEqual(whole.sort(), names);
    await assert.rejects(async () => new R2Store(bucket, { pageSize: 0 }), (e) => isIbtError(e, "BAD_ARGUMENT"));
    await assert.rejects(async () => new R2Store(bucket, { pageSize: 1001 }), (e) => isIbtError(e, "BAD_ARGUMENT"));
  });

  test("R2 binding: a streamed save over 5 MiB parts is one multipart object; exact part multiples and a conditional create that needs parts", async () => {
    const store = new R2Store(bucket, { prefix: fresh("multipart"), partSize: PART });
    for (const size of [2 * PART, 2 * PART + 1, PART + 65_537]) {
      const bytes = new Uint8Array(size);
      for (let i = 0; i < size; i += 4096) bytes[i] = (i / 4096 + size) & 0xff;
      bytes[size - 1] = 7;
      async function* source() {
        for (let at = 0; at < size; at += 1_000_003) yield bytes.slice(at, at + 1_000_003);
      }
      await store.save(`m/${size}`, source());
      assert.equal((await store.stat(`m/${size}`)).size, size);
      assert.deepEqual(await collect(store.loadStream(`m/${size}`)), bytes);
      assert.deepEqual(await store.load(`m/${size}`, { offset: PART - 3, length: 6 }), bytes.slice(PART - 3, PART + 3));
    }
    // A conditional create travels as one put, so it is refused beyond one part, and leaves nothing.
    await assert.rejects(store.save("m/cond", new Uint8Array(PART + 1), { ifAbsent: true }), (e) => isIbtError(e, "UNSUPPORTED"));
    await assert.rejects(store.stat("m/cond"), (e) => isIbtError(e, "NOT_FOUND"));
    await store.save("m/cond", new Uint8Array(PART), { ifAbsent: true });
    assert.equal((await store.stat("m/cond")).size, PART);
  });

  r2RepositoryCases(bucket, fresh);
});
