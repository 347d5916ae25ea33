/**
 * One S3 request, signed, sent, read whole and retried: the only place that calls `fetch`. Every
 * body is a Uint8Array kept until the request succeeds, so any attempt can be sent again as it
 * was, and each attempt is signed afresh (a retry after a long wait needs a current date). An
 * answer's body is read in full inside the attempt, so a connection that breaks mid-body is a
 * network failure like a refused one and is retried the same way.
 *
 * The response says whether an earlier attempt may have reached the server and been applied
 * (`uncertain`): an attempt that got no answer, or a 5xx, may have been carried out before it
 * failed. A conditional write uses that to tell its own earlier success from another writer's
 * object.
 */
import { IbtError } from "../../errors.js";
import { errorCodeOf, httpError, networkError, type RequestLabel } from "./errors.js";
import { backoffDelay, isRetryableStatus, sleep, throwIfAborted, aborted, type RetryOptions } from "./retry.js";
import { EMPTY_SHA256, sha256Hex, type SigV4Signer } from "./sigv4.js";
import type { S3Urls } from "./url.js";

export type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

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
  headers: Headers;
  body: Uint8Array;
  /** An earlier attempt may have been carried out by the server before it failed. */
  uncertain: boolean;
}

export interface S3ClientOptions {
  urls: S3Urls;
  signer: SigV4Signer;
  fetch: Fetch;
  retry: RetryOptions;
  now: () => number;
  /** Send `UNSIGNED-PAYLOAD` instead of the body's SHA-256. */
  unsignedPayload: boolean;
}

/** Error codes that S3 may put in a 200 answer and that say "try again". */
const RETRYABLE_IN_200 = new Set(["InternalError", "SlowDown", "ServiceUnavailable", "RequestTimeout"]);

export class S3Client {
  constructor(private readonly o: S3ClientOptions) {}

  async send(request: S3Request): Promise<S3Response> {
    const { retry } = this.o;
    const body = request.body;
    const payloadHash = this.o.unsignedPayload ? "UNSIGNED-PAYLOAD" : body && body.length > 0 ? await sha256Hex(body) : EMPTY_SHA256;
    const url = this.o.urls.url(request.key, request.query);
    let uncertain = false;
    for (let attempt = 1; ; attempt++) {
      throwIfAborted(request.signal);
      const last = attempt >= retry.attempts;
      const headers = await this.o.signer.sign({ method: request.method, url, headers: request.headers ?? {}, payloadHash }, new Date(this.o.now()));
      let response: Response;
      let bytes: Uint8Array;
      try {
        const init: RequestInit = { method: request.method, headers };
        if (body !== undefined) init.body = body as Uint8Array<ArrayBuffer>;
        if (request.signal) init.signal = request.signal;
        response = await this.o.fetch(url, init);
        bytes = new Uint8Array(await response.arrayBuffer());
      } catch (e) {
        if (request.signal?.aborted) throw aborted(request.signal);
        if (e instanceof IbtError) throw e;
        if (last) throw networkError(request.label, e, attempt);
        uncertain = true;
        await sleep(backoffDelay(attempt - 1, retry), request.signal);
        continue;
      }
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
