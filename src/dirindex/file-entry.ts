/**
 * A file's entry as the walk makes it: its content hash and signature from one read
 * (FileDigest), or the previous entry's when the quick check vouches for the file.
 */
import type { FsStat } from "../fs/types.js";
import { Hasher } from "../rsync/hashes.js";
import { SignatureJob } from "../rsync/signature.js";
import type { SignatureOptions } from "../rsync/format.js";
import { concatBytes } from "../bytes.js";
import type { IndexEntry } from "./entry.js";

/** A file's content hash and, if asked for, its librsync signature, fed the same chunks. */
export class FileDigest {
  hash: Uint8Array | undefined;
  signature: Uint8Array | undefined;
  private readonly sigParts: Uint8Array[] = [];

  private constructor(
    private readonly hasher: Hasher,
    private readonly sig: SignatureJob | undefined,
  ) {
    if (sig) sig.ondata = (d) => this.sigParts.push(d);
  }

  static async create(signatures: SignatureOptions | undefined, size: number): Promise<FileDigest> {
    const hasher = await Hasher.create();
    try {
      return new FileDigest(hasher, signatures ? await SignatureJob.create({ ...signatures, size }) : undefined);
    } catch (e) {
      hasher.dispose();
      throw e;
    }
  }

  push(chunk: Uint8Array): void {
    this.hasher.update(chunk);
    this.sig?.push(chunk);
  }

  finish(): void {
    if (this.sig) {
      this.sig.push(new Uint8Array(0), true);
      // The index keeps the signature as long as it lives: a view of a larger output buffer
      // (what a small file's job hands out) would keep that whole buffer too.
      const sig = concatBytes(this.sigParts);
      this.signature = sig.byteLength === sig.buffer.byteLength ? sig : sig.slice();
    }
    this.hash = this.hasher.digest();
  }

  /** Gives the engine instances back, finished or not. */
  dispose(): void {
    this.hasher.dispose();
    this.sig?.dispose();
  }
}

/**
 * Times are kept in whole milliseconds. File systems record nanoseconds, but JavaScript can only
 * set times as a double of seconds, which cannot carry them: a restored file would never match
 * its index. Milliseconds survive the round trip exactly, and the quick check does not rest on
 * mtime alone where change times and inodes exist. They are truncated, not rounded, so a time
 * keeps its second (rounding put 09.9996 s back as 10.000 s); half a microsecond of slack takes a
 * whole millisecond read back a hair below itself as that millisecond.
 */
export function ms(t: number): number {
  return Math.floor(t + 0.0005);
}

/**
 * Whether `stored`, a time an index holds, is `t` as the index keeps it. Indexes written before
 * times were truncated hold them rounded to the nearest millisecond; those still match, so an
 * upgrade does not make the quick check read half of every tree again.
 */
export function sameMs(stored: number | undefined, t: number): boolean {
  return stored === ms(t) || stored === Math.round(t);
}

/**
 * The entry of a file the quick check vouched for: its metadata now, its old hash and signature.
 * Where that is the old entry field for field (a file untouched since the last backup, nearly
 * every file of most runs) it is the old entry itself, so the new index shares it with the
 * previous one instead of holding a copy.
 */
export function reusedEntry(path: string, st: FsStat, old: IndexEntry, signatures: boolean): IndexEntry {
  if (
    old.path === path &&
    sameMs(old.mtimeMs, st.mtimeMs) &&
    old.mode === st.mode &&
    (st.ctimeMs === undefined ? old.ctimeMs === undefined : sameMs(old.ctimeMs, st.ctimeMs)) &&
    old.ino === st.ino &&
    old.target === undefined &&
    (signatures || old.signature === undefined)
  ) {
    return old; // type, size and hash are the quick check's
  }
  return fileEntry(path, st, old.hash!, signatures ? old.signature : undefined);
}

/**
 * A file's entry. Where the adapter reports change time and inode (every POSIX file system) it
 * is one literal with every field, in the order a loaded index builds them: the commonest
 * entries then share one shape, and nothing is spread.
 */
export function fileEntry(path: string, st: FsStat, hash: string, signature: Uint8Array | undefined): IndexEntry {
  if (st.ctimeMs !== undefined && st.ino !== undefined && signature !== undefined) {
    return { path, type: "file", size: st.size, mtimeMs: ms(st.mtimeMs), mode: st.mode, ctimeMs: ms(st.ctimeMs), ino: st.ino, hash, signature };
  }
  const entry: IndexEntry = { path, type: "file", size: st.size, mtimeMs: ms(st.mtimeMs), mode: st.mode, ...changeInfo(st), hash };
  if (signature !== undefined) entry.signature = signature;
  return entry;
}

export function changeInfo(st: FsStat): { ctimeMs?: number; ino?: number } {
  const info: { ctimeMs?: number; ino?: number } = {};
  if (st.ctimeMs !== undefined) info.ctimeMs = ms(st.ctimeMs);
  if (st.ino !== undefined) info.ino = st.ino;
  return info;
}

/** A previous entry this file may take its hash (and signature, if needed) from. */
export function usable(e: IndexEntry, st: FsStat, needSignature: boolean): boolean {
  return e.type === "file" && (e.signature !== undefined || !needSignature) && quickCheckPasses(e, st);
}

/** Size and mtime equal, and ctime and inode too wherever both sides have them. */
export function quickCheckPasses(old: IndexEntry, st: FsStat): boolean {
  if (old.size !== st.size || !sameMs(old.mtimeMs, st.mtimeMs) || old.hash === undefined) return false;
  if (old.ctimeMs !== undefined && st.ctimeMs !== undefined && !sameMs(old.ctimeMs, st.ctimeMs)) return false;
  if (old.ino !== undefined && st.ino !== undefined && old.ino !== st.ino) return false;
  return true;
}
