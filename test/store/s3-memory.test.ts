// How much of a streamed save S3Store holds, counted rather than timed: the part-buffer pool
// on its own (buffers created, lent at once, a fill that waits for a buffer to come back), the
// multipart uploader with that pool against the strict server (buffers created and lent while a
// 40 MiB stream goes up in 5 MiB parts), and S3Store.save seen from outside (bytes taken from the
// source and not yet stored by the server, request bodies in flight, what was taken when the
// upload began) at two concurrencies.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { PartBuffers, partsOf, type Part } from "../../src/store/s3/parts.js";
import { fetchTransport, S3Client } from "../../src/store/s3/client.js";
import { uploadMultipart } from "../../src/store/s3/multipart.js";
import { sha256Hex, SigV4Signer } from "../../src/store/s3/sigv4.js";
import { S3Urls } from "../../src/store/s3/url.js";
import { DEFAULT_RETRY } from "../../src/store/s3/retry.js";
import { type S3TestServer, startS3Server } from "../support/s3-server.js";
import { BUCKET, KEY, MiB, bodyLength, bytes, storeOn } from "../support/s3-strict-kit.js";

let server: S3TestServer;
before(async () => {
  server = await startS3Server({ credentials: [KEY], buckets: [BUCKET] });
});
after(async () => {
  await server.close();
});

/** `data` in fresh chunks of `chunk` bytes, counting what has been taken so far in `taken.bytes`. */
async function* counted(data: Uint8Array, chunk: number, taken: { bytes: number; onTake?: () => void }): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < data.length; at += chunk) {
    const piece = data.slice(at, at + chunk);
    taken.bytes += piece.length;
    taken.onTake?.();
    yield piece;
  }
}

async function* bytesOf(parts: AsyncIterable<Part>): AsyncGenerator<Uint8Array> {
  for await (const part of parts) yield part.bytes;
}

describe("PartBuffers and partsOf", () => {
  it("cut a stream into exact parts, reusing at most `capacity` buffers", async () => {
    const buffers = new PartBuffers(1000, 3);
    const data = bytes(10_500, 3);
    const seen: number[] = [];
    const joined: number[] = [];
    const lasts: boolean[] = [];
    for await (const { bytes: part, last } of partsOf(counted(data, 333, { bytes: 0 }), buffers)) {
      seen.push(part.length);
      lasts.push(last);
      joined.push(...part);
      buffers.give(part);
    }
    assert.deepEqual(seen, [...Array(10).fill(1000), 500]);
    assert.deepEqual(lasts, [...Array(10).fill(false), true]);
    assert.deepEqual(Uint8Array.from(joined), data);
    // Each part was given back before the next was filled: one buffer served them all.
    assert.equal(buffers.created, 1);
    assert.equal(buffers.peakLent, 1);
  });

  it("make a fill wait while every buffer is lent, and go on once one comes back", async () => {
    const buffers = new PartBuffers(100, 2);
    const parts = partsOf(counted(bytes(1000, 4), 100, { bytes: 0 }), buffers);
    const first = await parts.next();
    const second = await parts.next();
    assert.equal(buffers.created, 2);
    let third: IteratorResult<Part> | undefined;
    const pending = parts.next().then((r) => (third = r));
    // Let every queued job run: the fill has no buffer, so the third part cannot be ready.
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(third, undefined);
    buffers.give(first.value!.bytes);
    await pending;
    assert.equal(third!.value!.bytes.length, 100);
    // The third part is in the buffer the first one gave back.
    assert.equal(third!.value!.bytes.buffer, first.value!.bytes.buffer);
    assert.equal(buffers.created, 2);
    buffers.give(second.value!.bytes);
    buffers.give(third!.value!.bytes);
    await parts.return(undefined);
  });

  it("take back the part being filled when the consumer stops early", async () => {
    const buffers = new PartBuffers(100, 1);
    const parts = partsOf(counted(bytes(1000, 5), 30, { bytes: 0 }), buffers);
    const first = await parts.next();
    buffers.give(first.value!.bytes);
    await parts.return(undefined);
    // With its only buffer back, the pool lends it again at once.
    assert.equal((await buffers.take()).length, 100);
  });
});

describe("the multipart uploader with a part-buffer pool, against the strict server", () => {
  for (const concurrency of [2, 3]) {
    it(`holds at most ${concurrency + 1} part buffers for 40 MiB in 5 MiB parts with ${concurrency} in flight`, async () => {
      const partSize = 5 * MiB;
      const data = bytes(40 * MiB + 12345, 40 + concurrency);
      const client = new S3Client({
        urls: new S3Urls(server.endpoint, BUCKET, "path"),
        signer: new SigV4Signer(KEY, server.region),
        transport: fetchTransport((input, init) => fetch(input, init)),
        retry: DEFAULT_RETRY,
        now: Date.now,
        unsignedPayload: false,
        sha256: sha256Hex,
        timeoutMs: 30_000,
      });
      const buffers = new PartBuffers(partSize, concurrency + 1);
      let released = 0;
      const key = `pool-${concurrency}/forty`;
      await uploadMultipart(bytesOf(partsOf(counted(data, 256 * 1024, { bytes: 0 }), buffers)), {
        client,
        key,
        name: "forty",
        concurrency,
        ifAbsent: false,
        release: (part) => {
          released++;
          buffers.give(part);
        },
      });
      assert.ok(Buffer.from(data).equals(server.object(BUCKET, key)!.body), "the object is the bytes saved");
      assert.equal(released, 9, "every part was given back");
      assert.ok(buffers.created <= concurrency + 1, `${buffers.created} buffers created`);
      assert.ok(buffers.peakLent <= concurrency + 1, `${buffers.peakLent} buffers lent at once`);
      // 9 parts through at most concurrency + 1 buffers: buffers were reused.
      assert.ok(buffers.created < 9);
    });
  }
});

describe("S3Store.save of a stream, counted from outside", () => {
  for (const concurrency of [2, 3]) {
    it(`takes at most (${concurrency} + 1) × partSize ahead of what the server stored, 40 MiB in 5 MiB parts`, async () => {
      const partSize = 5 * MiB;
      const data = bytes(40 * MiB + 777, 50 + concurrency);
      const taken = { bytes: 0, onTake: () => (mostAhead = Math.max(mostAhead, taken.bytes - stored)) };
      let mostAhead = 0;
      let stored = 0;
      let bodiesInFlight = 0;
      let mostInFlight = 0;
      let takenAtCreate: number | undefined;
      const countingFetch: typeof fetch = async (input, init) => {
        const isPart = String(input).includes("partNumber=");
        const size = isPart ? bodyLength(init?.body) : 0;
        if (String(input).endsWith("?uploads=")) takenAtCreate = taken.bytes;
        bodiesInFlight += size;
        mostInFlight = Math.max(mostInFlight, bodiesInFlight);
        try {
          const answer = await fetch(input, init);
          if (isPart && answer.ok) stored += size;
          return answer;
        } finally {
          bodiesInFlight -= size;
        }
      };
      const store = storeOn(server, `outside-${concurrency}`, { partSize, concurrency, fetch: countingFetch });
      await store.save("forty", counted(data, 256 * 1024, taken));
      assert.ok(Buffer.from(data).equals(server.object(BUCKET, `outside-${concurrency}/forty`)!.body), "the object is the bytes saved");
      assert.equal(stored, data.length);
      // Taken from the source but not yet stored: the parts in flight, the one being filled, and the chunk being copied.
      assert.ok(mostAhead <= (concurrency + 1) * partSize + 256 * 1024, `${mostAhead} bytes ahead`);
      assert.ok(mostInFlight <= concurrency * partSize, `${mostInFlight} bytes of part bodies in flight`);
      // The upload began once the first part was full and one chunk past it seen, before a second part was filled.
      assert.equal(takenAtCreate, partSize + 256 * 1024);
    });
  }
});
