/**
 * A Store in an S3-compatible bucket, over `fetch` and WebCrypto only, so the same class runs in
 * Node, Deno, browsers and workerd. Objects live under `prefix/` in the bucket and the Store's
 * names are relative to it.
 *
 * How the contract maps onto S3. save: one PUT for data that fits one part; a longer stream
 * becomes a multipart upload (see multipart.ts), invisible until completed. ifAbsent:
 * `If-None-Match: *`, 412 → EXISTS. load: a GET, with a Range header for a range. loadStream: a
 * HEAD for the size and ETag, then ranged GETs of `streamChunkSize` each, pinned to that ETag
 * with If-Match; each goes through the same retry path as every other request, so a connection
 * that drops mid-object costs one chunk again and never the whole object, and memory holds one
 * chunk, at the price of a request per chunk instead of one per object. stat: HEAD. list:
 * ListObjectsV2 page by page. remove: DELETE, where 404 is success. sweep: ListMultipartUploads
 * to its last page, then an abort of each upload started before the cutoff; listing first,
 * because an abort removes the upload a page's markers point at, and a server may then resume
 * past the other uploads of that key.
 *
 * Memory. A save of a stream holds at most (concurrency + 1) × partSize bytes of its data: the
 * parts in flight and the one being filled, in buffers lent by a pool of that many (parts.ts),
 * plus one chunk of the source while it is copied in. A part is held until its upload settles,
 * because a retry sends it again; the runtime's fetch copies a body while it sends it (the Fetch
 * standard says so), which adds up to `concurrency` more parts for the duration of those
 * requests. A save of a Uint8Array sends views of it and copies nothing. loadStream holds one
 * chunk of `streamChunkSize`.
 *
 * Region: S3 signs for a region, and an S3-compatible server (MinIO, Ceph, Garage, R2's S3 API)
 * mostly accepts "us-east-1", which is the default when none is given; AWS itself needs the
 * bucket's region.
 */
import { type ByteSource } from "../../bytes.js";
import { IbtError } from "../../errors.js";
import { checkObjectName, type LoadOptions, type SaveOptions, type Store, type StoredObject } from "../types.js";
import { fetchTransport, S3Client, type Fetch, type HttpTransport, type S3Response } from "./client.js";
import { describe } from "./errors.js";
import { abortUpload, parseDocument, uploadMultipart } from "./multipart.js";
import { PartBuffers, partsOf, partsOfArray, type Part } from "./parts.js";
import { DEFAULT_RETRY, throwIfAborted, type RetryOptions } from "./retry.js";
import { sha256Hex, SigV4Signer, type S3Credentials } from "./sigv4.js";
import { checkPrefix, formatS3Location, S3Urls } from "./url.js";
import { child, childrenNamed, childText } from "./xml.js";

const MiB = 1024 * 1024;

export interface S3StoreOptions {
  /** The service, e.g. "https://s3.eu-west-1.amazonaws.com" or "http://127.0.0.1:9000". */
  endpoint: string;
  bucket: string;
  /** Folder in the bucket that holds the store; default "" (the bucket's root). */
  prefix?: string;
  /** The region requests are signed for; default "us-east-1". */
  region?: string;
  credentials: S3Credentials;
  /** "path" (default: every S3-compatible server takes it) or "virtual" (bucket in the host name). */
  style?: "path" | "virtual";
  /** The fetch to use; default the global one. */
  fetch?: Fetch;
  /**
   * How requests are sent, instead of `fetch`: e.g. `nodeHttpTransport()` (ibt/node; or all of
   * `nodeS3Options()`), which in Node sends bodies without the copies fetch makes. Give `fetch` or
   * `transport`, not both.
   */
  transport?: HttpTransport;
  /**
   * Hex SHA-256 of a body to sign (bodies are signed over plain http, see `unsignedPayload`);
   * default WebCrypto's. Node's WebCrypto copies the body before it hashes it, several times the
   * hash's own cost; `nodeS3Options()` (ibt/node) brings node:crypto's.
   */
  sha256?: (body: Uint8Array) => Promise<string>;
  /** Bytes per part of a multipart upload, and the largest single PUT; default 16 MiB, at least 5 MiB. */
  partSize?: number;
  /** Parts in flight at once; default 2. A save of a stream holds at most (concurrency + 1) × partSize bytes. */
  concurrency?: number;
  /** Retries of failed requests; default 5 attempts, 200 ms base, 10 s ceiling. */
  retry?: Partial<RetryOptions>;
  /** The clock, in ms since the epoch, for signatures and sweep; default Date.now. */
  now?: () => number;
  /**
   * Sign a body as `UNSIGNED-PAYLOAD` instead of by its SHA-256. Default: over https, where TLS
   * already guards the body in transit (as restic's S3 library does); the repository's own hashes
   * check every object end to end, so the SHA-256 only spares S3 a corrupt upload that TLS would
   * catch, at the price of hashing every part. Over plain http the body is hashed and signed.
   */
  unsignedPayload?: boolean;
  /** Keys asked per ListObjectsV2 page; default 1000 (S3's maximum). */
  listPageSize?: number;
  /** Bytes per ranged GET of loadStream; default 8 MiB. */
  streamChunkSize?: number;
  /**
   * An attempt of a request fails, and is retried, when its answer does not begin or its body
   * stalls for this long (the wait for the answer grows with the size of what is sent); default 30 s.
   */
  requestTimeoutMs?: number;
  /** For tests only: the smallest partSize allowed, instead of S3's 5 MiB. */
  minPartSize?: number;
}

interface Settings {
  prefix: string;
  partSize: number;
  concurrency: number;
  listPageSize: number;
  streamChunkSize: number;
  now: () => number;
}

export class S3Store implements Store {
  readonly location: string;
  private readonly client: S3Client;
  private readonly s: Settings;

  constructor(options: S3StoreOptions) {
    const prefix = (options.prefix ?? "").replace(/^\/+|\/+$/g, "");
    checkPrefix(prefix);
    const { accessKeyId, secretAccessKey } = options.credentials ?? {};
    if (!accessKeyId || !secretAccessKey) throw new IbtError("BAD_ARGUMENT", "S3Store: credentials need an accessKeyId and a secretAccessKey", { caller: "S3Store" });
    const minPartSize = options.minPartSize ?? 5 * MiB;
    const partSize = options.partSize ?? 16 * MiB;
    positive("partSize", partSize, minPartSize);
    const concurrency = options.concurrency ?? 2;
    positive("concurrency", concurrency, 1);
    const retry = { ...DEFAULT_RETRY, ...options.retry };
    positive("retry.attempts", retry.attempts, 1);
    // Long enough for a busy server's first byte, short enough that a dead connection costs one retry, not a hang.
    const timeoutMs = options.requestTimeoutMs ?? 30_000;
    positive("requestTimeoutMs", timeoutMs, 1);
    const urls = new S3Urls(options.endpoint, options.bucket, options.style ?? "path");
    const now = options.now ?? Date.now;
    const endpoint = new URL(options.endpoint);
    this.s = {
      prefix,
      partSize,
      concurrency,
      listPageSize: options.listPageSize ?? 1000,
      streamChunkSize: options.streamChunkSize ?? 8 * MiB,
      now,
    };
    positive("listPageSize", this.s.listPageSize, 1);
    positive("streamChunkSize", this.s.streamChunkSize, 1);
    if (options.fetch && options.transport) throw new IbtError("BAD_ARGUMENT", "S3Store: give fetch or transport, not both", { caller: "S3Store" });
    const transport = options.transport ?? fetchTransport(options.fetch ?? ((input, init) => fetch(input, init)));
    this.client = new S3Client({
      urls,
      signer: new SigV4Signer(options.credentials, options.region ?? "us-east-1"),
      transport,
      retry,
      now,
      unsignedPayload: options.unsignedPayload ?? endpoint.protocol === "https:",
      sha256: options.sha256 ?? sha256Hex,
      timeoutMs,
    });
    this.location = formatS3Location({ endpoint: `${endpoint.protocol}//${endpoint.host}${endpoint.pathname.replace(/\/+$/, "")}`, bucket: options.bucket, prefix });
  }

  async save(name: string, data: Uint8Array | ByteSource, options: SaveOptions = {}): Promise<void> {
    checkObjectName(name, "save");
    throwIfAborted(options.signal);
    const { partSize, concurrency } = this.s;
    // Parts in flight plus the one being filled: the bound stated at the top of this file.
    const buffers = data instanceof Uint8Array ? undefined : new PartBuffers(partSize, concurrency + 1);
    const parts: AsyncIterator<Part> | Iterator<Part> = buffers
      ? partsOf(data as ByteSource, buffers)[Symbol.asyncIterator]()
      : partsOfArray(data as Uint8Array, partSize);
    try {
      const first = await parts.next();
      if (first.done || first.value.last) {
        await this.putWhole(name, first.done ? new Uint8Array(0) : first.value.bytes, options);
        return;
      }
      // The first part goes up while the second is filled.
      await uploadMultipart(chain(first.value.bytes, parts), {
        client: this.client,
        key: this.key(name),
        name,
        concurrency,
        ifAbsent: options.ifAbsent ?? false,
        signal: options.signal,
        ...(buffers ? { release: (part: Uint8Array) => buffers.give(part) } : {}),
      });
    } finally {
      // Closes the source where a failure left it unread; a no-op where it was read to its end.
      await parts.return?.();
    }
  }

  private async putWhole(name: string, body: Uint8Array, options: SaveOptions): Promise<void> {
    const headers: Record<string, string> = { "content-type": "application/octet-stream" };
    if (options.ifAbsent) headers["if-none-match"] = "*";
    const label = { method: "PUT", what: name };
    const answer = await this.client.send({ method: "PUT", key: this.key(name), headers, body, label, signal: options.signal, accept: [412] });
    if (answer.status !== 412) return;
    // An earlier attempt may have written the object before its answer was lost: then the
    // object there is what we sent, and the save succeeded.
    if (answer.uncertain) {
      const there = await this.load(name, { signal: options.signal }).catch((e: unknown) => {
        if (e instanceof IbtError && e.code === "NOT_FOUND") return undefined;
        throw e;
      });
      if (there && equalBytes(there, body)) return;
    }
    throw new IbtError("EXISTS", `${describe(label)}: HTTP 412: object ${name} exists`, { path: name, caller: "save" });
  }

  async load(name: string, options: LoadOptions = {}): Promise<Uint8Array> {
    checkObjectName(name, "load");
    const offset = options.offset ?? 0;
    const { length } = options;
    if (!Number.isSafeInteger(offset) || offset < 0 || (length !== undefined && (!Number.isSafeInteger(length) || length < 0))) {
      throw new IbtError("BAD_ARGUMENT", `load: bad range for ${name}`, { path: name, caller: "load" });
    }
    if (length === 0) {
      await this.stat(name, options.signal);
      return new Uint8Array(0);
    }
    return this.get(name, offset, length, undefined, options.signal);
  }

  /** One GET of `[offset, offset + length)` (to the end without a length). */
  private async get(name: string, offset: number, length: number | undefined, etag: string | undefined, signal: AbortSignal | undefined): Promise<Uint8Array> {
    const headers: Record<string, string> = {};
    if (offset > 0 || length !== undefined) headers["range"] = `bytes=${offset}-${length === undefined ? "" : offset + length - 1}`;
    if (etag) headers["if-match"] = etag;
    const label = { method: "GET", what: name };
    const answer = await this.client.send({ method: "GET", key: this.key(name), headers, label, signal, accept: etag ? [412, 416] : [416] });
    if (answer.status === 412) {
      throw new IbtError("IO", `${describe(label)}: HTTP 412: the object changed while it was read`, { path: name, caller: "loadStream" });
    }
    // A range that starts at or past the end: the contract's empty answer.
    if (answer.status === 416) return new Uint8Array(0);
    const end = length === undefined ? undefined : offset + length;
    // 200 is the whole object: the server ignored the range, or none was sent.
    if (answer.status === 200) return answer.body.subarray(Math.min(offset, answer.body.length), end);
    const range = /^bytes (\d+)-(\d+)\//.exec(answer.headers.get("content-range") ?? "");
    if (!range || Number(range[1]) !== offset || Number(range[2]) - offset + 1 !== answer.body.length) {
      throw new IbtError("IO", `${describe(label)}: HTTP ${answer.status} with a Content-Range that does not match the range asked for`, { path: name, caller: "load" });
    }
    // Servers may send more than asked for; never less than the object has.
    return length === undefined ? answer.body : answer.body.subarray(0, length);
  }

  async *loadStream(name: string, options: { signal?: AbortSignal } = {}): AsyncGenerator<Uint8Array> {
    checkObjectName(name, "loadStream");
    // HEAD first: the size says how many chunks, and the ETag pins every chunk to one version.
    const head = await this.client.send({ method: "HEAD", key: this.key(name), label: { method: "HEAD", what: name }, signal: options.signal });
    const size = contentLength(head, name);
    const etag = head.headers.get("etag") ?? undefined;
    const step = this.s.streamChunkSize;
    for (let at = 0; at < size; ) {
      const length = Math.min(step, size - at);
      const chunk = await this.get(name, at, at === 0 && length === size ? undefined : length, etag, options.signal);
      if (chunk.length !== length) {
        throw new IbtError("IO", `${describe({ method: "GET", what: name })}: ${chunk.length} bytes at ${at} where ${length} were expected; the object changed while it was read`, { path: name, caller: "loadStream" });
      }
      at += length;
      yield chunk;
    }
  }

  async stat(name: string, signal?: AbortSignal): Promise<StoredObject> {
    checkObjectName(name, "stat");
    const answer = await this.client.send({ method: "HEAD", key: this.key(name), label: { method: "HEAD", what: name }, signal });
    return { name, size: contentLength(answer, name) };
  }

  async *list(prefix: string, options: { signal?: AbortSignal } = {}): AsyncGenerator<StoredObject> {
    const root = this.s.prefix ? this.s.prefix + "/" : "";
    const what = root + prefix;
    let token: string | undefined;
    do {
      const query: [string, string][] = [["list-type", "2"], ["max-keys", String(this.s.listPageSize)], ["prefix", root + prefix]];
      if (token) query.push(["continuation-token", token]);
      const answer = await this.client.send({ method: "GET", key: "", query, label: { method: "ListObjectsV2", what }, signal: options.signal });
      const doc = parseDocument(answer.body, "ListBucketResult", "ListObjectsV2", what);
      for (const entry of childrenNamed(doc, "Contents")) {
        const key = childText(entry, "Key");
        const size = Number(childText(entry, "Size"));
        if (key === undefined || !key.startsWith(root) || !Number.isSafeInteger(size) || size < 0) {
          throw new IbtError("IO", `S3 ListObjectsV2 ${what}: an entry without a proper Key or Size`, { caller: "list" });
        }
        const name = key.slice(root.length);
        // Keys no Store could have written (folder markers, foreign files) are not objects of this store.
        if (isObjectName(name)) yield { name, size };
      }
      const truncated = childText(doc, "IsTruncated") === "true";
      token = truncated ? childText(doc, "NextContinuationToken") : undefined;
      if (truncated && !token) throw new IbtError("IO", `S3 ListObjectsV2 ${what}: a truncated page without a continuation token`, { caller: "list" });
    } while (token);
  }

  async remove(name: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    checkObjectName(name, "remove");
    await this.client.send({ method: "DELETE", key: this.key(name), label: { method: "DELETE", what: name }, signal: options.signal, accept: [404] });
  }

  async sweep(olderThanMs: number, options: { signal?: AbortSignal } = {}): Promise<number> {
    const cutoff = this.s.now() - olderThanMs;
    const root = this.s.prefix ? this.s.prefix + "/" : "";
    const what = `uploads under ${root || "/"}`;
    const stale: { key: string; id: string }[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      const query: [string, string][] = [["uploads", ""], ["prefix", root]];
      if (keyMarker !== undefined) query.push(["key-marker", keyMarker]);
      if (uploadIdMarker !== undefined) query.push(["upload-id-marker", uploadIdMarker]);
      const answer: S3Response = await this.client.send({ method: "GET", key: "", query, label: { method: "ListMultipartUploads", what }, signal: options.signal });
      const doc = parseDocument(answer.body, "ListMultipartUploadsResult", "ListMultipartUploads", what);
      for (const upload of childrenNamed(doc, "Upload")) {
        throwIfAborted(options.signal);
        const key = childText(upload, "Key");
        const id = childText(upload, "UploadId");
        const initiated = Date.parse(childText(upload, "Initiated") ?? "");
        if (key === undefined || !id || Number.isNaN(initiated)) {
          throw new IbtError("IO", `S3 ListMultipartUploads ${what}: an upload without a Key, UploadId or Initiated`, { caller: "sweep" });
        }
        if (key.startsWith(root) && initiated < cutoff) stale.push({ key, id });
      }
      if (childText(doc, "IsTruncated") !== "true") break;
      const nextKey = childText(doc, "NextKeyMarker");
      const nextId = childText(doc, "NextUploadIdMarker");
      if (!child(doc, "NextKeyMarker") || (nextKey === keyMarker && nextId === uploadIdMarker)) {
        throw new IbtError("IO", `S3 ListMultipartUploads ${what}: a truncated page that does not move on`, { caller: "sweep" });
      }
      keyMarker = nextKey;
      uploadIdMarker = nextId;
    }
    let removed = 0;
    for (const { key, id } of stale) {
      throwIfAborted(options.signal);
      if (await abortUpload(this.client, key, id, key.slice(root.length))) removed++;
    }
    return removed;
  }

  private key(name: string): string {
    return this.s.prefix ? `${this.s.prefix}/${name}` : name;
  }
}

async function* chain(head: Uint8Array, rest: AsyncIterator<Part> | Iterator<Part>): AsyncGenerator<Uint8Array> {
  try {
    yield head;
    for (;;) {
      const next = await rest.next();
      if (next.done) return;
      yield next.value.bytes;
    }
  } finally {
    await rest.return?.();
  }
}

function contentLength(answer: S3Response, name: string): number {
  const size = Number(answer.headers.get("content-length") ?? NaN);
  if (!Number.isSafeInteger(size) || size < 0) throw new IbtError("IO", `${describe({ method: "HEAD", what: name })}: no Content-Length in the answer`, { path: name });
  return size;
}

function isObjectName(name: string): boolean {
  try {
    checkObjectName(name, "list");
    return true;
  } catch {
    return false;
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function positive(what: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new IbtError("BAD_ARGUMENT", `S3Store: ${what} must be an integer of at least ${min}, not ${value}`, { caller: "S3Store" });
  }
}
