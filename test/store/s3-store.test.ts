// S3Store against s3rver, an independent S3 implementation over real HTTP (see
// test/support/s3rver.ts for what it cannot check): save, load and ranges, stat, list across
// pages, remove, multipart uploads with small parts, loadStream, sweep, and location parsing.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { S3Store, parseS3Location, type S3StoreOptions } from "../../src/store/index.js";
import { collect } from "../../src/bytes.js";
import { isIbtError } from "../../src/errors.js";
import { startS3, type TestS3 } from "../support/s3rver.js";
import { faultFetch, type LoggedRequest } from "../support/fault-fetch.js";
import { bodyLength } from "../support/s3-strict-kit.js";

let s3: TestS3;
before(async () => {
  s3 = await startS3();
});
after(async () => {
  await s3.close();
});

const KiB = 1024;

function store(prefix: string, more: Partial<S3StoreOptions> = {}): S3Store {
  return new S3Store({
    endpoint: s3.endpoint,
    bucket: s3.bucket,
    prefix,
    credentials: s3.credentials,
    fetch: s3.fetch,
    retry: { baseDelayMs: 1, maxDelayMs: 2 },
    ...more,
  });
}

function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) out[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  return out;
}

async function* chunked(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < data.length; at += size) yield data.slice(at, at + size);
}

test("S3Store: save, load, stat, remove", async () => {
  const st = store("basic");
  const data = bytes(1000);
  await st.save("data/ab12.zip", data);
  assert.deepEqual(await st.load("data/ab12.zip"), data);
  assert.deepEqual(await st.stat("data/ab12.zip"), { name: "data/ab12.zip", size: 1000 });
  await st.save("data/ab12.zip", bytes(10, 2));
  assert.deepEqual(await st.load("data/ab12.zip"), bytes(10, 2));
  await st.remove("data/ab12.zip");
  await assert.rejects(st.load("data/ab12.zip"), (e) => isIbtError(e, "NOT_FOUND"));
  await assert.rejects(st.stat("data/ab12.zip"), (e) => isIbtError(e, "NOT_FOUND"));
  await st.remove("data/ab12.zip"); // removing a missing object succeeds
  await st.save("empty", new Uint8Array(0));
  assert.equal((await st.load("empty")).length, 0);
  assert.equal((await st.stat("empty")).size, 0);
});

test("S3Store: loads of ranges, including past the end", async () => {
  const st = store("ranges");
  const data = bytes(5000, 3);
  await st.save("obj", data);
  assert.deepEqual(await st.load("obj", { offset: 100, length: 50 }), data.slice(100, 150));
  assert.deepEqual(await st.load("obj", { offset: 4990 }), data.slice(4990));
  assert.deepEqual(await st.load("obj", { offset: 4990, length: 100 }), data.slice(4990));
  assert.deepEqual(await st.load("obj", { offset: 0, length: 1 }), data.slice(0, 1));
  assert.equal((await st.load("obj", { offset: 5000 })).length, 0);
  assert.equal((await st.load("obj", { offset: 9000, length: 10 })).length, 0);
  assert.equal((await st.load("obj", { offset: 10, length: 0 })).length, 0);
  await assert.rejects(st.load("missing", { offset: 10, length: 0 }), (e) => isIbtError(e, "NOT_FOUND"));
  await assert.rejects(st.load("missing", { offset: 10, length: 5 }), (e) => isIbtError(e, "NOT_FOUND"));
  await assert.rejects(st.load("obj", { offset: -1 }), (e) => isIbtError(e, "BAD_ARGUMENT"));
});

test("S3Store: names outside the contract are refused before any request", async () => {
  const log: LoggedRequest[] = [];
  const st = store("names", { fetch: faultFetch(s3.fetch, [], log) });
  for (const name of ["", "/a", "a/", "a//b", "../a", "a/./b", "a b", "ä"]) {
    await assert.rejects(st.save(name, new Uint8Array(1)), (e) => isIbtError(e, "UNSAFE_PATH"), name);
    await assert.rejects(st.load(name), (e) => isIbtError(e, "UNSAFE_PATH"), name);
  }
  assert.equal(log.length, 0);
});

test("S3Store: list pages through continuation tokens and strips the prefix", async () => {
  const log: LoggedRequest[] = [];
  const st = store("listing/repo", { listPageSize: 3, fetch: faultFetch(s3.fetch, [], log) });
  const names: string[] = [];
  for (let i = 0; i < 11; i++) names.push(`data/${String(i).padStart(2, "0")}`);
  names.push("index/x", "config");
  for (const name of names) await st.save(name, bytes(names.indexOf(name) + 1));
  // A neighbour with a shared string prefix is not part of this store.
  await store("listing/repo2").save("data/zz", bytes(1));

  const all = [];
  for await (const o of st.list("")) all.push(o);
  assert.deepEqual(all.map((o) => o.name).sort(), [...names].sort());
  for (const o of all) assert.equal(o.size, names.indexOf(o.name) + 1);
  assert.ok(log.filter((r) => r.path.includes("list-type=2")).length >= 5, "more than one page was asked for");

  const data = [];
  for await (const o of st.list("data/")) data.push(o.name);
  assert.deepEqual(data.sort(), names.filter((n) => n.startsWith("data/")).sort());
  const none = [];
  for await (const o of st.list("nothing/")) none.push(o);
  assert.equal(none.length, 0);
});

test("S3Store: a stream that fits one part is one PUT", async () => {
  const log: LoggedRequest[] = [];
  const st = store("single", { partSize: 64 * KiB, minPartSize: 1, fetch: faultFetch(s3.fetch, [], log) });
  const data = bytes(64 * KiB, 4);
  await st.save("exactly-one-part", chunked(data, 1000));
  assert.deepEqual(await st.load("exactly-one-part"), data);
  assert.deepEqual(log.map((r) => r.method), ["PUT", "GET"]);
});

test("S3Store: multipart upload of a stream, with bounded parts in flight", async () => {
  const log: LoggedRequest[] = [];
  let inFlight = 0;
  let most = 0;
  let uploaded = 0;
  const counting: typeof fetch = async (input, init) => {
    const isPart = String(input).includes("partNumber=");
    if (isPart) most = Math.max(most, ++inFlight);
    try {
      const answer = await s3.fetch(input, init);
      if (isPart && answer.ok) uploaded += bodyLength(init?.body);
      return answer;
    } finally {
      if (isPart) inFlight--;
    }
  };
  const st = store("multi", { partSize: 16 * KiB, minPartSize: 1, concurrency: 3, fetch: faultFetch(counting, [], log) });
  const data = bytes(16 * KiB * 10 + 123, 5);
  let read = 0;
  let mostHeld = 0;
  async function* source(): AsyncGenerator<Uint8Array> {
    for await (const chunk of chunked(data, 5000)) {
      mostHeld = Math.max(mostHeld, read - uploaded);
      read += chunk.length;
      yield chunk;
    }
  }
  await st.save("big", source());
  // Read but not yet uploaded: the parts in flight and the one being filled, never more.
  assert.ok(mostHeld <= 4 * 16 * KiB, `held ${mostHeld} bytes`);
  assert.ok(mostHeld > 16 * KiB);
  assert.deepEqual(await st.load("big"), data);
  assert.equal(log.filter((r) => r.path.includes("partNumber=")).length, 11);
  assert.ok(most <= 3, `at most 3 parts in flight, saw ${most}`);
  assert.ok(most >= 2, "parts went up side by side");
  assert.deepEqual(await s3.uploads(), []);

  // A Uint8Array larger than a part goes the same way, without copies.
  await st.save("big-array", data);
  assert.deepEqual(await st.load("big-array"), data);
  assert.equal((await st.stat("big-array")).size, data.length);
});

test("S3Store: the source's own error is rethrown unchanged and the upload is aborted", async () => {
  const st = store("source-error", { partSize: 8 * KiB, minPartSize: 1 });
  const boom = new Error("the source broke");
  async function* failing(): AsyncGenerator<Uint8Array> {
    yield bytes(20 * KiB);
    throw boom;
  }
  await assert.rejects(st.save("obj", failing()), (e) => e === boom);
  await assert.rejects(st.stat("obj"), (e) => isIbtError(e, "NOT_FOUND"));
  assert.deepEqual(await s3.uploads(), []);
});

test("S3Store: a part that fails for good aborts the upload; nothing is visible", async () => {
  const log: LoggedRequest[] = [];
  const fetchFn = faultFetch(s3.fetch, [{ method: "PUT", url: /partNumber=3&/, times: 100, kind: { status: 500, code: "InternalError" } }], log);
  const st = store("part-fails", { partSize: 8 * KiB, minPartSize: 1, retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 1 }, fetch: fetchFn });
  await assert.rejects(st.save("obj", chunked(bytes(50 * KiB), 3000)), (e) => {
    assert.ok(isIbtError(e, "IO"));
    assert.equal(e.message, "S3 UploadPart obj part 3: HTTP 500 InternalError after 3 attempts");
    return true;
  });
  assert.equal(log.filter((r) => /partNumber=3&/.test(r.path)).length, 3);
  assert.ok(log.some((r) => r.method === "DELETE" && r.path.includes("uploadId=")), "the upload was aborted");
  assert.deepEqual(await s3.uploads(), [], "the server holds no upload");
  await assert.rejects(st.stat("obj"), (e) => isIbtError(e, "NOT_FOUND"));
});

test("S3Store: loadStream in ranged chunks", async () => {
  const log: LoggedRequest[] = [];
  const st = store("stream", { streamChunkSize: 10 * KiB, fetch: faultFetch(s3.fetch, [], log) });
  const data = bytes(35 * KiB + 7, 6);
  await st.save("obj", data);
  log.length = 0;
  const chunks: Uint8Array[] = [];
  for await (const c of st.loadStream("obj")) chunks.push(c);
  assert.deepEqual(chunks.map((c) => c.length), [10 * KiB, 10 * KiB, 10 * KiB, 5 * KiB + 7]);
  assert.deepEqual(await collect(chunks), data);
  assert.deepEqual(log.map((r) => r.method), ["HEAD", "GET", "GET", "GET", "GET"]);
  assert.equal(log[2]!.headers["range"], `bytes=${10 * KiB}-${20 * KiB - 1}`);
  assert.match(log[2]!.headers["if-match"] ?? "", /^"[0-9a-f]+"$/, "every chunk is pinned to one version");

  await st.save("empty", new Uint8Array(0));
  assert.equal((await collect(st.loadStream("empty"))).length, 0);
  await assert.rejects(collect(st.loadStream("missing")), (e) => isIbtError(e, "NOT_FOUND"));
});

test("S3Store: sweep aborts the uploads started before the cutoff, under its prefix only", async () => {
  // Uploads that a writer left: created, one part sent, never completed.
  const stray = store("sweep", { partSize: 8 * KiB, minPartSize: 1, retry: { attempts: 1 }, fetch: faultFetch(s3.fetch, [{ method: "POST", url: /uploadId=/, times: 2, kind: { reject: true } }, { method: "DELETE", times: 2, kind: { status: 500 } }]) });
  await assert.rejects(stray.save("left-1", bytes(20 * KiB)));
  const other = store("sweep-other", { partSize: 8 * KiB, minPartSize: 1, retry: { attempts: 1 }, fetch: faultFetch(s3.fetch, [{ method: "POST", url: /uploadId=/, times: 1, kind: { reject: true } }, { method: "DELETE", times: 1, kind: { status: 500 } }]) });
  await assert.rejects(other.save("left-2", bytes(20 * KiB)));
  assert.equal((await s3.uploads()).length, 2);

  assert.equal(await store("sweep").sweep(60 * 60 * 1000), 0, "nothing is an hour old yet");
  const later = store("sweep", { now: () => Date.now() + 2 * 60 * 60 * 1000 });
  assert.equal(await later.sweep(60 * 60 * 1000), 1);
  assert.equal((await s3.uploads()).length, 1, "the other prefix's upload is left alone");
  assert.equal(await store("sweep-other", { now: () => Date.now() + 1000 }).sweep(0), 1);
  assert.deepEqual(await s3.uploads(), []);
});

test("S3Store: an unknown access key is DENIED, and says what to check", async () => {
  const st = new S3Store({ endpoint: s3.endpoint, bucket: s3.bucket, credentials: { accessKeyId: "NOSUCHKEY", secretAccessKey: "very-secret-value" }, fetch: s3.fetch });
  await assert.rejects(st.load("x"), (e) => {
    assert.ok(isIbtError(e, "DENIED"));
    assert.equal(e.message, "S3 GET x: HTTP 403 InvalidAccessKeyId: check the access key id");
    assert.ok(!e.message.includes("very-secret-value"));
    return true;
  });
});

test("S3Store: location names endpoint, bucket and prefix, never credentials", () => {
  const st = new S3Store({ endpoint: "http://127.0.0.1:9000/", bucket: "b", prefix: "/repo/one/", credentials: { accessKeyId: "AK", secretAccessKey: "SECRET", sessionToken: "TOKEN" } });
  assert.equal(st.location, "s3:http://127.0.0.1:9000/b/repo/one");
  assert.deepEqual(parseS3Location(st.location), { endpoint: "http://127.0.0.1:9000", bucket: "b", prefix: "repo/one" });
});

test("parseS3Location: the three forms, and refusals", () => {
  assert.deepEqual(parseS3Location("s3:https://host/bucket/prefix/more"), { endpoint: "https://host", bucket: "bucket", prefix: "prefix/more" });
  assert.deepEqual(parseS3Location("s3:http://127.0.0.1:9000/bucket"), { endpoint: "http://127.0.0.1:9000", bucket: "bucket", prefix: "" });
  assert.deepEqual(parseS3Location("s3:s3.amazonaws.com/bucket/restic"), { endpoint: "https://s3.amazonaws.com", bucket: "bucket", prefix: "restic" });
  assert.deepEqual(parseS3Location("s3:host/bucket/"), { endpoint: "https://host", bucket: "bucket", prefix: "" });
  for (const bad of ["s3:", "s3:https://host", "s3:https://host/", "s3://host/b", "http://host/b", "s3:https://user:pw@host/b", "s3:https://host/b?x=1"]) {
    assert.throws(() => parseS3Location(bad), (e) => isIbtError(e, "BAD_ARGUMENT"), bad);
  }
});

test("S3Store: options out of range are BAD_ARGUMENT", () => {
  const base = { endpoint: "http://127.0.0.1:9", bucket: "b", credentials: { accessKeyId: "a", secretAccessKey: "s" } };
  for (const more of [{ partSize: 1024 }, { concurrency: 0 }, { prefix: "a/../b" }, { endpoint: "ftp://x" }, { bucket: "a/b" }, { credentials: { accessKeyId: "", secretAccessKey: "s" } }]) {
    assert.throws(() => new S3Store({ ...base, ...more }), (e) => isIbtError(e, "BAD_ARGUMENT"), JSON.stringify(more));
  }
});
