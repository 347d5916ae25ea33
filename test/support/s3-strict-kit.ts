/**
 * What the tests of S3Store against the strict S3 test server share: the credentials the server
 * knows, a store factory with fast retries, deterministic bytes, a fetch that records what the
 * store sent and heard, and the check that an error's message gives away no secret.
 *
 * The secrets are long and distinctive so that a message quoting any of them is caught by a plain
 * substring search; a signature is caught by its shape (64 hex digits), whatever request it
 * signed.
 */
import assert from "node:assert/strict";
import { S3Store, type S3StoreOptions } from "../../src/store/index.js";
import { IbtError, type ErrorCode } from "../../src/errors.js";
import type { S3Credential, S3TestServer } from "./s3-server.js";

export const BUCKET = "strict";
export const KEY: S3Credential = { accessKeyId: "AKIDSTRICTSTORE", secretAccessKey: "strict-secret-key-that-must-not-leak" };
export const TEMPORARY: S3Credential = {
  accessKeyId: "ASIASTRICTSTORE",
  secretAccessKey: "temporary-secret-that-must-not-leak",
  sessionToken: "session-token-that-must-not-leak",
};
const SECRETS = [KEY.secretAccessKey, TEMPORARY.secretAccessKey, TEMPORARY.sessionToken!];

export const MiB = 1024 * 1024;

let makeTransport: (() => Pick<S3StoreOptions, "transport" | "sha256">) | undefined;

/**
 * From now on, stores made by storeOn and repoStoreOn take the transport (and hash) `make` gives
 * instead of the global fetch, unless a test gives its own fetch or transport: a suite run again
 * over another transport sets this before it imports the suite.
 */
export function sendThrough(make: () => Pick<S3StoreOptions, "transport" | "sha256">): void {
  makeTransport = make;
}

/** The options that sendThrough asked for, where `more` does not choose a fetch or transport itself. */
export function transportFor(more: Partial<S3StoreOptions>): Partial<S3StoreOptions> {
  return makeTransport && !more.fetch && !more.transport ? makeTransport() : {};
}

/** A store on `server`'s bucket under `prefix`, retrying five times with millisecond waits. */
export function storeOn(server: S3TestServer, prefix: string, more: Partial<S3StoreOptions> = {}): S3Store {
  return new S3Store({
    endpoint: server.endpoint,
    bucket: BUCKET,
    prefix,
    region: server.region,
    credentials: KEY,
    retry: { attempts: 5, baseDelayMs: 1, maxDelayMs: 4 },
    ...transportFor(more),
    ...more,
  });
}

/** `n` pseudo-random bytes, the same for the same seed. */
export function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) out[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  return out;
}

export async function* chunked(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < data.length; at += size) yield data.slice(at, at + size);
}

export interface SentRequest {
  method: string;
  /** Path and query as sent. */
  path: string;
  bodyLength: number;
  /** The answer's status; 0 when fetch rejected. */
  status: number;
}

/** Wraps `inner` to record each request's method, path, body size and answer status. */
export function recordingFetch(inner: typeof fetch, sent: SentRequest[], onAnswer?: (request: SentRequest) => void): typeof fetch {
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const entry: SentRequest = { method: init?.method ?? "GET", path: url.pathname + url.search, bodyLength: bodyLength(init?.body), status: 0 };
    sent.push(entry);
    const response = await inner(input, init);
    entry.status = response.status;
    onAnswer?.(entry);
    return response;
  };
}

/** The size of a request body as S3Store hands it to fetch: a Uint8Array or an ArrayBuffer. */
export function bodyLength(body: BodyInit | null | undefined): number {
  if (body == null) return 0;
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return body.byteLength;
  throw new Error(`an unexpected kind of request body: ${Object.prototype.toString.call(body)}`);
}

/** Asserts that `action` fails with an IbtError of `code` whose message matches every pattern and holds no secret. */
export async function rejectsWith(action: Promise<unknown>, code: ErrorCode, ...patterns: RegExp[]): Promise<IbtError> {
  let caught: unknown;
  await assert.rejects(action, (e: unknown) => ((caught = e), true));
  assert.ok(caught instanceof IbtError, `not an IbtError: ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  for (const pattern of patterns) assert.match(caught.message, pattern);
  assertNoSecrets(caught);
  return caught;
}

/** Neither the message nor the JSON form of `error` holds a secret, a session token or a signature. */
export function assertNoSecrets(error: IbtError): void {
  for (const text of [error.message, JSON.stringify(error)]) {
    for (const secret of SECRETS) assert.ok(!text.includes(secret), `a secret in: ${text}`);
    assert.doesNotMatch(text, /[0-9a-f]{64}/i, "a signature-shaped string in the message");
  }
}
