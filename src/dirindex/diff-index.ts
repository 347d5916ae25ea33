/**
 * DiffIndex: what changed between two indexes of a tree, without reading any file.
 *
 * Every path present in either index gets at most one change:
 *   create    new path (file, dir or symlink); a file's bytes will be stored
 *   update    a file whose content hash changed; a delta against the old file will be stored
 *   delete    path gone (or its type changed: then delete + create)
 *   move      a new file whose content equals an old file that is gone: no data stored
 *   copy      a new file whose content equals an old file that stays: no data stored
 *   relink    a symlink whose target changed
 *   metadata  same content (or target), different mode or mtime (files, dirs, symlinks)
 * An updated file whose mode or mtime also changed is one `update`; the new entry carries them.
 * Empty files are always created, never moved or copied (there is nothing to save).
 */
import { IbtError } from "../errors.js";
import { comparePaths, type IndexEntry, type SortedTree } from "./entry.js";
import { parentPath } from "../fs/paths.js";

export type Change =
  | { kind: "create"; path: string; entry: IndexEntry }
  | { kind: "update"; path: string; old: IndexEntry; entry: IndexEntry }
  | { kind: "delete"; path: string; old: IndexEntry }
  | { kind: "move"; path: string; from: string; entry: IndexEntry }
  | { kind: "copy"; path: string; from: string; entry: IndexEntry }
  | { kind: "relink"; path: string; old: IndexEntry; entry: IndexEntry }
  | { kind: "metadata"; path: string; old: IndexEntry; entry: IndexEntry };

export interface Diff {
  /** Identity of the old index: the tree this diff applies to. */
  base: string;
  /** Identity of the new index: the tree it produces. */
  target: string;
  /** Every change, in path order. */
  changes: Change[];
  /**
   * Mode and mtime, in the target tree, of every directory that holds a change but has none
   * itself: applying changes inside a directory touches its mtime, which must be put back.
   */
  parents: { path: string; mtimeMs: number; mode: number }[];
}

export class DiffIndex {
  constructor(
    readonly newIndex: SortedTree,
    readonly oldIndex: SortedTree,
  ) {}

  compute(): Diff {
    const changes: Change[] = [];
    const parents = diffSorted(
      () => this.newIndex.sortedEntries,
      () => this.oldIndex.sortedEntries,
      (c) => changes.push(c),
    );
    return { base: this.oldIndex.id, target: this.newIndex.id, changes, parents };
  }
}

/** Entries in path order, readable more than once (each call starts over). */
export type SortedEntries = () => Iterable<IndexEntry>;

/**
 * The diff of two sorted entry streams, as a merge: each change goes to `onChange` in path order
 * (a delete before a create at the same path), and the directories whose metadata must be put
 * back are returned at the end. Besides the changes, it holds only the hashes of created files,
 * the old paths those hashes are found at, and the new tree's directories: so its memory follows
 * what changed and how many directories there are, not how many entries the trees hold.
 *
 * The streams are read three times: the hashes of created files, then where the old tree holds
 * them (a move takes the first old file with that content that is gone, a copy the first that
 * stays, as the created files come in path order), then the changes. Entries out of order are
 * CORRUPT.
 */
export function diffSorted(newer: SortedEntries, older: SortedEntries, onChange: (c: Change) => void): { path: string; mtimeMs: number; mode: number }[] {
  return diffPaired((visit) => merge(newer, older, visit), onChange);
}

/**
 * Two trees read together: calls `visit` for every path of either, in path order, with its entry
 * in each (the same object where a tree made from the other by a delta did not change it).
 */
export type Paired = (visit: (now: IndexEntry | undefined, old: IndexEntry | undefined) => void) => void;

/**
 * Of two trees read together, only the paths whose entries differ: every path not among them
 * holds the very same entry in both. With `dirAt`, the new tree's directory at a path not among them.
 */
export interface ChangedPairs {
  pairs: Paired;
  dirAt(path: string): IndexEntry | undefined;
}

/** Where the old tree holds content the new one creates: the first old file with it that is gone (a move), the first at all (a copy). */
export interface ContentPlaces {
  gone: Map<string, string>;
  anywhere: Map<string, string>;
}

/** Hashes of the content files are created with, looked for in the old tree by `placeContent`. */
export function createdContent(merge: Paired): Set<string> {
  const wanted = new Set<string>();
  merge((now, old) => {
    if (now && (!old || old.type !== now.type) && now.type === "file" && now.size > 0 && now.hash !== undefined) wanted.add(now.hash);
  });
  return wanted;
}

/** Notes where one path of the old tree holds wanted content; called for every path, in path order. */
export function placeContent(wanted: ReadonlySet<string>, now: IndexEntry | undefined, old: IndexEntry | undefined, places: ContentPlaces): void {
  if (!old || old.type !== "file" || old.size === 0 || old.hash === undefined || !wanted.has(old.hash)) return;
  const stays = now?.type === "file" && now.hash === old.hash;
  if (!places.anywhere.has(old.hash)) places.anywhere.set(old.hash, old.path);
  if (!stays && !places.gone.has(old.hash)) places.gone.set(old.hash, old.path);
}

function placesIn(all: Paired, wanted: ReadonlySet<string>): ContentPlaces {
  const places: ContentPlaces = { gone: new Map(), anywhere: new Map() };
  if (wanted.size > 0) all((now, old) => placeContent(wanted, now, old, places));
  return places;
}

/**
 * `diffSorted` of two trees read together, as often as it needs them (three times at most).
 * Given `changed`, only the pass that finds where created content already is reads both trees
 * whole (and only when there is created content); the others read the changed paths alone.
 * Given `places` as well, found by the caller's own pass (`createdContent`, `placeContent`),
 * `all` is not read at all.
 */
export function diffPaired(all: Paired, onChange: (c: Change) => void, changed?: ChangedPairs, places?: ContentPlaces): { path: string; mtimeMs: number; mode: number }[] {
  const merge = changed?.pairs ?? all;
  // Content already in the old tree, by hash: files that are deleted first (moves), then any.
  const { gone, anywhere } = places ?? placesIn(all, createdContent(merge));

  // A directory precedes everything under it in path order, so its entry and its own change
  // are known by the time a change below it comes.
  const dirs = new Map<string, IndexEntry>();
  const changedDirs = new Set<string>();
  const parents = new Map<string, { path: string; mtimeMs: number; mode: number }>();
  const emit = (c: Change): void => {
    if (c.kind !== "delete" && c.entry.type === "dir") changedDirs.add(c.path);
    for (let dir = parentPath(c.path); dir !== ""; dir = parentPath(dir)) {
      const e = dirs.get(dir) ?? changed?.dirAt(dir);
      if (!e || changedDirs.has(dir) || parents.has(dir)) continue;
      parents.set(dir, { path: dir, mtimeMs: e.mtimeMs, mode: e.mode });
    }
    onChange(c);
  };
  merge((now, old) => {
    if (now?.type === "dir") dirs.set(now.path, now);
    if (old && (!now || now.type !== old.type)) emit({ kind: "delete", path: old.path, old });
    if (!now) return;
    const path = now.path;
    if (!old || old.type !== now.type) {
      emit(created(now, gone, anywhere));
      return;
    }
    if (now === old) return;
    const metaChanged = old.mode !== now.mode || old.mtimeMs !== now.mtimeMs;
    if (now.type === "file" && old.hash !== now.hash) emit({ kind: "update", path, old, entry: now });
    else if (now.type === "symlink" && old.target !== now.target) emit({ kind: "relink", path, old, entry: now });
    else if (metaChanged) emit({ kind: "metadata", path, old, entry: now });
  });
  return [...parents.values()].sort((a, b) => comparePaths(a.path, b.path));
}

/** The change for a path the old tree did not hold (as this type): a move, a copy or a create. */
function created(entry: IndexEntry, gone: Map<string, string>, anywhere: Map<string, string>): Change {
  const path = entry.path;
  if (entry.type === "file" && entry.size > 0 && entry.hash !== undefined) {
    const movedFrom = gone.get(entry.hash);
    if (movedFrom !== undefined) {
      gone.delete(entry.hash); // one move per source; later twins copy
      return { kind: "move", path, from: movedFrom, entry };
    }
    const copyFrom = anywhere.get(entry.hash);
    if (copyFrom !== undefined) return { kind: "copy", path, from: copyFrom, entry };
  }
  return { kind: "create", path, entry };
}

/** Calls `visit` for every path of either stream, in path order, with its entry in each. */
function merge(newer: SortedEntries, older: SortedEntries, visit: (now: IndexEntry | undefined, old: IndexEntry | undefined) => void): void {
  const a = ordered(newer()[Symbol.iterator]());
  const b = ordered(older()[Symbol.iterator]());
  let x = a.next();
  let y = b.next();
  while (x !== undefined || y !== undefined) {
    const c = x === undefined ? 1 : y === undefined ? -1 : comparePaths(x.path, y.path);
    if (c < 0) {
      visit(x, undefined);
      x = a.next();
    } else if (c > 0) {
      visit(undefined, y);
      y = b.next();
    } else {
      visit(x, y);
      x = a.next();
      y = b.next();
    }
  }
}

/** An iterator's entries, one at a time, refusing a path not greater than the one before. */
function ordered(it: Iterator<IndexEntry>): { next(): IndexEntry | undefined } {
  let last: string | undefined;
  return {
    next() {
      const r = it.next();
      if (r.done) return undefined;
      const path = r.value.path;
      if (last !== undefined && !(last < path)) throw new IbtError("CORRUPT", `index paths out of order or repeated at ${JSON.stringify(path)}`, { path });
      last = path;
      return r.value;
    },
  };
}

/** The Python library's groupings of a diff, for callers that want them. */
export function summarize(diff: Diff): {
  createdFiles: string[];
  updatedFiles: string[];
  deletedFiles: string[];
  createdDirs: string[];
  deletedDirs: string[];
  symlinks: string[];
  moved: { from: string; to: string }[];
  copied: { from: string; to: string }[];
  metadataOnly: string[];
} {
  const s = {
    createdFiles: [] as string[],
    updatedFiles: [] as string[],
    deletedFiles: [] as string[],
    createdDirs: [] as string[],
    deletedDirs: [] as string[],
    symlinks: [] as string[],
    moved: [] as { from: string; to: string }[],
    copied: [] as { from: string; to: string }[],
    metadataOnly: [] as string[],
  };
  for (const c of diff.changes) {
    switch (c.kind) {
      case "create":
        if (c.entry.type === "file") s.createdFiles.push(c.path);
        else if (c.entry.type === "dir") s.createdDirs.push(c.path);
        else s.symlinks.push(c.path);
        break;
      case "update":
        s.updatedFiles.push(c.path);
        break;
      case "delete":
        if (c.old.type === "dir") s.deletedDirs.push(c.path);
        else if (c.old.type === "file") s.deletedFiles.push(c.path);
        else s.symlinks.push(c.path);
        break;
      case "move":
        s.moved.push({ from: c.from, to: c.path });
        break;
      case "copy":
        s.copied.push({ from: c.from, to: c.path });
        break;
      case "relink":
        s.symlinks.push(c.path);
        break;
      case "metadata":
        s.metadataOnly.push(c.path);
        break;
    }
  }
  return s;
}
