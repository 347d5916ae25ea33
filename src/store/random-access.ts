/**
 * Random access to one stored object through ranged `load`s, for readers that jump about in a
 * file (the ZIP reader: end record, central directory, then each member's local header, its data
 * descriptor after the data, and the data between). Each load is a request to a remote store, so
 * what a load fetches is kept as a window and later reads are served from the windows kept.
 *
 * Window size. A miss (a read not covered by kept windows) fetches a window from its first
 * missing byte: at least what the read wants, and `window` bytes if more. The window starts at
 * READ_AHEAD and doubles, up to MAX_WINDOW, with every miss that continues the walk: one that
 * starts where a kept window ends, or just past the furthest byte fetched so far. Any other miss
 * (a jump: a one-path restore going to its member, a whole restore taking files in path order
 * rather than archive order) halves it, down to READ_AHEAD. A window stops where a kept one
 * begins, so a member's data is fetched up to its data descriptor (read first) and not past it.
 *
 * A reader told that it will walk the object (`walk`: a restore about to read most of an archive,
 * front to back) takes MAX_WINDOW from its next miss on and keeps it across jumps, so the walk
 * does not ramp up through small windows, each a round trip, and reads ahead from its first.
 *
 * Pieces. A window is fetched as loads of at most PIECE bytes, all started at once: a read waits
 * only for the piece holding its bytes (which reaches at least as far as the read) while the
 * rest arrive, since a store's answer is whole before any of it can be used. A whole restore
 * makes about one load per PIECE; a one-path restore, whose windows stay small, no more loads
 * than it has reads.
 *
 * Read-ahead. Once the window has grown to SPECULATE_FROM (the reader has walked forward through
 * several windows: a whole restore streaming the archive, not a one-path restore), a read served
 * from the furthest piece (not one a miss fetched for it) starts fetching the next window, one
 * window at a time, so the reader works through one while the next arrives. A piece fetched
 * ahead (every piece but the one a read waits for) that fails is dropped and its bytes are loaded
 * again when a read needs them; a piece a read waits for fails that read.
 *
 * Memory: windows kept and in flight hold at most KEPT_BYTES per `ReadBudget`, the least
 * recently used going first and none while a read waits for it. Readers that are open together
 * (a restore opens every archive of a chain at once) share one budget, so a restore's windows are
 * bounded however many archives it opens and however large they are; they are freed with the
 * readers. A read larger than MAX_WINDOW, or one that finds the budget taken by windows in use,
 * goes to the store as it is and is not kept.
 */
import { concatBytes } from "../bytes.js";
import { IbtError } from "../errors.js";
import type { Store } from "./types.js";

/** The first window: a few small reads close together (a member's local header and data) cost one request. */
export const READ_AHEAD = 256 * 1024;
/** The largest window: large enough that a request's fixed cost is small beside its transfer. */
export const MAX_WINDOW = 8 * 1024 * 1024;
/** The largest load: a window is fetched as pieces of this size, all at once, so a read waits only for its piece. */
export const PIECE = 2 * 1024 * 1024;
/** The window at which a walk counts as streaming and windows are fetched ahead. */
const SPECULATE_FROM = 1024 * 1024;
/** Bytes of windows kept or in flight per budget: the one being read, the one arriving, older ones. */
export const KEPT_BYTES = 3 * MAX_WINDOW;

export interface StoredRandomAccess {
  readonly size: number;
  /** Exactly `length` bytes from `offset` (TRUNCATED past the end); the caller may keep the array. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** The reader will now read most of the object, front to back: windows are MAX_WINDOW from here on. */
  walk(): void;
  /** How many loads this reader made, for tests and benchmarks. */
  readonly loads: number;
  /** Bytes those loads asked for. */
  readonly loadedBytes: number;
  /** The most bytes kept and in flight at one time by the readers of its budget; never more than KEPT_BYTES. */
  readonly peakKeptBytes: number;
}

interface Window {
  offset: number;
  end: number;
  /** Settles with the window's bytes; a failed window is removed before its rejection is seen. */
  bytes: Promise<Uint8Array>;
  done: Uint8Array | undefined;
  ahead: boolean;
  /** Reads waiting for it: it is not dropped meanwhile. */
  users: number;
  lastUse: number;
  /** Removes it from its reader. */
  forget: () => void;
}

/** The windows of readers open together, and their bytes: at most KEPT_BYTES. */
export class ReadBudget {
  readonly windows = new Set<Window>();
  bytes = 0;
  peak = 0;
  clock = 0;
}

function dropWindow(budget: ReadBudget, w: Window): void {
  if (!budget.windows.delete(w)) return;
  budget.bytes -= w.end - w.offset;
  w.forget();
}

/** Makes room for `bytes` more; false if the windows in use leave too little. */
function makeRoom(budget: ReadBudget, bytes: number): boolean {
  while (budget.bytes + bytes > KEPT_BYTES) {
    let oldest: Window | undefined;
    for (const w of budget.windows) if (w.users === 0 && w.done && (!oldest || w.lastUse < oldest.lastUse)) oldest = w;
    if (!oldest) return false;
    dropWindow(budget, oldest);
  }
  return true;
}

/** Random access to object `name` of `size` bytes (from `stat`), its windows kept within `budget`. */
export function storedRandomAccess(store: Store, name: string, size: number, budget = new ReadBudget()): StoredRandomAccess {
  const kept: Window[] = [];
  let loads = 0;
  let loadedBytes = 0;
  let window = READ_AHEAD;
  /** The least a jump shrinks the window to: MAX_WINDOW once the reader walks. */
  let smallest = READ_AHEAD;
  /** End of the furthest window of the current walk, and that window. */
  let frontier: Window | undefined;
  /** Windows fetched ahead and not yet settled. */
  let aheadInFlight = 0;

  const load = async (offset: number, length: number): Promise<Uint8Array> => {
    loads++;
    loadedBytes += length;
    const bytes = await store.load(name, { offset, length });
    if (bytes.length !== length) {
      throw new IbtError("IO", `${name}: asked for ${length} bytes at ${offset}, the store gave ${bytes.length}`, { path: name, offset });
    }
    return bytes;
  };

  const fetchWindow = (offset: number, end: number, ahead: boolean): Window => {
    const forget = () => {
      kept.splice(kept.indexOf(w), 1);
      if (frontier === w) frontier = undefined;
    };
    const w: Window = { offset, end, bytes: undefined!, done: undefined, ahead, users: 0, lastUse: ++budget.clock, forget };
    w.bytes = load(offset, end - offset).then(
      (bytes) => (w.done = bytes),
      (e: unknown) => {
        dropWindow(budget, w);
        throw e;
      },
    );
    // A window fetched ahead may fail with no read waiting; its failure is seen when one does.
    w.bytes.catch(() => {});
    kept.push(w);
    budget.windows.add(w);
    budget.bytes += end - offset;
    budget.peak = Math.max(budget.peak, budget.bytes);
    return w;
  };

  /** The kept window holding byte `at` that reaches furthest. */
  const holding = (at: number): Window | undefined => {
    let best: Window | undefined;
    for (const w of kept) if (w.offset <= at && at < w.end && (!best || w.end > best.end)) best = w;
    return best;
  };

  /** Start of the first kept window at or after `at`, else the object's size. */
  const nextKept = (at: number): number => {
    let next = size;
    for (const w of kept) if (w.offset >= at && w.offset < next) next = w.offset;
    return next;
  };

  const aheadSettled = () => void aheadInFlight--;

  /**
   * Fetches [at, stop) as windows of at most PIECE bytes, all requested at once, so a read waits
   * only for the piece it needs while the others arrive. The first piece reaches at least to
   * `need`; it is what a read waits for unless `ahead`. Returns the first and the last piece.
   */
  const fetchSpan = (at: number, need: number, stop: number, ahead: boolean): [Window, Window] => {
    const piece = (from: number, to: number, isAhead: boolean): Window => {
      const w = fetchWindow(from, to, isAhead);
      if (isAhead) {
        aheadInFlight++;
        void w.bytes.then(aheadSettled, aheadSettled);
      }
      return w;
    };
    const first = piece(at, Math.max(need, Math.min(stop, at + PIECE)), ahead);
    let last = first;
    while (last.end < stop) last = piece(last.end, Math.min(stop, last.end + PIECE), true);
    return [first, last];
  };

  /** Fetches the window for a miss at `at` by a read that wants bytes up to `end`. */
  const miss = (at: number, end: number): Window | undefined => {
    const continues = kept.some((w) => w.end === at) || (frontier !== undefined && at >= frontier.end && at <= frontier.end + window);
    window = continues ? Math.min(MAX_WINDOW, window * 2) : Math.max(smallest, window / 2);
    const stop = Math.max(end, Math.min(at + window, nextKept(end)));
    if (stop - at > MAX_WINDOW || !makeRoom(budget, stop - at)) return undefined;
    const [first, last] = fetchSpan(at, end, stop, false);
    if (!continues || !frontier || last.end >= frontier.end) frontier = last;
    return first;
  };

  /** After a hit in the furthest window of a streaming walk: fetch the next window. */
  const readAhead = (): void => {
    if (aheadInFlight > 0 || !frontier || window < SPECULATE_FROM || frontier.end >= size) return;
    const at = frontier.end;
    if (holding(at)) return;
    window = Math.min(MAX_WINDOW, window * 2);
    const stop = Math.min(at + window, nextKept(at));
    if (!makeRoom(budget, stop - at)) return;
    frontier = fetchSpan(at, at, stop, true)[1];
  };

  /**
   * Bytes [offset, end) from kept windows; undefined if some are missing or a window fetched
   * ahead failed (the caller fetches them again). A window a read fetched itself fails the read.
   */
  const fromKept = async (offset: number, end: number): Promise<{ bytes: Uint8Array; last: Window } | undefined> => {
    const span: Window[] = [];
    for (let at = offset; at < end; ) {
      const w = holding(at);
      if (!w) return undefined;
      span.push(w);
      at = w.end;
    }
    for (const w of span) {
      w.users++;
      w.lastUse = ++budget.clock;
    }
    const pieces: Uint8Array[] = [];
    try {
      for (const w of span) {
        let bytes: Uint8Array;
        try {
          bytes = await w.bytes;
        } catch (e) {
          if (w.ahead) return undefined;
          throw e;
        }
        pieces.push(bytes.subarray(Math.max(offset, w.offset) - w.offset, Math.min(end, w.end) - w.offset));
      }
    } finally {
      for (const w of span) w.users--;
    }
    return { bytes: concatBytes(pieces), last: span.at(-1)! };
  };

  const read = async (offset: number, length: number): Promise<Uint8Array> => {
    if (offset < 0 || length < 0 || offset + length > size) {
      throw new IbtError("TRUNCATED", `${name}: ${length} bytes at ${offset} run past the end of the ${size}-byte object`, { path: name, offset });
    }
    if (length === 0) return new Uint8Array(0);
    const end = offset + length;
    let first = offset;
    for (let w = holding(first); w && first < end; w = holding(first)) {
      // Kept windows this read uses are the last to make room for its miss.
      w.lastUse = ++budget.clock;
      first = w.end;
    }
    let fetched: Window | undefined;
    if (first < end) {
      fetched = miss(first, end);
      if (!fetched) return load(offset, length);
    }
    const got = await fromKept(offset, end);
    if (!got) return read(offset, length);
    if (got.last === frontier && got.last !== fetched) readAhead();
    return got.bytes;
  };

  return {
    size,
    get loads() {
      return loads;
    },
    get loadedBytes() {
      return loadedBytes;
    },
    get peakKeptBytes() {
      return budget.peak;
    },
    read,
    walk() {
      window = smallest = MAX_WINDOW;
    },
  };
}
