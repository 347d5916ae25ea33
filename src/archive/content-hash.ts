/**
 * The content hash a manifest records for a file, computed two ways: over a file already on an
 * adapter (hashFile), and while new content streams past on its way to being written
 * (verifiedContent), so that applying a diff and restoring or verifying a snapshot check content
 * by one definition.
 */
import { IbtError } from "../errors.js";
import type { FsAdapter } from "../fs/types.js";
import { Hasher } from "../rsync/hashes.js";
import { toHex } from "../bytes.js";
import { matchesHash, type ManifestChange } from "./manifest.js";

/** The content hash and size of the file at `path`. */
export async function hashFile(fs: FsAdapter, path: string): Promise<{ hash: string; size: number }> {
  const h = await Hasher.create();
  try {
    let size = 0;
    for await (const c of fs.readStream(path, { transient: true })) {
      h.update(c);
      size += c.length;
    }
    return { hash: toHex(h.digest()), size };
  } finally {
    h.dispose();
  }
}

/** Passes content through, failing with CORRUPT unless its size and hash are the manifest's. */
export async function* verifiedContent(c: ManifestChange, content: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const want = c.new!;
  const h = await Hasher.create();
  try {
    let size = 0;
    for await (const chunk of content) {
      size += chunk.length;
      if (size > want.size) throw new IbtError("CORRUPT", `${c.path}: the archive yields more than ${want.size} bytes`, { path: c.path });
      h.update(chunk);
      yield chunk;
    }
    if (size !== want.size || !matchesHash(toHex(h.digest()), want.hash)) {
      throw new IbtError("CORRUPT", `${c.path}: the archive's content does not match its hash`, { path: c.path });
    }
  } finally {
    h.dispose();
  }
}
