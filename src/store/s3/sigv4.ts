/**
 * AWS Signature Version 4 for S3, with WebCrypto only, so one signer runs in Node, Deno, browsers
 * and workerd. A request is signed in four steps: the canonical request (method, the path as it
 * is sent, the sorted query, the signed headers lower-cased and sorted, the payload's hash), the
 * string to sign (algorithm, time, scope, the canonical request's hash), the signing key derived
 * from the secret through date, region, service and "aws4_request", and the HMAC of the string
 * with that key.
 *
 * Invariants: the path handed in is already encoded the way S3 wants it (`encodeKeyPath`), and
 * S3 paths are not encoded a second time for the canonical request, unlike other services; every
 * header handed in is signed, so the caller sends exactly those (plus what fetch adds itself,
 * such as content-length, which S3 does not require to be signed). The derived key depends only
 * on the day, so it is kept per date/region/service and an HMAC chain of four runs once a day.
 */
import { toHex } from "../../bytes.js";

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** A temporary credential's session token; sent and signed as x-amz-security-token. */
  sessionToken?: string;
}

export interface RequestToSign {
  method: string;
  /** The URL as it will be fetched; its pathname MUST already be S3-encoded. */
  url: URL;
  /** Headers to send and sign, besides host, x-amz-date, x-amz-content-sha256 and the token. */
  headers: Record<string, string>;
  /** Hex SHA-256 of the body, or "UNSIGNED-PAYLOAD". */
  payloadHash: string;
}

const encoder = new TextEncoder();

/** Lower-case hex SHA-256 of `data`. */
export async function sha256Hex(data: Uint8Array | string): Promise<string> {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>)));
}

/** SHA-256 of the empty body, which every GET, HEAD and DELETE carries. */
export const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/**
 * Percent-encodes `s` the way SigV4 wants: every byte of its UTF-8 except the unreserved
 * `A-Z a-z 0-9 - . _ ~`, with upper-case hex; `/` too unless `keepSlash`.
 */
export function uriEncode(s: string, keepSlash = false): string {
  let out = "";
  for (const byte of encoder.encode(s)) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-._~]/.test(c) || (keepSlash && c === "/")) out += c;
    else out += "%" + byte.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

export class SigV4Signer {
  private keyScope = "";
  private key: Promise<CryptoKey> | undefined;

  constructor(
    private readonly credentials: S3Credentials,
    private readonly region: string,
    private readonly service = "s3",
  ) {}

  /**
   * The headers to send for `request` at time `at`: the caller's, plus host is left to fetch,
   * x-amz-date, x-amz-content-sha256, x-amz-security-token where there is one, and authorization.
   */
  async sign(request: RequestToSign, at: Date): Promise<Record<string, string>> {
    const amzDate = at.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
    const day = amzDate.slice(0, 8);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(request.headers)) headers[k.toLowerCase()] = v;
    headers["x-amz-date"] = amzDate;
    headers["x-amz-content-sha256"] = request.payloadHash;
    if (this.credentials.sessionToken) headers["x-amz-security-token"] = this.credentials.sessionToken;

    const toSign: Record<string, string> = { ...headers, host: request.url.host };
    const names = Object.keys(toSign).sort();
    const canonicalHeaders = names.map((n) => `${n}:${toSign[n]!.trim().replace(/\s+/g, " ")}\n`).join("");
    const signedHeaders = names.join(";");
    const canonicalRequest = [
      request.method,
      request.url.pathname || "/",
      canonicalQuery(request.url),
      canonicalHeaders,
      signedHeaders,
      request.payloadHash,
    ].join("\n");

    const scope = `${day}/${this.region}/${this.service}/aws4_request`;
    const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, await sha256Hex(canonicalRequest)].join("\n");
    const signature = toHex(await hmac(await this.signingKey(day), stringToSign));
    headers["authorization"] =
      `AWS4-HMAC-SHA256 Credential=${this.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
    return headers;
  }

  private signingKey(day: string): Promise<CryptoKey> {
    const scope = `${day}/${this.region}/${this.service}`;
    if (this.key === undefined || this.keyScope !== scope) {
      this.keyScope = scope;
      this.key = (async () => {
        const kDate = await hmac(await importKey(encoder.encode("AWS4" + this.credentials.secretAccessKey)), day);
        const kRegion = await hmac(await importKey(kDate), this.region);
        const kService = await hmac(await importKey(kRegion), this.service);
        return importKey(await hmac(await importKey(kService), "aws4_request"));
      })();
      // A failed derivation is not kept, so the next request tries again.
      this.key.catch(() => {
        if (this.keyScope === scope) this.key = undefined;
      });
    }
    return this.key;
  }
}

/** The query sorted by encoded name, then value, each encoded with `/` too. */
function canonicalQuery(url: URL): string {
  const pairs: [string, string][] = [];
  for (const [k, v] of url.searchParams) pairs.push([uriEncode(k), uriEncode(v)]);
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join("&");
}

function importKey(raw: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", raw as Uint8Array<ArrayBuffer>, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

async function hmac(key: CryptoKey, data: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(data)));
}

