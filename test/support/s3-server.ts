/**
 * A strict S3-compatible server for tests, on node:http at 127.0.0.1, holding everything in
 * memory. The project's S3 client is tested against it because no real S3 is reachable from the
 * tests; so it behaves as AWS S3 does where a client could tell the difference, and refuses what
 * S3 would refuse.
 *
 * A request goes through fixed stages: read the whole body; find the bucket and key (path-style
 * `/bucket/key`, or virtual-hosted `Host: bucket.anything` when the host is a name other than
 * `localhost`); decide the operation; check the Signature V4 with AWS's own signer
 * (./s3-auth.ts); let a matching injected fault (./s3-faults.ts) take over; run the operation
 * (./s3-objects.ts, ./s3-multipart.ts); send the answer. A request whose body does not arrive in
 * full never reaches an operation, so a dropped upload leaves nothing behind.
 *
 * Tests get the server's state directly (`objects`, `object`, `uploads`, `putObject`), can add
 * faults (`faults.push(...)`), move its clock (`clockOffsetMs`), and read `log`: one entry per
 * request with its operation, bucket, key, range and final status.
 *
 * With `cors` rules (./s3-cors.ts) it also serves browsers: OPTIONS preflights are answered from
 * the rules without a signature, as S3 answers them, and answers to allowed origins carry the
 * Access-Control-* headers. Without `cors` an OPTIONS request is refused as before.
 */
import { once } from "node:events";
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import { isIP } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { type S3Credential, verifySignature } from "./s3-auth.js";
import { type CorsRule, corsHeaders, preflight } from "./s3-cors.js";
import { type Fault, FaultList } from "./s3-faults.js";
import { Bucket, type S3Request, type S3Response, type S3State, type StoredObject, compareKeys, responseOf, singlePartEtag } from "./s3-model.js";
import { type S3Operation, handlers, operationOf } from "./s3-routes.js";
import { S3Error, errorDocument } from "./s3-xml.js";

export type { S3Credential } from "./s3-auth.js";
export type { CorsRule } from "./s3-cors.js";
export type { Fault, FaultKind, FaultTarget } from "./s3-faults.js";
export type { S3Operation } from "./s3-routes.js";
export type { StoredObject } from "./s3-model.js";

export interface S3ServerOptions {
  credentials: readonly S3Credential[];
  /** Default "us-east-1". */
  region?: string;
  /** Most entries one listing page holds, whatever max-keys asks; default 3 so paging is always exercised. */
  listPageSize?: number;
  /** Smallest size of a multipart part other than the last; default 5 MiB, as S3. */
  minPartSize?: number;
  /** Buckets that exist from the start. */
  buckets?: readonly string[];
  /** The buckets' CORS configuration (S3's rule shape); none by default, so no browser may call. */
  cors?: readonly CorsRule[];
}

export interface S3LogEntry {
  /** "Unknown" also for a CORS preflight (method OPTIONS), which is no S3 operation. */
  op: S3Operation | "Unknown";
  method: string;
  bucket: string | undefined;
  key: string | undefined;
  range: string | undefined;
  /** HTTP status sent; 0 when the connection was closed without an answer. */
  status: number;
  /** S3 error code when the answer was an error. */
  error?: string;
  fault?: Fault["kind"];
}

export interface InProgressUpload {
  key: string;
  uploadId: string;
  initiated: Date;
  parts: { partNumber: number; size: number; etag: string }[];
}

export interface S3TestServer {
  /** `http://127.0.0.1:PORT` */
  endpoint: string;
  port: number;
  region: string;
  readonly log: S3LogEntry[];
  /** Add faults with `faults.push(...)`; see ./s3-faults.ts for the kinds. */
  readonly faults: Fault[];
  /** Added to the server's clock, to test RequestTimeTooSkewed. */
  clockOffsetMs: number;
  /** Log entries of one operation, e.g. `requests("GetObject").map(e => e.range)`. */
  requests(op: S3Operation): S3LogEntry[];
  createBucket(name: string): void;
  /** A bucket's objects in key order. */
  objects(bucket: string): StoredObject[];
  object(bucket: string, key: string): StoredObject | undefined;
  /** Stores an object as a PutObject would, without a request. */
  putObject(bucket: string, key: string, body: Uint8Array | string): StoredObject;
  uploads(bucket: string): InProgressUpload[];
  close(): Promise<void>;
}

const DEFAULTS = {
  region: "us-east-1",
  listPageSize: 3,
  minPartSize: 5 * 1024 * 1024,
};

/** Decodes `%XX` sequences only; in an S3 path or query a `+` is a plus sign, not a space. */
function decodeComponent(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new S3Error(400, "InvalidURI", "Couldn't parse the specified URI.");
  }
}

function parseQuery(search: string): [string, string][] {
  if (search === "") return [];
  return search.split("&").filter((part) => part !== "").map((part) => {
    const eq = part.indexOf("=");
    return eq < 0 ? [decodeComponent(part), ""] : [decodeComponent(part.slice(0, eq)), decodeComponent(part.slice(eq + 1))];
  });
}

/** Bucket and key from the Host header and path; virtual-hosted when the host is a name. */
function addressOf(host: string, decodedPath: string): { bucket: string | undefined; key: string | undefined } {
  const hostname = host.replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1");
  const virtualHosted = isIP(hostname) === 0 && hostname !== "localhost" && hostname.includes(".");
  const path = decodedPath.slice(1);
  if (virtualHosted) {
    return { bucket: hostname.slice(0, hostname.indexOf(".")), key: path === "" ? undefined : path };
  }
  const slash = path.indexOf("/");
  if (path === "") return { bucket: undefined, key: undefined };
  if (slash < 0 || slash === path.length - 1) return { bucket: path.slice(0, slash < 0 ? undefined : slash), key: undefined };
  return { bucket: path.slice(0, slash), key: path.slice(slash + 1) };
}

async function readBody(req: IncomingMessage): Promise<Uint8Array | undefined> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of req) chunks.push(chunk as Buffer);
  } catch {
    return undefined;
  }
  return req.complete ? Buffer.concat(chunks) : undefined;
}

function headersOf(req: IncomingMessage): Record<string, string[]> {
  const headers: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(req.headersDistinct)) if (values) headers[name] = values;
  return headers;
}

export async function startS3Server(options: S3ServerOptions): Promise<S3TestServer> {
  const region = options.region ?? DEFAULTS.region;
  const buckets = new Map<string, Bucket>();
  const faults: Fault[] = [];
  const faultList = new FaultList(faults);
  const log: S3LogEntry[] = [];
  let requestCount = 0;
  const state: S3State = {
    buckets,
    region,
    listPageSize: options.listPageSize ?? DEFAULTS.listPageSize,
    minPartSize: options.minPartSize ?? DEFAULTS.minPartSize,
    now: () => new Date(Date.now() + server.clockOffsetMs),
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = (++requestCount).toString(16).toUpperCase().padStart(16, "0");
    const method = req.method ?? "GET";
    const entry: S3LogEntry = { op: "Unknown", method, bucket: undefined, key: undefined, range: req.headers.range, status: 0 };
    log.push(entry);
    const body = await readBody(req);
    // A request whose body was cut short is abandoned, as S3 abandons it: nothing is stored.
    if (body === undefined) return;

    let response: S3Response;
    let fault: Fault | undefined;
    const origin = req.headers.origin;
    if (method === "OPTIONS" && options.cors !== undefined) {
      try {
        response = responseOf(200, preflight(options.cors, req.headers as Record<string, string | undefined>), new Uint8Array(0));
      } catch (error) {
        if (!(error instanceof S3Error)) throw error;
        entry.error = error.code;
        response = errorResponse(error, requestId);
      }
      response.headers["x-amz-request-id"] = requestId;
      entry.status = response.status;
      await send(method, res, response, undefined);
      return;
    }
    try {
      const target = req.url ?? "/";
      const queryAt = target.indexOf("?");
      const rawPath = queryAt < 0 ? target : target.slice(0, queryAt);
      const queryList = parseQuery(queryAt < 0 ? "" : target.slice(queryAt + 1));
      const decodedPath = rawPath.split("/").map(decodeComponent).join("/");
      const host = req.headers.host ?? "";
      const { bucket, key } = addressOf(host, decodedPath);
      entry.bucket = bucket;
      entry.key = key;
      const headers = headersOf(req);
      const query = new Map(queryList);
      entry.op = operationOf(method, bucket, key, query, headers);
      // An aws-chunked body comes back from the check decoded.
      const received = { method, decodedPath, query: queryList, headers, body };
      await verifySignature(received, options.credentials, region, state.now());
      const request: S3Request = { method, bucket, key, query, headers, body: received.body, host };

      fault = faultList.take({ op: entry.op, bucket, key, range: entry.range });
      if (fault) entry.fault = fault.kind;
      if (fault?.kind === "drop") {
        req.socket.destroy();
        return;
      }
      const refusal = fault && refusalOf(fault, entry.op, requestId);
      response = refusal ?? handlers[entry.op](state, request);
      if (refusal === undefined && fault?.kind === "drop-after-apply") {
        req.socket.destroy();
        return;
      }
    } catch (error) {
      if (!(error instanceof S3Error)) throw error;
      entry.error = error.code;
      response = errorResponse(error, requestId);
    }
    response.headers["x-amz-request-id"] = requestId;
    response.headers["x-amz-id-2"] = `s3-test-server/${requestId}`;
    Object.assign(response.headers, corsHeaders(options.cors, origin, method));
    entry.status = response.status;
    await send(method, res, response, fault);
  }

  /** The answer a fault gives instead of running the operation, if it is that kind of fault. */
  function refusalOf(fault: Fault, op: S3Operation, requestId: string): S3Response | undefined {
    switch (fault.kind) {
      case "500":
        return errorResponse(new S3Error(500, "InternalError", "We encountered an internal error. Please try again."), requestId);
      case "503-slowdown":
        return errorResponse(new S3Error(503, "SlowDown", "Please reduce your request rate."), requestId);
      case "429":
        return errorResponse(new S3Error(429, "TooManyRequests", "Please reduce your request rate."), requestId);
      case "complete-fail":
        if (op !== "CompleteMultipartUpload") return undefined;
        return responseOf(
          200,
          { "content-type": "application/xml" },
          errorDocument("InternalError", "We encountered an internal error. Please try again.", {}, requestId),
        );
      default:
        return undefined;
    }
  }

  const httpServer = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // A bug in the server, not an S3 answer: make it loud in the test that hit it.
      const entry = log.at(-1);
      if (entry) entry.status = 500;
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(`s3 test server bug: ${error instanceof Error ? error.stack : String(error)}`);
    });
  });
  httpServer.listen(0, "127.0.0.1");
  await once(httpServer, "listening");
  const address = httpServer.address();
  if (address === null || typeof address === "string") throw new Error("the S3 test server has no port");

  const bucketNamed = (name: string): Bucket => {
    const bucket = buckets.get(name);
    if (!bucket) throw new Error(`no bucket ${name}`);
    return bucket;
  };

  const server: S3TestServer = {
    endpoint: `http://127.0.0.1:${address.port}`,
    port: address.port,
    region,
    log,
    faults,
    clockOffsetMs: 0,
    requests: (op) => log.filter((entry) => entry.op === op),
    createBucket(name) {
      if (!buckets.has(name)) buckets.set(name, new Bucket(name, state.now()));
    },
    objects: (bucket) => [...bucketNamed(bucket).objects.values()].sort((a, b) => compareKeys(a.key, b.key)),
    object: (bucket, key) => bucketNamed(bucket).objects.get(key),
    putObject(bucket, key, body) {
      const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
      const object: StoredObject = {
        key,
        body: bytes,
        etag: singlePartEtag(bytes),
        lastModified: state.now(),
        contentType: "binary/octet-stream",
        metadata: {},
      };
      bucketNamed(bucket).objects.set(key, object);
      return object;
    },
    uploads: (bucket) =>
      [...bucketNamed(bucket).uploads.values()].map((u) => ({
        key: u.key,
        uploadId: u.uploadId,
        initiated: u.initiated,
        parts: [...u.parts.values()]
          .sort((a, b) => a.partNumber - b.partNumber)
          .map((p) => ({ partNumber: p.partNumber, size: p.body.length, etag: p.etag })),
      })),
    async close() {
      httpServer.closeAllConnections();
      await new Promise<void>((resolve, reject) => httpServer.close((error) => (error ? reject(error) : resolve())));
    },
  };
  for (const name of options.buckets ?? []) server.createBucket(name);
  return server;
}

function errorResponse(error: S3Error, requestId: string): S3Response {
  return responseOf(
    error.status,
    { "content-type": "application/xml", ...error.headers },
    errorDocument(error.code, error.message, error.fields, requestId),
  );
}

/** Writes an answer, or as much of it as a delivery fault allows. HEAD and 304 answers carry no body. */
async function send(method: string, res: ServerResponse, response: S3Response, fault: Fault | undefined): Promise<void> {
  const bodyless = method === "HEAD" || response.status === 204 || response.status === 304;
  // A HEAD answer declares the object's length; a failed HEAD, like S3's, declares none.
  const declared = response.status === 204 || response.status === 304 || (method === "HEAD" && response.status >= 300) ? 0 : response.body.length;
  res.writeHead(response.status, response.status === 204 ? response.headers : { ...response.headers, "content-length": String(declared) });
  if (bodyless) {
    res.end();
    return;
  }
  const body = response.body;
  if (fault?.kind === "reset-mid-body") {
    const cut = Math.min(fault.bytesBeforeReset ?? Math.floor(body.length / 2), body.length - 1);
    res.flushHeaders();
    if (cut > 0) await new Promise<void>((resolve) => res.write(body.subarray(0, cut), () => resolve()));
    res.socket?.resetAndDestroy();
    return;
  }
  if (fault?.kind === "slow-body") {
    const piece = fault.pieceBytes ?? 16;
    for (let at = 0; at < body.length; at += piece) {
      if (res.destroyed) return;
      res.write(body.subarray(at, at + piece));
      await sleep(fault.pauseMs ?? 5);
    }
    res.end();
    return;
  }
  res.end(body);
}
