/**
 * The S3 test server's bucket and single-object operations: CreateBucket, HeadBucket,
 * DeleteBucket, ListBuckets, PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects and
 * ListObjectsV2, with S3's status codes, headers and XML.
 *
 * Each handler checks everything first and changes the bucket last, in one assignment or delete,
 * so a refused request leaves no trace. Listings are cut to the server's page size even when the
 * client asked for more (S3 may return fewer keys than `max-keys`; a client must follow
 * `NextContinuationToken`), and the token is opaque and checked, so a client that builds its own
 * token or reuses `StartAfter` wrongly is caught.
 */
import { createHash } from "node:crypto";
import { crc32 } from "node:zlib";
import {
  Bucket,
  type S3Request,
  type S3Response,
  type S3State,
  type StoredObject,
  compareKeys,
  headerOf,
  md5,
  metadataOf,
  responseOf,
  singlePartEtag,
  xmlResponse,
} from "./s3-model.js";
import { S3Error, childText, element, parseXml, xmlDocument } from "./s3-xml.js";

const MAX_KEY_BYTES = 1024;
const DEFAULT_MAX_KEYS = 1000;

export function bucketOf(state: S3State, request: S3Request): Bucket {
  const bucket = state.buckets.get(request.bucket!);
  if (!bucket) {
    throw new S3Error(404, "NoSuchBucket", "The specified bucket does not exist", { BucketName: request.bucket! });
  }
  return bucket;
}

export function keyOf(request: S3Request): string {
  const key = request.key!;
  if (Buffer.byteLength(key, "utf8") > MAX_KEY_BYTES) {
    throw new S3Error(400, "KeyTooLongError", "Your key is too long");
  }
  return key;
}

/** PutObject and UploadPart need the body's length up front, as S3 does (no chunked uploads). */
export function requireContentLength(request: S3Request): void {
  if (headerOf(request, "content-length") === undefined) {
    throw new S3Error(411, "MissingContentLength", "You must provide the Content-Length HTTP header.");
  }
}

/**
 * Checks `Content-MD5` and `x-amz-checksum-*` against the body, as S3 does for any request that
 * carries them; algorithms Node cannot compute are refused rather than trusted.
 */
export function verifyBodyDigests(request: S3Request): void {
  const contentMd5 = headerOf(request, "content-md5");
  if (contentMd5 !== undefined) {
    const claimed = Buffer.from(contentMd5, "base64");
    if (claimed.length !== 16 || claimed.toString("base64") !== contentMd5) {
      throw new S3Error(400, "InvalidDigest", "The Content-MD5 you specified was invalid.");
    }
    if (!claimed.equals(md5(request.body))) {
      throw new S3Error(400, "BadDigest", "The Content-MD5 you specified did not match what we received.");
    }
  }
  for (const name of Object.keys(request.headers)) {
    if (!name.startsWith("x-amz-checksum-") || name === "x-amz-checksum-type") continue;
    const algorithm = name.slice("x-amz-checksum-".length);
    const actual = checksumOf(algorithm, request.body);
    if (actual === undefined) {
      throw new S3Error(501, "NotImplemented", `Checksum algorithm ${algorithm} is not supported by this test server`);
    }
    if (actual !== headerOf(request, name)) {
      throw new S3Error(400, "BadDigest", `The ${algorithm.toUpperCase()} you specified did not match the calculated checksum.`);
    }
  }
}

function checksumOf(algorithm: string, body: Uint8Array): string | undefined {
  if (algorithm === "sha256" || algorithm === "sha1") return createHash(algorithm).update(body).digest("base64");
  if (algorithm === "crc32") {
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32BE(crc32(body));
    return bytes.toString("base64");
  }
  return undefined;
}

/** `If-Match` / `If-None-Match` on a write: S3 supports `*` for absence and an ETag for identity. */
export function checkWritePreconditions(request: S3Request, existing: StoredObject | undefined): void {
  const ifNoneMatch = headerOf(request, "if-none-match");
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch.trim() !== "*") {
      throw new S3Error(501, "NotImplemented", "A header you provided implies functionality that is not implemented", {
        Header: "If-None-Match",
      });
    }
    if (existing) throw new S3Error(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold", { Condition: "If-None-Match" });
  }
  const ifMatch = headerOf(request, "if-match");
  if (ifMatch !== undefined) {
    if (!existing) throw new S3Error(404, "NoSuchKey", "The specified key does not exist.", { Key: request.key! });
    if (!etagListMatches(ifMatch, existing.etag)) {
      throw new S3Error(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold", { Condition: "If-Match" });
    }
  }
}

function etagListMatches(list: string, etag: string): boolean {
  return list.split(",").some((candidate) => {
    const trimmed = candidate.trim();
    return trimmed === "*" || trimmed === etag || `"${trimmed}"` === etag;
  });
}

function objectHeaders(object: StoredObject): Record<string, string> {
  const headers: Record<string, string> = {
    etag: object.etag,
    "last-modified": object.lastModified.toUTCString(),
    "content-type": object.contentType,
    "accept-ranges": "bytes",
  };
  for (const [name, value] of Object.entries(object.metadata)) headers[`x-amz-meta-${name}`] = value;
  return headers;
}

export function storeObject(bucket: Bucket, key: string, body: Uint8Array, etag: string, request: S3Request, now: Date): StoredObject {
  const object: StoredObject = {
    key,
    body,
    etag,
    lastModified: now,
    contentType: headerOf(request, "content-type") ?? "binary/octet-stream",
    metadata: metadataOf(request),
  };
  bucket.objects.set(key, object);
  return object;
}

export function createBucket(state: S3State, request: S3Request): S3Response {
  const name = request.bucket!;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) || name.includes("..") || /^\d+\.\d+\.\d+\.\d+$/.test(name)) {
    throw new S3Error(400, "InvalidBucketName", "The specified bucket is not valid.", { BucketName: name });
  }
  if (state.buckets.has(name)) {
    throw new S3Error(409, "BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.", {
      BucketName: name,
    });
  }
  state.buckets.set(name, new Bucket(name, state.now()));
  return responseOf(200, { location: `/${name}` });
}

export function headBucket(state: S3State, request: S3Request): S3Response {
  bucketOf(state, request);
  return responseOf(200, { "x-amz-bucket-region": state.region });
}

export function deleteBucket(state: S3State, request: S3Request): S3Response {
  const bucket = bucketOf(state, request);
  if (bucket.objects.size > 0 || bucket.uploads.size > 0) {
    throw new S3Error(409, "BucketNotEmpty", "The bucket you tried to delete is not empty", { BucketName: bucket.name });
  }
  state.buckets.delete(bucket.name);
  return responseOf(204);
}

export function listBuckets(state: S3State): S3Response {
  const buckets = [...state.buckets.values()].sort((a, b) => compareKeys(a.name, b.name));
  return xmlResponse(
    200,
    xmlDocument("ListAllMyBucketsResult", [
      element("Owner", [element("ID", "test-owner"), element("DisplayName", "test-owner")]),
      element(
        "Buckets",
        buckets.map((b) => element("Bucket", [element("Name", b.name), element("CreationDate", b.created.toISOString())])),
      ),
    ]),
  );
}

export function putObject(state: S3State, request: S3Request): S3Response {
  const bucket = bucketOf(state, request);
  const key = keyOf(request);
  requireContentLength(request);
  verifyBodyDigests(request);
  checkWritePreconditions(request, bucket.objects.get(key));
  const object = storeObject(bucket, key, request.body, singlePartEtag(request.body), request, state.now());
  return responseOf(200, { etag: object.etag });
}

function existingObject(state: S3State, request: S3Request): StoredObject {
  const object = bucketOf(state, request).objects.get(keyOf(request));
  if (!object) throw new S3Error(404, "NoSuchKey", "The specified key does not exist.", { Key: request.key! });
  return object;
}

/** `If-Match` → 412 when it differs, `If-None-Match` → 304 when it matches, as S3 reads them. */
function checkReadPreconditions(request: S3Request, object: StoredObject): S3Response | undefined {
  const ifMatch = headerOf(request, "if-match");
  if (ifMatch !== undefined && !etagListMatches(ifMatch, object.etag)) {
    throw new S3Error(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold", { Condition: "If-Match" });
  }
  const ifNoneMatch = headerOf(request, "if-none-match");
  if (ifNoneMatch !== undefined && etagListMatches(ifNoneMatch, object.etag)) {
    return responseOf(304, { etag: object.etag, "last-modified": object.lastModified.toUTCString() });
  }
  return undefined;
}

/**
 * The byte range a `Range` header asks for, S3's way: one `bytes=` range, the end clamped to the
 * object; a header S3 would not parse (several ranges, other units) is ignored and the whole
 * object returned; a start past the end is 416.
 */
function rangeOf(header: string | undefined, size: number): { start: number; end: number } | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === "" && match[2] === "")) return undefined;
  const unsatisfiable = () =>
    new S3Error(416, "InvalidRange", "The requested range is not satisfiable", { ActualObjectSize: String(size), RangeRequested: header }, {
      "content-range": `bytes */${size}`,
    });
  if (match[1] === "") {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) throw unsatisfiable();
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (match[2] !== "" && Number(match[2]) < start) return undefined;
  if (start >= size) throw unsatisfiable();
  return { start, end };
}

export function getObject(state: S3State, request: S3Request): S3Response {
  if (request.query.has("partNumber")) {
    throw new S3Error(501, "NotImplemented", "GetObject by partNumber is not supported by this test server");
  }
  const object = existingObject(state, request);
  const notModified = checkReadPreconditions(request, object);
  if (notModified) return notModified;
  const headers = objectHeaders(object);
  const range = rangeOf(headerOf(request, "range"), object.body.length);
  if (!range) return responseOf(200, headers, object.body);
  headers["content-range"] = `bytes ${range.start}-${range.end}/${object.body.length}`;
  return responseOf(206, headers, object.body.subarray(range.start, range.end + 1));
}

/** HeadObject answers with GetObject's headers; the server sends them without the body. */
export function headObject(state: S3State, request: S3Request): S3Response {
  return getObject(state, request);
}

export function deleteObject(state: S3State, request: S3Request): S3Response {
  bucketOf(state, request).objects.delete(keyOf(request));
  return responseOf(204);
}

export function deleteObjects(state: S3State, request: S3Request): S3Response {
  const bucket = bucketOf(state, request);
  if (headerOf(request, "content-md5") === undefined && !Object.keys(request.headers).some((h) => h.startsWith("x-amz-checksum-"))) {
    throw new S3Error(400, "InvalidRequest", "Missing required header for this request: Content-MD5");
  }
  verifyBodyDigests(request);
  const root = parseXml(Buffer.from(request.body).toString("utf8"));
  if (root.name !== "Delete") throw new S3Error(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema");
  const quiet = childText(root, "Quiet")?.trim() === "true";
  const keys = root.children.filter((c) => c.name === "Object").map((o) => childText(o, "Key"));
  if (keys.length === 0 || keys.length > 1000 || keys.some((k) => k === undefined || k === "")) {
    throw new S3Error(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema");
  }
  for (const key of keys) bucket.objects.delete(key!);
  const deleted = quiet ? [] : keys.map((key) => element("Deleted", [element("Key", key!)]));
  return xmlResponse(200, xmlDocument("DeleteResult", deleted));
}

/** A non-negative integer query parameter, or the default when absent; S3 answers 400 otherwise. */
export function integerParam(request: S3Request, name: string, fallback: number): number {
  const text = request.query.get(name);
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) throw new S3Error(400, "InvalidArgument", `Provided ${name} not an integer or within integer range`, { ArgumentName: name, ArgumentValue: text });
  return Number(text);
}

const TOKEN_PREFIX = "s3-test-server:";

function continuationToken(after: string): string {
  return Buffer.from(TOKEN_PREFIX + after, "utf8").toString("base64url");
}

function afterOfToken(token: string): string {
  const text = Buffer.from(token, "base64url").toString("utf8");
  if (!text.startsWith(TOKEN_PREFIX) || continuationToken(text.slice(TOKEN_PREFIX.length)) !== token) {
    throw new S3Error(400, "InvalidArgument", "The continuation token provided is incorrect", { ArgumentName: "continuation-token" });
  }
  return text.slice(TOKEN_PREFIX.length);
}

/** `encoding-type=url` as S3 applies it: form encoding, so a space is `+`. */
function encodeForListing(text: string, urlEncoded: boolean): string {
  return urlEncoded ? encodeURIComponent(text).replace(/%20/g, "+") : text;
}

export function listObjectsV2(state: S3State, request: S3Request): S3Response {
  const bucket = bucketOf(state, request);
  const prefix = request.query.get("prefix") ?? "";
  const delimiter = request.query.get("delimiter") ?? "";
  const startAfter = request.query.get("start-after") ?? "";
  const token = request.query.get("continuation-token");
  const maxKeys = integerParam(request, "max-keys", DEFAULT_MAX_KEYS);
  const encodingType = request.query.get("encoding-type");
  if (encodingType !== undefined && encodingType !== "url") {
    throw new S3Error(400, "InvalidArgument", "Invalid Encoding Method specified in Request", { ArgumentName: "encoding-type" });
  }
  const urlEncoded = encodingType === "url";
  const after = token !== undefined ? afterOfToken(token) : startAfter;

  // Keys under one common prefix collapse to that prefix, which then sorts where its first key did.
  const entries: { name: string; object?: StoredObject }[] = [];
  const keys = [...bucket.objects.keys()].filter((k) => k.startsWith(prefix) && compareKeys(k, after) > 0).sort(compareKeys);
  for (const key of keys) {
    const cut = delimiter === "" ? -1 : key.indexOf(delimiter, prefix.length);
    if (cut < 0) entries.push({ name: key, object: bucket.objects.get(key)! });
    else {
      const common = key.slice(0, cut + delimiter.length);
      if (entries.at(-1)?.name !== common) entries.push({ name: common });
    }
  }
  // A token may name a common prefix whose keys sort after it; that prefix was already returned.
  const remaining = token === undefined ? entries : entries.filter((entry) => compareKeys(entry.name, after) > 0);
  const page = remaining.slice(0, Math.min(maxKeys, state.listPageSize));
  const truncated = page.length < remaining.length;

  const children = [
    element("Name", bucket.name),
    element("Prefix", encodeForListing(prefix, urlEncoded)),
    element("MaxKeys", maxKeys),
    element("KeyCount", page.length),
    element("IsTruncated", truncated),
  ];
  if (delimiter !== "") children.push(element("Delimiter", encodeForListing(delimiter, urlEncoded)));
  if (token !== undefined) children.push(element("ContinuationToken", token));
  if (truncated) children.push(element("NextContinuationToken", continuationToken(page.at(-1)!.name)));
  if (startAfter !== "") children.push(element("StartAfter", encodeForListing(startAfter, urlEncoded)));
  if (urlEncoded) children.push(element("EncodingType", "url"));
  for (const entry of page) {
    if (entry.object) {
      children.push(
        element("Contents", [
          element("Key", encodeForListing(entry.name, urlEncoded)),
          element("LastModified", entry.object.lastModified.toISOString()),
          element("ETag", entry.object.etag),
          element("Size", entry.object.body.length),
          element("StorageClass", "STANDARD"),
        ]),
      );
    } else {
      children.push(element("CommonPrefixes", [element("Prefix", encodeForListing(entry.name, urlEncoded))]));
    }
  }
  return xmlResponse(200, xmlDocument("ListBucketResult", children));
}
