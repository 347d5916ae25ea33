/**
 * One S3 request, signed, sent, read whole and retried: the only place that sends requests. Every
 * body is a Uint8Array kept until the request succeeds, so any attempt can be sent again as it
 * was, and each attempt is signed afresh (a retry after a long wait needs a current date). An
 * answer's body is read in full inside the attempt, so a connection that breaks mid-body is a
 * network failure like a refused one and is retried the same way. So is an attempt whose answer
 * does not begin, or whose body stalls, within the timeout (see deadline.ts); the wait for the
 * answer to begin is extended by the time the request's own body may take to send over a slow
 * link, since a transport cannot always say how far an upload has got.
 *
 * Requests go through an `HttpTransport`: `fetchTransport` over any fetch (every runtime), or one
 * made for a runtime (src/node/http-transport.ts in Node, which sends a body without fetch's
 * copies of it). A transport sends one attempt and reads its answer whole; retries, signing and
 * deadlines stay here.
 *
 * The response says whether an earlier attempt may have reached the server and been applied
 * (`uncertain`): an attempt that got no answer, or a 5xx, may have been carried out before it
 * failed. A conditional write uses that to tell its own earlier success from another writer's
 * object.
 */
import { concatBytes } from "../../bytes.js";
import { IbtError } from "../../errors.js";
import { AttemptDeadline } from "./deadline.js";
import { errorCodeOf, httpError, networkError, type RequestLabel } from "./errors.js";
import { backoffDelay, isRetryableStatus, sleep, throwIfAborted, aborted, type RetryOptions } from "./retry.js";
import { EMPTY_SHA256, type SigV4Signer } from "./sigv4.js";
import type { S3Urls } from "./url.js";

export type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** One attempt of a request, as a transport is asked to send it. */
export interface HttpAttempt {
  method: string;
  url: URL;
  /** Every header to send, signed (the transport adds content-length and host only). */
  headers: Record<string, string>;
  body?: Uint8Array | undefined;
  /** Aborts the attempt: its deadline passed or the caller gave up. */
  signal: AbortSignal;
  /** Called as the answer arrives (its head, then each piece of its body). */
  progress(): void;
}

/** An answer read whole. */
export interface HttpAnswer {
  status: number;
  headers: { get(name: string): string | null };
  body: Uint8Array;
}

/**
 * Sends one attempt and reads its whole answer; rejects on any failure to do so (refused, dropped,
 * aborted), which the client retries. A HEAD's answer has an empty body.
 */
export type HttpTransport = (attempt: HttpAttempt) => Promise<HttpAnswer>;

export interface S3Request {
  method: "GET" | "HEAD" | "PUT" | "POST" | "DELETE";
  /** Full key in the bucket; "" addresses the bucket. */
  key: string;
  query?: [string, string][];
  /** Headers to send and sign (range, if-none-match, content-type, x-amz-meta-…). */
  headers?: Record<string, string>;
  body?: Uint8Array;
  label: RequestLabel;
  signal?: AbortSignal | undefined;
  /** Statuses besides 2xx that the caller handles itself (404 for DELETE, 412, 416). */
  accept?: readonly number[];
  /** A 200 answer may be an `<Error>` document (CompleteMultipartUpload does that). */
  errorIn200?: boolean;
}

export interface S3Response {
  status: number;
  headers: HttpAnswer["headers"];
  body: Uint8Array;
  /** An earlier attempt may have been carried out by the server before it failed. */
  uncertain: boolean;
}

export interface S3ClientOptions {
  urls: S3Urls;
  signer: SigV4Signer;
  transport: HttpTransport;
  retry: RetryOptions;
  now: () => number;
  /** Sign a body as `UNSIGNED-PAYLOAD` instead of by its SHA-256 (a request without one carries the empty body's hash). */
  unsignedPayload: boolean;
  /** Hex SHA-256 of a body to sign. */
  sha256: (body: Uint8Array) => Promise<string>;
  /** An attempt fails when its answer does not begin, or its body stalls, for this long. */
  timeoutMs: number;
}

/** Error codes that S3 may put in a 200 answer and that say "try again". */
const RETRYABLE_IN_200 = new Set(["InternalError", "SlowDown", "ServiceUnavailable", "RequestTimeout"]);

/** Uploads are allowed to be this slow before the wait for an answer gives up: a slower link is more likely a stall. */
const SLOWEST_UPLOAD_BYTES_PER_MS = 64;

/**
 * A browser's HTTP cache may rewrite a signed ranged GET from what it holds (another Range, an
 * added If-Range), which breaks the signature; requests bypass it. Runtimes whose Request has no
 * `cache` option (older workerd) refuse the field, so it is only set where it is accepted. Found
 * out on the first request, not when the module loads: in Node, touching `Request` loads its
 * fetch implementation, 40 ms of every CLI command's start.
 */
let noStore: RequestInit | undefined;
function noStoreInit(): RequestInit {
  if (noStore === undefined) {
    try {
      new Request("http://127.0.0.1/", { cache: "no-store" });
      noStore = { cache: "no-store" };
    } catch {
      noStore = {};
    }
  }
  return noStore;
}

export class S3Client {
  constructor(private readonly o: S3ClientOptions) {}

  async send(request: S3Request): Promise<S3Response> {
    const { retry } = this.o;
    const body = request.body;
    const payloadHash = !body || body.length === 0 ? EMPTY_SHA256 : this.o.unsignedPayload ? "UNSIGNED-PAYLOAD" : await this.o.sha256(body);
    const url = this.o.urls.url(request.key, request.query);
    let uncertain = false;
    for (let attempt = 1; ; attempt++) {
      throwIfAborted(request.signal);
      const last = attempt >= retry.attempts;
      const headers = await this.o.signer.sign({ method: request.method, url, headers: request.headers ?? {}, payloadHash }, new Date(this.o.now()));
      let response: HttpAnswer;
      const firstWaitMs = this.o.timeoutMs + Math.ceil((body?.length ?? 0) / SLOWEST_UPLOAD_BYTES_PER_MS);
      const deadline = new AttemptDeadline(firstWaitMs, this.o.timeoutMs, request.signal);
      try {
        response = await deadline.race(this.o.transport({ method: request.method, url, headers, body, signal: deadline.signal, progress: () => deadline.progress() }));
      } catch (e) {
        if (request.signal?.aborted) throw aborted(request.signal);
        if (e instanceof IbtError) throw e;
        const cause = deadline.expired ?? e;
        if (last) throw networkError(request.label, cause, attempt);
        uncertain = true;
        await sleep(backoffDelay(attempt - 1, retry), request.signal);
        continue;
      } finally {
        deadline.clear();
      }
      const bytes = response.body;
      const { status } = response;
      const ok = (status >= 200 && status < 300) || (request.accept?.includes(status) ?? false);
      let code = ok ? undefined : errorCodeOf(bytes);
      if (ok && status === 200 && request.errorIn200) {
        code = errorCodeOf(bytes);
        if (code === undefined) return { status, headers: response.headers, body: bytes, uncertain };
        if (last || !RETRYABLE_IN_200.has(code)) throw httpError(request.label, status, code, attempt);
        uncertain = true;
        await sleep(backoffDelay(attempt - 1, retry), request.signal);
        continue;
      }
      if (ok) return { status, headers: response.headers, body: bytes, uncertain };
      if (last || !isRetryableStatus(status, code)) throw httpError(request.label, status, code, attempt);
      if (status >= 500) uncertain = true;
      await sleep(backoffDelay(attempt - 1, retry), request.signal);
    }
  }
}

/** A transport over `fetchFn`: what every runtime has. */
export function fetchTransport(fetchFn: Fetch): HttpTransport {
  return async (attempt) => {
    const init: RequestInit = { method: attempt.method, headers: attempt.headers, signal: attempt.signal, ...noStoreInit() };
    if (attempt.body !== undefined) init.body = bodyInit(attempt.body);
    const response = await fetchFn(attempt.url, init);
    attempt.progress();
    const body = await readBody(response, attempt, attempt.method !== "HEAD");
    return { status: response.status, headers: response.headers, body };
  };
}

/**
 * What fetch is given for `body`. Fetch copies a body when the request is made, as the Fetch
 * standard says; a view that spans its whole buffer goes as that ArrayBuffer, which Node's fetch
 * takes with fewer copies than a Uint8Array, and the bytes sent are the same.
 */
function bodyInit(body: Uint8Array): BodyInit {
  const { buffer } = body;
  if (buffer instanceof ArrayBuffer && body.byteOffset === 0 && body.byteLength === buffer.byteLength) return buffer;
  return body as Uint8Array<ArrayBuffer>;
}

/** Declared lengths up to this are read into one array as they arrive; a larger claim is not trusted with an allocation. */
const MAX_DECLARED = 64 * 1024 * 1024;

/**
 * An answer's body gathered as its pieces arrive. A body of declared length is copied once, into
 * an array of that length (a HEAD declares the object's length and sends nothing, so it allocates
 * nothing); a body that turns out longer, or of no declared length, is kept in pieces and joined.
 */
export class BodyGatherer {
  private whole: Uint8Array | undefined;
  private filled = 0;
  private readonly pieces: Uint8Array[] = [];

  constructor(declaredLength: string | null | undefined, hasBody: boolean) {
    const declared = Number(declaredLength ?? NaN);
    if (hasBody && Number.isSafeInteger(declared) && declared > 0 && declared <= MAX_DECLARED) this.whole = new Uint8Array(declared);
  }

  add(piece: Uint8Array): void {
    if (this.whole && this.filled + piece.length <= this.whole.length) {
      this.whole.set(piece, this.filled);
      this.filled += piece.length;
      return;
    }
    if (this.whole) this.pieces.push(this.whole.subarray(0, this.filled));
    this.whole = undefined;
    this.pieces.push(piece);
  }

  body(): Uint8Array {
    return this.whole ? this.whole.subarray(0, this.filled) : concatBytes(this.pieces);
  }
}

/**
 * The whole body of `response`, each piece reported to `progress`. When the attempt's signal
 * fires the reader is cancelled, which closes the connection even under a fetch that does not
 * end a body on its signal.
 */
async function readBody(response: Response, attempt: Pick<HttpAttempt, "signal" | "progress">, hasBody: boolean): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const gathered = new BodyGatherer(response.headers.get("content-length"), hasBody);
  // Closes the connection where the body failed or stalled rather than leaving it half read.
  const cancel = () => void reader.cancel(attempt.signal.reason).catch(() => {});
  if (attempt.signal.aborted) cancel();
  else attempt.signal.addEventListener("abort", cancel, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      gathered.add(value);
      attempt.progress();
    }
  } catch (e) {
    cancel();
    throw e;
  } finally {
    attempt.signal.removeEventListener("abort", cancel);
  }
  // A cancelled reader ends as if the body were complete: the answer was cut short.
  if (attempt.signal.aborted) throw attempt.signal.reason;
  return gathered.body();
}
