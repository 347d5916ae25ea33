/**
 * What a walk of a tree can be asked for (DirIndexOptions), and every default in one place.
 */
import type { IbtError } from "../errors.js";
import type { SignatureOptions } from "../rsync/format.js";
import type { ContentCache } from "./content-cache.js";
import type { IndexEntry } from "./entry.js";

export interface DirIndexOptions {
  /** Exclude patterns in .gitignore syntax, relative to the root (weakest rules). */
  exclude?: readonly string[];
  /** Names of the per-directory ignore files. */
  ignoreFiles?: readonly string[];
  /** The previous index of the same tree: unchanged files reuse its hashes and signatures. */
  previous?: PreviousTree;
  /** Read every file even when the quick check says it is unchanged. */
  force?: boolean;
  /** Keep librsync signatures of files (true: INDEX_SIGNATURES), with these options, or not (false). */
  signatures?: boolean | IndexSignatureOptions;
  /** Called after each file, directory or symlink is indexed. */
  onProgress?: (progress: IndexProgress) => void;
  /** Decides what a failure on one path does: "skip" the path or "abort" the walk. */
  onError?: (error: IbtError, path: string) => "skip" | "abort";
  /**
   * Keeps the bytes of the files read for a DiffData that follows (content-cache.ts): read once,
   * not twice. A streamed walk (`DirIndex.stream`) waits for room in it before reading a file the
   * cache could keep, so its consumer must `release` each path it is done with (or say it will not).
   */
  cache?: ContentCache;
}

/**
 * What the quick check asks of the previous index (a DirIndex, or a ParentTree that reads it as a
 * stream): the entry at a path, asked in path order as the walk goes, and a file by inode, for
 * files that moved with their directory.
 */
export interface PreviousTree {
  get(path: string): IndexEntry | undefined;
  /** A file with this inode (any of them, for hard links), if the index holds one. */
  fileWithInode(ino: number): IndexEntry | undefined;
  /** For a tree read as a stream: whether `get(path)` can answer now, else `fill(path)` first. */
  ready?(path: string): boolean;
  fill?(path: string): Promise<void>;
}

export interface IndexProgress {
  path: string;
  entries: number;
  /** Bytes read from files so far (reused files are not read). */
  bytesRead: number;
}

export interface Resolved {
  exclude: readonly string[];
  ignoreFiles: readonly string[];
  previous: PreviousTree | undefined;
  force: boolean;
  signatures: IndexSignatureOptions | undefined;
  onProgress: ((p: IndexProgress) => void) | undefined;
  onError: (e: IbtError, path: string) => "skip" | "abort";
  cache: ContentCache | undefined;
}

/** Signature options, and the smallest file that gets a signature at all. */
export interface IndexSignatureOptions extends SignatureOptions {
  /** Files shorter than this get no signature (and so no delta next time). Default 0. */
  minFileSize?: number;
}

/**
 * Signatures an index keeps by default: librsync's recommended block length but never under
 * 2 KiB, strong sums of 16 bytes instead of BLAKE2b's full 32, and none for files shorter than
 * one block. An index is mostly signatures, stored (as a delta) with every backup.
 *
 * - Strong sums: 16 bytes make an index little more than half the size 32 would. With 128 bits
 *   a chance false block match has a probability of about 2^-128 per comparison, and there is
 *   no known way to make one on purpose short of a second preimage of BLAKE2b-128; every file is
 *   also checked against its whole BLAKE2b-256 when a diff is applied.
 * - Block length and the smallest file signed were chosen by the bytes a repository stores,
 *   archives and indexes together, over release series of real packages (bench/README.md):
 *   shorter blocks make deltas of edited files smaller but cost more in every index than they
 *   save, and a file of one block can only match whole, when it needs no delta at all.
 *
 * rdiff reads such signatures like any other.
 */
export const INDEX_SIGNATURES: IndexSignatureOptions = Object.freeze({ strongLength: 16, minBlockLength: 2048, minFileSize: 2048 });

/** Whether a file of `size` bytes gets a signature under `options`. */
export function signsFile(options: IndexSignatureOptions | undefined, size: number): boolean {
  return options !== undefined && size >= (options.minFileSize ?? 0);
}

/** Every default in one place. */
export function resolve(o: DirIndexOptions): Resolved {
  return {
    exclude: o.exclude ?? [],
    // .gitignore because trees already carry one; .ibtignore for backup-only exclusions.
    ignoreFiles: o.ignoreFiles ?? [".gitignore", ".ibtignore"],
    previous: o.previous,
    force: o.force ?? false,
    // Signatures are what make the next backup a delta: keep them unless told otherwise.
    signatures: o.signatures === false ? undefined : o.signatures === true || o.signatures === undefined ? INDEX_SIGNATURES : o.signatures,
    onProgress: o.onProgress,
    // A backup that silently leaves files out is worse than one that stops.
    onError: o.onError ?? (() => "abort"),
    cache: o.cache,
  };
}
