/**
 * Signature V4 checking for the S3 test server, done by AWS's own signer (`@smithy/signature-v4`)
 * so that the project's client, which signs with its own WebCrypto code, is measured against an
 * implementation it shares nothing with.
 *
 * The check rebuilds the request the client must have signed: the method, the path in S3's
 * canonical form (each segment of the decoded path URI-encoded once, `/` kept), every query
 * parameter, exactly the headers named in `SignedHeaders`, `x-amz-date` as the signing time and
 * `x-amz-content-sha256` as the payload hash. The signer signs that with the secret of the named
 * key, and the two signatures must be equal. Because the canonical path is derived from the
 * decoded key rather than copied from the wire, a client that sends or signs a path in any other
 * encoding than S3's fails here, as it would against S3.
 *
 * Only header authentication is accepted. Presigned URLs are refused (403) rather than half
 * checked, and a streaming (`aws-chunked`, STREAMING-AWS4-HMAC-SHA256-PAYLOAD) body has each
 * chunk's signature checked against the one before it, from the seed signature on, and is
 * decoded (`decodeStreamingBody`); other streaming kinds are refused as not implemented.
 */
import { createHash, createHmac } from "node:crypto";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { S3Error } from "./s3-xml.js";

export interface S3Credential {
  accessKeyId: string;
  secretAccessKey: string;
  /** When set, requests MUST carry it as `x-amz-security-token`. */
  sessionToken?: string;
}

/** The parts of a received request that its signature covers. */
export interface ReceivedRequest {
  method: string;
  /** The decoded path, `/bucket/key` or `/key` under virtual-hosted addressing. */
  decodedPath: string;
  /** Decoded query parameters in the order received. */
  query: ReadonlyArray<readonly [string, string]>;
  /** Header values by lower-case name, repeated headers as separate values. */
  headers: Readonly<Record<string, readonly string[]>>;
  body: Uint8Array;
}

/** S3 refuses a request whose `x-amz-date` is further than this from its own clock. */
const MAX_SKEW_MS = 15 * 60 * 1000;
const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const AUTH_PATTERN =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/([^/,\s]+),\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;

/** AWS's URI encoding: everything but unreserved characters as %XX, upper-case hex. */
export function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function header(request: ReceivedRequest, name: string): string | undefined {
  const values = request.headers[name];
  return values === undefined ? undefined : values.join(",");
}

function parseAmzDate(text: string | undefined): Date {
  const match = text === undefined ? null : /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!match) {
    throw new S3Error(403, "AccessDenied", "AWS authentication requires a valid x-amz-date header in ISO 8601 basic format");
  }
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[];
  return new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
}

/**
 * Checks a request's Signature V4; returns the credential it was signed with, throws the
 * S3Error that S3 would answer otherwise.
 */
export async function verifySignature(
  request: ReceivedRequest,
  credentials: readonly S3Credential[],
  region: string,
  now: Date,
): Promise<S3Credential> {
  if (request.query.some(([name]) => name === "X-Amz-Signature" || name === "X-Amz-Credential")) {
    throw new S3Error(403, "AccessDenied", "Query-string (presigned) authentication is not supported by this test server");
  }
  const authorization = header(request, "authorization");
  if (authorization === undefined) throw new S3Error(403, "AccessDenied", "Access Denied");
  if (!authorization.startsWith("AWS4-HMAC-SHA256 ")) {
    throw new S3Error(400, "InvalidArgument", "Only the AWS4-HMAC-SHA256 authorization scheme is supported");
  }
  const parsed = AUTH_PATTERN.exec(authorization);
  if (!parsed) throw new S3Error(400, "AuthorizationHeaderMalformed", "The authorization header is malformed");
  const [, accessKeyId, scopeDate, scopeRegion, scopeService, terminator, signedHeaderList, signature] =
    parsed as unknown as string[];

  const credential = credentials.find((c) => c.accessKeyId === accessKeyId);
  if (!credential) {
    throw new S3Error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", {
      AWSAccessKeyId: accessKeyId!,
    });
  }

  const amzDate = header(request, "x-amz-date");
  const signingDate = parseAmzDate(amzDate);
  if (scopeDate !== amzDate!.slice(0, 8)) {
    throw new S3Error(400, "AuthorizationHeaderMalformed", `The credential date '${scopeDate}' is not the date of x-amz-date`);
  }
  if (scopeRegion !== region) {
    throw new S3Error(400, "AuthorizationHeaderMalformed", `the region '${scopeRegion}' is wrong; expecting '${region}'`, {
      Region: region,
    });
  }
  if (scopeService !== "s3" || terminator !== "aws4_request") {
    throw new S3Error(400, "AuthorizationHeaderMalformed", "The credential scope must end in /s3/aws4_request");
  }
  if (Math.abs(signingDate.getTime() - now.getTime()) > MAX_SKEW_MS) {
    throw new S3Error(403, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.", {
      RequestTime: amzDate!,
      ServerTime: now.toISOString(),
      MaxAllowedSkewMilliseconds: String(MAX_SKEW_MS),
    });
  }

  const token = header(request, "x-amz-security-token");
  if (credential.sessionToken !== undefined && token !== credential.sessionToken) {
    throw new S3Error(403, "InvalidToken", "The provided token is malformed or otherwise invalid.");
  }
  if (credential.sessionToken === undefined && token !== undefined) {
    throw new S3Error(403, "InvalidToken", "A security token was sent with a key that has none.");
  }

  const payloadHash = header(request, "x-amz-content-sha256");
  if (payloadHash === undefined) {
    throw new S3Error(400, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256");
  }
  const streaming = payloadHash === STREAMING;
  if (payloadHash.startsWith("STREAMING-") && !streaming) {
    throw new S3Error(501, "NotImplemented", `Streaming payload signing ${payloadHash} is not supported by this test server`);
  }
  if (!streaming && payloadHash !== "UNSIGNED-PAYLOAD" && !/^[0-9a-f]{64}$/.test(payloadHash)) {
    throw new S3Error(400, "InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a SHA-256 hex digest");
  }

  const signedNames = signedHeaderList!.split(";");
  const sorted = [...signedNames].sort();
  if (signedNames.some((name, i) => name !== sorted[i]) || new Set(signedNames).size !== signedNames.length) {
    throw new S3Error(400, "AuthorizationHeaderMalformed", "SignedHeaders must be sorted, lower-case and without repeats");
  }
  for (const required of ["host", "x-amz-content-sha256", "x-amz-date"]) {
    if (!signedNames.includes(required)) {
      throw new S3Error(403, "AccessDenied", `The header '${required}' must be signed`);
    }
  }
  const unsigned = Object.keys(request.headers).filter((name) => name.startsWith("x-amz-") && !signedNames.includes(name));
  if (unsigned.length > 0) {
    throw new S3Error(403, "AccessDenied", "There were headers present in the request which were not signed", {
      HeadersNotSigned: unsigned.join(", "),
    });
  }

  const expected = await expectedSignature(request, credential, region, signingDate, signedNames);
  if (expected !== signature) {
    throw new S3Error(
      403,
      "SignatureDoesNotMatch",
      "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
      { AWSAccessKeyId: accessKeyId! },
    );
  }

  if (streaming) {
    request.body = decodeStreamingBody(request, credential, amzDate!, `${scopeDate}/${region}/s3/aws4_request`, signature!);
  } else if (payloadHash !== "UNSIGNED-PAYLOAD") {
    const actual = request.body.length === 0 ? EMPTY_SHA256 : createHash("sha256").update(request.body).digest("hex");
    if (actual !== payloadHash) {
      throw new S3Error(400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.", {
        ClientComputedContentSHA256: payloadHash,
        S3ComputedContentSHA256: actual,
      });
    }
  }
  return credential;
}

const STREAMING = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";

/**
 * The payload of an aws-chunked body: chunks of `HEX;chunk-signature=SIG\r\nDATA\r\n`, ending
 * with an empty one, each signed over the previous signature and its data's SHA-256; its length
 * must be x-amz-decoded-content-length.
 */
function decodeStreamingBody(request: ReceivedRequest, credential: S3Credential, amzDate: string, scope: string, seed: string): Uint8Array {
  const bad = (why: string) => new S3Error(400, "InvalidChunkSizeError", `aws-chunked body: ${why}`);
  const [date, region] = scope.split("/");
  let key: Buffer | string = "AWS4" + credential.secretAccessKey;
  for (const part of [date!, region!, "s3", "aws4_request"]) key = createHmac("sha256", key).update(part).digest();
  const body = Buffer.from(request.body.buffer, request.body.byteOffset, request.body.length);
  const out: Buffer[] = [];
  let previous = seed;
  for (let at = 0; ; ) {
    const eol = body.indexOf("\r\n", at);
    if (eol < 0) throw bad("a chunk header without its line end");
    const head = /^([0-9a-fA-F]+);chunk-signature=([0-9a-f]{64})$/.exec(body.subarray(at, eol).toString("latin1"));
    if (!head) throw bad("a malformed chunk header");
    const size = parseInt(head[1]!, 16);
    const data = body.subarray(eol + 2, eol + 2 + size);
    if (data.length !== size || body.subarray(eol + 2 + size, eol + 4 + size).toString("latin1") !== "\r\n") throw bad("a chunk shorter than its size");
    const toSign = ["AWS4-HMAC-SHA256-PAYLOAD", amzDate, scope, previous, EMPTY_SHA256, createHash("sha256").update(data).digest("hex")].join("\n");
    const expected = createHmac("sha256", key).update(toSign).digest("hex");
    if (expected !== head[2]) throw new S3Error(403, "SignatureDoesNotMatch", "The chunk signature we calculated does not match the signature you provided.");
    previous = expected;
    at = eol + 4 + size;
    if (size === 0) {
      if (at !== body.length) throw bad("bytes after the final chunk");
      break;
    }
    out.push(data);
  }
  const decoded = Buffer.concat(out);
  if (String(decoded.length) !== header(request, "x-amz-decoded-content-length")) throw bad("x-amz-decoded-content-length does not match");
  return decoded;
}

async function expectedSignature(
  request: ReceivedRequest,
  credential: S3Credential,
  region: string,
  signingDate: Date,
  signedNames: readonly string[],
): Promise<string> {
  const headers: Record<string, string> = {};
  for (const name of signedNames) {
    const value = header(request, name);
    if (value !== undefined) headers[name] = value;
  }
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of request.query) {
    const previous = query[name];
    query[name] = previous === undefined ? value : [previous, value].flat();
  }
  const canonicalPath = request.decodedPath.split("/").map(uriEncode).join("/");
  const signer = new SignatureV4({
    service: "s3",
    region,
    credentials: credential,
    sha256: Sha256,
    uriEscapePath: false,
  });
  const signed = await signer.sign(
    { method: request.method, protocol: "http:", hostname: headers.host ?? "", path: canonicalPath, query, headers },
    { signingDate, signableHeaders: new Set(signedNames) },
  );
  const match = /Signature=([0-9a-f]{64})$/.exec(String(signed.headers.authorization));
  if (!match) throw new Error("the reference signer produced no signature");
  return match[1]!;
}
