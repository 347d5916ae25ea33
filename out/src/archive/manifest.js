/**
 * The manifest of a diff archive: the member `ibt-manifest.json`, written first.
 *
 * It names the format version, the identities of the base and target indexes, and every change
 * with the old and new hash and metadata of its path, plus the archive member that carries its
 * data: `new/<path>` holds a created (or too-changed) file's bytes, `delta/<path>` a librsync
 * delta against the old file. Moves, copies, deletions, symlinks, directories and metadata-only
 * changes carry no member.
 *
 * Reading a manifest trusts nothing: the version, every path (checkPath), uniqueness, kinds,
 * hashes and member names are checked, and anything off is CORRUPT, UNSAFE_PATH or UNSUPPORTED.
 */
import { IbtError } from "../errors.js";
import { checkPath } from "../fs/paths.js";
import { STAGING_PREFIX } from "../dirindex/entry.js";
export const MANIFEST_NAME = "ibt-manifest.json";
export const MANIFEST_FORMAT = "incremental-backups-tools/diff";
export const MANIFEST_VERSION = 1;
const KINDS = new Set(["create", "update", "delete", "move", "copy", "relink", "metadata"]);
const TYPES = new Set(["file", "dir", "symlink"]);
const HASH = /^[0-9a-f]{64}$/;
function corrupt(message, path) {
    throw new IbtError("CORRUPT", `manifest: ${message}`, path === undefined ? {} : { path });
}
function checkEntry(e, where) {
    if (typeof e !== "object" || e === null)
        corrupt(`${where} is not an object`);
    const x = e;
    if (!TYPES.has(x.type))
        corrupt(`${where} has unknown type ${String(x.type)}`);
    if (!Number.isSafeInteger(x.size) || x.size < 0)
        corrupt(`${where}.size is not a valid size`);
    checkMeta(x, where);
    if (x.hash !== undefined && (typeof x.hash !== "string" || !HASH.test(x.hash)))
        corrupt(`${where}.hash is not a hash`);
    if (x.type === "file" && x.hash === undefined)
        corrupt(`${where} is a file without a hash`);
    // An unstorable target would only fail at the commit, after the tree began to change.
    if (x.type === "symlink" && (typeof x.target !== "string" || x.target === "" || x.target.includes("\0"))) {
        corrupt(`${where} is a symlink without a valid target`);
    }
    return x;
}
/** Mode and mtime are applied last, after the commit point: a value no adapter takes must be refused now. */
function checkMeta(x, where) {
    if (!Number.isInteger(x.mode) || x.mode < 0 || x.mode > 0xffff)
        corrupt(`${where}.mode is not a valid mode`);
    if (typeof x.mtimeMs !== "number" || !(Math.abs(x.mtimeMs) <= MAX_TIME_MS))
        corrupt(`${where}.mtimeMs is not a valid time`);
}
/** The largest time a JS Date holds (and so every adapter can set). */
const MAX_TIME_MS = 8.64e15;
/** Parses and validates a manifest. */
export function parseManifest(bytes) {
    let m;
    try {
        m = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    }
    catch {
        corrupt("not valid UTF-8 JSON");
    }
    if (typeof m !== "object" || m === null)
        corrupt("not an object");
    const x = m;
    if (x.format !== MANIFEST_FORMAT)
        corrupt(`unknown format ${String(x.format)}`);
    if (x.version !== MANIFEST_VERSION) {
        throw new IbtError("UNSUPPORTED", `diff archive version ${String(x.version)} (this library reads ${MANIFEST_VERSION})`);
    }
    if (typeof x.base !== "string" || !HASH.test(x.base) || typeof x.target !== "string" || !HASH.test(x.target)) {
        corrupt("base or target identity missing");
    }
    if (!Array.isArray(x.changes))
        corrupt("changes is not a list");
    const seen = new Set();
    const members = new Set();
    for (const [i, c] of x.changes.entries()) {
        if (typeof c !== "object" || c === null)
            corrupt(`change ${i} is not an object`);
        const ch = c;
        if (!KINDS.has(ch.kind))
            corrupt(`change ${i} has unknown kind ${String(ch.kind)}`);
        if (typeof ch.path !== "string" || ch.path === "")
            corrupt(`change ${i} has no path`);
        checkPath(ch.path);
        if (ch.path.startsWith(STAGING_PREFIX))
            corrupt(`change ${i} names the staging area`, ch.path);
        const key = `${ch.kind === "delete" ? "-" : "+"}${ch.path}`;
        if (seen.has(key))
            corrupt(`path ${JSON.stringify(ch.path)} changes twice`, ch.path);
        seen.add(key);
        const needsOld = ch.kind !== "create" && ch.kind !== "move" && ch.kind !== "copy";
        const needsNew = ch.kind !== "delete";
        if (needsOld)
            checkEntry(ch.old, `change ${i}.old`);
        if (needsNew)
            checkEntry(ch.new, `change ${i}.new`);
        if (ch.kind === "move" || ch.kind === "copy") {
            if (typeof ch.from !== "string" || ch.from === "")
                corrupt(`change ${i} has no source`);
            checkPath(ch.from);
            if (ch.from.startsWith(STAGING_PREFIX))
                corrupt(`change ${i} names the staging area`, ch.from);
        }
        if (ch.member !== undefined) {
            if (typeof ch.member !== "string" || (ch.encoding !== "bytes" && ch.encoding !== "delta"))
                corrupt(`change ${i} has a bad member`);
            checkPath(ch.member);
            if (members.has(ch.member))
                corrupt(`member ${String(ch.member)} used twice`);
            members.add(ch.member);
        }
        const isFileData = (ch.kind === "create" || ch.kind === "update") && ch.new.type === "file";
        if (isFileData !== (ch.member !== undefined))
            corrupt(`change ${i} (${String(ch.kind)} ${String(ch.path)}) data member mismatch`);
        if (ch.kind === "update" && ch.old.type !== "file")
            corrupt(`change ${i} updates a non-file`);
        if (needsOld && needsNew && ch.old.type !== ch.new.type)
            corrupt(`change ${i} (${String(ch.kind)}) changes the type`);
        if (ch.kind === "relink" && ch.new.type !== "symlink")
            corrupt(`change ${i} relinks a non-symlink`);
    }
    checkAncestors(x.changes);
    if (!Array.isArray(x.parents))
        corrupt("parents is not a list");
    for (const [i, d] of x.parents.entries()) {
        const e = d;
        if (typeof e !== "object" || e === null || typeof e.path !== "string" || e.path === "")
            corrupt(`parent ${i} has no path`);
        checkPath(e.path);
        if (e.path.startsWith(STAGING_PREFIX))
            corrupt(`parent ${i} names the staging area`, e.path);
        checkMeta(e, `parent ${i}`);
    }
    return x;
}
/**
 * Every path the diff leaves in the new tree must sit under directories: an ancestor that the
 * diff deletes (without creating it again) or turns into a file or symlink would make the
 * commit fail half-way, and a symlink ancestor is how a hostile diff would write through a link.
 */
function checkAncestors(changes) {
    const after = new Map();
    for (const c of changes)
        if (c.kind === "delete" && !after.has(c.path))
            after.set(c.path, "deleted");
    for (const c of changes)
        if (c.kind !== "delete")
            after.set(c.path, c.new.type);
    for (const c of changes) {
        if (c.kind === "delete")
            continue;
        for (let i = c.path.indexOf("/"); i >= 0; i = c.path.indexOf("/", i + 1)) {
            const state = after.get(c.path.slice(0, i));
            if (state !== undefined && state !== "dir") {
                corrupt(`${JSON.stringify(c.path)} would be inside ${JSON.stringify(c.path.slice(0, i))}, which the diff makes a ${state === "deleted" ? "deleted path" : state}`, c.path);
            }
        }
    }
}
export function encodeManifest(m) {
    return new TextEncoder().encode(JSON.stringify(m));
}
//# sourceMappingURL=manifest.js.map