/**
 * What the Bun suite shares: the work folder the runner (test/bun/run.mjs) made, holding Node's
 * engine fixtures and Node's round-trip fingerprints, and fresh folders inside it for tests on
 * disk. Runs under Bun only.
 */
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import type { RoundTripFingerprint } from "../shared/roundtrip-cases.js";

/** The work folder, from the environment variable the runner sets. */
export const WORK = (() => {
  const dir = process.env.IBT_BUN_WORK;
  if (!dir) throw new Error("IBT_BUN_WORK is not set: run the Bun suite with `npm run test:bun`");
  return dir;
})();

export const readWork = async (file: string): Promise<Uint8Array> => new Uint8Array(await readFile(join(WORK, file)));

/** Node's round-trip fingerprints, made before Bun started: in memory, and on disk (NodeFs). */
export const reference = async (kind: "memory" | "disk"): Promise<RoundTripFingerprint> =>
  JSON.parse(new TextDecoder().decode(await readWork(`roundtrip-${kind}.json`)));

/** A fresh folder under the work folder, and a function that removes it. */
export async function freshFolder(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  await mkdir(join(WORK, "tmp"), { recursive: true });
  const dir = await mkdtemp(join(WORK, "tmp", "t-"));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Bun's version, and a check that this really is Bun. */
export function bunVersion(): string {
  const bun = (globalThis as { Bun?: { version: string } }).Bun;
  if (!bun) throw new Error("not running under Bun");
  return bun.version;
}
