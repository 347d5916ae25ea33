// S3Store under the strict S3 test server's faults (test/support/s3-faults.ts): each fault kind on
// each kind of request the store makes, hitting twice (retried to success) and for good (the right
// IbtError, naming the request, the status and S3's code, and no secret; or success where the
// store can tell its own write); a lost answer to a conditional PUT or a CompleteMultipartUpload
// recognised as the store's own success; loadStream riding out slow and broken bodies chunk by
// chunk; and the per-attempt timeout against a body that stalls and a server that never answers.
// Parts are lowered to 1 KiB on both sides, so multipart cases stay small.
import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { CreateMultipartUploadCommand, S3Client } from "@aws-sdk/client-s3";
import { collect } from "../../src/bytes.js";
import type { S3Store } from "../../src/store/index.js";
import { type FaultKind, type S3Operation, type S3TestServer, startS3Server } from "../support/s3-server.js";
import { BUCKET, KEY, TEMPORARY, bytes, rejectsWith, storeOn } from "../support/s3-strict-kit.js";

let server: S3TestServer;
before(async () => {
  server = await startS3Server({ credentials: [KEY, TEMPORARY], buckets: [BUCKET], minPartSize: 1024 });
});
after(async () => {
  await server.close();
});
afterEach(() => {
  server.faults.length = 0;
});

/** A store with a session token (so a message could leak one) and 1 KiB parts. */
function faultyStore(prefix: string, more: Parameters<typeof storeOn>[2] = {}): S3Store {
  return storeOn(server, prefix, { credentials: TEMPORARY, partSize: 1024, minPartSize: 1024, streamChunkSize: 400, ...more });
}

async function leaveUpload(key: string): Promise<void> {
  const sdk = new S3Client({ endpoint: server.endpoint, region: server.region, forcePathStyle: true, credentials: KEY, maxAttempts: 1 });
  try {
    await sdk.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
  } finally {
    sdk.destroy();
  }
}

/** Less than one part. */
const small = bytes(1000, 21);
/** Three parts of 1 KiB. */
const big = bytes(2500, 22);

interface RequestKind {
  /** What the store does, for the test's name. */
  name: string;
  /** The server operation the fault hits. */
  op: S3Operation;
  /** How an error message names the request. */
  label: RegExp;
  /** The answer has an empty body or none (HEAD, 204, a PUT's 200), so body faults do nothing to it. */
  bodiless?: boolean;
  /** A lost answer after the write was applied is recognised: success even when it lasts. */
  recognisesOwnWrite?: boolean;
  prepare?(prefix: string): Promise<void>;
  /** Does it and checks the result. */
  run(store: S3Store, prefix: string): Promise<void>;
}

const KINDS: RequestKind[] = [
  {
    name: "save",
    op: "PutObject",
    label: /^S3 PUT obj: /,
    bodiless: true,
    run: async (store, prefix) => {
      await store.save("obj", small);
      assert.deepEqual(new Uint8Array(server.object(BUCKET, `${prefix}/obj`)!.body), small);
    },
  },
  {
    name: "conditional save",
    op: "PutObject",
    label: /^S3 PUT lock: /,
    bodiless: true,
    recognisesOwnWrite: true,
    run: async (store, prefix) => {
      await store.save("lock", small, { ifAbsent: true });
      assert.deepEqual(new Uint8Array(server.object(BUCKET, `${prefix}/lock`)!.body), small);
    },
  },
  ...(["CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"] as const).map(
    (op): RequestKind => ({
      name: `multipart save (${op})`,
      op,
      label: new RegExp(`^S3 ${op === "UploadPart" ? "UploadPart big part \\d" : op + " big"}: `),
      recognisesOwnWrite: op === "CompleteMultipartUpload",
      bodiless: op === "UploadPart",
      run: async (store, prefix) => {
        await store.save("big", big);
        assert.deepEqual(new Uint8Array(server.object(BUCKET, `${prefix}/big`)!.body), big);
        assert.match(server.object(BUCKET, `${prefix}/big`)!.etag, /-3"$/);
      },
    }),
  ),
  {
    name: "load",
    op: "GetObject",
    label: /^S3 GET obj: /,
    prepare: async (prefix) => void server.putObject(BUCKET, `${prefix}/obj`, Buffer.from(small)),
    run: async (store) => assert.deepEqual(await store.load("obj"), small),
  },
  {
    name: "ranged load",
    op: "GetObject",
    label: /^S3 GET obj: /,
    prepare: async (prefix) => void server.putObject(BUCKET, `${prefix}/obj`, Buffer.from(small)),
    run: async (store) => assert.deepEqual(await store.load("obj", { offset: 100, length: 700 }), small.slice(100, 800)),
  },
  {
    name: "loadStream",
    op: "GetObject",
    label: /^S3 GET obj: /,
    prepare: async (prefix) => void server.putObject(BUCKET, `${prefix}/obj`, Buffer.from(small)),
    run: async (store) => assert.deepEqual(await collect(store.loadStream("obj")), small),
  },
  {
    name: "stat",
    op: "HeadObject",
    label: /^S3 HEAD obj: /,
    bodiless: true,
    prepare: async (prefix) => void server.putObject(BUCKET, `${prefix}/obj`, Buffer.from(small)),
    run: async (store) => assert.deepEqual(await store.stat("obj"), { name: "obj", size: small.length }),
  },
  {
    name: "list",
    op: "ListObjectsV2",
    label: /^S3 ListObjectsV2 \S+\/: /,
    prepare: async (prefix) => {
      for (let i = 0; i < 5; i++) server.putObject(BUCKET, `${prefix}/o${i}`, "x");
    },
    run: async (store) => {
      const names: string[] = [];
      for await (const o of store.list("")) names.push(o.name);
      assert.deepEqual(names, ["o0", "o1", "o2", "o3", "o4"]);
    },
  },
  {
    name: "remove",
    op: "DeleteObject",
    label: /^S3 DELETE obj: /,
    bodiless: true,
    prepare: async (prefix) => void server.putObject(BUCKET, `${prefix}/obj`, "x"),
    run: async (store, prefix) => {
      await store.remove("obj");
      assert.equal(server.object(BUCKET, `${prefix}/obj`), undefined);
    },
  },
  {
    name: "sweep",
    op: "ListMultipartUploads",
    label: /^S3 ListMultipartUploads uploads under \S+\/: /,
    prepare: (prefix) => leaveUpload(`${prefix}/left`),
    run: async (store, prefix) => {
      assert.equal(await store.sweep(-60_000), 1);
      assert.deepEqual(uploadsUnder(prefix), []);
    },
  },
];

const FAULTS: FaultKind[] = ["500", "503-slowdown", "429", "drop", "drop-after-apply", "slow-body", "reset-mid-body", "complete-fail"];

function uploadsUnder(prefix: string) {
  return server.uploads(BUCKET).filter((u) => u.key.startsWith(prefix + "/"));
}

function applies(kind: RequestKind, fault: FaultKind): boolean {
  if (fault === "complete-fail") return kind.op === "CompleteMultipartUpload";
  if (fault === "slow-body" || fault === "reset-mid-body") return !kind.bodiless;
  return true;
}

/** What a fault that never stops makes of a request: an error message, or undefined for success. */
function lastingOutcome(kind: RequestKind, fault: FaultKind): RegExp | undefined {
  switch (fault) {
    case "500":
      return kind.bodiless && kind.op === "HeadObject" ? /HTTP 500 after 5 attempts$/ : /HTTP 500 InternalError after 5 attempts$/;
    case "503-slowdown":
      return kind.op === "HeadObject" ? /HTTP 503 after 5 attempts$/ : /HTTP 503 SlowDown after 5 attempts$/;
    case "429":
      return kind.op === "HeadObject" ? /HTTP 429 after 5 attempts$/ : /HTTP 429 TooManyRequests after 5 attempts$/;
    case "drop":
      return /no answer after 5 attempts$/;
    case "drop-after-apply":
      return kind.recognisesOwnWrite ? undefined : /no answer after 5 attempts$/;
    case "reset-mid-body":
      return /no answer after 5 attempts$/;
    case "slow-body":
      return undefined;
    case "complete-fail":
      return /HTTP 200 InternalError after 5 attempts$/;
  }
}

function faultOn(kind: RequestKind, fault: FaultKind, prefix: string, times: number) {
  return {
    kind: fault,
    times,
    pieceBytes: 256,
    pauseMs: 1,
    bytesBeforeReset: 100,
    when: (t: { op: S3Operation; key: string | undefined }) => t.op === kind.op && (t.key === undefined || t.key.startsWith(prefix + "/")),
  };
}

let case_ = 0;
for (const kind of KINDS) {
  describe(`S3Store on the strict server: faults on ${kind.name}`, () => {
    for (const fault of FAULTS.filter((f) => applies(kind, f))) {
      const outcome = lastingOutcome(kind, fault);
      it(`${fault}: twice is retried to success; for good, ${outcome ? "an IO error naming it" : "still success"}`, async () => {
        const prefix = `f${++case_}`;
        await kind.prepare?.(prefix);
        const from = server.log.length;
        server.faults.push(faultOn(kind, fault, prefix, 2));
        await kind.run(faultyStore(prefix), prefix);
        const ofOp = server.log.slice(from).filter((e) => e.op === kind.op);
        const hits = ofOp.filter((e) => e.fault === fault).length;
        if (fault === "slow-body") {
          // Slow, not broken: waited out where it hit, no attempt repeated.
          assert.ok(hits >= 1);
          assert.ok(ofOp.every((e) => e.status === 200 || e.status === 206));
        } else {
          assert.equal(hits, 2, "the fault hit twice");
        }

        const lasting = `f${++case_}`;
        await kind.prepare?.(lasting);
        server.faults.push(faultOn(kind, fault, lasting, Infinity));
        if (outcome) await rejectsWith(kind.run(faultyStore(lasting), lasting), "IO", kind.label, outcome);
        else await kind.run(faultyStore(lasting), lasting);
        server.faults.length = 0;
        // A lost answer to CreateMultipartUpload leaves an upload nobody knows of: the sweep's job.
        const orphans = kind.op === "CreateMultipartUpload" && (fault === "drop-after-apply" || fault === "reset-mid-body");
        if (orphans) {
          assert.equal(uploadsUnder(prefix).length, 2);
          assert.equal(await faultyStore(prefix).sweep(-60_000), 2);
          assert.equal(await faultyStore(lasting).sweep(-60_000), 5);
        }
        if (kind.op !== "ListMultipartUploads") {
          assert.deepEqual(uploadsUnder(prefix), [], "no upload left behind");
          assert.deepEqual(uploadsUnder(lasting), [], "a failed upload is aborted");
        }
      });
    }
  });
}

describe("S3Store on the strict server: faults on sweep's AbortMultipartUpload", () => {
  for (const fault of ["500", "503-slowdown", "429", "drop", "drop-after-apply"] as const) {
    it(`${fault}: twice is retried; for good, the upload stays for the next sweep`, async () => {
      const prefix = `abort-${fault}`;
      await leaveUpload(`${prefix}/left`);
      server.faults.push(faultOn({ op: "AbortMultipartUpload" } as RequestKind, fault, prefix, 2));
      assert.equal(await faultyStore(prefix).sweep(-60_000), 1);
      assert.deepEqual(uploadsUnder(prefix), []);

      await leaveUpload(`${prefix}/again`);
      server.faults.push(faultOn({ op: "AbortMultipartUpload" } as RequestKind, fault, prefix, Infinity));
      // Best effort: a failed abort is not an error, and is not counted. An abort whose answer
      // was lost hears NoSuchUpload on the retry, which is the upload gone: counted.
      const removed = await faultyStore(prefix).sweep(-60_000);
      const gone = fault === "drop-after-apply";
      assert.equal(removed, gone ? 1 : 0);
      assert.equal(uploadsUnder(prefix).length, gone ? 0 : 1);
    });
  }
});

describe("S3Store on the strict server: its own writes recognised after a lost answer", () => {
  it("a conditional PUT applied, its answer lost, then 412 on the retry: success, not EXISTS", async () => {
    const store = faultyStore("own-put");
    server.faults.push({ op: "PutObject", kind: "drop-after-apply" });
    await store.save("lock", small, { ifAbsent: true });
    assert.deepEqual(
      server.requests("PutObject").filter((e) => e.key === "own-put/lock").map((e) => [e.status, e.error]),
      [[0, undefined], [412, "PreconditionFailed"]],
    );
    assert.deepEqual(await store.load("lock"), small);
  });

  it("a conditional PUT meeting another writer's object after a lost attempt: EXISTS", async () => {
    const store = faultyStore("their-put");
    server.putObject(BUCKET, "their-put/lock", "someone else");
    server.faults.push({ op: "PutObject", kind: "drop" });
    await rejectsWith(store.save("lock", small, { ifAbsent: true }), "EXISTS", /S3 PUT lock: HTTP 412/);
    assert.equal(server.object(BUCKET, "their-put/lock")?.body.toString(), "someone else");
  });

  for (const ifAbsent of [false, true]) {
    it(`a CompleteMultipartUpload${ifAbsent ? " with If-None-Match" : ""} applied, its answer lost: success`, async () => {
      const prefix = `own-complete-${ifAbsent}`;
      const store = faultyStore(prefix);
      server.faults.push({ op: "CompleteMultipartUpload", kind: "drop-after-apply" });
      await store.save("big", big, { ifAbsent });
      const completes = server.requests("CompleteMultipartUpload").filter((e) => e.key === `${prefix}/big`);
      // The retry finds the upload gone (S3 checks the upload before the precondition).
      assert.deepEqual(completes.map((e) => [e.status, e.error]), [[0, undefined], [404, "NoSuchUpload"]]);
      assert.deepEqual(await store.load("big"), big);
    });
  }

  it("a multipart save with If-None-Match over another writer's object after a lost Complete: EXISTS", async () => {
    const store = faultyStore("their-complete");
    server.putObject(BUCKET, "their-complete/big", "someone else");
    server.faults.push({ op: "CompleteMultipartUpload", kind: "drop" });
    await rejectsWith(store.save("big", big, { ifAbsent: true }), "EXISTS", /CompleteMultipartUpload big: HTTP 412/);
    assert.equal(server.object(BUCKET, "their-complete/big")?.body.toString(), "someone else");
    assert.deepEqual(uploadsUnder("their-complete"), []);
  });
});

describe("S3Store on the strict server: loadStream through slow and broken bodies", () => {
  it("fetches again only the chunk whose body broke, and waits out a slow one", async () => {
    const store = faultyStore("stream", { streamChunkSize: 1000 });
    server.putObject(BUCKET, "stream/obj", Buffer.from(big));
    server.faults.push({ op: "GetObject", when: (t) => t.range === "bytes=1000-1999", kind: "reset-mid-body", bytesBeforeReset: 300 });
    server.faults.push({ op: "GetObject", when: (t) => t.range === "bytes=0-999", kind: "slow-body", pieceBytes: 100, pauseMs: 2 });
    const from = server.log.length;
    assert.deepEqual(await collect(store.loadStream("obj")), big);
    assert.deepEqual(
      server.log.slice(from).map((e) => [e.op, e.range ?? "", e.fault ?? ""]),
      [
        ["HeadObject", "", ""],
        ["GetObject", "bytes=0-999", "slow-body"],
        ["GetObject", "bytes=1000-1999", "reset-mid-body"],
        ["GetObject", "bytes=1000-1999", ""],
        ["GetObject", "bytes=2000-2499", ""],
      ],
    );
  });
});

describe("S3Store on the strict server: the per-attempt timeout", () => {
  it("gives up on a body that stalls longer than the timeout, and retries it to success", async () => {
    const store = faultyStore("stall", { requestTimeoutMs: 200 });
    server.putObject(BUCKET, "stall/obj", Buffer.from(small));
    server.faults.push({ op: "GetObject", key: "stall/obj", kind: "slow-body", pieceBytes: 500, pauseMs: 2000 });
    assert.deepEqual(await store.load("obj"), small);
    assert.deepEqual(server.requests("GetObject").filter((e) => e.key === "stall/obj").map((e) => e.fault), ["slow-body", undefined]);
  });

  it("lets a body that keeps flowing take longer than the timeout in all", async () => {
    const store = faultyStore("flowing", { requestTimeoutMs: 300 });
    server.putObject(BUCKET, "flowing/obj", Buffer.from(small));
    // 63 pieces, 10 ms apart: longer than 300 ms in all, never silent for long.
    server.faults.push({ op: "GetObject", key: "flowing/obj", kind: "slow-body", pieceBytes: 16, pauseMs: 10 });
    assert.deepEqual(await store.load("obj"), small);
    assert.equal(server.requests("GetObject").filter((e) => e.key === "flowing/obj").length, 1, "no retry");
  });

  describe("against a server that accepts and never answers", () => {
    let silent: Server;
    let endpoint: string;
    let received = 0;
    before(async () => {
      silent = createServer(() => void received++);
      silent.listen(0, "127.0.0.1");
      await once(silent, "listening");
      const address = silent.address();
      if (address === null || typeof address === "string") throw new Error("no port");
      endpoint = `http://127.0.0.1:${address.port}`;
    });
    after(async () => {
      silent.closeAllConnections();
      silent.close();
      await once(silent, "close");
    });

    it("fails each attempt after the timeout and surfaces IO naming the request", async () => {
      received = 0;
      const store = storeOn(server, "silent", { endpoint, requestTimeoutMs: 100, retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 1 } });
      await rejectsWith(store.load("obj"), "IO", /^S3 GET obj: TimeoutError: no answer within 100 ms, no answer after 3 attempts$/);
      assert.equal(received, 3);
      // A save's wait grows with its body, but still ends.
      await rejectsWith(store.save("obj", small), "IO", /^S3 PUT obj: TimeoutError: no answer within \d+ ms, no answer after 3 attempts$/);
      assert.equal(received, 6);
    });

    it("still ends with ABORTED when the caller's signal fires first", async () => {
      const store = storeOn(server, "silent", { endpoint, requestTimeoutMs: 60_000 });
      const controller = new AbortController();
      const loading = store.load("obj", { signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      await rejectsWith(loading, "ABORTED");
    });

    it("refuses a timeout that is not a positive integer", () => {
      for (const requestTimeoutMs of [0, -1, 1.5, Number.NaN]) {
        assert.throws(() => storeOn(server, "silent", { endpoint, requestTimeoutMs }), { code: "BAD_ARGUMENT" });
      }
    });
  });
});
