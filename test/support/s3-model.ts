/**
 * What the S3 test server holds and the shapes its operations exchange: buckets of whole objects,
 * multipart uploads in progress, a received request, a response to send.
 *
 * An object is replaced only by assigning a complete `StoredObject` to its key, which happens
 * after its body (or every part of a multipart upload) has been fully received and checked; that
 * single assignment is what makes writes atomic, as they are in S3. Keys are ordered as S3 orders
 * them, by their UTF-8 bytes, which differs from JavaScript's UTF-16 order for characters above
 * U+FFFF against those in U+E000–U+FFFF.
 */
import { createHash } from "node:crypto";

export interface StoredObject {
  key: string;
  body: Uint8Array;
  /** Quoted, as S3 sends it: `"<md5 hex>"` or `"<md5 of part md5s>-<part count>"`. */
  etag: string;
  lastModified: Date;
  contentType: string;
  /** `x-amz-meta-*` headers, names lower-case without the prefix. */
  metadata: Record<string, string>;
}

export interface UploadedPart {
  partNumber: number;
  body: Uint8Array;
  etag: string;
  lastModified: Date;
}

export interface MultipartUpload {
  uploadId: string;
  key: string;
  initiated: Date;
  contentType: string;
  metadata: Record<string, string>;
  parts: Map<number, UploadedPart>;
}

export class Bucket {
  readonly objects = new Map<string, StoredObject>();
  readonly uploads = new Map<string, MultipartUpload>();
  constructor(
    readonly name: string,
    readonly created: Date,
  ) {}
}

/** A request after addressing, decoding and authentication. */
export interface S3Request {
  method: string;
  bucket: string | undefined;
  key: string | undefined;
  query: ReadonlyMap<string, string>;
  /** Values by lower-case header name. */
  headers: Readonly<Record<string, readonly string[]>>;
  body: Uint8Array;
  host: string;
}

export interface S3Response {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** What operations may read of the server: its buckets, limits and clock. */
export interface S3State {
  buckets: Map<string, Bucket>;
  region: string;
  listPageSize: number;
  minPartSize: number;
  now(): Date;
}

export function headerOf(request: S3Request, name: string): string | undefined {
  return request.headers[name]?.join(",");
}

export function md5(bytes: Uint8Array): Buffer {
  return createHash("md5").update(bytes).digest();
}

export function singlePartEtag(body: Uint8Array): string {
  return `"${md5(body).toString("hex")}"`;
}

/**
 * S3's multipart ETag: the MD5 of the parts' binary MD5s, then `-` and the part count. A part's
 * ETag is its MD5 (quoted hex), computed when it was uploaded, so the parts are not hashed again.
 */
export function multipartEtag(partEtags: readonly string[]): string {
  const digests = Buffer.concat(partEtags.map((etag) => Buffer.from(etag.replace(/^"|"$/g, ""), "hex")));
  return `"${md5(digests).toString("hex")}-${partEtags.length}"`;
}

export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

export function metadataOf(request: S3Request): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const name of Object.keys(request.headers)) {
    if (name.startsWith("x-amz-meta-")) metadata[name.slice("x-amz-meta-".length)] = headerOf(request, name)!;
  }
  return metadata;
}

export function responseOf(status: number, headers: Record<string, string> = {}, body: Uint8Array | string = ""): S3Response {
  return { status, headers, body: typeof body === "string" ? Buffer.from(body, "utf8") : body };
}

export function xmlResponse(status: number, document: string): S3Response {
  return responseOf(status, { "content-type": "application/xml" }, document);
}
