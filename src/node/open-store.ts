/**
 * The one place a repository location given by a person (a CLI argument, IBT_REPOSITORY) becomes
 * a Store. A path is a folder through `FsStore(NodeFs)`, the same files a repository always had.
 * `s3:https://host/bucket/prefix`, `s3:http://127.0.0.1:9000/bucket` or restic's
 * `s3:host/bucket/prefix` is an S3Store over node:http (http-transport.ts), with credentials and
 * region found where the AWS tools look (s3-credentials.ts) and a region of "us-east-1" when none
 * is set, which is what most S3-compatible servers accept. A scheme this build does not know is
 * refused with UNSUPPORTED rather than taken for a folder of that odd name.
 *
 * Opening is lazy: nothing is sent to the server here, so a wrong location or a refused secret
 * shows in the first request the repository makes, named by that request.
 */
import { resolve } from "node:path";
import { IbtError } from "../errors.js";
import { FsStore } from "../store/fs-store.js";
import { S3Store } from "../store/s3/s3-store.js";
import { parseS3Location } from "../store/s3/url.js";
import type { Store } from "../store/types.js";
import { NodeFs } from "./fs-node.js";
import { nodeS3Options } from "./http-transport.js";
import { s3CredentialsFromEnvironment } from "./s3-credentials.js";

/** A scheme prefix such as "s3:" (two letters at least, so "C:\\…" stays a Windows path). */
const SCHEME = /^([a-z][a-z0-9+.-]+):/i;

const DEFAULT_REGION = "us-east-1";

export interface OpenStoreOptions {
  /** Where credentials and region are read; default process.env. */
  env?: Record<string, string | undefined>;
}

/** Whether `location` names a folder (rather than a URL-like store location). */
export function isPathLocation(location: string): boolean {
  return !SCHEME.test(location);
}

/** The Store at `location`: a folder path or an `s3:` location. */
export async function openStore(location: string, options: OpenStoreOptions = {}): Promise<Store> {
  if (location === "") throw new IbtError("BAD_ARGUMENT", "an empty repository location");
  const scheme = SCHEME.exec(location)?.[1]?.toLowerCase();
  if (scheme === "s3") {
    // The location is checked before credentials are looked for, so a typo is reported as one.
    const at = parseS3Location(location);
    const found = await s3CredentialsFromEnvironment(options.env ?? process.env);
    return new S3Store({ ...at, credentials: found.credentials, region: found.region ?? DEFAULT_REGION, ...nodeS3Options() });
  }
  if (scheme !== undefined) throw new IbtError("UNSUPPORTED", `unknown repository location scheme "${scheme}:" (a folder path, or s3:https://host/bucket/prefix)`);
  const dir = resolve(location);
  return new FsStore(new NodeFs(dir, { sync: true }), dir);
}
