/**
 * Delta generation: the TypeScript face of assembly/matcher.ts and assembly/blocktable.ts.
 *
 * The job copies the signature's block records into the engine once and builds the block table,
 * then streams the new data through the engine's window. It refills the window only when it is
 * full (or the input has ended) before running the matcher, which is what makes the delta
 * independent of how the input was chunked. Memory: the block table plus a window of about
 * 1.3 MiB (more for block lengths over 1 MiB), whatever the size of the new file.
 */
import { IbtError } from "../errors.js";
import { acquireEngine, releaseEngine, RUN_DONE, RUN_NEED_INPUT, RUN_OUTPUT_FULL, type Engine } from "./engine.js";
import { ChunkQueue, type ByteSource } from "./bytes.js";
import { streamJob, runJob } from "./job.js";
import { MAGIC_DELTA } from "./format.js";
import { loadSignature, parseSignature, type Signature } from "./loadsig.js";

export interface DeltaStats {
  /** Bytes of new data read. */
  newBytes: number;
  /** Bytes of delta written. */
  deltaBytes: number;
}

export class DeltaJob {
  /** Receives output in order, as arrays the receiver owns; `final` is true on the last call. */
  ondata: (data: Uint8Array, final: boolean) => void = () => {};
  /**
   * When set, receives the output instead of `ondata`, as views of the engine's memory that are
   * valid only during the call: no copy is made. For writers that consume synchronously.
   */
  onview: ((view: Uint8Array) => void) | undefined = undefined;
  readonly stats: DeltaStats = { newBytes: 0, deltaBytes: 0 };
  private engine: Engine | undefined;
  private readonly out = new ChunkQueue();

  private constructor(engine: Engine, sig: Signature) {
    this.engine = engine;
    const e = engine.exports;
    const at = e.tbl_alloc(sig.count, sig.strongLength);
    engine.write(at, sig.records);
    e.tbl_build(sig.weak === "rabinkarp" ? 1 : 0);
    e.dl_begin(sig.weak === "rabinkarp" ? 1 : 0, sig.hash === "blake2" ? 1 : 0, sig.blockLength);
  }

  /**
   * Gives the engine instance back without finishing (idempotent). Call it when abandoning the
   * job, for example in a `finally`: each instance reserves a large span of address space for
   * its memory, and instances dropped without it are only reclaimed by a later garbage collection.
   */
  dispose(): void {
    const engine = this.engine;
    this.engine = undefined;
    if (engine) releaseEngine(engine);
  }

  private headerSent = false;

  private emit(view: Uint8Array): void {
    if (!this.headerSent) {
      this.headerSent = true;
      const header = new Uint8Array(4);
      new DataView(header.buffer).setUint32(0, MAGIC_DELTA);
      this.emit(header);
    }
    if (this.onview) this.onview(view);
    else this.out.append(view);
  }

  /** A delta job against a parsed signature or the bytes of a signature file. */
  static async create(signature: Signature | Uint8Array): Promise<DeltaJob> {
    const sig = signature instanceof Uint8Array ? parseSignature(signature) : signature;
    return new DeltaJob(await acquireEngine(), sig);
  }

  push(chunk: Uint8Array, final = false): void {
    const engine = this.engine;
    if (!engine) throw new Error("DeltaJob: push after the final chunk");
    const e = engine.exports;
    this.stats.newBytes += chunk.length;
    for (let at = 0; at < chunk.length; ) {
      const space = e.dl_input_space();
      if (space === 0) {
        this.run(engine, false);
        e.dl_compact();
        continue;
      }
      const n = Math.min(space, chunk.length - at);
      engine.write(e.dl_input_ptr(), chunk.subarray(at, at + n));
      e.dl_commit(n);
      at += n;
    }
    if (final) {
      this.run(engine, true);
      if (!this.headerSent) this.emit(new Uint8Array(0));
      this.engine = undefined;
      releaseEngine(engine);
    }
    if (this.onview) return;
    const parts = this.out.take(final);
    if (final && parts.length === 0) parts.push(new Uint8Array(0));
    for (let i = 0; i < parts.length; i++) {
      this.stats.deltaBytes += parts[i]!.length;
      this.ondata(parts[i]!, final && i === parts.length - 1);
    }
  }

  /**
   * Zero-copy input, for readers that can fill a buffer they are given (a file read): returns a
   * view of free space in the engine's window. Fill a prefix of it, then call `filled(n)`. The
   * view is valid until the next call on this job.
   */
  inputSpace(): Uint8Array {
    const engine = this.engine;
    if (!engine) throw new Error("DeltaJob: input after the final chunk");
    const e = engine.exports;
    if (e.dl_input_space() === 0) {
      this.run(engine, false);
      e.dl_compact();
    }
    const ptr = e.dl_input_ptr();
    return engine.bytes().subarray(ptr, ptr + e.dl_input_space());
  }

  /** Takes `n` bytes written into the view from `inputSpace()`. */
  filled(n: number): void {
    const engine = this.engine;
    if (!engine) throw new Error("DeltaJob: input after the final chunk");
    if (!Number.isInteger(n) || n < 0 || n > engine.exports.dl_input_space()) throw new RangeError(`filled(${n}) exceeds the space given`);
    engine.exports.dl_commit(n);
    this.stats.newBytes += n;
  }

  private run(engine: Engine, final: boolean): void {
    const e = engine.exports;
    for (;;) {
      const status = e.dl_run(final ? 1 : 0);
      const len = e.dl_output_len();
      if (len > 0) {
        const ptr = e.dl_output_ptr();
        this.emit(engine.bytes().subarray(ptr, ptr + len));
        e.dl_output_taken();
      }
      if (status === RUN_OUTPUT_FULL) continue;
      if (status === RUN_DONE || status === RUN_NEED_INPUT) return;
      throw new IbtError("INTERNAL", `delta engine returned unknown status ${status}`);
    }
  }
}

/** Streams the delta that turns the signature's basis into `source`. */
export async function* delta(signature: Signature | Uint8Array | ByteSource, source: ByteSource): AsyncGenerator<Uint8Array> {
  const sig = signature instanceof Uint8Array || isSignature(signature) ? signature : await loadSignature(signature);
  yield* streamJob(await DeltaJob.create(sig), source);
}

function isSignature(s: unknown): s is Signature {
  return typeof s === "object" && s !== null && (s as Signature).records instanceof Uint8Array;
}

/** The delta from a signature to new bytes in memory. */
export async function deltaOf(signature: Signature | Uint8Array, data: Uint8Array): Promise<Uint8Array> {
  return runJob(await DeltaJob.create(signature), data);
}
