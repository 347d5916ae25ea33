/**
 * One entry of a directory index: what a backup needs to know of a path without reading it
 * again. Files carry a content hash and their librsync signature (so the next backup can make
 * deltas against them without the old bytes); symlinks carry their target and its hash;
 * directories carry metadata only, so empty directories are kept too.
 */
import type { EntryType } from "../fs/types.js";

/** applyDiff's and restore's staging directories at a tree's root: no index holds them. */
export const STAGING_PREFIX = ".ibt-staging-";

export interface IndexEntry {
  path: string;
  type: EntryType;
  /** File length; symlink target length in bytes; 0 for directories. */
  size: number;
  mtimeMs: number;
  mode: number;
  /** Change time and inode, where the file system has them (for the quick check). */
  ctimeMs?: number;
  ino?: number;
  /** BLAKE2b-256 of the content (files) or of the UTF-8 target (symlinks), 64 hex digits. */
  hash?: string;
  /** Symlink target, verbatim. */
  target?: string;
  /** librsync signature of the content (files), when signatures are kept. */
  signature?: Uint8Array;
}

/** A tree as diffs and index deltas read it: its identity and its entries in path order. */
export interface SortedTree {
  readonly id: string;
  /** Entries in path order; each iteration starts over. */
  readonly sortedEntries: Iterable<IndexEntry>;
}

/** Entries compare by path in code-unit order, which is the order indexes are stored in. */
export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

