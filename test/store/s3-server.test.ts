/**
 * The S3 test server driven by AWS's own client (`@aws-sdk/client-s3`), so that what the
 * project's S3 client is later tested against is first shown to agree with S3's reference client:
 * operations, listing pages, multipart rules, conditional writes, authentication failures, and
 * every fault kind as a client sees it.
 *
 * The SDK runs with one attempt (a fault must reach the test, not a retry) and computes
 * checksums only where S3 requires them (DeleteObjects), which the server verifies (CRC32).
 * Requests the SDK cannot make (virtual-hosted style on 127.0.0.1, a body that does not match its
 * hash, an upload cut short) are sent with node:http and signed here with `@smithy/signature-v4`.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { request as httpRequest } from "node:http";
import { after, before, describe, it } from "node:test";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { type S3Credential, type S3TestServer, startS3Server } from "../support/s3-server.js";

const KEY: S3Credential = { accessKeyId: "AKIDTESTSERVER", secretAccessKey: "test-secret-key" };
const TEMPORARY: S3Credential = { accessKeyId: "ASIATESTSERVER", secretAccessKey: "other-secret", sessionToken: "session-token" };

function clientFor(server: S3TestServer, credentials: S3Credential = KEY): S3Client {
  return new S3Client({
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    credentials,
    maxAttempts: 1,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

/** Runs `action`, expects it to fail with S3 error `code` and HTTP `status`. */
async function rejectsWith(action: Promise<unknown>, code: string, status: number): Promise<void> {
  await assert.rejects(action, (error: { name?: string; $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(error.name, code);
    assert.equal(error.$metadata?.httpStatusCode, status);
    return true;
  });
}

async function bodyOf(client: S3Client, bucket: string, key: string, range?: string): Promise<string> {
  const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range }));
  return Buffer.from(await got.Body!.transformToByteArray()).toString("utf8");
}

interface RawRequest {
  method: string;
  path: string;
  host?: string;
  body?: Uint8Array;
  /** Overrides the signed x-amz-content-sha256. */
  payloadHash?: string;
  /** Send only this many body bytes, then cut the connection. */
  cutAfter?: number;
}

/** Signs a request with AWS's signer and sends it with node:http; resolves to status and body. */
async function rawRequest(server: S3TestServer, raw: RawRequest): Promise<{ status: number; body: string }> {
  const body = raw.body ?? new Uint8Array();
  const host = raw.host ?? `127.0.0.1:${server.port}`;
  const signer = new SignatureV4({ service: "s3", region: server.region, credentials: KEY, sha256: Sha256, uriEscapePath: false });
  const signed = await signer.sign({
    method: raw.method,
    protocol: "http:",
    hostname: host,
    path: raw.path,
    query: {},
    headers: {
      host,
      "content-length": String(body.length),
      "x-amz-content-sha256": raw.payloadHash ?? createHash("sha256").update(body).digest("hex"),
    },
  });
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port: server.port, method: raw.method, path: raw.path, headers: signed.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
    if (raw.cutAfter === undefined) {
      req.end(body);
    } else {
      req.write(body.subarray(0, raw.cutAfter), () => {
        req.destroy();
        resolve({ status: 0, body: "" });
      });
    }
  });
}

/** Waits until the server has logged `count` requests, so a test can inspect one the client gave up on. */
async function logged(server: S3TestServer, count: number): Promise<void> {
  while (server.log.length < count) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe("S3 test server", () => {
  let server: S3TestServer;
  let s3: S3Client;

  before(async () => {
    server = await startS3Server({ credentials: [KEY, TEMPORARY], buckets: ["main"], minPartSize: 1024 });
    s3 = clientFor(server);
  });
  after(async () => {
    s3.destroy();
    await server.close();
  });

  it("puts, gets, heads and deletes an object", async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: "main", Key: "dir/a b+c.txt", Body: "hello world", ContentType: "text/plain" }));
    assert.equal(put.ETag, `"${createHash("md5").update("hello world").digest("hex")}"`);
    assert.equal(server.object("main", "dir/a b+c.txt")?.contentType, "text/plain");
    assert.equal(await bodyOf(s3, "main", "dir/a b+c.txt"), "hello world");
    const head = await s3.send(new HeadObjectCommand({ Bucket: "main", Key: "dir/a b+c.txt" }));
    assert.equal(head.ContentLength, 11);
    assert.equal(head.ETag, put.ETag);
    await s3.send(new DeleteObjectCommand({ Bucket: "main", Key: "dir/a b+c.txt" }));
    assert.equal(server.object("main", "dir/a b+c.txt"), undefined);
    await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: "main", Key: "dir/a b+c.txt" })), "NotFound", 404);
    await rejectsWith(s3.send(new GetObjectCommand({ Bucket: "main", Key: "dir/a b+c.txt" })), "NoSuchKey", 404);
    const deleteAgain = await s3.send(new DeleteObjectCommand({ Bucket: "main", Key: "dir/a b+c.txt" }));
    assert.equal(deleteAgain.$metadata.httpStatusCode, 204);
    await rejectsWith(s3.send(new GetObjectCommand({ Bucket: "absent", Key: "x" })), "NoSuchBucket", 404);
  });

  it("creates buckets and refuses one that exists", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "second" }));
    await rejectsWith(s3.send(new CreateBucketCommand({ Bucket: "second" })), "BucketAlreadyOwnedByYou", 409);
  });

  it("answers ranged gets with 206 and Content-Range, and 416 past the end", async () => {
    server.putObject("main", "range.bin", "0123456789");
    const partial = await s3.send(new GetObjectCommand({ Bucket: "main", Key: "range.bin", Range: "bytes=2-5" }));
    assert.equal(partial.$metadata.httpStatusCode, 206);
    assert.equal(partial.ContentRange, "bytes 2-5/10");
    assert.equal(Buffer.from(await partial.Body!.transformToByteArray()).toString(), "2345");
    assert.equal(await bodyOf(s3, "main", "range.bin", "bytes=7-"), "789");
    assert.equal(await bodyOf(s3, "main", "range.bin", "bytes=-3"), "789");
    assert.equal(await bodyOf(s3, "main", "range.bin", "bytes=8-100"), "89");
    await rejectsWith(s3.send(new GetObjectCommand({ Bucket: "main", Key: "range.bin", Range: "bytes=10-" })), "InvalidRange", 416);
    const gets = server.requests("GetObject").filter((e) => e.key === "range.bin");
    assert.deepEqual(gets.map((e) => [e.range, e.status]), [
      ["bytes=2-5", 206],
      ["bytes=7-", 206],
      ["bytes=-3", 206],
      ["bytes=8-100", 206],
      ["bytes=10-", 416],
    ]);
  });

  it("pages a listing larger than its page size, honours a smaller max-keys, and folds common prefixes", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "listing" }));
    const keys = ["a/1", "a/2", "b", "c/x/1", "d", "e", "f", "g"];
    for (const key of keys) server.putObject("listing", key, key);

    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: "listing", ContinuationToken: token }));
      pages += 1;
      assert.ok((page.KeyCount ?? 0) <= 3);
      assert.equal(page.KeyCount, page.Contents?.length ?? 0);
      for (const object of page.Contents ?? []) {
        assert.equal(object.Size, object.Key!.length);
        seen.push(object.Key!);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    assert.deepEqual(seen, keys);
    assert.equal(pages, 3);

    const small = await s3.send(new ListObjectsV2Command({ Bucket: "listing", MaxKeys: 2, StartAfter: "b" }));
    assert.deepEqual(small.Contents?.map((o) => o.Key), ["c/x/1", "d"]);
    assert.equal(small.IsTruncated, true);

    const folded = await s3.send(new ListObjectsV2Command({ Bucket: "listing", Delimiter: "/" }));
    assert.deepEqual(folded.CommonPrefixes?.map((p) => p.Prefix), ["a/", "c/"]);
    assert.deepEqual(folded.Contents?.map((o) => o.Key), ["b"]);
    const rest = await s3.send(new ListObjectsV2Command({ Bucket: "listing", Delimiter: "/", ContinuationToken: folded.NextContinuationToken }));
    assert.deepEqual(rest.Contents?.map((o) => o.Key), ["d", "e", "f"]);

    await rejectsWith(s3.send(new ListObjectsV2Command({ Bucket: "listing", ContinuationToken: "made-up" })), "InvalidArgument", 400);
  });

  it("deletes several objects with DeleteObjects, its CRC32 checked", async () => {
    server.putObject("main", "many/1", "1");
    server.putObject("main", "many/2", "2");
    const result = await s3.send(new DeleteObjectsCommand({ Bucket: "main", Delete: { Objects: [{ Key: "many/1" }, { Key: "many/2" }, { Key: "many/3" }] } }));
    assert.deepEqual(result.Deleted?.map((d) => d.Key), ["many/1", "many/2", "many/3"]);
    assert.equal(server.object("main", "many/1"), undefined);
  });

  it("uploads in parts, lists the upload and its parts, and completes it whole", async () => {
    const part1 = Buffer.alloc(1024, 1);
    const part2 = Buffer.alloc(1024, 2);
    const part3 = Buffer.from("tail");
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: "main", Key: "big/object" }));
    const uploadId = created.UploadId!;
    const etags: string[] = [];
    for (const [i, body] of [part1, part2, part3].entries()) {
      const uploaded = await s3.send(new UploadPartCommand({ Bucket: "main", Key: "big/object", UploadId: uploadId, PartNumber: i + 1, Body: body }));
      etags.push(uploaded.ETag!);
    }
    assert.equal(server.object("main", "big/object"), undefined);
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: "main", Prefix: "big/" }));
    assert.deepEqual(uploads.Uploads?.map((u) => [u.Key, u.UploadId]), [["big/object", uploadId]]);
    assert.ok(uploads.Uploads?.[0]?.Initiated instanceof Date);
    const parts = await s3.send(new ListPartsCommand({ Bucket: "main", Key: "big/object", UploadId: uploadId }));
    assert.deepEqual(parts.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag]), [
      [1, 1024, etags[0]],
      [2, 1024, etags[1]],
      [3, 4, etags[2]],
    ]);

    const outOfOrder = [{ PartNumber: 2, ETag: etags[1] }, { PartNumber: 1, ETag: etags[0] }];
    await rejectsWith(
      s3.send(new CompleteMultipartUploadCommand({ Bucket: "main", Key: "big/object", UploadId: uploadId, MultipartUpload: { Parts: outOfOrder } })),
      "InvalidPartOrder",
      400,
    );
    await rejectsWith(
      s3.send(new CompleteMultipartUploadCommand({ Bucket: "main", Key: "big/object", UploadId: uploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: etags[1] }] } })),
      "InvalidPart",
      400,
    );

    const completed = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: "main",
        Key: "big/object",
        UploadId: uploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ PartNumber: i + 1, ETag })) },
      }),
    );
    const md5s = Buffer.concat([part1, part2, part3].map((p) => createHash("md5").update(p).digest()));
    assert.equal(completed.ETag, `"${createHash("md5").update(md5s).digest("hex")}-3"`);
    assert.deepEqual(server.object("main", "big/object")?.body, Buffer.concat([part1, part2, part3]));
    assert.deepEqual(server.uploads("main"), []);
  });

  it("aborts an upload and refuses to complete it afterwards", async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: "main", Key: "aborted" }));
    assert.equal(server.uploads("main").length, 1);
    const aborted = await s3.send(new AbortMultipartUploadCommand({ Bucket: "main", Key: "aborted", UploadId }));
    assert.equal(aborted.$metadata.httpStatusCode, 204);
    await rejectsWith(
      s3.send(new CompleteMultipartUploadCommand({ Bucket: "main", Key: "aborted", UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"x"' }] } })),
      "NoSuchUpload",
      404,
    );
  });

  it("refuses a conditional put with 412 when the key exists or its ETag differs", async () => {
    const first = await s3.send(new PutObjectCommand({ Bucket: "main", Key: "lock", Body: "one", IfNoneMatch: "*" }));
    await rejectsWith(s3.send(new PutObjectCommand({ Bucket: "main", Key: "lock", Body: "two", IfNoneMatch: "*" })), "PreconditionFailed", 412);
    await rejectsWith(s3.send(new PutObjectCommand({ Bucket: "main", Key: "lock", Body: "two", IfMatch: '"0123"' })), "PreconditionFailed", 412);
    await s3.send(new PutObjectCommand({ Bucket: "main", Key: "lock", Body: "three", IfMatch: first.ETag }));
    assert.equal(await bodyOf(s3, "main", "lock"), "three");
  });

  it("refuses a wrong secret, an unknown key, a skewed clock and a missing session token", async () => {
    const wrongSecret = clientFor(server, { accessKeyId: KEY.accessKeyId, secretAccessKey: "not-the-secret" });
    await rejectsWith(wrongSecret.send(new GetObjectCommand({ Bucket: "main", Key: "range.bin" })), "SignatureDoesNotMatch", 403);
    const unknown = clientFor(server, { accessKeyId: "AKIDUNKNOWN", secretAccessKey: "x" });
    await rejectsWith(unknown.send(new GetObjectCommand({ Bucket: "main", Key: "range.bin" })), "InvalidAccessKeyId", 403);
    const noToken = clientFor(server, { accessKeyId: TEMPORARY.accessKeyId, secretAccessKey: TEMPORARY.secretAccessKey });
    await rejectsWith(noToken.send(new GetObjectCommand({ Bucket: "main", Key: "range.bin" })), "InvalidToken", 403);
    assert.equal(await bodyOf(clientFor(server, TEMPORARY), "main", "range.bin"), "0123456789");

    // Its own client: the SDK corrects its clock from a skew error's Date header.
    const skewed = clientFor(server);
    server.clockOffsetMs = 20 * 60 * 1000;
    try {
      await rejectsWith(skewed.send(new GetObjectCommand({ Bucket: "main", Key: "range.bin" })), "RequestTimeTooSkewed", 403);
    } finally {
      server.clockOffsetMs = 0;
    }
    for (const client of [wrongSecret, unknown, noToken, skewed]) client.destroy();
  });

  it("refuses a request without authorization, and a body that does not match its signed hash", async () => {
    const anonymous = await fetch(`${server.endpoint}/main/range.bin`);
    assert.equal(anonymous.status, 403);
    assert.match(await anonymous.text(), /<Code>AccessDenied<\/Code>/);
    const tampered = await rawRequest(server, {
      method: "PUT",
      path: "/main/tampered",
      body: Buffer.from("actual body"),
      payloadHash: createHash("sha256").update("claimed body").digest("hex"),
    });
    assert.equal(tampered.status, 400);
    assert.match(tampered.body, /<Code>XAmzContentSHA256Mismatch<\/Code>/);
    assert.equal(server.object("main", "tampered"), undefined);
  });

  it("addresses buckets virtual-hosted style through the Host header", async () => {
    const put = await rawRequest(server, { method: "PUT", path: "/virtual/key%20one", host: "main.s3.test", body: Buffer.from("by host") });
    assert.equal(put.status, 200);
    assert.equal(server.object("main", "virtual/key one")?.body.toString(), "by host");
    const listed = await rawRequest(server, { method: "GET", path: "/", host: "main.s3.test" });
    assert.equal(listed.status, 501, "a GET on the bucket without list-type=2 is ListObjects v1, refused");
  });

  it("stores nothing when an upload's body is cut short", async () => {
    const before = server.log.length;
    await rawRequest(server, { method: "PUT", path: "/main/half", body: Buffer.alloc(4096, 7), cutAfter: 1000 });
    await logged(server, before + 1);
    assert.equal(server.object("main", "half"), undefined);
  });

  describe("faults", () => {
    it("answers 500, 503 SlowDown and 429 the requested number of times", async () => {
      server.putObject("main", "faulty", "content");
      server.faults.push({ op: "GetObject", key: "faulty", kind: "500" });
      server.faults.push({ op: "GetObject", key: /^faul/, kind: "503-slowdown", times: 2 });
      server.faults.push({ when: (t) => t.op === "HeadObject", kind: "429" });
      await rejectsWith(s3.send(new GetObjectCommand({ Bucket: "main", Key: "faulty" })), "InternalError", 500);
      await rejectsWith(s3.send(new GetObjectCommand({ Bucket: "main", Key: "faulty" })), "SlowDown", 503);
      await rejectsWith(s3.send(new GetObjectCommand({ Bucket: "main", Key: "faulty" })), "SlowDown", 503);
      await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: "main", Key: "faulty" })), (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode === 429);
      assert.equal(await bodyOf(s3, "main", "faulty"), "content");
      assert.deepEqual(server.requests("GetObject").filter((e) => e.key === "faulty").map((e) => e.fault), ["500", "503-slowdown", "503-slowdown", undefined]);
    });

    it("lets `skip` requests through before hitting", async () => {
      server.faults.push({ op: "PutObject", key: "skipped", kind: "500", skip: 1 });
      await s3.send(new PutObjectCommand({ Bucket: "main", Key: "skipped", Body: "1" }));
      await rejectsWith(s3.send(new PutObjectCommand({ Bucket: "main", Key: "skipped", Body: "2" })), "InternalError", 500);
      assert.equal(server.object("main", "skipped")?.body.toString(), "1");
    });

    it("drops a PutObject without applying it, or after applying it", async () => {
      server.faults.push({ op: "PutObject", key: "dropped", kind: "drop" });
      await assert.rejects(s3.send(new PutObjectCommand({ Bucket: "main", Key: "dropped", Body: "x" })));
      assert.equal(server.object("main", "dropped"), undefined);
      server.faults.push({ op: "PutObject", key: "dropped", kind: "drop-after-apply" });
      await assert.rejects(s3.send(new PutObjectCommand({ Bucket: "main", Key: "dropped", Body: "y" })));
      assert.equal(server.object("main", "dropped")?.body.toString(), "y");
      assert.deepEqual(server.requests("PutObject").filter((e) => e.key === "dropped").map((e) => e.status), [0, 0]);
    });

    it("sends a body slowly but whole", async () => {
      const content = "slow ".repeat(40);
      server.putObject("main", "slow", content);
      server.faults.push({ op: "GetObject", key: "slow", kind: "slow-body", pieceBytes: 7, pauseMs: 1 });
      assert.equal(await bodyOf(s3, "main", "slow"), content);
      assert.equal(server.requests("GetObject").at(-1)?.fault, "slow-body");
    });

    it("resets the connection in the middle of a body", async () => {
      server.putObject("main", "reset", Buffer.alloc(10000, 3));
      server.faults.push({ op: "GetObject", key: "reset", kind: "reset-mid-body", bytesBeforeReset: 100 });
      await assert.rejects(async () => {
        const got = await s3.send(new GetObjectCommand({ Bucket: "main", Key: "reset" }));
        await got.Body!.transformToByteArray();
      });
      assert.equal(server.requests("GetObject").at(-1)?.fault, "reset-mid-body");
    });

    it("fails CompleteMultipartUpload with a 200 carrying an <Error>, leaving the upload in progress", async () => {
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: "main", Key: "complete-fail" }));
      const { ETag } = await s3.send(new UploadPartCommand({ Bucket: "main", Key: "complete-fail", UploadId, PartNumber: 1, Body: "only part" }));
      server.faults.push({ op: "CompleteMultipartUpload", kind: "complete-fail" });
      const complete = () =>
        s3.send(new CompleteMultipartUploadCommand({ Bucket: "main", Key: "complete-fail", UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag }] } }));
      await assert.rejects(complete(), (e: { name?: string }) => e.name === "InternalError");
      assert.equal(server.object("main", "complete-fail"), undefined);
      assert.equal(server.uploads("main").filter((u) => u.key === "complete-fail").length, 1);
      assert.equal(server.requests("CompleteMultipartUpload").at(-1)?.status, 200);
      await complete();
      assert.equal(server.object("main", "complete-fail")?.body.toString(), "only part");
    });
  });
});

describe("S3 test server with the default minimum part size", () => {
  it("refuses to complete an upload whose non-last part is under 5 MiB", async () => {
    const server = await startS3Server({ credentials: [KEY], buckets: ["b"] });
    const s3 = clientFor(server);
    try {
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: "b", Key: "k" }));
      const big = Buffer.alloc(5 * 1024 * 1024 - 1);
      const one = await s3.send(new UploadPartCommand({ Bucket: "b", Key: "k", UploadId, PartNumber: 1, Body: big }));
      const two = await s3.send(new UploadPartCommand({ Bucket: "b", Key: "k", UploadId, PartNumber: 2, Body: "end" }));
      const parts = [{ PartNumber: 1, ETag: one.ETag }, { PartNumber: 2, ETag: two.ETag }];
      await rejectsWith(
        s3.send(new CompleteMultipartUploadCommand({ Bucket: "b", Key: "k", UploadId, MultipartUpload: { Parts: parts } })),
        "EntityTooSmall",
        400,
      );
      assert.equal(server.object("b", "k"), undefined);
      assert.equal(server.uploads("b").length, 1);
      // One part alone may be any size: the last part has no minimum.
      const single = await s3.send(new CompleteMultipartUploadCommand({ Bucket: "b", Key: "k", UploadId, MultipartUpload: { Parts: [parts[1]!] } }));
      assert.match(single.ETag ?? "", /-1"$/);
    } finally {
      s3.destroy();
      await server.close();
    }
  });
});
