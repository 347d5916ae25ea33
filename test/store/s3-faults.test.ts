// S3Store under injected faults (a wrapping fetch in front of s3rver): each fault is retried to
// success, or surfaces as the right IbtError code with a message that names the request, the
// status and S3's code, and never a secret, a signature or a session token.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { S3Store, type S3StoreOptions } from "../../src/store/index.js";
import { collect } from "../../src/bytes.js";
import { isIbtError } from "../../src/errors.js";
import { startS3, type TestS3 } from "../support/s3rver.js";
import { faultFetch, type Fault, type LoggedRequest } from "../support/fault-fetch.js";

let s3: TestS3;
before(async () => {
  s3 = await startS3();
});
after(async () => {
  await s3.close();
});

const SECRET = "s3rver-ignores-this-secret";
const TOKEN = "session-token-that-must-not-leak";

function faulty(prefix: string, faults: Fault[], log: LoggedRequest[] = [], more: Partial<S3StoreOptions> = {}): S3Store {
  return new S3Store({
    endpoint: s3.endpoint,
    bucket: s3.bucket,
    prefix,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: SECRET, sessionToken: TOKEN },
    fetch: faultFetch(s3.fetch, faults, log),
    retry: { attempts: 5, baseDelayMs: 1, maxDelayMs: 4 },
    ...more,
  });
}

function noSecrets(message: string, log: LoggedRequest[]): void {
  assert.ok(!message.includes(SECRET), message);
  assert.ok(!message.includes(TOKEN), message);
  for (const r of log) {
    const signature = /Signature=([0-9a-f]{64})/.exec(r.headers["authorization"] ?? "")?.[1];
    if (signature) assert.ok(!message.includes(signature), message);
  }
}

const data = new TextEncoder().encode("the object's bytes\n".repeat(100));

const transient: [string, Fault["kind"]][] = [
  ["500", { status: 500, code: "InternalError" }],
  ["503 SlowDown", { status: 503, code: "SlowDown" }],
  ["429", { status: 429 }],
  ["400 RequestTimeout", { status: 400, code: "RequestTimeout" }],
  ["a rejected fetch", { reject: true }],
  ["a body that breaks mid-read", { breakBody: true }],
];

for (const [what, kind] of transient) {
  test(`S3 faults: ${what}, twice, is retried to success on save, load, stat, list and remove`, async () => {
    const log: LoggedRequest[] = [];
    const faults: Fault[] = [];
    const st = faulty(`retry-${what.replace(/\W+/g, "-")}`, faults, log);
    // A HEAD answer has no body to carry S3's code, so a 400 there is never known to be a timeout.
    const methods = "code" in kind && kind.code === "RequestTimeout" ? ["PUT", "GET", "DELETE"] : ["PUT", "GET", "HEAD", "DELETE"];
    for (const method of methods) faults.push({ method, times: 2, kind });
    await st.save("obj", data);
    assert.deepEqual(await st.load("obj"), data);
    assert.equal((await st.stat("obj")).size, data.length);
    const listed = [];
    for await (const o of st.list("")) listed.push(o.name);
    assert.deepEqual(listed, ["obj"]);
    await st.remove("obj");
    await assert.rejects(st.stat("obj"), (e) => isIbtError(e, "NOT_FOUND"));
    assert.equal(log.filter((r) => r.method === "PUT").length, 3);
  });
}

test("S3 faults: 503 SlowDown for good surfaces as IO after the bounded attempts", async () => {
  const log: LoggedRequest[] = [];
  const st = faulty("slowdown", [{ method: "PUT", times: 100, kind: { status: 503, code: "SlowDown" } }], log);
  await assert.rejects(st.save("data/ab.zip", data), (e) => {
    assert.ok(isIbtError(e, "IO"));
    assert.equal(e.message, "S3 PUT data/ab.zip: HTTP 503 SlowDown after 5 attempts");
    noSecrets(e.message, log);
    return true;
  });
  assert.equal(log.length, 5);
});

test("S3 faults: a network that never answers surfaces as IO naming the request", async () => {
  const log: LoggedRequest[] = [];
  const st = faulty("dead", [{ times: 100, kind: { reject: true } }], log, { retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 1 } });
  await assert.rejects(st.load("x"), (e) => isIbtError(e, "IO") && e.message.startsWith("S3 GET x: TypeError: fetch failed") && e.message.endsWith("after 3 attempts"));
  assert.equal(log.length, 3);
});

test("S3 faults: 401/403 are DENIED with a hint, not retried, and leak nothing", async () => {
  const cases: [string, number, string][] = [
    ["SignatureDoesNotMatch", 403, "check the secret access key and the region"],
    ["AccessDenied", 403, "check that the credentials may use this bucket and prefix"],
    ["ExpiredToken", 400 + 3, "the session token has expired; get fresh credentials"],
    ["RequestTimeTooSkewed", 403, "check this machine's clock"],
    ["Unauthorized", 401, "check the access key, the secret and this machine's clock"],
  ];
  for (const [code, status, hint] of cases) {
    const log: LoggedRequest[] = [];
    const st = faulty("denied", [{ times: 100, kind: { status, code } }], log);
    await assert.rejects(st.load("k"), (e) => {
      assert.ok(isIbtError(e, "DENIED"), code);
      assert.equal(e.message, `S3 GET k: HTTP ${status} ${code}: ${hint}`);
      noSecrets(e.message, log);
      assert.ok(!JSON.stringify(e.toJSON()).includes(TOKEN));
      return true;
    });
    assert.equal(log.length, 1, "a refusal is not retried");
  }
});

test("S3 faults: a missing bucket is IO, not NOT_FOUND", async () => {
  const st = faulty("nobucket", [{ times: 1, kind: { status: 404, code: "NoSuchBucket" } }]);
  await assert.rejects(st.load("k"), (e) => isIbtError(e, "IO") && /the bucket does not exist/.test(e.message));
});

test("S3 faults: a conditional PUT whose first answer was lost, then 412, is our own success", async () => {
  const log: LoggedRequest[] = [];
  const faults: Fault[] = [
    { method: "PUT", times: 1, kind: { dropAnswer: true } },
    // s3rver ignores If-None-Match, so the retry's 412 is made here.
    { method: "PUT", times: 1, kind: { status: 412, code: "PreconditionFailed" } },
  ];
  const st = faulty("cond-ours", faults, log);
  await st.save("locks/l1", data, { ifAbsent: true });
  assert.deepEqual(await st.load("locks/l1"), data);
  assert.equal(log.filter((r) => r.method === "PUT").length, 2);
  assert.equal(log[0]!.headers["if-none-match"], "*");
});

test("S3 faults: a conditional PUT that meets another writer's object is EXISTS, even after a lost answer", async () => {
  const other = faulty("cond-theirs", []);
  await other.save("locks/l1", new TextEncoder().encode("someone else"));
  const faults: Fault[] = [
    { method: "PUT", times: 1, kind: { reject: true } },
    { method: "PUT", times: 1, kind: { status: 412, code: "PreconditionFailed" } },
  ];
  const st = faulty("cond-theirs", faults);
  await assert.rejects(st.save("locks/l1", data, { ifAbsent: true }), (e) => isIbtError(e, "EXISTS"));
  // And without a lost answer before it, a 412 is EXISTS at once.
  const log: LoggedRequest[] = [];
  const plain = faulty("cond-theirs", [{ method: "PUT", times: 1, kind: { status: 412, code: "PreconditionFailed" } }], log);
  await assert.rejects(plain.save("locks/l2", data, { ifAbsent: true }), (e) => isIbtError(e, "EXISTS"));
  assert.equal(log.length, 1, "no read-back without an uncertain attempt");
});

test("S3 faults: CompleteMultipartUpload answering 200 with an <Error> is retried, and a lasting one fails", async () => {
  const opts = { partSize: 8 * 1024, minPartSize: 1 };
  const big = new Uint8Array(20 * 1024).map((_, i) => i * 7);
  const log: LoggedRequest[] = [];
  const once = faulty("complete-error", [{ method: "POST", url: /uploadId=/, times: 1, kind: { status: 200, code: "InternalError" } }], log, opts);
  await once.save("obj", big);
  assert.deepEqual(await once.load("obj"), big);
  assert.equal(log.filter((r) => r.method === "POST" && r.path.includes("uploadId=")).length, 2);

  const always = faulty("complete-error", [{ method: "POST", url: /uploadId=/, times: 100, kind: { status: 200, code: "InternalError" } }], [], opts);
  await assert.rejects(always.save("obj2", big), (e) => isIbtError(e, "IO") && e.message === "S3 CompleteMultipartUpload obj2: HTTP 200 InternalError after 5 attempts");
  await assert.rejects(always.stat("obj2"), (e) => isIbtError(e, "NOT_FOUND"));
  assert.deepEqual(await s3.uploads(), []);
});

test("S3 faults: a CompleteMultipartUpload whose answer was lost is recognised as ours", async () => {
  const big = new Uint8Array(20 * 1024).map((_, i) => i * 13);
  // S3 answers the retry 404 NoSuchUpload once the upload is completed; s3rver fails with a 500,
  // so that answer is made here.
  const faults: Fault[] = [
    { method: "POST", url: /uploadId=/, times: 1, kind: { dropAnswer: true } },
    { method: "POST", url: /uploadId=/, times: 1, kind: { status: 404, code: "NoSuchUpload" } },
  ];
  const st = faulty("complete-lost", faults, [], { partSize: 8 * 1024, minPartSize: 1 });
  await st.save("obj", big);
  assert.deepEqual(await st.load("obj"), big);
});

test("S3 faults: a chunk of loadStream that breaks is fetched again, not the whole object", async () => {
  const log: LoggedRequest[] = [];
  const st = faulty("stream-break", [], log, { streamChunkSize: 100 });
  await st.save("obj", data);
  const faults: Fault[] = [{ method: "GET", url: /obj$/, times: 1, kind: { breakBody: true } }];
  const reader = faulty("stream-break", faults, log, { streamChunkSize: 100 });
  // Break the third chunk: let the first two through.
  let gets = 0;
  const chunks: Uint8Array[] = [];
  faults[0]!.times = 0;
  for await (const c of reader.loadStream("obj")) {
    chunks.push(c);
    if (++gets === 2) faults[0]!.times = 1;
  }
  assert.deepEqual(await collect(chunks), data);
  const ranges = log.filter((r) => r.method === "GET" && r.headers["range"]).map((r) => r.headers["range"]);
  assert.equal(ranges.filter((r) => r === "bytes=200-299").length, 2, "the broken chunk was asked for twice");
  assert.equal(ranges.filter((r) => r === "bytes=0-99").length, 1);
});

test("S3 faults: an AbortSignal ends waits and requests with ABORTED", async () => {
  const st = faulty("abort", [{ times: 100, kind: { status: 503, code: "SlowDown" } }], [], { retry: { attempts: 5, baseDelayMs: 60_000, maxDelayMs: 60_000 } });
  const controller = new AbortController();
  const saving = st.save("obj", data, { signal: controller.signal });
  setTimeout(() => controller.abort(), 20);
  await assert.rejects(saving, (e) => isIbtError(e, "ABORTED"));
  const already = AbortSignal.abort();
  await assert.rejects(st.load("obj", { signal: already }), (e) => isIbtError(e, "ABORTED"));
});

test("S3 faults: garbled XML in a listing is IO, not a TypeError", async () => {
  const garbled: typeof fetch = async (input, init) => {
    if (String(input).includes("list-type=2")) return new Response("<ListBucketResult><Contents><Key>a&bogus;</Key>", { status: 200 });
    return s3.fetch(input, init);
  };
  const st = new S3Store({ endpoint: s3.endpoint, bucket: s3.bucket, credentials: s3.credentials, fetch: garbled });
  await assert.rejects(collect((async function* () {
    for await (const o of st.list("")) yield new TextEncoder().encode(o.name);
  })()), (e) => isIbtError(e, "IO") && e.message.startsWith("S3 ListObjectsV2 : unreadable answer: malformed XML"));
});

test("S3 faults: under a fetch that ignores its signal, a stalled body is cancelled at the deadline and never taken as a whole answer", async () => {
  const data = new TextEncoder().encode("the whole object, not its first bytes");
  await new S3Store({ endpoint: s3.endpoint, bucket: s3.bucket, credentials: s3.credentials, fetch: s3.fetch }).save("stalls", data);
  let cancelled = 0;
  let stalled = 0;
  // The first GET's answer sends 4 bytes of 37 and then nothing, and its stream does not end when the signal fires.
  const stubborn: typeof fetch = async (input, init) => {
    if ((init?.method ?? "GET") === "GET" && stalled++ === 0) {
      const body = new ReadableStream<Uint8Array>({
        start: (c) => c.enqueue(data.subarray(0, 4)),
        cancel: () => void cancelled++,
      });
      return new Response(body, { status: 200, headers: { "content-length": String(data.length) } });
    }
    return s3.fetch(input, init);
  };
  const st = new S3Store({ endpoint: s3.endpoint, bucket: s3.bucket, credentials: s3.credentials, fetch: stubborn, requestTimeoutMs: 50, retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 1 } });
  assert.deepEqual(await st.load("stalls"), data, "the retry's whole answer");
  assert.equal(cancelled, 1, "the stalled body's reader was cancelled");
  // A caller's abort mid-body is ABORTED, not a short answer.
  let once = 0;
  const controller = new AbortController();
  const cut: typeof fetch = async (input, init) => {
    if ((init?.method ?? "GET") === "GET" && once++ === 0) {
      const body = new ReadableStream<Uint8Array>({
        start: (c) => {
          c.enqueue(data.subarray(0, 4));
          setTimeout(() => controller.abort(), 10);
        },
      });
      return new Response(body, { status: 200, headers: { "content-length": String(data.length) } });
    }
    return s3.fetch(input, init);
  };
  const aborting = new S3Store({ endpoint: s3.endpoint, bucket: s3.bucket, credentials: s3.credentials, fetch: cut });
  await assert.rejects(aborting.load("stalls", { signal: controller.signal }), (e) => isIbtError(e, "ABORTED"));
});
