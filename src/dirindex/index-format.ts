/**
 * The stored form of a DirIndex: a compact, versioned binary file that is written and read as a
 * stream, so a million-file index never has to exist as one string or one buffer.
 *
 *   "IBTINDEX"  8-byte magic
 *   u32         format version (1; 2 and 4 are index deltas, index-delta.ts; 3 a repository's
 *               deflated index object, repo/index-object.ts)
 *   entries     per entry: u8 type (1 file, 2 dir, 3 symlink), u8 flags (1 ctime, 2 inode,
 *               4 hash, 8 signature), path (varint length + UTF-8), varint size, f64 mtime,
 *               varint mode, [f64 ctime], [varint inode], [32-byte hash], symlink target
 *               (varint length + UTF-8) for symlinks, [varint length + signature]
 *   end         u8 0, varint entry count, then the BLAKE2b-256 (32 bytes) of every byte before it
 *
 * Integers are big-endian; varints are unsigned LEB128 up to 2^53. Loading checks everything
 * (magic, version, types, paths through checkPath, order and uniqueness, the count and the
 * checksum) and fails with BAD_MAGIC, UNSUPPORTED, UNSAFE_PATH, TRUNCATED or CORRUPT.
 *
 * Nearly all the bytes of a real index are signatures, so both directions are built to touch
 * them once: the writer hands large signatures on as they are, and the reader leaves each one
 * as a view into the chunk it was read in (index-encoder.ts, index-decoder.ts).
 */
export const MAGIC = new TextEncoder().encode("IBTINDEX");
export const VERSION = 1;
export const TYPES = ["", "file", "dir", "symlink"] as const;
export const F_CTIME = 1;
export const F_INO = 2;
export const F_HASH = 4;
export const F_SIGNATURE = 8;
/** Bytes of the checksum that ends the file. */
export const SUM_LENGTH = 32;
