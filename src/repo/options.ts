/**
 * The repository's options and progress reports, with every default in one place.
 *
 * Progress callbacks default to no-ops and are called with a fresh object each time, so a
 * caller may keep them. `rate` is bytes per second since the operation's phase began.
 */
import { IbtError } from "../errors.js";
import type { DeflateCodec } from "../archive/deflate.js";
import { inflateCodec, type InflateCodec } from "../archive/inflate.js";
import type { LockOptions } from "./lock.js";

export interface RepositoryOptions extends LockOptions {
  /**
   * The bound on restore work: a chain's incrementals together stay within this share of its
   * full's archive, so restoring any snapshot reads at most (1 + fullShare) times its full's
   * archive. An incremental that would pass the bound, or cost as much as a full, is replaced by
   * a full (chain.ts). Default 1: on the release series of bench/README.md ("Chain policy") it
   * stores within 6% of an unbounded chain while a restore reads at most twice a full's bytes.
   */
  fullShare?: number;
  /**
   * Start a new full backup when the chain already holds this many snapshots. Default 50: tiny
   * incrementals never reach `fullShare`, and a restore reads one manifest per link.
   */
  maxChain?: number;
  /**
   * Store a whole index at least every this many snapshots of a chain (and with every full
   * backup); the others store a delta against their parent's index. Loading any snapshot's tree
   * then reads at most this many index objects. Default 8: deltas are small, and applying one is
   * a merge, so loading costs about what loading one whole index does. 1 stores every index whole.
   */
  fullIndexEvery?: number;
  /** Deflates archive members. Default fflate, which runs everywhere; `nodeRepositoryOptions` gives node:zlib. */
  deflate?: DeflateCodec;
  /**
   * Bytes of an archive's deflated manifest a backup keeps in memory. Past that (a backup of
   * some 150,000 changes or more) the rest waits in the store, under `data/`, until the manifest
   * is written as the archive's last member, so memory does not grow with the number of
   * changes. Used with a deflate codec that deflates incrementally (node:zlib's). Where the
   * codec has zstd, a manifest whose text fits in 4 MiB and in this bound is kept as text and
   * written as one zstd frame; a larger one is deflated as above. Default 8 MiB.
   */
  manifestMemory?: number;
  /** Inflates archive members on restore. Default fflate, which runs everywhere; `nodeRepositoryOptions` gives node:zlib. */
  inflate?: InflateCodec;
  /**
   * `init` on a store that does not honour conditional writes (the lock then cannot keep two
   * writers apart) is refused with UNSUPPORTED unless this is true. Default false: never
   * silently unsafe.
   */
  unsafeNoConditionalWrites?: boolean;
}

export interface ResolvedOptions {
  fullShare: number;
  maxChain: number;
  fullIndexEvery: number;
  lock: LockOptions;
  deflate?: DeflateCodec;
  inflate: InflateCodec;
  manifestMemory: number;
  unsafeNoConditionalWrites: boolean;
}

export function resolveOptions(o: RepositoryOptions = {}): ResolvedOptions {
  const fullShare = o.fullShare ?? 1;
  const maxChain = o.maxChain ?? 50;
  if (!(fullShare >= 0)) throw new IbtError("BAD_ARGUMENT", `fullShare must be a number >= 0, not ${fullShare}`);
  const fullIndexEvery = o.fullIndexEvery ?? 8;
  if (!(Number.isInteger(maxChain) && maxChain >= 1)) throw new IbtError("BAD_ARGUMENT", `maxChain must be an integer >= 1, not ${maxChain}`);
  if (!(Number.isInteger(fullIndexEvery) && fullIndexEvery >= 1)) throw new IbtError("BAD_ARGUMENT", `fullIndexEvery must be an integer >= 1, not ${fullIndexEvery}`);
  if (o.deflate !== undefined && typeof o.deflate?.deflate !== "function") throw new IbtError("BAD_ARGUMENT", "deflate must be a codec with a deflate function");
  const inflate = inflateCodec(o.inflate);
  const manifestMemory = o.manifestMemory ?? 8 * 1024 * 1024;
  if (!(Number.isSafeInteger(manifestMemory) && manifestMemory >= 0)) throw new IbtError("BAD_ARGUMENT", `manifestMemory must be an integer >= 0, not ${manifestMemory}`);
  const lock: LockOptions = {};
  if (o.owner) lock.owner = o.owner;
  if (o.isAlive) lock.isAlive = o.isAlive;
  if (o.lockTiming) {
    const { refreshMs, staleMs } = o.lockTiming;
    if (!(refreshMs > 0 && staleMs > 2 * refreshMs)) throw new IbtError("BAD_ARGUMENT", "lockTiming needs refreshMs > 0 and staleMs > 2 × refreshMs");
    lock.lockTiming = { refreshMs, staleMs };
  }
  return { fullShare, maxChain, fullIndexEvery, lock, deflate: o.deflate, inflate, manifestMemory, unsafeNoConditionalWrites: o.unsafeNoConditionalWrites === true };
}

export interface Progress {
  phase: "index" | "diff" | "write" | "commit" | "restore" | "verify";
  files: number;
  bytes: number;
  totalFiles?: number;
  totalBytes?: number;
  /** Bytes per second in this phase so far. */
  rate: number;
}

/** A reporter for one phase: fills in `phase` and `rate`. */
export function reporter(onProgress: ((p: Progress) => void) | undefined, phase: Progress["phase"]): (files: number, bytes: number, totals?: { totalFiles?: number; totalBytes?: number }) => void {
  if (!onProgress) return () => {};
  const started = Date.now();
  return (files, bytes, totals) => {
    const seconds = (Date.now() - started) / 1000;
    onProgress({ phase, files, bytes, ...totals, rate: seconds > 0 ? bytes / seconds : 0 });
  };
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new IbtError("ABORTED", "the operation was cancelled", { cause: signal.reason });
}
