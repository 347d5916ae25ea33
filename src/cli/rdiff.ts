/**
 * The rdiff-compatible commands: signature, delta, patch. Same positional arguments and option
 * letters as rdiff; `-` or a missing argument means stdin/stdout. A file output is written
 * whole or not at all, and an existing output is refused without -f, as rdiff does.
 */
import { stat } from "node:fs/promises";
import { IbtError } from "../errors.js";
import { signature } from "../rsync/signature.js";
import { delta } from "../rsync/delta.js";
import { patch } from "../rsync/patch.js";
import { loadSignature } from "../rsync/loadsig.js";
import type { StrongHash, WeakSum } from "../rsync/format.js";
import { readFileChunks, openBasis, writeFileAtomic, fsError } from "../node/files.js";
import { integer, flag, value, type OptionSpec, type Parsed } from "./args.js";

export const RDIFF_OPTIONS: OptionSpec[] = [
  { short: "b", long: "block-size", value: true },
  { short: "S", long: "sum-size", value: true },
  { short: "H", long: "hash", value: true },
  { short: "R", long: "rollsum", value: true },
  { short: "f", long: "force" },
  { short: "s", long: "statistics" },
  { short: "I", long: "input-size", value: true },
  { short: "O", long: "output-size", value: true },
  { short: "v", long: "verbose" },
];

export const RDIFF_USAGE = `Usage: ibt [OPTIONS] signature [BASIS [SIGNATURE]]
       ibt [OPTIONS] delta SIGNATURE [NEWFILE [DELTA]]
       ibt [OPTIONS] patch BASIS [DELTA [NEWFILE]]

Options (as rdiff's):
  -H, --hash=ALG          strong hash: blake2 (default), md4
  -R, --rollsum=ALG       rolling sum: rabinkarp (default), rollsum
  -b, --block-size=BYTES  signature block size, 0 (default) for recommended
  -S, --sum-size=BYTES    strong sum bytes, 0 (default) for max, -1 for min
  -f, --force             overwrite existing output files
  -s, --statistics        print statistics on stderr
  -I, -O BYTES            accepted for compatibility; buffers are sized automatically
`;

const isStd = (p: string | undefined) => p === undefined || p === "-";

async function* stdinChunks(): AsyncGenerator<Uint8Array> {
  for await (const c of process.stdin) yield c as Uint8Array;
}

function input(path: string | undefined): AsyncIterable<Uint8Array> {
  return isStd(path) ? stdinChunks() : readFileChunks(path!, { reuseBuffer: true });
}

async function output(path: string | undefined, chunks: AsyncIterable<Uint8Array>, force: boolean): Promise<number> {
  if (!isStd(path)) return writeFileAtomic(path!, chunks, { overwrite: force });
  let total = 0;
  for await (const c of chunks) {
    total += c.length;
    if (!process.stdout.write(c)) await new Promise((r) => process.stdout.once("drain", r));
  }
  return total;
}

function tooMany(p: Parsed, max: number, cmd: string): void {
  if (p.positionals.length > max) throw new IbtError("BAD_ARGUMENT", `${cmd}: too many arguments`);
}

async function sizeOf(path: string | undefined): Promise<number | undefined> {
  if (isStd(path)) return undefined;
  try {
    const s = await stat(path!);
    return s.isFile() ? s.size : undefined;
  } catch (e) {
    throw fsError(e, path!);
  }
}

function stats(p: Parsed, line: string): void {
  if (flag(p, "statistics")) process.stderr.write(`ibt: ${line}\n`);
}

export async function signatureCommand(p: Parsed): Promise<void> {
  tooMany(p, 2, "signature");
  const [basis, sigPath] = p.positionals;
  const hash = (value(p, "hash") ?? "blake2") as StrongHash;
  const weak = (value(p, "rollsum") ?? "rabinkarp") as WeakSum;
  const size = await sizeOf(basis);
  const opts = { hash, weak, blockLength: integer(p, "block-size") ?? 0, strongLength: integer(p, "sum-size") ?? 0 };
  const started = Date.now();
  const n = await output(sigPath, signature(input(basis), size === undefined ? opts : { ...opts, size }), flag(p, "force"));
  stats(p, `signature: ${size ?? "?"} bytes in, ${n} bytes out, ${Date.now() - started} ms`);
}

export async function deltaCommand(p: Parsed): Promise<void> {
  tooMany(p, 3, "delta");
  const [sigPath, newPath, deltaPath] = p.positionals;
  if (sigPath === undefined) throw new IbtError("BAD_ARGUMENT", "delta: missing SIGNATURE");
  if (isStd(sigPath) && isStd(newPath)) throw new IbtError("BAD_ARGUMENT", "delta: SIGNATURE and NEWFILE cannot both be stdin");
  const started = Date.now();
  const sig = await loadSignature(input(sigPath)).catch((e) => {
    if (e instanceof IbtError && e.path === undefined && !isStd(sigPath)) {
      throw new IbtError(e.code, `${sigPath}: ${e.message}`, { path: sigPath, ...(e.offset === undefined ? {} : { offset: e.offset }) });
    }
    throw e;
  });
  const n = await output(deltaPath, delta(sig, input(newPath)), flag(p, "force"));
  stats(p, `delta: ${sig.count} blocks of ${sig.blockLength}, ${n} bytes out, ${Date.now() - started} ms`);
}

export async function patchCommand(p: Parsed): Promise<void> {
  tooMany(p, 3, "patch");
  const [basisPath, deltaPath, newPath] = p.positionals;
  if (isStd(basisPath)) throw new IbtError("BAD_ARGUMENT", "patch: BASIS must be a file (it is read at random offsets)");
  const started = Date.now();
  const basis = await openBasis(basisPath!);
  try {
    const n = await output(newPath, patch(basis.read, input(deltaPath), { basisSize: basis.size }), flag(p, "force"));
    stats(p, `patch: ${n} bytes out, ${Date.now() - started} ms`);
  } catch (e) {
    if (e instanceof IbtError && e.path === undefined && !isStd(deltaPath)) {
      throw new IbtError(e.code, `${deltaPath}: ${e.message}`, { path: deltaPath!, ...(e.offset === undefined ? {} : { offset: e.offset }) });
    }
    throw e;
  } finally {
    await basis.close();
  }
}
