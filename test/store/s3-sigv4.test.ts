// Our SigV4 signer against AWS's own (@smithy/signature-v4): the same request, credentials and
// clock must give the same Authorization header, for bodies, queries, awkward keys and session
// tokens, plus the derived-key cache across days.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SignatureV4 } from "@smithy/signature-v4";
import { HttpRequest } from "@smithy/protocol-http";
import { Sha256 } from "@aws-crypto/sha256-js";
import { EMPTY_SHA256, sha256Hex, SigV4Signer, uriEncode, type S3Credentials } from "../../src/store/s3/sigv4.js";
import { S3Urls } from "../../src/store/s3/url.js";

const creds: S3Credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
const withToken: S3Credentials = { ...creds, sessionToken: "FQoGZXIvYXdzEPT//////////wEaDOKEN+/=" };
const at = new Date("2024-05-17T12:34:56.789Z");

interface Case {
  name: string;
  method: string;
  key: string;
  query?: [string, string][];
  headers?: Record<string, string>;
  body?: Uint8Array;
  credentials?: S3Credentials;
  region?: string;
  style?: "path" | "virtual";
  endpoint?: string;
}

async function both(c: Case): Promise<[string, string]> {
  const credentials = c.credentials ?? creds;
  const region = c.region ?? "us-east-1";
  const url = new S3Urls(c.endpoint ?? "https://s3.example.com", "my-bucket", c.style ?? "path").url(c.key, c.query ?? []);
  const payloadHash = c.body ? await sha256Hex(c.body) : EMPTY_SHA256;
  const ours = await new SigV4Signer(credentials, region).sign({ method: c.method, url, headers: c.headers ?? {}, payloadHash }, at);

  const query: Record<string, string | string[]> = {};
  for (const [k, v] of c.query ?? []) query[k] = v;
  const request = new HttpRequest({
    method: c.method,
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: url.pathname,
    query,
    headers: { host: url.host, ...c.headers, "x-amz-content-sha256": payloadHash },
    ...(c.body ? { body: c.body } : {}),
  });
  const smithy = new SignatureV4({ credentials, region, service: "s3", sha256: Sha256, uriEscapePath: false, applyChecksum: true });
  const signed = await smithy.sign(request, { signingDate: at });
  if (credentials.sessionToken) assert.equal(ours["x-amz-security-token"], credentials.sessionToken);
  return [ours["authorization"]!, signed.headers["authorization"]!];
}

const cases: Case[] = [
  { name: "GET of an object", method: "GET", key: "repo/data/ab12.zip" },
  { name: "GET with a range", method: "GET", key: "repo/data/ab12.zip", headers: { range: "bytes=100-199" } },
  {
    name: "ListObjectsV2 with a query",
    method: "GET",
    key: "",
    query: [["list-type", "2"], ["max-keys", "7"], ["prefix", "repo/snap shots/ä+&="], ["continuation-token", "1/ab+cd=="]],
  },
  { name: "PUT with a body", method: "PUT", key: "repo/keys/k1", body: new TextEncoder().encode("hello, S3\n"), headers: { "content-type": "application/octet-stream" } },
  { name: "conditional PUT", method: "PUT", key: "repo/locks/l", body: new Uint8Array([0, 1, 2, 255]), headers: { "if-none-match": "*", "content-type": "application/octet-stream" } },
  { name: "a key with spaces", method: "GET", key: "my folder/a file (1).txt" },
  { name: "a key with unicode", method: "PUT", key: "données/Ωmega/日本語.bin", body: new Uint8Array(1000).fill(7) },
  { name: "a key with special characters", method: "GET", key: "a+b=c&d;e:f@g,h$i!j*k'l(m)n~o%p#q?r" },
  { name: "a key with a tilde and dashes", method: "DELETE", key: "x/~user/a-b_c.d" },
  { name: "a session token", method: "GET", key: "repo/config", credentials: withToken },
  { name: "a session token on a PUT with a body", method: "PUT", key: "repo/config", credentials: withToken, body: new Uint8Array([9, 9, 9]) },
  { name: "multipart part upload", method: "PUT", key: "repo/data/big", query: [["partNumber", "3"], ["uploadId", "VXBsb2FkIElE+/="]], body: new Uint8Array(4096) },
  { name: "CreateMultipartUpload (empty query value)", method: "POST", key: "repo/data/big", query: [["uploads", ""]], headers: { "x-amz-meta-ibt-upload": "00ff" } },
  { name: "virtual-hosted style in another region", method: "GET", key: "k", style: "virtual", region: "eu-central-1" },
  { name: "an endpoint with a port", method: "HEAD", key: "k", endpoint: "http://127.0.0.1:9000" },
  { name: "a header value with inner spaces", method: "PUT", key: "k", headers: { "x-amz-meta-note": "  two   spaces  " }, body: new Uint8Array(1) },
];

for (const c of cases) {
  test(`SigV4 matches @smithy/signature-v4: ${c.name}`, async () => {
    const [ours, theirs] = await both(c);
    assert.equal(ours, theirs);
  });
}

test("SigV4: the Authorization header has the expected shape and scope", async () => {
  const [ours] = await both({ name: "", method: "GET", key: "k" });
  assert.match(ours, /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20240517\/us-east-1\/s3\/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/);
});

test("SigV4: the derived key follows the date (the cache is per day)", async () => {
  const signer = new SigV4Signer(creds, "us-east-1");
  const url = new URL("https://s3.example.com/b/k");
  const req = { method: "GET", url, headers: {}, payloadHash: EMPTY_SHA256 };
  const day1 = await signer.sign(req, new Date("2024-05-17T23:59:59Z"));
  const day2 = await signer.sign(req, new Date("2024-05-18T00:00:01Z"));
  const fresh = await new SigV4Signer(creds, "us-east-1").sign(req, new Date("2024-05-18T00:00:01Z"));
  assert.notEqual(day1["authorization"], day2["authorization"]);
  assert.equal(day2["authorization"], fresh["authorization"]);
});

test("uriEncode: unreserved characters stay, everything else is %XX of its UTF-8", () => {
  assert.equal(uriEncode("AZaz09-._~"), "AZaz09-._~");
  assert.equal(uriEncode("a b/c+é"), "a%20b%2Fc%2B%C3%A9");
  assert.equal(uriEncode("a/b", true), "a/b");
});
