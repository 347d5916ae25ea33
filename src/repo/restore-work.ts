/** What both ways of restoring share: files staged, calls kept in flight, metadata level by level, archive order. */
import { IbtError } from "../errors.js";
import type { FsAdapter } from "../fs/types.js";
import { depth } from "../fs/paths.js";
import type { CreateFile } from "../fs/entry.js";
import type { IndexEntry } from "../dirindex/entry.js";
import { collect } from "../bytes.js";
import type { Step } from "./content.js";
import type { ArchiveLink } from "./stored.js";

/**
 * Calls kept in flight, at most `limit`: `add` waits for the oldest once there are that many,
 * `drain` for all. Either throws the first failure; every call is waited for before `drain`
 * returns or throws.
 */
export class InFlight {
  #calls: { done: Promise<void>; bytes: number }[] = [];
  #bytes = 0;
  #failure: { error: unknown } | undefined;

  constructor(
    private readonly limit: number,
    private readonly byteLimit: number,
  ) {}

  /** Adds a call holding `bytes` of memory until it settles. */
  async add(call: Promise<void>, bytes: number): Promise<void> {
    this.#calls.push({ done: call.catch((error: unknown) => void (this.#failure ??= { error })), bytes });
    this.#bytes += bytes;
    while (this.#calls.length >= this.limit || this.#bytes > this.byteLimit) {
      const oldest = this.#calls.shift()!;
      await oldest.done;
      this.#bytes -= oldest.bytes;
    }
    if (this.#failure) throw this.#failure.error;
  }

  async drain(): Promise<void> {
    await Promise.all(this.#calls.splice(0).map((c) => c.done));
    this.#bytes = 0;
    if (this.#failure) throw this.#failure.error;
  }
}

/** `items` grouped by the depth of their path, deepest group first. */
export function deepestFirst<T>(items: readonly T[], pathOf: (item: T) => string): T[][] {
  const levels = new Map<number, T[]>();
  for (const item of items) {
    const d = depth(pathOf(item));
    const level = levels.get(d);
    if (level) level.push(item);
    else levels.set(d, [item]);
  }
  return [...levels].sort((a, b) => b[0] - a[0]).map(([, level]) => level);
}

/**
 * Runs `work` on every item, at most `limit` at once. After a failure it starts no more, waits
 * for those running (so nothing still writes once the error is out), and throws the first error.
 */
export async function eachSettled<T>(limit: number, items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    while (next < items.length && !failure) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure) throw failure.error;
}

/**
 * Removes a restore's staging directory after its commit. Left in silence, it would stay in the
 * restored tree for good (indexes skip it, people do not): failing to remove it is reported,
 * naming it.
 */
export async function removeStaging(target: FsAdapter, dir: string): Promise<void> {
  await target.remove(dir, { recursive: true }).catch((e: unknown) => {
    if (!(e instanceof IbtError)) throw e;
    throw new IbtError(e.code, `the snapshot was restored, but its staging directory ${dir} could not be removed (${e.message}); delete it`, { path: dir, cause: e });
  });
}

/**
 * The plans ordered by where their first step's data lies: archive by archive along the chain,
 * then by offset in the archive (a group's spans in their order). A restore then reads each
 * archive front to back, as its read windows expect, instead of jumping about in path order and
 * fetching again what a window already dropped.
 */
export function inArchiveOrder<P extends { steps: Step[] }>(links: readonly ArchiveLink[], plans: P[]): P[] {
  const at = new Map(links.map((l, i) => [l.rec.id, i]));
  const key = (p: P): [number, number, number] => {
    const { link, change } = p.steps[0]!;
    return [at.get(link.rec.id)!, link.reader.get(change.member!)?.offset ?? 0, change.offset ?? 0];
  };
  const keyed = plans.map((p) => ({ p, k: key(p) }));
  keyed.sort((a, b) => a.k[0] - b.k[0] || a.k[1] - b.k[1] || a.k[2] - b.k[2]);
  return keyed.map((x) => x.p);
}

/**
 * Each archive's first read is asked for at once, before any file is rebuilt, so that the reads
 * that follow in it find their window. Otherwise each archive's first read would wait for its
 * round trip in turn, as the files go by in archive order. It is the read the restore would make
 * first, so the window is the one it would fetch; a failure is dropped, and the read that needs
 * the bytes asks again.
 */
export function askFirstReads(links: readonly ArchiveLink[], plans: readonly { steps: Step[] }[]): void {
  const first = new Map<ArchiveLink, number>();
  for (const p of plans) {
    for (const { link, change } of p.steps) {
      const at = link.reader.get(change.member!)?.offset;
      if (at !== undefined && !first.has(link)) first.set(link, at);
    }
    if (first.size === links.length) break;
  }
  for (const [link, at] of first) link.access.read(at, 1).catch(() => {});
}

/**
 * Writes file `e`'s `content` at `path` in the staging directory, where nothing is yet. Up to
 * `wholeWrite` bytes it is created with its mode and mtime in one call, kept in flight in
 * `creating` (true: its mtime is set); a larger one is streamed with its mode, and its mtime is
 * the caller's to set (false).
 */
export async function stageFile(target: FsAdapter, create: CreateFile, creating: InFlight, path: string, e: IndexEntry, content: AsyncIterable<Uint8Array>, wholeWrite: number): Promise<boolean> {
  const mode = e.mode & 0o7777;
  if (e.size <= wholeWrite) {
    // Not awaited one by one: an adapter that creates files on another thread works on these
    // while the next ones are rebuilt.
    await creating.add(create(path, await collect(content), { mode, mtimeMs: e.mtimeMs }), e.size);
    return true;
  }
  await target.writeFile(path, content, { mode });
  return false;
}
