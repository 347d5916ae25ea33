/**
 * Where an S3 store is, as text and as request URLs. A location is written
 * `s3:https://host[:port]/bucket[/prefix]` (the endpoint's scheme explicit) or, as restic writes
 * it, `s3:host/bucket[/prefix]` with https implied. Request URLs are built here for both
 * addressing styles: path style (`endpoint/bucket/key`, what MinIO, Ceph and most S3-compatible
 * servers expect) and virtual-hosted style (`bucket.endpoint/key`, AWS's preference).
 *
 * Keys are encoded segment by segment with SigV4's rules and never contain a `.` or `..`
 * segment: the WHATWG URL parser that fetch applies would resolve those away and the request
 * would name another object than the one signed.
 */
import { IbtError } from "../../errors.js";
import { uriEncode } from "./sigv4.js";

export interface S3Location {
  /** Scheme, host, port and any path of the service, without a trailing `/`. */
  endpoint: string;
  bucket: string;
  /** Folder inside the bucket, without leading or trailing `/`; "" for the bucket's root. */
  prefix: string;
}

/** Parses `s3:https://host/bucket/prefix`, `s3:http://host:9000/bucket` or `s3:host/bucket/prefix`. */
export function parseS3Location(location: string): S3Location {
  const bad = (why: string): never => {
    throw new IbtError("BAD_ARGUMENT", `not an S3 location (${why}): ${JSON.stringify(location)}`, { caller: "parseS3Location" });
  };
  if (!location.startsWith("s3:")) bad("it does not start with s3:");
  let rest = location.slice(3);
  if (!/^https?:\/\//.test(rest)) {
    if (rest.startsWith("/")) bad("no host");
    rest = "https://" + rest;
  }
  let url: URL;
  try {
    url = new URL(rest);
  } catch {
    return bad("not a URL");
  }
  if (url.username || url.password) bad("credentials do not belong in the location");
  if (url.search || url.hash) bad("a query or fragment");
  const segments = url.pathname.split("/").filter((s) => s !== "");
  const bucket = segments.shift();
  if (!bucket) return bad("no bucket");
  return { endpoint: `${url.protocol}//${url.host}`, bucket: decodeURIComponent(bucket), prefix: segments.map(decodeURIComponent).join("/") };
}

/** `s3:<endpoint>/<bucket>[/<prefix>]`, the form `parseS3Location` reads. */
export function formatS3Location(l: S3Location): string {
  return `s3:${l.endpoint}/${l.bucket}${l.prefix ? "/" + l.prefix : ""}`;
}

/** Throws BAD_ARGUMENT unless `prefix` can be a key prefix (no empty, `.` or `..` segment). */
export function checkPrefix(prefix: string): void {
  if (prefix === "") return;
  if (prefix.split("/").some((s) => s === "" || s === "." || s === "..")) {
    throw new IbtError("BAD_ARGUMENT", `S3 prefix ${JSON.stringify(prefix)} has an empty, "." or ".." segment`, { caller: "S3Store" });
  }
}

/** Builds request URLs for one bucket. */
export class S3Urls {
  private readonly base: string;

  constructor(endpoint: string, bucket: string, style: "path" | "virtual") {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new IbtError("BAD_ARGUMENT", `S3 endpoint is not a URL: ${JSON.stringify(endpoint)}`, { caller: "S3Store" });
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw new IbtError("BAD_ARGUMENT", `S3 endpoint must be http or https: ${JSON.stringify(endpoint)}`, { caller: "S3Store" });
    }
    if (!/^[a-z0-9][a-z0-9.\-_]{0,254}$/i.test(bucket) || bucket.includes("..")) {
      throw new IbtError("BAD_ARGUMENT", `not a valid S3 bucket name: ${JSON.stringify(bucket)}`, { caller: "S3Store" });
    }
    const path = url.pathname.replace(/\/+$/, "");
    this.base =
      style === "virtual" ? `${url.protocol}//${bucket}.${url.host}${path}` : `${url.protocol}//${url.host}${path}/${bucket}`;
  }

  /** The URL of `key` (full key in the bucket; "" for the bucket itself) with `query`. */
  url(key: string, query: [string, string][] = []): URL {
    const path = key === "" ? (this.base.endsWith("/") ? "" : "/") : "/" + key.split("/").map((s) => uriEncode(s)).join("/");
    const q = query.map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`).join("&");
    return new URL(this.base + path + (q ? "?" + q : ""));
  }
}
