// How S3Store signs request bodies, seen on the strict server (which checks every signature and
// every signed SHA-256): over https a body is signed as UNSIGNED-PAYLOAD by default, over http by
// its SHA-256, either can be chosen with `unsignedPayload`, and a request without a body always
// carries the empty body's hash. A response read whole equals what was saved, body-less HEADs
// included, whatever the part size.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { collect } from "../../src/bytes.js";
import { EMPTY_SHA256, sha256Hex } from "../../src/store/s3/sigv4.js";
import { type S3TestServer, startS3Server } from "../support/s3-server.js";
import { routedFetch } from "../support/routed-fetch.js";
import { BUCKET, KEY, MiB, bytes, chunked, storeOn } from "../support/s3-strict-kit.js";

let server: S3TestServer;
before(async () => {
  server = await startS3Server({ credentials: [KEY], buckets: [BUCKET] });
});
after(async () => {
  await server.close();
});

/** A fetch to the server, whatever the URL's scheme, that records each request's method and payload hash. */
function hashesSent(seen: [string, string][]): typeof fetch {
  const inner = routedFetch(server.port);
  return (input, init) => {
    seen.push([init?.method ?? "GET", new Headers(init?.headers).get("x-amz-content-sha256") ?? ""]);
    return inner(input, init);
  };
}

test("over https bodies are signed as UNSIGNED-PAYLOAD, over http by their SHA-256; body-less requests carry the empty hash", async () => {
  const data = bytes(1000, 3);
  const cases = [
    { endpoint: `https://127.0.0.1:${server.port}`, option: undefined, unsigned: true },
    { endpoint: `http://127.0.0.1:${server.port}`, option: undefined, unsigned: false },
    { endpoint: `https://127.0.0.1:${server.port}`, option: false, unsigned: false },
    { endpoint: `http://127.0.0.1:${server.port}`, option: true, unsigned: true },
  ];
  for (const [i, c] of cases.entries()) {
    const seen: [string, string][] = [];
    const store = storeOn(server, `payload-${i}`, { endpoint: c.endpoint, fetch: hashesSent(seen), ...(c.option === undefined ? {} : { unsignedPayload: c.option }) });
    await store.save("obj", data);
    assert.deepEqual(await store.load("obj"), data);
    assert.equal((await store.stat("obj")).size, data.length);
    await store.remove("obj");
    const put = c.unsigned ? "UNSIGNED-PAYLOAD" : await sha256Hex(data);
    assert.deepEqual(seen, [["PUT", put], ["GET", EMPTY_SHA256], ["HEAD", EMPTY_SHA256], ["DELETE", EMPTY_SHA256]], `${c.endpoint} unsignedPayload ${String(c.option)}`);
  }
});

test("multipart uploads over https go up unsigned and read back whole, in ranges and streamed", async () => {
  const data = bytes(11 * MiB + 5, 4);
  const seen: [string, string][] = [];
  const store = storeOn(server, "payload-multipart", { endpoint: `https://127.0.0.1:${server.port}`, fetch: hashesSent(seen), partSize: 5 * MiB, streamChunkSize: 3 * MiB });
  await store.save("big", chunked(data, 100_000));
  assert.deepEqual(seen.filter(([m]) => m === "PUT").map(([, h]) => h), ["UNSIGNED-PAYLOAD", "UNSIGNED-PAYLOAD", "UNSIGNED-PAYLOAD"]);
  // The Complete request's XML is a body too.
  assert.deepEqual(seen.filter(([m]) => m === "POST").map(([, h]) => h), [EMPTY_SHA256, "UNSIGNED-PAYLOAD"]);
  assert.deepEqual(await store.load("big"), data);
  assert.deepEqual(await store.load("big", { offset: 5 * MiB - 3, length: 7 }), data.subarray(5 * MiB - 3, 5 * MiB + 4));
  assert.deepEqual(await collect(store.loadStream("big")), data);
});
