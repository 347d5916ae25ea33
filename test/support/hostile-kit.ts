/**
 * What every hostile-input and fault test shares: how many cases to run, how to take an exact
 * picture of a tree, and how to judge one outcome.
 *
 * Case counts scale with IBT_FUZZ_SCALE (default 1, the quick run of `npm test`; `npm run fuzz`
 * raises it), so the fuzz run uses the very generators the test suite uses. Each category keeps
 * a tally (cases tried, refused with an allowed code, accepted with a checked result, and lost or
 * changed data, which fails the test as it is counted); when IBT_FUZZ_REPORT names a file, the
 * tallies are appended to it as JSON lines for test/fuzz.mjs to sum up.
 *
 * A snapshot is a map from every path under the adapter's root to its type, mode, mtime and
 * content (a file's bytes as hex of a BLAKE2b hash, a symlink's target), read only through the
 * FsAdapter, so one comparison serves MemoryFs and NodeFs alike. The root's own mtime is left out:
 * the staging directory is created and removed inside it, which moves that one timestamp and
 * nothing else.
 */
import assert from "node:assert/strict";
import { appendFileSync } from "node:fs";
import { after } from "node:test";
import { IbtError, blake2b, joinPath, type ErrorCode, type FsAdapter } from "../../src/index.js";
import { hex } from "./helpers.js";

const SCALE = Number(process.env.IBT_FUZZ_SCALE ?? "1");

/** IBT_FUZZ_SCALE: 1 unless set to a positive number. */
export const FUZZ_SCALE = Number.isFinite(SCALE) && SCALE > 0 ? SCALE : 1;

/** `n` scaled by IBT_FUZZ_SCALE, at least 1. */
export function scaled(n: number): number {
  return Math.max(1, Math.round(n * FUZZ_SCALE));
}

export interface Tally {
  category: string;
  tried: number;
  refused: number;
  accepted: number;
  changed: number;
  codes: Record<string, number>;
  /** Crashes or faults injected (crash and fault categories). */
  injected: number;
}

const tallies: Tally[] = [];
after(() => {
  const file = process.env.IBT_FUZZ_REPORT;
  if (!file) return;
  for (const t of tallies) appendFileSync(file, JSON.stringify(t) + "\n");
});

export function tally(category: string): Tally {
  const t: Tally = { category, tried: 0, refused: 0, accepted: 0, changed: 0, codes: {}, injected: 0 };
  tallies.push(t);
  return t;
}

export type Snapshot = Map<string, string>;

/** Every entry under the root: type, mode, mtime, and content or target. */
export async function snapshot(fs: FsAdapter, dir = ""): Promise<Snapshot> {
  const out: Snapshot = new Map();
  const walk = async (path: string): Promise<void> => {
    for (const name of (await fs.list(path)).sort()) {
      const p = joinPath(path, name);
      const st = await fs.lstat(p);
      let what = `${st.type} ${st.mode.toString(8)} ${st.mtimeMs}`;
      if (st.type === "file") {
        const chunks: Uint8Array[] = [];
        for await (const c of fs.readStream(p)) chunks.push(c);
        what += ` ${st.size} ${hex(await blake2b(Buffer.concat(chunks)))}`;
      } else if (st.type === "symlink") what += ` -> ${await fs.readlink(p)}`;
      out.set(p, what);
      if (st.type === "dir") await walk(p);
    }
  };
  await walk(dir);
  return out;
}

/** Asserts two snapshots are equal, naming the first difference. */
export function assertSame(got: Snapshot, want: Snapshot, label: string): void {
  for (const [p, w] of want) if (got.get(p) !== w) assert.fail(`${label}: ${p} is ${got.get(p) ?? "gone"}, was ${w}`);
  for (const p of got.keys()) if (!want.has(p)) assert.fail(`${label}: ${p} appeared`);
}

export function sameSnapshot(a: Snapshot, b: Snapshot): boolean {
  if (a.size !== b.size) return false;
  for (const [p, v] of a) if (b.get(p) !== v) return false;
  return true;
}

/**
 * Runs `work`, which must fail with an IbtError whose code is in `allowed`; returns the error.
 * Anything else (success, a TypeError, a RangeError, an unknown code) fails with `label`.
 */
export async function refusal(work: () => Promise<unknown>, allowed: readonly ErrorCode[], label: string): Promise<IbtError> {
  try {
    await work();
  } catch (e) {
    if (!(e instanceof IbtError)) assert.fail(`${label}: not an IbtError: ${e instanceof Error ? e.stack : String(e)}`);
    assert.ok(allowed.includes(e.code), `${label}: code ${e.code} not in ${allowed.join(",")}: ${e.message}`);
    return e;
  }
  assert.fail(`${label}: accepted`);
}

/** Counts a refusal in the tally. */
export function countRefusal(t: Tally, e: IbtError): void {
  t.refused++;
  t.codes[e.code] = (t.codes[e.code] ?? 0) + 1;
}

/**
 * Runs `work` against a target that must come out unchanged when it fails (and, when `accept`
 * is given, may instead succeed if `accept` confirms the result). Checks the code, the target's
 * snapshot, and the sentinel beside the target when there is one.
 */
export async function judge(
  t: Tally,
  label: string,
  opts: {
    target: FsAdapter;
    before: Snapshot;
    sentinel?: { fs: FsAdapter; before: Snapshot };
    allowed: readonly ErrorCode[];
    work: () => Promise<unknown>;
    /** When the work succeeds: checks the result; return false to fail the case. */
    accept?: () => Promise<boolean>;
  },
): Promise<"refused" | "accepted"> {
  t.tried++;
  let error: unknown;
  let ok = false;
  try {
    await opts.work();
    ok = true;
  } catch (e) {
    error = e;
  }
  if (opts.sentinel) {
    const s = await snapshot(opts.sentinel.fs);
    if (!sameSnapshot(s, opts.sentinel.before)) t.changed++;
    assertSame(s, opts.sentinel.before, `${label}: outside the target`);
  }
  if (ok) {
    if (!opts.accept) assert.fail(`${label}: accepted`);
    const good = await opts.accept();
    if (!good) t.changed++;
    assert.ok(good, `${label}: accepted with a wrong result`);
    t.accepted++;
    return "accepted";
  }
  if (!(error instanceof IbtError)) assert.fail(`${label}: not an IbtError: ${error instanceof Error ? error.stack : String(error)}`);
  assert.ok(opts.allowed.includes(error.code), `${label}: code ${error.code} not in ${opts.allowed.join(",")}: ${error.message}`);
  const after = await snapshot(opts.target);
  if (!sameSnapshot(after, opts.before)) t.changed++;
  assertSame(after, opts.before, label);
  countRefusal(t, error);
  return "refused";
}
