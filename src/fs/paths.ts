/**
 * Relative paths as every layer above the adapters sees them: `/`-separated, NFC, no empty,
 * "." or ".." segments, no leading or trailing "/", no backslash or NUL; "" is the root.
 * `checkPath` is the one gate: adapters call it on every path they receive, and archive and
 * index readers call it on every path they load, so a hostile name is refused before it can
 * reach storage.
 */
import { IbtError } from "../errors.js";

/** Returns `path` if it is a safe relative path, else throws UNSAFE_PATH. */
export function checkPath(path: string): string {
  if (path === "") return path;
  const bad = (why: string): never => {
    throw new IbtError("UNSAFE_PATH", `unsafe path ${JSON.stringify(path)}: ${why}`, { path });
  };
  if (typeof path !== "string") bad("not a string");
  if (path.includes("\0")) bad("contains NUL");
  if (path.includes("\\")) bad("contains a backslash");
  if (path.startsWith("/")) bad("absolute");
  if (/^[A-Za-z]:/.test(path)) bad("has a drive letter");
  if (path.normalize("NFC") !== path) bad("not in Unicode NFC");
  for (const seg of path.split("/")) {
    if (seg === "") bad("empty segment");
    if (seg === "." || seg === "..") bad(`"${seg}" segment`);
  }
  return path;
}

/** Joins a directory and a name (the name is one segment). */
export function joinPath(dir: string, name: string): string {
  return dir === "" ? name : `${dir}/${name}`;
}

/** The parent directory ("" for top-level entries). */
export function parentPath(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "" : path.slice(0, i);
}

/** The last segment. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** Number of segments: "" has 0, "a" 1, "a/b" 2. */
export function depth(path: string): number {
  return path === "" ? 0 : path.split("/").length;
}

/**
 * Resolves a symlink target written relative to the link's directory to a root-relative path,
 * or undefined when it is absolute or climbs out of the root.
 */
export function resolveLinkTarget(linkPath: string, target: string): string | undefined {
  if (target.startsWith("/") || target.includes("\0") || target.includes("\\")) return undefined;
  const parts = parentPath(linkPath) === "" ? [] : parentPath(linkPath).split("/");
  for (const seg of target.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else parts.push(seg);
  }
  return parts.join("/");
}
