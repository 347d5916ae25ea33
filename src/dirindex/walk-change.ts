/**
 * WalkChange: what a backup keeps of a walk made beside its parent's tree (ParentTree's
 * `alongside`): the change (paths gone, entries added or different, in path order), the parent's
 * entries at those paths, and the new tree's directories that hold them. That is all a diff and
 * an index delta need of either tree, so neither is held whole.
 *
 * A directory's entry and the paths under it need not be neighbours in path order ("a", "a.txt",
 * "a/x"), so the directories the walk may still be inside are kept as a stack of prefixes of the
 * walk's last path, each followed in it by nothing or by a character that sorts no later than "/".
 */
import type { IndexEntry } from "./entry.js";
import { changedPairs, type TreeChange } from "./delta-apply.js";
import type { ChangedPairs } from "./diff-index.js";
import { ALIKE } from "./parent-tree.js";

const SLASH = 0x2f;

export class WalkChange implements TreeChange {
  readonly removed: string[] = [];
  readonly upserts: IndexEntry[] = [];
  readonly whole = true;
  /** The parent's entries at the paths the change touches. */
  private readonly olds = new Map<string, IndexEntry>();
  /** The new tree's directories that hold a changed path. */
  private readonly dirs = new Map<string, IndexEntry>();
  /** The walk's directories it may still be inside, outermost first. */
  private readonly open: IndexEntry[] = [];
  private nows: { removed: Set<string>; upserts: Map<string, IndexEntry> } | undefined;

  /** `baseId`: the identity of the parent's tree. */
  constructor(readonly baseId: string) {}

  /** A parent entry the walk did not have, handed on before the walked entry that follows it. */
  gone(old: IndexEntry): void {
    this.removed.push(old.path);
    this.olds.set(old.path, detached(old));
    this.holders(old.path);
  }

  /** The walk's next entry, with what the parent holds at its path: ALIKE, its own entry, or nothing. */
  walked(e: IndexEntry, old: IndexEntry | typeof ALIKE | undefined): void {
    const open = this.open;
    while (open.length > 0 && !mayHold(open.at(-1)!.path, e.path)) open.pop();
    if (old !== ALIKE) {
      this.upserts.push(e);
      if (old) this.olds.set(e.path, detached(old));
      this.holders(e.path);
    }
    if (e.type === "dir") open.push(e);
  }

  /** The parent's entries where the change touches it, and the parent's identity: what an index delta is made against. */
  get base(): { id: string; get(path: string): IndexEntry | undefined } {
    return { id: this.baseId, get: (path) => this.olds.get(path) };
  }

  /** The changed paths with their entries in both trees, for `diffPaired`. */
  pairs(): ChangedPairs {
    return changedPairs(this.base, this, (path) => this.dirs.get(path));
  }

  /** The new tree's entry at a path of the parent's (`old` being the parent's entry there). */
  nowAt(old: IndexEntry): IndexEntry | undefined {
    const nows = (this.nows ??= { removed: new Set(this.removed), upserts: new Map(this.upserts.map((e) => [e.path, e])) });
    return nows.removed.has(old.path) ? undefined : (nows.upserts.get(old.path) ?? old);
  }

  /** Notes the open directories that hold `path`: a path gone lies between the walk's last entry and its next, inside the same ones. */
  private holders(path: string): void {
    for (const d of this.open) if (path.startsWith(`${d.path}/`)) this.dirs.set(d.path, d);
  }
}

/**
 * The entry with a signature of its own: a parent entry's is a view into the chunk of the index
 * it was read in (index-decoder.ts), and one kept per chunk would keep the whole index.
 */
function detached(e: IndexEntry): IndexEntry {
  return e.signature ? { ...e, signature: e.signature.slice() } : e;
}

/** Whether the walk, at `path`, may not yet be past every path under the directory `dir` (a prefix of it). */
function mayHold(dir: string, path: string): boolean {
  return path.startsWith(dir) && (path.length === dir.length || path.charCodeAt(dir.length) <= SLASH);
}
