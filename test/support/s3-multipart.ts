/**
 * The S3 test server's multipart operations: CreateMultipartUpload, UploadPart,
 * CompleteMultipartUpload, AbortMultipartUpload, ListMultipartUploads and ListParts.
 *
 * Parts live with their upload and are invisible until CompleteMultipartUpload names them; only
 * then does the object appear, whole, in one assignment. Completion is checked the way S3 checks
 * it: the list must be ascending (InvalidPartOrder), every part must exist with the ETag given
 * (InvalidPart), every part but the last must reach the minimum part size (EntityTooSmall), and
 * the write preconditions of PutObject apply. A failed completion leaves the upload in progress,
 * so a client may retry it.
 */
import { randomBytes } from "node:crypto";
import {
  type MultipartUpload,
  type S3Request,
  type S3Response,
  type S3State,
  compareKeys,
  headerOf,
  md5,
  metadataOf,
  multipartEtag,
  responseOf,
  xmlResponse,
} from "./s3-model.js";
import { bucketOf, checkWritePreconditions, integerParam, keyOf, requireContentLength, storeObject, verifyBodyDigests } from "./s3-objects.js";
import { S3Error, childText, element, parseXml, xmlDocument } from "./s3-xml.js";

const MAX_PART_NUMBER = 10000;
const OWNER = [element("ID", "test-owner"), element("DisplayName", "test-owner")];

function uploadOf(state: S3State, request: S3Request): MultipartUpload {
  const upload = bucketOf(state, request).uploads.get(request.query.get("uploadId")!);
  if (!upload || upload.key !== keyOf(request)) {
    throw new S3Error(404, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.", {
      UploadId: request.query.get("uploadId")!,
    });
  }
  return upload;
}

export function createMultipartUpload(state: S3State, request: S3Request): S3Response {
  const bucket = bucketOf(state, request);
  const key = keyOf(request);
  // Base64url gives ids with '-' and '_', so a client must encode them like any other value.
  const uploadId = randomBytes(33).toString("base64url");
  bucket.uploads.set(uploadId, {
    uploadId,
    key,
    initiated: state.now(),
    contentType: headerOf(request, "content-type") ?? "binary/octet-stream",
    metadata: metadataOf(request),
    parts: new Map(),
  });
  return xmlResponse(
    200,
    xmlDocument("InitiateMultipartUploadResult", [element("Bucket", bucket.name), element("Key", key), element("UploadId", uploadId)]),
  );
}

export function uploadPart(state: S3State, request: S3Request): S3Response {
  const upload = uploadOf(state, request);
  const partNumber = integerParam(request, "partNumber", 0);
  if (partNumber < 1 || partNumber > MAX_PART_NUMBER) {
    throw new S3Error(400, "InvalidArgument", `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`, {
      ArgumentName: "partNumber",
      ArgumentValue: String(request.query.get("partNumber")),
    });
  }
  requireContentLength(request);
  verifyBodyDigests(request);
  const etag = `"${md5(request.body).toString("hex")}"`;
  upload.parts.set(partNumber, { partNumber, body: request.body, etag, lastModified: state.now() });
  return responseOf(200, { etag });
}

function invalidPart(partNumber: number, detail: string): S3Error {
  return new S3Error(400, "InvalidPart", `One or more of the specified parts could not be found. ${detail}`, {
    PartNumber: String(partNumber),
  });
}

function unquoted(etag: string): string {
  return etag.trim().replace(/^"(.*)"$/, "$1");
}

export function completeMultipartUpload(state: S3State, request: S3Request): S3Response {
  const bucket = bucketOf(state, request);
  const upload = uploadOf(state, request);
  const root = parseXml(Buffer.from(request.body).toString("utf8"));
  const listed = root.children.filter((child) => child.name === "Part");
  if (root.name !== "CompleteMultipartUpload" || listed.length === 0) {
    throw new S3Error(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema");
  }
  const chosen = listed.map((part) => {
    const numberText = childText(part, "PartNumber")?.trim() ?? "";
    const etag = childText(part, "ETag");
    if (!/^\d+$/.test(numberText) || etag === undefined) {
      throw new S3Error(400, "MalformedXML", "Each Part needs a PartNumber and an ETag");
    }
    return { partNumber: Number(numberText), etag };
  });
  chosen.forEach((part, i) => {
    if (i > 0 && part.partNumber <= chosen[i - 1]!.partNumber) {
      throw new S3Error(400, "InvalidPartOrder", "The list of parts was not in ascending order. The parts list must be specified in order by part number.");
    }
  });
  const parts = chosen.map(({ partNumber, etag }) => {
    const stored = upload.parts.get(partNumber);
    if (!stored) throw invalidPart(partNumber, "The part was not uploaded.");
    if (unquoted(stored.etag) !== unquoted(etag)) throw invalidPart(partNumber, "The part's entity tag does not match.");
    return stored;
  });
  parts.slice(0, -1).forEach((part) => {
    if (part.body.length < state.minPartSize) {
      throw new S3Error(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.", {
        ProposedSize: String(part.body.length),
        MinSizeAllowed: String(state.minPartSize),
        PartNumber: String(part.partNumber),
      });
    }
  });
  checkWritePreconditions(request, bucket.objects.get(upload.key));

  const bodies = parts.map((part) => part.body);
  const object = storeObject(bucket, upload.key, Buffer.concat(bodies), multipartEtag(parts.map((part) => part.etag)), request, state.now());
  object.contentType = upload.contentType;
  object.metadata = upload.metadata;
  bucket.uploads.delete(upload.uploadId);
  return xmlResponse(
    200,
    xmlDocument("CompleteMultipartUploadResult", [
      element("Location", `http://${request.host}/${bucket.name}/${encodeURI(upload.key)}`),
      element("Bucket", bucket.name),
      element("Key", upload.key),
      element("ETag", object.etag),
    ]),
  );
}

export function abortMultipartUpload(state: S3State, request: S3Request): S3Response {
  const upload = uploadOf(state, request);
  bucketOf(state, request).uploads.delete(upload.uploadId);
  return responseOf(204);
}

export function listMultipartUploads(state: S3State, request: S3Request): S3Response {
  const bucket = bucketOf(state, request);
  if (request.query.has("delimiter")) {
    throw new S3Error(501, "NotImplemented", "ListMultipartUploads with a delimiter is not supported by this test server");
  }
  const prefix = request.query.get("prefix") ?? "";
  const keyMarker = request.query.get("key-marker") ?? "";
  const uploadIdMarker = request.query.get("upload-id-marker") ?? "";
  const maxUploads = integerParam(request, "max-uploads", 1000);
  const all = [...bucket.uploads.values()]
    .filter((u) => u.key.startsWith(prefix))
    .sort((a, b) => compareKeys(a.key, b.key) || a.initiated.getTime() - b.initiated.getTime() || compareKeys(a.uploadId, b.uploadId));
  let from = 0;
  if (keyMarker !== "") {
    const marked = uploadIdMarker === "" ? -1 : all.findIndex((u) => u.key === keyMarker && u.uploadId === uploadIdMarker);
    from = marked >= 0 ? marked + 1 : all.findIndex((u) => compareKeys(u.key, keyMarker) > 0);
    if (from < 0) from = all.length;
  }
  const page = all.slice(from, from + Math.min(maxUploads, state.listPageSize));
  const truncated = from + page.length < all.length;
  const children = [
    element("Bucket", bucket.name),
    element("KeyMarker", keyMarker),
    element("UploadIdMarker", uploadIdMarker),
    element("NextKeyMarker", page.at(-1)?.key ?? ""),
    element("NextUploadIdMarker", page.at(-1)?.uploadId ?? ""),
    element("Prefix", prefix),
    element("MaxUploads", maxUploads),
    element("IsTruncated", truncated),
    ...page.map((u) =>
      element("Upload", [
        element("Key", u.key),
        element("UploadId", u.uploadId),
        element("Initiator", OWNER),
        element("Owner", OWNER),
        element("StorageClass", "STANDARD"),
        element("Initiated", u.initiated.toISOString()),
      ]),
    ),
  ];
  return xmlResponse(200, xmlDocument("ListMultipartUploadsResult", children));
}

export function listParts(state: S3State, request: S3Request): S3Response {
  const upload = uploadOf(state, request);
  const marker = integerParam(request, "part-number-marker", 0);
  const maxParts = integerParam(request, "max-parts", 1000);
  const all = [...upload.parts.values()].filter((p) => p.partNumber > marker).sort((a, b) => a.partNumber - b.partNumber);
  const page = all.slice(0, Math.min(maxParts, state.listPageSize));
  const truncated = page.length < all.length;
  const children = [
    element("Bucket", request.bucket!),
    element("Key", upload.key),
    element("UploadId", upload.uploadId),
    element("Initiator", OWNER),
    element("Owner", OWNER),
    element("StorageClass", "STANDARD"),
    element("PartNumberMarker", marker),
    element("NextPartNumberMarker", page.at(-1)?.partNumber ?? 0),
    element("MaxParts", maxParts),
    element("IsTruncated", truncated),
    ...page.map((p) =>
      element("Part", [
        element("PartNumber", p.partNumber),
        element("LastModified", p.lastModified.toISOString()),
        element("ETag", p.etag),
        element("Size", p.body.length),
      ]),
    ),
  ];
  return xmlResponse(200, xmlDocument("ListPartsResult", children));
}
