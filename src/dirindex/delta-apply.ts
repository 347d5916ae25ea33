/**
 * A tree given as a base and a delta (an index delta, or what a walk found changed): its entries
 * in path order without making the tree (`appliedEntries`, `DeltaApplier`), and the base and the
 * tree read together for a diff where the delta changes them (`changedPairs`). A delta that does
 * not fit its base (removes or replaces what it does not hold) is CORRUPT.
 */
import { IbtError } from "../errors.js";
import { comparePaths, type IndexEntry } from "./entry.js";
import type { ChangedPairs } from "./diff-index.js";

/**
 * A change to a tree: the paths it no longer holds and the entries added or changed, in path
 * order. An index delta's file entry without a hash takes the base file's hash, and one without
 * a signature takes the base's signature when the content is the same (index-delta.ts); in
 * deltas before version 4 (`ownHashes`) a file without a hash has none. A walk's entries are
 * `whole`: each stands as it is.
 */
export interface TreeChange {
  readonly removed: readonly string[];
  readonly upserts: readonly IndexEntry[];
  readonly whole?: boolean;
  readonly ownHashes?: boolean;
}

/**
 * The entries of `base` (in path order) changed by `delta`, in path order. A delta that removes
 * or inherits from an entry the base does not hold is CORRUPT: it was made against another index.
 */
export function applyIndexDelta(base: readonly IndexEntry[], delta: TreeChange): IndexEntry[] {
  return [...appliedEntries(base, delta)];
}

/** `applyIndexDelta` one entry at a time, from a base read one entry at a time. */
export function* appliedEntries(base: Iterable<IndexEntry>, delta: TreeChange): Generator<IndexEntry> {
  const applier = new DeltaApplier(delta);
  const out: IndexEntry[] = [];
  const put = (e: IndexEntry) => void out.push(e);
  for (const old of base) {
    applier.push(old, put);
    yield* out;
    out.length = 0;
  }
  applier.end(put);
  yield* out;
}

/** `appliedEntries` of a base read as a stream. */
export async function* appliedEntriesOf(base: AsyncIterable<IndexEntry>, delta: TreeChange): AsyncGenerator<IndexEntry> {
  const applier = new DeltaApplier(delta);
  const out: IndexEntry[] = [];
  const put = (e: IndexEntry) => void out.push(e);
  for await (const old of base) {
    applier.push(old, put);
    yield* out;
    out.length = 0;
  }
  applier.end(put);
  yield* out;
}

/**
 * A delta applied to a base handed in one entry at a time, in path order: `push` hands on the
 * result's entries up to the base entry's path (the base entry itself, as the very same object,
 * where the delta leaves it alone), `end` the rest once the base has ended. Entries come out in
 * path order; a delta that does not fit the base is CORRUPT.
 */
export class DeltaApplier {
  private r = 0;
  private u = 0;

  constructor(private readonly delta: TreeChange) {}

  push(old: IndexEntry, out: (e: IndexEntry) => void): void {
    const { removed, upserts } = this.delta;
    // A new path stands as written: it has nothing to inherit.
    while (this.u < upserts.length && upserts[this.u]!.path < old.path) out(upserts[this.u++]!);
    if (this.r < removed.length && removed[this.r] === old.path) {
      this.r++;
      if (this.u < upserts.length && upserts[this.u]!.path === old.path) doesNotFit(old.path);
      return;
    }
    if (this.r < removed.length && comparePaths(removed[this.r]!, old.path) < 0) doesNotFit(removed[this.r]!);
    if (this.u < upserts.length && upserts[this.u]!.path === old.path) out(inherited(upserts[this.u++]!, old, this.delta));
    else out(old);
  }

  end(out: (e: IndexEntry) => void): void {
    const { removed, upserts } = this.delta;
    if (this.r < removed.length) doesNotFit(removed[this.r]!);
    while (this.u < upserts.length) out(upserts[this.u++]!);
  }
}

/**
 * The paths `delta` changes, each with its entry in the tree it makes and in `base` (looked up
 * there), for `diffPaired`; and that tree's directories, looked up the same way or, where the
 * caller has them apart, by `dirOf` (the new tree's directory at a path the delta leaves alone).
 */
export function changedPairs(base: { get(path: string): IndexEntry | undefined }, delta: TreeChange, dirOf?: (path: string) => IndexEntry | undefined): ChangedPairs {
  const { removed, upserts } = delta;
  const old = (path: string): IndexEntry | undefined => base.get(path);
  let gone: Set<string> | undefined;
  let written: Map<string, IndexEntry> | undefined;
  const dirs = new Map<string, IndexEntry | undefined>();
  return {
    pairs: (visit) => {
      let r = 0;
      for (const e of upserts) {
        while (r < removed.length && removed[r]! < e.path) {
          const path = removed[r++]!;
          visit(undefined, old(path) ?? doesNotFit(path));
        }
        if (removed[r] === e.path) doesNotFit(e.path);
        const was = old(e.path);
        visit(was ? inherited(e, was, delta) : e, was);
      }
      while (r < removed.length) {
        const path = removed[r++]!;
        visit(undefined, old(path) ?? doesNotFit(path));
      }
    },
    dirAt: (path) => {
      if (!dirs.has(path)) {
        gone ??= new Set(removed);
        written ??= new Map(upserts.map((e) => [e.path, e]));
        const e = gone.has(path) ? undefined : (written.get(path) ?? (dirOf ?? old)(path));
        dirs.set(path, e?.type === "dir" ? e : undefined);
      }
      return dirs.get(path);
    },
  };
}

function doesNotFit(path: string): never {
  throw new IbtError("CORRUPT", `index delta does not fit its base at ${JSON.stringify(path)}`, { path });
}

/**
 * An upserted entry as the tree holds it: in an index delta, a file without a hash takes the
 * base file's, and one without a signature that kept its content takes the base's signature.
 */
function inherited(e: IndexEntry, old: IndexEntry, change: TreeChange): IndexEntry {
  if (change.whole || e.type !== "file" || old.type !== "file") return e;
  const takesHash = e.hash === undefined && old.hash !== undefined && !change.ownHashes;
  const hash = takesHash ? old.hash : e.hash;
  const takesSignature = e.signature === undefined && old.signature !== undefined && old.hash === hash;
  if (!takesHash && !takesSignature) return e;
  const entry: IndexEntry = { ...e };
  if (takesHash) entry.hash = hash!;
  if (takesSignature) entry.signature = old.signature!;
  return entry;
}
