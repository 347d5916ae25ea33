/**
 * The chain policy: whether a backup extends the latest snapshot's chain or starts a new full.
 *
 * The bound is restore work. Restoring a snapshot reads the archives of its chain, the full's and
 * every incremental's up to it, so the policy keeps their sum within (1 + `fullShare`) times the
 * full's archive, and the chain within `maxChain` links (one manifest each). Within that bound a
 * chain is extended as long as it can be: a release series rarely needs a new full sooner.
 *
 * The decision is made with the incremental's cost known rather than guessed. The incremental is
 * written with a byte budget: what the chain has left under the bound, and never more than a
 * full of the same tree would take (estimated from the chain's full, scaled by the tree's size):
 * an incremental that costs a full's bytes buys nothing and lengthens the chain. If the archive
 * passes its budget, the backup abandons it and writes a full instead, so the work thrown away
 * is bounded by the budget, and a chain whose incrementals are small never pays for a full.
 */
import { IbtError } from "../errors.js";
import type { ResolvedOptions } from "./options.js";
import type { SnapshotRecord } from "./snapshot.js";

/**
 * Bytes the next incremental's archive may take after `chain` (the latest snapshot's chain, its
 * full first) for a tree of `treeBytes` bytes of files; 0 when the next backup must be full.
 */
export function incrementalBudget(ro: Pick<ResolvedOptions, "fullShare" | "maxChain">, chain: readonly SnapshotRecord[], treeBytes: number): number {
  if (!chainHasRoom(ro, chain)) return 0;
  const full = chain[0]!;
  const fullNow = full.fullSize > 0 ? (full.bytesStored * treeBytes) / full.fullSize : full.bytesStored;
  return Math.max(0, Math.floor(Math.min(room(ro, chain), fullNow)));
}

/**
 * Whether `chain` can take another incremental at all, whatever the new tree holds: when it
 * cannot, the next backup is full, which is known before the walk.
 */
export function chainHasRoom(ro: Pick<ResolvedOptions, "fullShare" | "maxChain">, chain: readonly SnapshotRecord[]): boolean {
  return chain.length < ro.maxChain && Math.floor(room(ro, chain)) > 0;
}

/** Bytes the chain's incrementals may still add under `fullShare`. */
function room(ro: Pick<ResolvedOptions, "fullShare">, chain: readonly SnapshotRecord[]): number {
  const incrementals = chain.slice(1).reduce((sum, r) => sum + r.bytesStored, 0);
  return ro.fullShare * chain[0]!.bytesStored - incrementals;
}

/**
 * Counts an archive's bytes against its budget. Stores may wrap the error a failing source
 * throws (FsStore makes it IO), so whether the budget was passed is kept here, not in the error.
 */
export class ArchiveBudget {
  passed = false;
  private bytes = 0;
  constructor(readonly limit: number) {}

  /** Counts `n` more bytes; throws (LIMIT) once they pass the limit. */
  add(n: number): void {
    this.bytes += n;
    if (this.bytes > this.limit) {
      this.passed = true;
      throw new IbtError("LIMIT", `the incremental's archive passed its budget of ${this.limit} bytes`);
    }
  }

  /** Passes `source` through, counting; past the limit it throws and closes `source`. */
  async *through(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      this.add(chunk.length);
      yield chunk;
    }
  }
}
