/**
 * The group member of a v2 diff archive: many small files' bytes and small deltas packed into one
 * plain tar (POSIX ustar, with a pax `path` record where a name does not fit or is not ASCII), so
 * that they are deflated together, each member seeing its neighbours' context, and so that
 * `unzip` then `tar x` yields `new/<path>` and `delta/<path>` files exactly as a v1 archive does.
 *
 * A file's data starts right after its 512-byte ustar header, on a 512-byte boundary, and is
 * padded to the next one; the manifest names each change's data by offset and length inside the
 * group's uncompressed bytes, so a reader never parses the tar to find it. It still checks the
 * header in front of a span (checksum, size field) so a group whose tar view disagrees with its
 * manifest view is refused rather than restoring one thing and extracting another.
 *
 * Groups are bounded: the writer closes one when it reaches its target size, and only the bytes
 * or deltas of files of at most GROUPED_MAX bytes go in, so one group never exceeds MAX_GROUP_SIZE, which a
 * reader enforces on the declared size before inflating anything.
 */
import { IbtError } from "../errors.js";
import { copyAscii } from "../bytes.js";

/** Files up to this size (and their deltas) are packed into groups; larger ones stay members of their own. */
export const GROUPED_MAX = 256 * 1024;
/**
 * Files up to this size (and their deltas) go into groups compressed with zstd, whose window
 * reaches across a whole group: large files then gain from their neighbours too.
 */
export const ZSTD_GROUPED_MAX = 8 * 1024 * 1024;
/** Default target of a group's uncompressed size: the writer closes a group that reaches it. */
export const DEFAULT_GROUP_SIZE = 2 * 1024 * 1024;
/** The largest target a writer takes. */
export const MAX_GROUP_TARGET = 8 * 1024 * 1024;
/** The largest group a reader inflates: a target, one more item and its headers, with room to spare. */
export const MAX_GROUP_SIZE = 16 * 1024 * 1024;

export const BLOCK = 512;
const GROUP_NAME = /^group\/[0-9]{6}\.tar$/;

export function groupName(n: number): string {
  return `group/${String(n).padStart(6, "0")}.tar`;
}

export function isGroupName(name: string): boolean {
  return GROUP_NAME.test(name);
}

export function padded(n: number): number {
  return Math.ceil(n / BLOCK) * BLOCK;
}

const enc = new TextEncoder();

/** The header blocks (a pax record block when needed, then the ustar header) in front of a file's data. */
export function tarHeader(name: string, size: number, mtimeMs: number, mode: number): Uint8Array {
  const split = isAscii(name) ? splitName(name) : undefined;
  const mtime = Math.max(0, Math.floor(mtimeMs / 1000));
  if (split) return ustar(split.name, split.prefix, size, mtime, mode, "0");
  // A pax extended header carries the whole UTF-8 name; the ustar name is a readable stand-in.
  const record = paxRecord("path", enc.encode(name));
  const stand = `${name.replace(/[^\x20-\x7e]/g, "_").slice(-99)}`;
  const pax = ustar(`PaxHeader/${stand}`.slice(0, 100), "", record.length, mtime, 0o644, "x");
  const out = new Uint8Array(BLOCK + padded(record.length) + BLOCK);
  out.set(pax, 0);
  out.set(record, BLOCK);
  out.set(ustar(stand, "", size, mtime, mode, "0"), BLOCK + padded(record.length));
  return out;
}

const ASCII_ONLY = /^[\x00-\x7f]*$/;

function isAscii(s: string): boolean {
  return ASCII_ONLY.test(s);
}

/** A name that fits ustar's 100-byte name and 155-byte prefix, split at a slash; undefined if none does. */
function splitName(name: string): { name: string; prefix: string } | undefined {
  if (name.length <= 100) return { name, prefix: "" };
  for (let i = name.indexOf("/"); i >= 0; i = name.indexOf("/", i + 1)) {
    if (i <= 155 && name.length - i - 1 <= 100 && name.length - i - 1 > 0) return { name: name.slice(i + 1), prefix: name.slice(0, i) };
  }
  return undefined;
}

/** "<len> key=value\n", where len counts the whole record including its own digits. */
function paxRecord(key: string, value: Uint8Array): Uint8Array {
  const rest = 1 + key.length + 1 + value.length + 1;
  let len = rest + String(rest).length;
  if (String(len).length !== String(rest).length) len = rest + String(len).length;
  const head = enc.encode(`${len} ${key}=`);
  const out = new Uint8Array(len);
  out.set(head, 0);
  out.set(value, head.length);
  out[len - 1] = 0x0a;
  return out;
}

/** Every field is ASCII here (the caller makes sure of the names), so it is copied a byte a character. */
function ustar(name: string, prefix: string, size: number, mtime: number, mode: number, type: string): Uint8Array {
  const h = new Uint8Array(BLOCK);
  copyAscii(name, h, 0);
  octal(h, 100, 8, mode & 0o7777);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  octal(h, 124, 12, size);
  octal(h, 136, 12, Math.min(mtime, 0o77777777777));
  h[156] = type.charCodeAt(0);
  copyAscii("ustar\0", h, 257);
  copyAscii("00", h, 263);
  copyAscii(prefix, h, 345);
  h.fill(0x20, 148, 156);
  octal(h, 148, 7, checksum(h));
  h[155] = 0x20;
  return h;
}

/** Writes `value` as zero-padded octal in `width - 1` digits and a NUL. */
function octal(h: Uint8Array, at: number, width: number, value: number): void {
  let v = value;
  for (let i = at + width - 2; i >= at; i--) {
    h[i] = 0x30 + (v % 8);
    v = Math.floor(v / 8);
  }
  h[at + width - 1] = 0;
}

function checksum(h: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  return sum;
}

function readOctal(h: Uint8Array, at: number, width: number): number | undefined {
  let v = 0;
  let digits = 0;
  for (let i = at; i < at + width; i++) {
    const c = h[i]!;
    if (c === 0 || c === 0x20) {
      if (digits > 0) break;
      continue;
    }
    if (c < 0x30 || c > 0x37) return undefined;
    v = v * 8 + (c - 0x30);
    digits++;
  }
  return digits > 0 ? v : undefined;
}

/**
 * Checks that the 512 bytes in front of a span are the ustar header of a regular file of exactly
 * `length` bytes, so `tar x` of the group gives the bytes the manifest points at.
 */
export function checkDataHeader(header: Uint8Array, length: number, where: string): void {
  const bad = (why: string): never => {
    throw new IbtError("CORRUPT", `${where}: ${why}`, { path: where });
  };
  if (header.length !== BLOCK) bad("no tar header in front of the data");
  if (readOctal(header, 148, 8) !== checksum(header)) bad("the tar header in front of the data has a bad checksum");
  if (header[156] !== 0x30 && header[156] !== 0) bad("the tar header in front of the data is not a regular file");
  if (readOctal(header, 124, 12) !== length) bad("the tar header's size differs from the manifest's length");
}
