/**
 * The one place a repository location given by a person (a CLI argument, IBT_REPOSITORY) becomes
 * a Store. A path is a folder through `FsStore(NodeFs)`, the same files a repository always had;
 * a location with a URL scheme (`s3:https://host/bucket/prefix`) is for the object stores, and
 * a scheme this build does not know is refused here with UNSUPPORTED rather than taken for a
 * folder of that odd name.
 */
import { resolve } from "node:path";
import { IbtError } from "../errors.js";
import { FsStore } from "../store/fs-store.js";
import type { Store } from "../store/types.js";
import { NodeFs } from "./fs-node.js";

/** A scheme prefix such as "s3:" (two letters at least, so "C:\\…" stays a Windows path). */
const SCHEME = /^([a-z][a-z0-9+.-]+):/i;

/** Whether `location` names a folder (rather than a URL-like store location). */
export function isPathLocation(location: string): boolean {
  return !SCHEME.test(location);
}

/** The Store at `location`: a folder path, or (not in this build yet) an `s3:` URL. */
export function openStore(location: string): Store {
  if (location === "") throw new IbtError("BAD_ARGUMENT", "an empty repository location");
  const scheme = SCHEME.exec(location)?.[1]?.toLowerCase();
  if (scheme === "s3") throw new IbtError("UNSUPPORTED", "S3 repositories (s3:…) are not supported by this build yet");
  if (scheme !== undefined) throw new IbtError("UNSUPPORTED", `unknown repository location scheme "${scheme}:" (a folder path, or s3:https://host/bucket/prefix)`);
  const dir = resolve(location);
  return new FsStore(new NodeFs(dir, { sync: true }), dir);
}
