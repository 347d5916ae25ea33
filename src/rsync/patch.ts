/**
 * Applying a delta: decode librsync's command stream and rebuild the new file from literal bytes
 * and ranges copied out of the basis.
 *
 * Patching is parsing, not computing, so it lives in TypeScript. `DeltaDecoder` is a small state
 * machine (magic → command → parameters → literal bytes → … → end) fed chunks of any size; it
 * yields literal data as views of the input chunks and never buffers more than a command's 17
 * parameter bytes. `patch()` reads the basis through a random-access callback in pieces of at
 * most 1 MiB, so memory stays bounded however large a COPY is and the basis can live on any
 * storage. Every malformed input ends in an IbtError: BAD_MAGIC, CORRUPT (unknown command,
 * data after END, an integer beyond 2^53), TRUNCATED (input ends before END), OUT_OF_RANGE (a
 * COPY beyond the basis).
 */
import { IbtError } from "../errors.js";
import { chunksOf, collect, ChunkQueue, type ByteSource } from "../bytes.js";
import { MAGIC_DELTA } from "./format.js";

/**
 * Random access to the basis: MUST resolve to exactly `length` bytes at `offset` (at most 1 MiB
 * is asked at once), or fewer only at the basis's end. The result is used before the next call,
 * so a reader may reuse one buffer.
 */
export type BasisReader = (offset: number, length: number) => Promise<Uint8Array> | Uint8Array;

export type DeltaCommand =
  | { kind: "literal"; data: Uint8Array; at: number }
  | { kind: "copy"; offset: number; length: number; at: number };

const WIDTHS = [1, 2, 4, 8] as const;
const OP_LITERAL_N1 = 0x41;
const OP_COPY_FIRST = 0x45;
const OP_COPY_LAST = 0x54;

type Phase = "magic" | "command" | "params" | "literal" | "end";

export class DeltaDecoder {
  private phase: Phase = "magic";
  private readonly scratch = new Uint8Array(17);
  private filled = 0;
  private needed = 4;
  private op = 0;
  private commandAt = 0;
  private literalLeft = 0;
  /** Delta bytes consumed so far. */
  consumed = 0;

  get ended(): boolean {
    return this.phase === "end";
  }

  /** Decodes what `chunk` completes; literal data comes out as views of `chunk`. */
  *feed(chunk: Uint8Array): Generator<DeltaCommand> {
    let i = 0;
    while (i < chunk.length) {
      switch (this.phase) {
        case "end":
          throw new IbtError("CORRUPT", "delta has data after its END command", { offset: this.consumed + i });
        case "literal": {
          const n = Math.min(this.literalLeft, chunk.length - i);
          yield { kind: "literal", data: chunk.subarray(i, i + n), at: this.consumed + i };
          this.literalLeft -= n;
          i += n;
          if (this.literalLeft === 0) this.phase = "command";
          break;
        }
        case "command": {
          this.op = chunk[i]!;
          this.commandAt = this.consumed + i;
          i++;
          this.startCommand();
          break;
        }
        case "magic":
        case "params": {
          const n = Math.min(this.needed - this.filled, chunk.length - i);
          this.scratch.set(chunk.subarray(i, i + n), this.filled);
          this.filled += n;
          i += n;
          if (this.filled < this.needed) break;
          const cmd = this.phase === "magic" ? this.finishMagic() : this.finishParams();
          if (cmd) yield cmd;
          break;
        }
      }
    }
    this.consumed += chunk.length;
  }

  /** Call at the end of input: throws unless the END command was seen. */
  finish(): void {
    if (this.phase !== "end") {
      throw new IbtError("TRUNCATED", "delta ends before its END command", { offset: this.consumed });
    }
  }

  private expect(phase: Phase, bytes: number): void {
    this.phase = phase;
    this.needed = bytes;
    this.filled = 0;
  }

  private finishMagic(): undefined {
    const magic = readUint(this.scratch, 0, 4, 0);
    if (magic !== MAGIC_DELTA) {
      throw new IbtError("BAD_MAGIC", `not a librsync delta (magic 0x${magic.toString(16).padStart(8, "0")})`, { offset: 0 });
    }
    this.phase = "command";
    return undefined;
  }

  private startCommand(): void {
    const op = this.op;
    if (op === 0) {
      this.phase = "end";
    } else if (op <= 0x40) {
      this.literalLeft = op;
      this.phase = "literal";
    } else if (op < OP_COPY_FIRST) {
      this.expect("params", WIDTHS[op - OP_LITERAL_N1]!);
    } else if (op <= OP_COPY_LAST) {
      const code = op - OP_COPY_FIRST;
      this.expect("params", WIDTHS[code >> 2]! + WIDTHS[code & 3]!);
    } else {
      throw new IbtError("CORRUPT", `unknown delta command 0x${op.toString(16)}`, { offset: this.commandAt });
    }
  }

  private finishParams(): DeltaCommand | undefined {
    const op = this.op;
    if (op < OP_COPY_FIRST) {
      const len = readUint(this.scratch, 0, WIDTHS[op - OP_LITERAL_N1]!, this.commandAt);
      this.literalLeft = len;
      this.phase = len === 0 ? "command" : "literal";
      return undefined;
    }
    const code = op - OP_COPY_FIRST;
    const ow = WIDTHS[code >> 2]!;
    const offset = readUint(this.scratch, 0, ow, this.commandAt);
    const length = readUint(this.scratch, ow, WIDTHS[code & 3]!, this.commandAt);
    this.phase = "command";
    return { kind: "copy", offset, length, at: this.commandAt };
  }
}

function readUint(b: Uint8Array, at: number, width: number, commandAt: number): number {
  let hi = 0;
  let lo = 0;
  for (let k = 0; k < width; k++) {
    hi = hi * 256 + Math.floor(lo / 0x1000000);
    lo = (lo % 0x1000000) * 256 + b[at + k]!;
  }
  // lo < 2^32 always; the value is hi * 2^32 + lo, and must stay below 2^53.
  if (hi >= 0x200000) {
    throw new IbtError("CORRUPT", "delta integer exceeds 2^53", { offset: commandAt });
  }
  return hi * 0x100000000 + lo;
}

export interface PatchOptions {
  /** Size of the basis, when known: copies beyond it are refused before any read. */
  basisSize?: number;
}

const COPY_PIECE = 1 << 20;

/** Streams the file that `delta` rebuilds from the basis behind `readBasis`. */
export async function* patch(readBasis: BasisReader, delta: ByteSource, options: PatchOptions = {}): AsyncGenerator<Uint8Array> {
  const out = new ChunkQueue();
  for await (const view of patchViews(readBasis, delta, options)) {
    out.append(view);
    if (out.readyLength > 0) yield* out.take();
  }
  yield* out.take(true);
}

/**
 * The file that `delta` rebuilds, in one array of the `size` bytes it is known to have (from a
 * manifest or an index): each byte copied once, where `patch` and collecting its chunks copy it
 * twice. CORRUPT if the delta rebuilds more or fewer bytes than that.
 */
export async function patchInto(readBasis: BasisReader, delta: ByteSource, size: number, options: PatchOptions = {}): Promise<Uint8Array> {
  const out = new Uint8Array(size);
  let at = 0;
  for await (const view of patchViews(readBasis, delta, options)) {
    if (view.length > size - at) throw new IbtError("CORRUPT", `the delta rebuilds more than the ${size} bytes expected`);
    out.set(view, at);
    at += view.length;
  }
  if (at !== size) throw new IbtError("CORRUPT", `the delta rebuilds ${at} bytes, not the ${size} expected`);
  return out;
}

/**
 * The same stream without copies: yields views of the delta's chunks and of the reader's
 * buffers, each valid only until the next one is requested. For writers that consume each view
 * before asking for the next (a synchronous file write, a hash update).
 */
export async function* patchViews(readBasis: BasisReader, delta: ByteSource, options: PatchOptions = {}): AsyncGenerator<Uint8Array> {
  const decoder = new DeltaDecoder();
  const size = options.basisSize;
  for await (const chunk of chunksOf(delta)) {
    for (const cmd of decoder.feed(chunk)) {
      if (cmd.kind === "literal") {
        yield cmd.data;
        continue;
      }
      if (size !== undefined && cmd.offset + cmd.length > size) {
        throw new IbtError("OUT_OF_RANGE", `delta copies bytes ${cmd.offset}..${cmd.offset + cmd.length} of a ${size}-byte basis`, {
          offset: cmd.at,
        });
      }
      for (let off = cmd.offset, left = cmd.length; left > 0; ) {
        const n = Math.min(left, COPY_PIECE);
        const got = await readBasis(off, n);
        if (got.length !== n) {
          throw new IbtError("OUT_OF_RANGE", `delta copies bytes ${off}..${off + n} beyond the end of the basis`, { offset: cmd.at });
        }
        yield got;
        off += n;
        left -= n;
      }
    }
  }
  decoder.finish();
}

/** The file rebuilt from a basis and a delta, both in memory. */
export async function patchOf(basis: Uint8Array, delta: Uint8Array): Promise<Uint8Array> {
  const read = (offset: number, length: number) => basis.subarray(offset, offset + length);
  return collect(patch(read, [delta], { basisSize: basis.length }));
}
