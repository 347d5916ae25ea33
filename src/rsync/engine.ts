/**
 * The WebAssembly engine: one module per process, instantiated per job, pooled.
 *
 * The module comes one of two ways. Runtimes that may compile WebAssembly at run time (Node,
 * Deno, Bun, browsers) compile the copy embedded as base64 (build/build.mjs) with
 * `WebAssembly.compile`: no fetch, no fs. Runtimes that forbid it (Cloudflare's workerd and other
 * edge runtimes) compile the shipped `engine.wasm` ahead of time and hand the module over with
 * `useEngineModule`, which the package's `/workerd` entry does on import. A handed-over module
 * always wins; a failed compile is never kept, so the next job tries again (or finds the module
 * handed over since). Each job gets an instance of its own, so jobs never share linear memory
 * and any number can run interleaved; finished instances go back to a small pool and their heap
 * is reset before reuse.
 *
 * Views of linear memory must be taken after every call that may allocate, because growing the
 * memory detaches the old ArrayBuffer; `bytes()` always returns a current view.
 */
import { IbtError } from "../errors.js";
import { ENGINE_WASM_BASE64 } from "./engine-wasm.generated.js";

export interface EngineExports {
  memory: WebAssembly.Memory;
  mem_reset(): void;
  mem_alloc(size: number): number;
  hash_state_size: WebAssembly.Global;
  hash_blake2b_init(st: number, outlen: number): void;
  hash_blake2b_update(st: number, ptr: number, len: number): void;
  hash_blake2b_final(st: number, out: number): void;
  hash_md4_init(st: number): void;
  hash_md4_update(st: number, ptr: number, len: number): void;
  hash_md4_final(st: number, out: number): void;
  hash_rabinkarp(ptr: number, len: number): number;
  hash_rollsum(ptr: number, len: number): number;
  sig_begin(rabinKarp: number, blake2: number, blockLen: number, strongLen: number): void;
  sig_update(ptr: number, len: number, out: number): number;
  sig_finish(out: number): number;
  tbl_alloc(count: number, strongLen: number): number;
  tbl_build(rabinKarp: number): void;
  dl_begin(rabinKarp: number, blake2: number, blockLen: number): void;
  dl_input_ptr(): number;
  dl_input_space(): number;
  dl_commit(n: number): void;
  dl_compact(): void;
  dl_run(final: number): number;
  dl_output_ptr(): number;
  dl_output_len(): number;
  dl_output_taken(): void;
  argon2_begin(msg: number, len: number): number;
  argon2_fill_slice(): number;
  argon2_finish(): number;
  argon2_wipe(): void;
}

export const RUN_NEED_INPUT = 0;
export const RUN_OUTPUT_FULL = 1;
export const RUN_DONE = 2;

/** The module in use or being compiled; unset until first use and after a failed compile. */
let loading: Promise<WebAssembly.Module> | undefined;

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * Hands the library an engine module compiled ahead of time from the package's `engine.wasm`,
 * for runtimes that forbid compiling WebAssembly at run time. Jobs started from now on use it.
 */
export function useEngineModule(module: WebAssembly.Module): void {
  if (!(module instanceof WebAssembly.Module)) {
    throw new IbtError("BAD_ARGUMENT", "useEngineModule takes a WebAssembly.Module (the package's engine.wasm, compiled by the runtime)");
  }
  loading = Promise.resolve(module);
}

async function compileEmbedded(): Promise<WebAssembly.Module> {
  try {
    return await WebAssembly.compile(decodeBase64(ENGINE_WASM_BASE64));
  } catch (cause) {
    throw new IbtError(
      "UNSUPPORTED",
      "this runtime refused to compile the WebAssembly engine at run time; where compiling is forbidden " +
        '(Cloudflare Workers, other edge runtimes), import "incremental-backups-tools/workerd" instead, ' +
        'or hand the precompiled engine.wasm to useEngineModule()',
      { cause },
    );
  }
}

/** The engine module: the one handed over, else the embedded copy compiled on first use. */
export function engineModule(): Promise<WebAssembly.Module> {
  if (loading) return loading;
  const attempt = compileEmbedded();
  loading = attempt;
  // A failure is not kept: the next caller compiles again, unless a module was handed over since.
  attempt.catch(() => {
    if (loading === attempt) loading = undefined;
  });
  return attempt;
}

export class Engine {
  readonly exports: EngineExports;

  constructor(instance: WebAssembly.Instance) {
    this.exports = instance.exports as unknown as EngineExports;
  }

  /** A view of the whole linear memory, valid until the next call that allocates. */
  bytes(): Uint8Array {
    return new Uint8Array(this.exports.memory.buffer);
  }

  alloc(size: number): number {
    return this.exports.mem_alloc(size);
  }

  /** Copies `data` into linear memory at `ptr`. */
  write(ptr: number, data: Uint8Array): void {
    this.bytes().set(data, ptr);
  }

  /** Copies `len` bytes out of linear memory. */
  read(ptr: number, len: number): Uint8Array {
    return this.bytes().slice(ptr, ptr + len);
  }
}

const pool: Engine[] = [];
// Enough for an indexer with many files in flight, each with a hasher and a signature job.
const POOL_MAX = 32;

function abort(): never {
  throw new IbtError("INTERNAL", "the WebAssembly engine aborted (out of memory or a broken invariant)");
}

/** An engine instance for one job; give it back with `releaseEngine` when the job ends. */
export async function acquireEngine(): Promise<Engine> {
  const reused = pool.pop();
  if (reused) {
    reused.exports.mem_reset();
    return reused;
  }
  const instance = await WebAssembly.instantiate(await engineModule(), { env: { abort } });
  return new Engine(instance);
}

export function releaseEngine(engine: Engine): void {
  // A job that grew memory very large is not kept: its pages cannot be returned to the system.
  if (pool.length < POOL_MAX && engine.exports.memory.buffer.byteLength <= 16 << 20) pool.push(engine);
}
