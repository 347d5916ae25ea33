/**
 * S3's multipart upload, for objects larger than one part: create the upload, send the parts with
 * at most `concurrency` in flight, complete it with the list of part ETags. Nothing is visible
 * under the key until CompleteMultipartUpload succeeds, which is what makes a large save whole or
 * nothing. On any failure (a part that fails for good, the source throwing, the caller's signal)
 * the upload is aborted, best effort, so the server drops the parts; what the sweep finds is only
 * what a writer that died left.
 *
 * Memory: the consumer pulls the next part only when a slot is free, so at most `concurrency`
 * parts are in flight plus the one being filled.
 *
 * A retried Complete is ambiguous: the first attempt may have completed the upload before its
 * answer was lost, and the retry then hears NoSuchUpload (or 412 under If-None-Match). Each upload
 * carries a random tag in its metadata; where the object under the key has our tag, the upload
 * was ours and it succeeded.
 */
import { IbtError } from "../../errors.js";
import type { S3Client } from "./client.js";
import { describe } from "./errors.js";
import { aborted } from "./retry.js";
import { childText, parseXml, XmlError, type XmlElement } from "./xml.js";

/** S3's limit on parts per upload. */
export const MAX_PARTS = 10_000;
/** The metadata header that carries an upload's tag. */
export const UPLOAD_TAG_HEADER = "x-amz-meta-ibt-upload";

export interface MultipartOptions {
  client: S3Client;
  /** Full key in the bucket. */
  key: string;
  /** The object's name for messages. */
  name: string;
  concurrency: number;
  ifAbsent: boolean;
  signal?: AbortSignal | undefined;
  /** Called with each part once its upload has settled, success or not; it is not read again. */
  release?: (part: Uint8Array) => void;
}

/** Uploads `parts` (each but the last at least S3's minimum) as one object. */
export async function uploadMultipart(parts: AsyncIterable<Uint8Array>, o: MultipartOptions): Promise<void> {
  const tag = randomTag();
  const created = await o.client.send({
    method: "POST",
    key: o.key,
    query: [["uploads", ""]],
    headers: { "content-type": "application/octet-stream", [UPLOAD_TAG_HEADER]: tag },
    label: { method: "CreateMultipartUpload", what: o.name },
    signal: o.signal,
  });
  const uploadId = childText(parseDocument(created.body, "InitiateMultipartUploadResult", "CreateMultipartUpload", o.name), "UploadId");
  if (!uploadId) throw new IbtError("IO", `${describe({ method: "CreateMultipartUpload", what: o.name })}: no UploadId in the answer`, { path: o.name });

  try {
    const etags = await uploadParts(parts, uploadId, o);
    await complete(uploadId, etags, tag, o);
  } catch (e) {
    await abortUpload(o.client, o.key, uploadId, o.name);
    if (o.signal?.aborted) throw aborted(o.signal);
    throw e;
  }
}

async function uploadParts(parts: AsyncIterable<Uint8Array>, uploadId: string, o: MultipartOptions): Promise<string[]> {
  const etags: string[] = [];
  const inflight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  let count = 0;
  try {
    for await (const part of parts) {
      if (failure || o.signal?.aborted) {
        o.release?.(part);
        break;
      }
      const number = ++count;
      if (number > MAX_PARTS) {
        throw new IbtError("LIMIT", `${describe({ method: "PUT", what: o.name })}: more than ${MAX_PARTS} parts; use a larger partSize`, { path: o.name });
      }
      const sending: Promise<void> = uploadPart(part, number, uploadId, o)
        .then((etag) => void (etags[number - 1] = etag))
        .catch((error: unknown) => void (failure ??= { error }))
        .finally(() => {
          inflight.delete(sending);
          o.release?.(part);
        });
      inflight.add(sending);
      while (inflight.size >= o.concurrency) await Promise.race(inflight);
    }
  } finally {
    // Every part settles before the upload is completed or aborted.
    await Promise.all(inflight);
  }
  if (failure) throw failure.error;
  if (o.signal?.aborted) throw aborted(o.signal);
  return etags;
}

async function uploadPart(part: Uint8Array, number: number, uploadId: string, o: MultipartOptions): Promise<string> {
  const label = { method: "UploadPart", what: `${o.name} part ${number}` };
  const answer = await o.client.send({
    method: "PUT",
    key: o.key,
    query: [["partNumber", String(number)], ["uploadId", uploadId]],
    body: part,
    label,
    signal: o.signal,
  });
  const etag = answer.headers.get("etag");
  if (!etag) throw new IbtError("IO", `${describe(label)}: no ETag in the answer`, { path: o.name });
  return etag;
}

async function complete(uploadId: string, etags: string[], tag: string, o: MultipartOptions): Promise<void> {
  const label = { method: "CompleteMultipartUpload", what: o.name };
  const xml =
    "<CompleteMultipartUpload>" +
    etags.map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${escapeXml(etag)}</ETag></Part>`).join("") +
    "</CompleteMultipartUpload>";
  const headers: Record<string, string> = { "content-type": "application/xml" };
  if (o.ifAbsent) headers["if-none-match"] = "*";
  const answer = await o.client.send({
    method: "POST",
    key: o.key,
    query: [["uploadId", uploadId]],
    headers,
    body: new TextEncoder().encode(xml),
    label,
    signal: o.signal,
    accept: [404, 412],
    errorIn200: true,
  });
  if (answer.status === 200) return;
  if (answer.uncertain && (await hasTag(o, tag))) return;
  if (answer.status === 412) throw new IbtError("EXISTS", `${describe(label)}: HTTP 412: object ${o.name} exists`, { path: o.name, caller: "save" });
  throw new IbtError("IO", `${describe(label)}: HTTP 404: the upload vanished before it was completed`, { path: o.name, caller: "save" });
}

/** Whether the object under the key is the one our upload with `tag` made. */
async function hasTag(o: MultipartOptions, tag: string): Promise<boolean> {
  const head = await o.client.send({ method: "HEAD", key: o.key, label: { method: "HEAD", what: o.name }, signal: o.signal, accept: [404] });
  return head.status === 200 && head.headers.get(UPLOAD_TAG_HEADER) === tag;
}

/** Aborts an upload, best effort: its failure leaves only what `sweep` removes later. */
export async function abortUpload(client: S3Client, key: string, uploadId: string, name: string): Promise<boolean> {
  try {
    await client.send({ method: "DELETE", key, query: [["uploadId", uploadId]], label: { method: "AbortMultipartUpload", what: name }, accept: [404] });
    return true;
  } catch {
    return false;
  }
}

/** Parses an S3 answer whose root must be `root`; IO error otherwise. */
export function parseDocument(body: Uint8Array, root: string, method: string, what: string): XmlElement {
  let doc: XmlElement;
  try {
    doc = parseXml(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch (e) {
    const why = e instanceof XmlError ? e.message : "not UTF-8";
    throw new IbtError("IO", `${describe({ method, what })}: unreadable answer: ${why}`, { path: what, caller: method, cause: e });
  }
  if (doc.name !== root) throw new IbtError("IO", `${describe({ method, what })}: answer is <${doc.name}>, not <${root}>`, { path: what, caller: method });
  return doc;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function randomTag(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
