/**
 * Signature generation: the TypeScript face of assembly/signature.ts.
 *
 * `SignatureJob` is push-driven (push(chunk, final) → ondata), synchronous once created, and
 * accepts chunks of any size: it feeds the engine at most one input region per call, sized so
 * that the records it can produce always fit the output region. `signature()` is the
 * async-iterable form, `signatureOf()` the one-shot form. Memory is one engine instance with
 * about 1 MiB of input and output regions, whatever the size of the basis.
 */
import { acquireEngine, releaseEngine, type Engine } from "./engine.js";
import { ChunkQueue, type ByteSource } from "./bytes.js";
import { streamJob, runJob } from "./job.js";
import { signatureHeader, signatureParams, type SignatureOptions, type SignatureParams } from "./format.js";

const INPUT_REGION = 1 << 20;

export class SignatureJob {
  /** Receives output in order, as arrays the receiver owns; `final` is true on the last call. */
  ondata: (data: Uint8Array, final: boolean) => void = () => {};
  /**
   * When set, receives the output instead of `ondata`, as views of the engine's memory that are
   * valid only during the call: no copy is made. For writers that consume synchronously.
   */
  onview: ((view: Uint8Array) => void) | undefined = undefined;
  readonly params: SignatureParams;
  private engine: Engine | undefined;
  private readonly input: number;
  private readonly output: number;
  private readonly maxInput: number;
  private readonly out = new ChunkQueue();

  private constructor(engine: Engine, params: SignatureParams, size: number | undefined) {
    this.engine = engine;
    this.params = params;
    const record = 4 + params.strongLength;
    const e = engine.exports;
    e.sig_begin(params.weak === "rabinkarp" ? 1 : 0, params.hash === "blake2" ? 1 : 0, params.blockLength, params.strongLength);
    // Each call may complete floor(n / blockLength) + 1 blocks.
    // Regions sized for the input when its size is known: a small file's job stays small, and
    // so does the pooled instance that runs it.
    const inputRegion = size === undefined ? INPUT_REGION : Math.min(INPUT_REGION, Math.max(4096, size));
    const outputRegion = Math.max(inputRegion, 4 * record);
    const blocksPerCall = Math.max(1, Math.floor(outputRegion / record) - 1);
    this.maxInput = Math.min(inputRegion, blocksPerCall * params.blockLength);
    this.input = engine.alloc(this.maxInput);
    this.output = engine.alloc(outputRegion);
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
      this.emit(signatureHeader(this.params));
    }
    if (this.onview) this.onview(view);
    else this.out.append(view);
  }

  static async create(options: SignatureOptions = {}): Promise<SignatureJob> {
    const params = signatureParams(options);
    return new SignatureJob(await acquireEngine(), params, options.size);
  }

  /**
   * Zero-copy input, for readers that can fill a buffer they are given (a file read): a view of
   * the engine's input region. Fill a prefix of it, then call `filled(n)`. The view is valid
   * until the next call on this job.
   */
  inputSpace(): Uint8Array {
    const engine = this.engine;
    if (!engine) throw new Error("SignatureJob: input after the final chunk");
    return engine.bytes().subarray(this.input, this.input + this.maxInput);
  }

  /** Takes `n` bytes written into the view from `inputSpace()`. */
  filled(n: number): void {
    const engine = this.engine;
    if (!engine) throw new Error("SignatureJob: input after the final chunk");
    if (!Number.isInteger(n) || n < 0 || n > this.maxInput) throw new RangeError(`filled(${n}) exceeds the space given`);
    const produced = engine.exports.sig_update(this.input, n, this.output);
    if (produced > 0) this.emit(engine.bytes().subarray(this.output, this.output + produced));
    this.deliver(false);
  }

  push(chunk: Uint8Array, final = false): void {
    const engine = this.engine;
    if (!engine) throw new Error("SignatureJob: push after the final chunk");
    const e = engine.exports;
    for (let at = 0; at < chunk.length; ) {
      const n = Math.min(this.maxInput, chunk.length - at);
      engine.write(this.input, chunk.subarray(at, at + n));
      const produced = e.sig_update(this.input, n, this.output);
      if (produced > 0) this.emit(engine.bytes().subarray(this.output, this.output + produced));
      at += n;
    }
    if (final) {
      const produced = e.sig_finish(this.output);
      if (produced > 0) this.emit(engine.bytes().subarray(this.output, this.output + produced));
      if (!this.headerSent) this.emit(new Uint8Array(0));
      this.engine = undefined;
      releaseEngine(engine);
    }
    this.deliver(final);
  }

  private deliver(final: boolean): void {
    if (this.onview) return;
    const parts = this.out.take(final);
    if (final && parts.length === 0) parts.push(new Uint8Array(0));
    for (let i = 0; i < parts.length; i++) this.ondata(parts[i]!, final && i === parts.length - 1);
  }
}

/** Streams the signature of `source`. Give `options.size` when known: the defaults depend on it. */
export async function* signature(source: ByteSource, options: SignatureOptions = {}): AsyncGenerator<Uint8Array> {
  yield* streamJob(await SignatureJob.create(options), source);
}

/** The signature of bytes in memory; `size` defaults to their length. */
export async function signatureOf(data: Uint8Array, options: SignatureOptions = {}): Promise<Uint8Array> {
  return runJob(await SignatureJob.create({ size: data.length, ...options }), data);
}
