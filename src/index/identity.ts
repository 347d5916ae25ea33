/**
 * The identity of an index: BLAKE2b-256 over its entries' canonical form (type, path, size,
 * mode, mtime, content hash, symlink target; not ctime, inode or signatures, which do not
 * describe the tree's content). A diff names the identity of the index it was made against,
 * so applying it to anything else can be refused before a byte is written.
 */
import { Hasher } from "../rsync/hashes.js";
import { toHex } from "../rsync/bytes.js";
import type { IndexEntry } from "./entry.js";

export async function indexIdentity(sorted: readonly IndexEntry[]): Promise<string> {
  const h = await Hasher.create("blake2b", 32);
  try {
    const enc = new TextEncoder();
    // Lines are batched into pieces of about 64K characters: one encode and one hash call per
    // piece, not per entry. The hash covers the same bytes whatever the batching.
    let batch = "";
    for (const e of sorted) {
      batch += `${e.type}\0${e.path}\0${e.size}\0${e.mode}\0${e.mtimeMs}\0${e.hash ?? ""}\0${e.target ?? ""}\n`;
      if (batch.length >= 65536) {
        h.update(enc.encode(batch));
        batch = "";
      }
    }
    h.update(enc.encode(batch));
    return toHex(h.digest());
  } finally {
    h.dispose();
  }
}
