// S3Store against the strict S3 test server (test/support/s3-server.ts), which checks every
// signature with AWS's own signer, answers conditional writes with a real 412, pages listings by
// three and holds multipart parts to S3's 5 MiB minimum: every operation signed in both
// addressing styles and with a session token, conditional creates under contention, a 12 MiB
// streamed save in 5 MiB parts with bounded memory, listings across pages, ranged loads as the
// server saw them, sweep of an upload AWS's own client left, authentication failures, and AWS's
// client reading back everything the store wrote. Faults and timeouts are in s3-strict-faults.test.ts.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { collect } from "../../src/bytes.js";
import type { S3Store } from "../../src/store/index.js";
import { type S3Operation, type S3TestServer, startS3Server } from "../support/s3-server.js";
import { routedFetch } from "../support/routed-fetch.js";
import { BUCKET, KEY, MiB, TEMPORARY, bytes, chunked, recordingFetch, rejectsWith, storeOn, type SentRequest } from "../support/s3-strict-kit.js";

let server: S3TestServer;
before(async () => {
  server = await startS3Server({ credentials: [KEY, TEMPORARY], buckets: [BUCKET] });
});
after(async () => {
  await server.close();
});

/** Log entries of requests for keys under `prefix/` (bucket-level requests name no key). */
function logUnder(prefix: string, from = 0) {
  return server.log.slice(from).filter((e) => e.key?.startsWith(prefix + "/"));
}

/**
 * Runs every kind of request a store makes, asserting each result; a multipart save among them
 * needs a store whose partSize is 5 MiB. Returns the operations the server saw.
 */
async function everyOperation(store: S3Store, prefix: string): Promise<Set<S3Operation | "Unknown">> {
  const from = server.log.length;
  const small = bytes(3000, 7);
  await store.save("objects/small", small);
  await store.save("locks/one", bytes(10), { ifAbsent: true });
  assert.deepEqual(await store.load("objects/small"), small);
  assert.deepEqual(await store.load("objects/small", { offset: 10, length: 20 }), small.slice(10, 30));
  assert.deepEqual(await store.stat("objects/small"), { name: "objects/small", size: 3000 });
  const big = bytes(6 * MiB, 8);
  await store.save("objects/big", chunked(big, 256 * 1024));
  assert.deepEqual(await collect(store.loadStream("objects/big")), big);
  assert.deepEqual(
    (await all(store.list(""))).map((o) => o.name),
    ["locks/one", "objects/big", "objects/small"],
  );
  await store.remove("locks/one");
  await store.remove("locks/one");
  const sdk = sdkClient();
  try {
    await sdk.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: `${prefix}/left-over` }));
  } finally {
    sdk.destroy();
  }
  assert.equal(await store.sweep(-60_000), 1);
  const seen = server.log.slice(from);
  const refused = seen.filter((e) => e.status >= 400 && !(e.op === "DeleteObject" && e.status === 404));
  assert.deepEqual(refused, [], "every request accepted");
  return new Set(seen.map((e) => e.op));
}

const ALL_OPERATIONS: S3Operation[] = [
  "PutObject",
  "GetObject",
  "HeadObject",
  "ListObjectsV2",
  "DeleteObject",
  "CreateMultipartUpload",
  "UploadPart",
  "CompleteMultipartUpload",
  "ListMultipartUploads",
  "AbortMultipartUpload",
];

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

function sdkClient(): S3Client {
  return new S3Client({
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    credentials: KEY,
    maxAttempts: 1,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

describe("S3Store against the strict server: signing", () => {
  it("has every request accepted, path style", async () => {
    const ops = await everyOperation(storeOn(server, "path", { partSize: 5 * MiB }), "path");
    assert.deepEqual(ALL_OPERATIONS.filter((op) => !ops.has(op)), []);
  });

  it("has every request accepted, virtual-hosted style, the bucket named only by the Host it signed", async () => {
    // The store talks to strict.s3.test:PORT; the fetch connects to 127.0.0.1:PORT and sends
    // that Host, so the server finds the bucket from the host name and checks the signature over it.
    const store = storeOn(server, "virtual", { endpoint: `http://s3.test:${server.port}`, style: "virtual", fetch: routedFetch(server.port), partSize: 5 * MiB });
    const ops = await everyOperation(store, "virtual");
    assert.deepEqual(ALL_OPERATIONS.filter((op) => !ops.has(op)), []);
    assert.equal(server.object(BUCKET, "virtual/objects/small")?.body.length, 3000);
  });

  it("has every request accepted with a session token", async () => {
    const ops = await everyOperation(storeOn(server, "token", { credentials: TEMPORARY, partSize: 5 * MiB }), "token");
    assert.deepEqual(ALL_OPERATIONS.filter((op) => !ops.has(op)), []);
  });

  it("signs keys with characters S3 encodes (in the prefix: object names are plain), and an UNSIGNED-PAYLOAD", async () => {
    const prefix = "odd a+b c=d&e%f~g!h'(i)*j,ü€";
    for (const store of [storeOn(server, prefix), storeOn(server, prefix, { unsignedPayload: true })]) {
      await store.save("dir/a-b_c.d", bytes(5));
      assert.deepEqual(await store.load("dir/a-b_c.d"), bytes(5));
      assert.deepEqual((await all(store.list("dir/"))).map((o) => o.name), ["dir/a-b_c.d"]);
      assert.ok(server.object(BUCKET, prefix + "/dir/a-b_c.d"));
      await store.remove("dir/a-b_c.d");
    }
  });
});

describe("S3Store against the strict server: authentication failures", () => {
  it("refuses a wrong secret as DENIED, saying to check the secret", async () => {
    const store = storeOn(server, "auth", { credentials: { accessKeyId: KEY.accessKeyId, secretAccessKey: "wrong-secret-that-must-not-leak" } });
    const error = await rejectsWith(store.load("x"), "DENIED", /S3 GET x/, /HTTP 403 SignatureDoesNotMatch/, /check the secret access key/);
    assert.ok(!error.message.includes("wrong-secret-that-must-not-leak"));
    assert.equal(server.log.at(-1)?.error, "SignatureDoesNotMatch");
  });

  it("refuses an unknown access key id as DENIED, saying to check it", async () => {
    const store = storeOn(server, "auth", { credentials: { accessKeyId: "AKIDNOBODY", secretAccessKey: KEY.secretAccessKey } });
    await rejectsWith(store.save("x", bytes(3)), "DENIED", /S3 PUT x/, /HTTP 403 InvalidAccessKeyId/, /check the access key id/);
  });

  it("refuses a skewed clock, ours or the server's, as DENIED mentioning the clock", async () => {
    const late = storeOn(server, "auth", { now: () => Date.now() - 20 * 60_000 });
    await rejectsWith(late.stat("x"), "DENIED", /S3 HEAD x/, /HTTP 403/, /clock/);
    // A HEAD answer has no body, so S3's code is unknown there; a GET names it.
    await rejectsWith(late.load("x"), "DENIED", /HTTP 403 RequestTimeTooSkewed/, /clock/);
    server.clockOffsetMs = 20 * 60_000;
    try {
      await rejectsWith(storeOn(server, "auth").load("x"), "DENIED", /RequestTimeTooSkewed/, /clock/);
    } finally {
      server.clockOffsetMs = 0;
    }
  });

  it("refuses a temporary key without its session token, and a wrong token", async () => {
    const noToken = storeOn(server, "auth", { credentials: { accessKeyId: TEMPORARY.accessKeyId, secretAccessKey: TEMPORARY.secretAccessKey } });
    await rejectsWith(noToken.load("x"), "DENIED", /HTTP 403 InvalidToken/, /session token/);
    const wrongToken = storeOn(server, "auth", { credentials: { ...TEMPORARY, sessionToken: "another-token" } });
    await rejectsWith(wrongToken.list("").next(), "DENIED", /ListObjectsV2/, /HTTP 403 InvalidToken/, /session token/);
  });

  it("refuses a wrong region with a message that says to check it", async () => {
    await rejectsWith(storeOn(server, "auth", { region: "eu-west-3" }).load("x"), "IO", /HTTP 400 AuthorizationHeaderMalformed/, /check the region/);
  });
});

describe("S3Store against the strict server: conditional creates", () => {
  it("gives EXISTS on the second save and leaves the first object", async () => {
    const store = storeOn(server, "cond");
    await store.save("lock", bytes(10, 1), { ifAbsent: true });
    await rejectsWith(store.save("lock", bytes(10, 2), { ifAbsent: true }), "EXISTS", /S3 PUT lock/, /HTTP 412/);
    assert.deepEqual(await store.load("lock"), bytes(10, 1));
    assert.equal(server.requests("PutObject").at(-1)?.error, "PreconditionFailed");
  });

  it("lets exactly one of 8 concurrent conditional saves win", async () => {
    const store = storeOn(server, "race");
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => store.save("lock", bytes(100, i + 1), { ifAbsent: true })));
    const won = results.flatMap((r, i) => (r.status === "fulfilled" ? [i] : []));
    assert.equal(won.length, 1);
    for (const r of results) if (r.status === "rejected") assert.equal((r.reason as { code?: string }).code, "EXISTS");
    assert.deepEqual(await store.load("lock"), bytes(100, won[0]! + 1));
  });

  it("gives EXISTS for a multipart save over an existing object, and aborts its upload", async () => {
    const store = storeOn(server, "cond-multi", { partSize: 5 * MiB });
    await store.save("big", bytes(10));
    await rejectsWith(store.save("big", chunked(bytes(6 * MiB), MiB), { ifAbsent: true }), "EXISTS", /CompleteMultipartUpload big/, /HTTP 412/);
    assert.deepEqual(await store.load("big"), bytes(10));
    assert.deepEqual(server.uploads(BUCKET).filter((u) => u.key.startsWith("cond-multi/")), []);
  });
});

describe("S3Store against the strict server: multipart at S3's real minimum", () => {
  it("saves 12 MiB streamed in 5 MiB parts, holding at most concurrency + 1 parts", async () => {
    const partSize = 5 * MiB;
    const concurrency = 2;
    const data = bytes(12 * MiB, 12);
    let pulled = 0;
    let stored = 0;
    let mostHeld = 0;
    async function* source(): AsyncGenerator<Uint8Array> {
      for (let at = 0; at < data.length; at += 64 * 1024) {
        pulled += 64 * 1024;
        mostHeld = Math.max(mostHeld, pulled - stored);
        yield data.slice(at, at + 64 * 1024);
      }
    }
    const sent: SentRequest[] = [];
    const fetchFn = recordingFetch(fetch, sent, (r) => {
      if (r.method === "PUT" && r.path.includes("partNumber=") && r.status === 200) stored += r.bodyLength;
    });
    const store = storeOn(server, "multi", { partSize, concurrency, fetch: fetchFn });
    await store.save("twelve", source());

    const object = server.object(BUCKET, "multi/twelve");
    assert.ok(object && Buffer.from(data).equals(object.body), "the object is the bytes saved");
    assert.match(object.etag, /-3"$/);
    const parts = sent.filter((r) => r.path.includes("partNumber=")).map((r) => r.bodyLength);
    assert.deepEqual(parts.sort((a, b) => b - a), [5 * MiB, 5 * MiB, 2 * MiB]);
    // Bytes taken from the source and not yet stored by the server: the parts in flight plus the one being filled.
    assert.ok(mostHeld <= (concurrency + 1) * partSize, `held ${mostHeld} bytes`);
    assert.deepEqual(server.uploads(BUCKET).filter((u) => u.key.startsWith("multi/")), []);
  });

  it("refuses a partSize under 5 MiB unless the minimum is lowered, and surfaces the server's EntityTooSmall", async () => {
    assert.throws(() => storeOn(server, "small-parts", { partSize: MiB }), { code: "BAD_ARGUMENT" });
    const store = storeOn(server, "small-parts", { partSize: MiB, minPartSize: 1 });
    await rejectsWith(store.save("x", bytes(3 * MiB)), "IO", /CompleteMultipartUpload x/, /HTTP 400 EntityTooSmall/);
    assert.equal(server.object(BUCKET, "small-parts/x"), undefined);
    assert.deepEqual(server.uploads(BUCKET).filter((u) => u.key.startsWith("small-parts/")), [], "the failed upload was aborted");
  });
});

describe("S3Store against the strict server: listing, ranges, remove, sweep", () => {
  it("lists across pages of three, only under its prefix", async () => {
    const store = storeOn(server, "listing");
    const names = Array.from({ length: 10 }, (_, i) => `data/${String(i).padStart(2, "0")}`);
    for (const name of names) await store.save(name, bytes(name.length + 1));
    server.putObject(BUCKET, "listing-other/x", "not ours");
    server.putObject(BUCKET, "listing/data/", "a folder marker");
    const from = server.log.length;
    const listed = await all(store.list("data/"));
    assert.deepEqual(listed, names.map((name) => ({ name, size: name.length + 1 })));
    assert.equal(server.log.slice(from).filter((e) => e.op === "ListObjectsV2").length, 4);
    assert.deepEqual(await all(store.list("nothing/")), []);
  });

  it("asks for just the range a load wants", async () => {
    const store = storeOn(server, "ranges");
    const data = bytes(10_000, 4);
    await store.save("obj", data);
    const from = server.log.length;
    assert.deepEqual(await store.load("obj", { offset: 100, length: 50 }), data.slice(100, 150));
    assert.deepEqual(await store.load("obj", { offset: 9990 }), data.slice(9990));
    assert.deepEqual(await store.load("obj", { offset: 9990, length: 100 }), data.slice(9990));
    assert.equal((await store.load("obj", { offset: 10_000 })).length, 0);
    assert.deepEqual(await store.load("obj"), data);
    const gets = logUnder("ranges", from).filter((e) => e.op === "GetObject");
    assert.deepEqual(gets.map((e) => [e.range, e.status]), [
      ["bytes=100-149", 206],
      ["bytes=9990-", 206],
      ["bytes=9990-10089", 206],
      ["bytes=10000-", 416],
      [undefined, 200],
    ]);
  });

  it("streams a load in ranged chunks, pinned to the object's ETag", async () => {
    const store = storeOn(server, "stream", { streamChunkSize: 4096 });
    const data = bytes(10_000, 5);
    await store.save("obj", data);
    const from = server.log.length;
    assert.deepEqual(await collect(store.loadStream("obj")), data);
    assert.deepEqual(
      logUnder("stream", from).map((e) => [e.op, e.range ?? ""]),
      [["HeadObject", ""], ["GetObject", "bytes=0-4095"], ["GetObject", "bytes=4096-8191"], ["GetObject", "bytes=8192-9999"]],
    );
    // Replaced between chunks: the next chunk's If-Match fails and the stream says so.
    const stream = store.loadStream("obj");
    await stream.next();
    server.putObject(BUCKET, "stream/obj", Buffer.from(bytes(10_000, 6)));
    await rejectsWith(stream.next(), "IO", /S3 GET obj/, /changed while it was read/);
  });

  it("removes an object, and a missing one without complaint", async () => {
    const store = storeOn(server, "remove");
    await store.save("gone", bytes(5));
    await store.remove("gone");
    assert.equal(server.object(BUCKET, "remove/gone"), undefined);
    await rejectsWith(store.load("gone"), "NOT_FOUND", /S3 GET gone/, /HTTP 404 NoSuchKey/);
    await rejectsWith(store.stat("gone"), "NOT_FOUND", /S3 HEAD gone/, /HTTP 404/);
    await store.remove("gone");
  });

  it("sweeps an upload left unfinished by AWS's client, only when old enough and only under its prefix", async () => {
    const sdk = sdkClient();
    try {
      const { UploadId } = await sdk.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: "sweep/data/half" }));
      await sdk.send(new UploadPartCommand({ Bucket: BUCKET, Key: "sweep/data/half", UploadId, PartNumber: 1, Body: "first part" }));
      await sdk.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: "sweep-other/half" }));
    } finally {
      sdk.destroy();
    }
    const store = storeOn(server, "sweep");
    assert.equal(await store.sweep(60 * 60_000), 0, "too recent");
    const later = storeOn(server, "sweep", { now: () => Date.now() + 2 * 60_000 });
    assert.equal(await later.sweep(60_000), 1);
    assert.deepEqual(server.uploads(BUCKET).filter((u) => u.key.startsWith("sweep")).map((u) => u.key), ["sweep-other/half"]);
  });

  it("sweeps more uploads than one ListMultipartUploads page holds", async () => {
    const sdk = sdkClient();
    try {
      for (let i = 0; i < 7; i++) await sdk.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: `pages/u${i}` }));
    } finally {
      sdk.destroy();
    }
    const from = server.log.length;
    assert.equal(await storeOn(server, "pages").sweep(-60_000), 7);
    assert.ok(server.log.slice(from).filter((e) => e.op === "ListMultipartUploads").length >= 3);
    assert.deepEqual(server.uploads(BUCKET).filter((u) => u.key.startsWith("pages/")), []);
  });
  it("sweeps every upload of one key, though aborting them moves the listing's markers", async () => {
    const sdk = sdkClient();
    try {
      for (let i = 0; i < 5; i++) await sdk.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: "same-key/lock" }));
    } finally {
      sdk.destroy();
    }
    assert.equal(await storeOn(server, "same-key").sweep(-60_000), 5);
    assert.deepEqual(server.uploads(BUCKET).filter((u) => u.key.startsWith("same-key/")), []);
  });
});

describe("S3Store against the strict server: AWS's client reads what the store wrote", () => {
  it("lists and downloads every object, a multipart one included, byte for byte", async () => {
    const store = storeOn(server, "read back+ü", { partSize: 5 * MiB });
    const saved = new Map<string, Uint8Array>([
      ["empty", new Uint8Array(0)],
      ["one-byte", bytes(1, 2)],
      ["data/ab/cdef.zip", bytes(70_000, 3)],
      ["keys/x_y-z.1", bytes(333, 4)],
      ["locks/exclusive", bytes(64, 5)],
      ["data/multipart", bytes(11 * MiB + 17, 6)],
    ]);
    for (const [name, data] of saved) {
      await store.save(name, name === "data/multipart" ? chunked(data, 100_000) : data, { ifAbsent: name.startsWith("locks/") });
    }
    assert.match(server.object(BUCKET, "read back+ü/data/multipart")?.etag ?? "", /-3"$/);

    const sdk = sdkClient();
    try {
      const found = new Map<string, number>();
      let token: string | undefined;
      do {
        const page = await sdk.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "read back+ü/", ContinuationToken: token }));
        for (const o of page.Contents ?? []) found.set(o.Key!.slice("read back+ü/".length), o.Size!);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      assert.deepEqual([...found].sort(), [...saved].map(([name, data]) => [name, data.length] as [string, number]).sort());
      for (const [name, data] of saved) {
        const got = await sdk.send(new GetObjectCommand({ Bucket: BUCKET, Key: `read back+ü/${name}` }));
        assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(data), name);
      }
    } finally {
      sdk.destroy();
    }
  });
});
