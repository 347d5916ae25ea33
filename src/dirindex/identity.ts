/**
 * The identity of an index: BLAKE2b-256 over its entries' canonical form (type, path, size,
 * mode, mtime, content hash, symlink target; not ctime, inode or signatures, which do not
 * describe the tree's content). A diff names the identity of the index it was made against,
 * so applying it to anything else can be refused before a byte is written.
 *
 * The canonical form is one line per entry, `type\0path\0size\0mode\0mtime\0hash\0target\n`,
 * in UTF-8, numbers as `String` writes them. The lines are written straight into one reused
 * buffer that is hashed each time it fills: building them as strings first made several
 * short-lived strings per entry, and loading an index computes this for every entry in it.
 */
import { Hasher } from "../rsync/hashes.js";
import { copyAscii, toHex } from "../bytes.js";
import type { IndexEntry } from "./entry.js";

const UTF8 = new TextEncoder();
const NUL = 0;
const NEWLINE = 10;

/** Writes text into a buffer that is hashed and reused whenever it fills. */
class HashedLines {
  private readonly buf = new Uint8Array(64 * 1024);
  private used = 0;

  constructor(private readonly hasher: Hasher) {}

  text(s: string): void {
    // At most 3 bytes per UTF-16 unit; a string that could not fit even an empty buffer is
    // encoded on its own.
    if (this.used + 3 * s.length > this.buf.length) {
      this.flush();
      if (3 * s.length > this.buf.length) {
        this.hasher.update(UTF8.encode(s));
        return;
      }
    }
    // ASCII (nearly every path) is copied unit by unit; the rest goes through the encoder.
    const i = copyAscii(s, this.buf, this.used);
    this.used += i;
    if (i < s.length) this.used += UTF8.encodeInto(s.slice(i), this.buf.subarray(this.used)).written;
  }

  byte(b: number): void {
    if (this.used === this.buf.length) this.flush();
    this.buf[this.used++] = b;
  }

  flush(): void {
    this.hasher.update(this.buf.subarray(0, this.used));
    this.used = 0;
  }
}

export async function indexIdentity(sorted: readonly IndexEntry[]): Promise<string> {
  const identity = await IdentityHasher.create();
  try {
    for (const e of sorted) identity.add(e);
    return identity.digest();
  } finally {
    identity.dispose();
  }
}

/** An index's identity, from its entries in path order, one at a time. */
export class IdentityHasher {
  private readonly out: HashedLines;

  private constructor(private readonly hasher: Hasher) {
    this.out = new HashedLines(hasher);
  }

  static async create(): Promise<IdentityHasher> {
    return new IdentityHasher(await Hasher.create("blake2b", 32));
  }

  add(e: IndexEntry): void {
    const out = this.out;
    out.text(e.type);
    out.byte(NUL);
    out.text(e.path);
    out.byte(NUL);
    out.text(String(e.size));
    out.byte(NUL);
    out.text(String(e.mode));
    out.byte(NUL);
    out.text(String(e.mtimeMs));
    out.byte(NUL);
    if (e.hash) out.text(e.hash);
    out.byte(NUL);
    if (e.target) out.text(e.target);
    out.byte(NEWLINE);
  }

  digest(): string {
    this.out.flush();
    return toHex(this.hasher.digest());
  }

  dispose(): void {
    this.hasher.dispose();
  }
}
