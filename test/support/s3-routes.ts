/**
 * Which S3 operation a request is, from its method, whether it names a bucket and a key, and its
 * sub-resource query parameters, the way S3 routes them; and the table from operation to
 * handler.
 *
 * Sub-resources this server does not implement (ACLs, tagging, versioning, …) and copies are
 * answered 501 NotImplemented instead of being mistaken for a plain GET or PUT, so a client that
 * relies on one finds out here rather than in production.
 */
import type { S3Request, S3Response, S3State } from "./s3-model.js";
import * as multipart from "./s3-multipart.js";
import * as objects from "./s3-objects.js";
import { S3Error } from "./s3-xml.js";

export type S3Operation =
  | "ListBuckets"
  | "CreateBucket"
  | "HeadBucket"
  | "DeleteBucket"
  | "ListObjectsV2"
  | "DeleteObjects"
  | "PutObject"
  | "GetObject"
  | "HeadObject"
  | "DeleteObject"
  | "CreateMultipartUpload"
  | "UploadPart"
  | "CompleteMultipartUpload"
  | "AbortMultipartUpload"
  | "ListMultipartUploads"
  | "ListParts";

const UNSUPPORTED_SUBRESOURCES = [
  "accelerate", "acl", "analytics", "attributes", "cors", "encryption", "intelligent-tiering", "inventory",
  "legal-hold", "lifecycle", "location", "logging", "metrics", "notification", "object-lock", "ownershipControls",
  "policy", "policyStatus", "publicAccessBlock", "replication", "requestPayment", "restore", "retention", "select",
  "tagging", "torrent", "versionId", "versioning", "versions", "website",
];

function notImplemented(what: string): S3Error {
  return new S3Error(501, "NotImplemented", `${what} is not implemented by this test server`);
}

/** The operation a request is; throws 501 for one this server does not implement. */
export function operationOf(method: string, bucket: string | undefined, key: string | undefined, query: ReadonlyMap<string, string>, headers: Readonly<Record<string, readonly string[]>>): S3Operation {
  const unsupported = UNSUPPORTED_SUBRESOURCES.find((name) => query.has(name));
  if (unsupported !== undefined) throw notImplemented(`The ?${unsupported} sub-resource`);
  if (bucket === undefined) {
    if (method === "GET") return "ListBuckets";
  } else if (key === undefined) {
    if (method === "PUT") return "CreateBucket";
    if (method === "HEAD") return "HeadBucket";
    if (method === "DELETE") return "DeleteBucket";
    if (method === "GET" && query.has("uploads")) return "ListMultipartUploads";
    if (method === "GET" && query.get("list-type") === "2") return "ListObjectsV2";
    if (method === "GET") throw notImplemented("ListObjects (version 1; send list-type=2)");
    if (method === "POST" && query.has("delete")) return "DeleteObjects";
  } else {
    const copy = headers["x-amz-copy-source"] !== undefined;
    if (method === "PUT" && query.has("uploadId")) {
      if (copy) throw notImplemented("UploadPartCopy");
      return "UploadPart";
    }
    if (method === "PUT") {
      if (copy) throw notImplemented("CopyObject");
      return "PutObject";
    }
    if (method === "GET" && query.has("uploadId")) return "ListParts";
    if (method === "GET") return "GetObject";
    if (method === "HEAD") return "HeadObject";
    if (method === "DELETE" && query.has("uploadId")) return "AbortMultipartUpload";
    if (method === "DELETE") return "DeleteObject";
    if (method === "POST" && query.has("uploads")) return "CreateMultipartUpload";
    if (method === "POST" && query.has("uploadId")) return "CompleteMultipartUpload";
  }
  throw new S3Error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.", { Method: method });
}

export const handlers: Record<S3Operation, (state: S3State, request: S3Request) => S3Response> = {
  ListBuckets: objects.listBuckets,
  CreateBucket: objects.createBucket,
  HeadBucket: objects.headBucket,
  DeleteBucket: objects.deleteBucket,
  ListObjectsV2: objects.listObjectsV2,
  DeleteObjects: objects.deleteObjects,
  PutObject: objects.putObject,
  GetObject: objects.getObject,
  HeadObject: objects.headObject,
  DeleteObject: objects.deleteObject,
  CreateMultipartUpload: multipart.createMultipartUpload,
  UploadPart: multipart.uploadPart,
  CompleteMultipartUpload: multipart.completeMultipartUpload,
  AbortMultipartUpload: multipart.abortMultipartUpload,
  ListMultipartUploads: multipart.listMultipartUploads,
  ListParts: multipart.listParts,
};
