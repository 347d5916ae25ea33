/**
 * The shape every push-driven engine job shares, and the async-iterable and one-shot forms built
 * on it, so each job only implements `push`.
 *
 * `EngineJob` holds what the signature and delta jobs have in common: the leased engine
 * instance, the format header written before the first output, and output delivery, either as
 * owned 64 KiB chunks (`ondata`) or as zero-copy views of engine memory (`onview`).
 */
import { ChunkQueue, chunksOf, concatBytes, type ByteSource } from "../bytes.js";
import { releaseEngine, type Engine } from "./engine.js";

export interface PushJob {
  /** Receives output in order, as arrays the receiver owns; `final` is true on the last call. */
  ondata: (data: Uint8Array, final: boolean) => void;
  /** Takes a chunk of any size; `final` ends the input. */
  push(chunk: Uint8Array, final?: boolean): void;
  /** Releases the job's resources without finishing (idempotent). */
  dispose(): void;
}

export abstract class EngineJob implements PushJob {
  /** Receives output in order, as arrays the receiver owns; `final` is true on the last call. */
  ondata: (data: Uint8Array, final: boolean) => void = () => {};
  /**
   * When set, receives the output instead of `ondata`, as views of the engine's memory that are
   * valid only during the call: no copy is made. For writers that consume synchronously.
   */
  onview: ((view: Uint8Array) => void) | undefined = undefined;
  /** Bytes of output produced so far, header included. */
  bytesOut = 0;
  protected engine: Engine | undefined;
  private readonly out = new ChunkQueue();
  private headerSent = false;

  protected constructor(
    engine: Engine,
    private readonly header: Uint8Array,
    private readonly name: string,
  ) {
    this.engine = engine;
  }

  abstract push(chunk: Uint8Array, final?: boolean): void;

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

  /** The engine, or an error once the final chunk was pushed. */
  protected live(): Engine {
    if (!this.engine) throw new Error(`${this.name}: input after the final chunk`);
    return this.engine;
  }

  /** Emits the output region [ptr, ptr + len) of the engine's memory. */
  protected emitRegion(engine: Engine, ptr: number, len: number): void {
    if (len > 0) this.emit(engine.bytes().subarray(ptr, ptr + len));
  }

  private emit(view: Uint8Array): void {
    if (!this.headerSent) {
      this.headerSent = true;
      this.emit(this.header);
    }
    this.bytesOut += view.length;
    if (this.onview) this.onview(view);
    else this.out.append(view);
  }

  /** Ends the job: the header goes out even with no other output, and the engine goes back. */
  protected finish(): void {
    if (!this.headerSent) this.emit(new Uint8Array(0));
    this.dispose();
  }

  /** Hands buffered output to `ondata` (whole chunks; everything when `final`). */
  protected deliver(final: boolean): void {
    if (this.onview) return;
    const parts = this.out.take(final);
    if (final && parts.length === 0) parts.push(new Uint8Array(0));
    for (let i = 0; i < parts.length; i++) this.ondata(parts[i]!, final && i === parts.length - 1);
  }
}

/** Runs a job over a byte source, yielding its output as it comes. */
export async function* streamJob(job: PushJob, source: ByteSource): AsyncGenerator<Uint8Array> {
  let pending: Uint8Array[] = [];
  job.ondata = (d) => {
    if (d.length) pending.push(d);
  };
  try {
    for await (const chunk of chunksOf(source)) {
      job.push(chunk);
      yield* pending;
      pending = [];
    }
    job.push(new Uint8Array(0), true);
    yield* pending;
  } finally {
    job.dispose();
  }
}

/** Runs a job over bytes in memory and returns its whole output. */
export function runJob(job: PushJob, data: Uint8Array): Uint8Array {
  const out: Uint8Array[] = [];
  job.ondata = (d) => out.push(d);
  try {
    job.push(data, true);
  } finally {
    job.dispose();
  }
  return concatBytes(out);
}
