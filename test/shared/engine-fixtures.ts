/**
 * Engine fixtures for the runtimes that cannot run rdiff themselves (Deno without --allow-run, a
 * browser page): made in Node, with the real rdiff for signatures and deltas and with this
 * package's engine for its own deltas. The shared engine cases (engine-cases.ts) then check, in
 * whatever runtime loads them, that the engine there agrees with rdiff and with Node byte for byte.
 *
 * Node only: spawns rdiff and writes files.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { deltaOf, signatureOf } from "../../src/index.js";
import { randomBytes, rng, textBytes } from "./data.js";
import type { EngineCase, EngineFixtures } from "./engine-cases.js";
import { CRYPTO_VECTORS_FILE } from "./crypto-cases.js";

function rdiff(args: string[]): Uint8Array {
  const r = spawnSync("rdiff", args, { maxBuffer: 1 << 28 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`rdiff ${args.join(" ")} failed (${r.status}): ${r.stderr.toString()}`);
  return new Uint8Array(r.stdout.buffer, r.stdout.byteOffset, r.stdout.length);
}

/** A basis and an edited version of it: text and random halves, a few overwrites, an insert, a cut. */
function pair(size: number, seed: number): [Uint8Array, Uint8Array] {
  const next = rng(seed);
  const basis = new Uint8Array(size);
  basis.set(randomBytes(next, size >> 1));
  basis.set(textBytes(next, size - (size >> 1)), size >> 1);
  if (size === 0) return [basis, randomBytes(next, 10)];
  const edited = basis.slice();
  for (let k = 0; k < 3; k++) edited.set(randomBytes(next, 20).subarray(0, size), Math.floor(next() * Math.max(1, size - 20)));
  const at = Math.floor(next() * size);
  const cut = Math.floor(next() * size);
  const inserted = randomBytes(next, 100);
  const out = new Uint8Array(size + inserted.length);
  out.set(edited.subarray(0, at));
  out.set(inserted, at);
  out.set(edited.subarray(at), at + inserted.length);
  return [basis, out.subarray(0, Math.max(cut, at + inserted.length))];
}

/** Every signature kind: strong hash × rolling sum (librsync's four magics). */
export const KINDS = [
  ["blake2", "rabinkarp"],
  ["blake2", "rollsum"],
  ["md4", "rabinkarp"],
  ["md4", "rollsum"],
] as const;

/**
 * Writes the fixtures into `dir`, with fixtures.json naming them: per case a basis, a new
 * version, rdiff's signature and delta (`.sig`, `.rdelta`) and Node's own delta (`.delta`).
 */
export async function makeEngineFixtures(dir: string): Promise<EngineFixtures> {
  mkdirSync(dir, { recursive: true });
  // The encryption vectors travel with the engine fixtures, for crypto-cases.ts.
  writeFileSync(join(dir, CRYPTO_VECTORS_FILE), readFileSync(new URL("../../../test/crypto/vectors.json", import.meta.url)));
  const cases: EngineCase[] = [];
  const shapes: { size: number; blockLength: number; strongLength: number }[] = [
    { size: 0, blockLength: 0, strongLength: 0 },
    { size: 1, blockLength: 0, strongLength: 0 },
    { size: 300, blockLength: 0, strongLength: 0 },
    { size: 70_000, blockLength: 0, strongLength: 0 },
    { size: 70_000, blockLength: 100, strongLength: -1 },
    { size: 1_300_000, blockLength: 0, strongLength: 0 },
    { size: 5000, blockLength: 7, strongLength: 8 },
  ];
  shapes.forEach(({ size, blockLength, strongLength }, i) => {
    const [basis, next] = pair(size, 1000 + i);
    const stem = `pair${i}`;
    writeFileSync(join(dir, `${stem}.basis`), basis);
    writeFileSync(join(dir, `${stem}.new`), next);
    for (const [hash, weak] of KINDS) {
      const name = `${stem}-${hash}-${weak}`;
      const args = ["-H", hash, "-R", weak];
      if (blockLength) args.push("-b", String(blockLength));
      if (strongLength) args.push("-S", String(strongLength));
      const sig = rdiff([...args, "signature", join(dir, `${stem}.basis`), "-"]);
      writeFileSync(join(dir, `${name}.sig`), sig);
      writeFileSync(join(dir, `${name}.rdelta`), rdiff(["delta", join(dir, `${name}.sig`), join(dir, `${stem}.new`), "-"]));
      cases.push({ name, basis: `${stem}.basis`, next: `${stem}.new`, options: { hash, weak, blockLength, strongLength } });
    }
  });
  for (const c of cases) {
    const read = (file: string) => new Uint8Array(readFileSync(join(dir, file)));
    writeFileSync(join(dir, `${c.name}.delta`), await deltaOf(await signatureOf(read(c.basis), c.options), read(c.next)));
  }
  const fixtures: EngineFixtures = { cases };
  writeFileSync(join(dir, "fixtures.json"), JSON.stringify(fixtures));
  return fixtures;
}
