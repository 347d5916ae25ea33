/**
 * Argon2id (RFC 9106, version 0x13): derives an encrypted repository's key from its password.
 *
 * The memory-hard work runs in the WebAssembly engine (assembly/argon2.ts), so this runs wherever
 * the engine does, including runtimes that only accept a precompiled module. A derivation takes
 * an engine instance of its own through `acquireEngine`, fills memory one slice at a time and
 * yields between slices, so derivations interleave with each other and with other engine jobs
 * without sharing memory. Before the instance is handed back every block, H0, the tag and the
 * copied password are zeroed; an instance whose memory grew past the pool's limit is dropped
 * by `releaseEngine` rather than kept. If the engine traps, the instance is not handed back.
 *
 * Parameters are checked against RFC 9106 section 3.1 (BAD_ARGUMENT) and then against this
 * library's caps (LIMIT). The caps exist because a repository's key file, which may come from
 * storage someone else controls, names the parameters: memory is capped at 1 GiB (past it, a
 * 32-bit WebAssembly memory has little room left and most browsers refuse the growth), passes
 * at 64, and the tag at 64 KiB.
 *
 * Defaults: RFC 9106 section 4 offers two recommended settings, 2 GiB with one pass, or 64 MiB
 * with three passes for when less memory is available; OWASP's guidance sits at or below the
 * second. We default to the second, with one lane: 64 MiB fits every runtime this library
 * serves, including Cloudflare Workers' 128 MB isolates, so a repository made on a desktop still
 * opens at the edge. One lane because the lanes here run one after another in one thread: more
 * lanes would not make our derivation faster, while an attacker's cost per guess is the same.
 * `calibrateArgon2id` keeps that floor and spends any extra time it is given first on memory
 * (up to a portable cap the caller may raise), then on passes, because memory is what makes
 * guessing expensive on parallel hardware.
 */
import { IbtError } from "../errors.js";
import { acquireEngine, releaseEngine, type Engine } from "../rsync/engine.js";

export interface Argon2idParams {
  /** Memory in KiB, at least 8 × parallelism; the fill uses 4p × floor(m / 4p) blocks of 1 KiB. */
  memoryKiB: number;
  /** Passes over memory (t), at least 1. */
  passes: number;
  /** Lanes (p), at least 1; computed one after another here. */
  parallelism: number;
  /** Bytes of output, at least 4. */
  tagLength: number;
  /** Optional secret value K (a pepper). */
  secret?: Uint8Array;
  /** Optional associated data X. */
  associatedData?: Uint8Array;
}

/** The cost parameters alone, as a key file would record them. */
export type Argon2idCost = Pick<Argon2idParams, "memoryKiB" | "passes" | "parallelism" | "tagLength">;

/** RFC 9106's second recommended setting with one lane: 64 MiB, 3 passes, a 32-byte key. */
export const ARGON2ID_DEFAULTS: Readonly<Argon2idCost> = Object.freeze({
  memoryKiB: 64 * 1024,
  passes: 3,
  parallelism: 1,
  tagLength: 32,
});

export const ARGON2_MAX_MEMORY_KIB = 1024 * 1024;
export const ARGON2_MAX_PASSES = 64;
export const ARGON2_MAX_TAG_LENGTH = 64 * 1024;
/** Password, salt, secret and associated data together, as copied into the engine. */
const MAX_INPUT_BYTES = 16 << 20;
const MIN_SALT_LENGTH = 8;
const UINT32_MAX = 0xffffffff;
const MAX_LANES = 0xffffff;
const VERSION = 0x13;

/** Argon2's three variants; only Argon2id is part of the public API. */
export type Argon2Variant = "argon2d" | "argon2i" | "argon2id";
const VARIANT_TYPE: Record<Argon2Variant, number> = { argon2d: 0, argon2i: 1, argon2id: 2 };

/** Argon2id of `password` and `salt` with the given parameters; the tag is `tagLength` bytes. */
export function argon2id(password: Uint8Array, salt: Uint8Array, params: Argon2idParams): Promise<Uint8Array> {
  return argon2("argon2id", password, salt, params);
}

/**
 * Any Argon2 variant. Repositories use Argon2id only; the other two exist so that RFC 9106's
 * test vectors for them can check the parts of the core Argon2id shares with them.
 */
export async function argon2(
  variant: Argon2Variant,
  password: Uint8Array,
  salt: Uint8Array,
  params: Argon2idParams,
): Promise<Uint8Array> {
  const message = h0Input(VARIANT_TYPE[variant], password, salt, params);
  try {
    return await derive(message, params.tagLength);
  } finally {
    message.fill(0);
  }
}

async function derive(message: Uint8Array, tagLength: number): Promise<Uint8Array> {
  const engine = await acquireEngine();
  let trapped = false;
  try {
    return await runJob(engine, message, tagLength);
  } catch (err) {
    trapped = err instanceof WebAssembly.RuntimeError;
    throw trapped ? new IbtError("INTERNAL", "Argon2: the WebAssembly engine trapped", { cause: err }) : err;
  } finally {
    // A trapped instance may hold a half-written job; it is left to the garbage collector.
    if (!trapped) {
      engine.exports.argon2_wipe();
      releaseEngine(engine);
    }
  }
}

async function runJob(engine: Engine, message: Uint8Array, tagLength: number): Promise<Uint8Array> {
  const e = engine.exports;
  const at = engine.alloc(message.length);
  engine.write(at, message);
  const slices = e.argon2_begin(at, message.length);
  if (slices === 0) {
    const kib = new DataView(message.buffer, message.byteOffset).getUint32(8, true);
    throw new IbtError("LIMIT", `Argon2: could not get ${Math.ceil(kib / 1024)} MiB of memory for the derivation`);
  }
  if (slices < 0) throw new IbtError("INTERNAL", "Argon2: the engine refused parameters that passed validation");
  while (e.argon2_fill_slice() > 0) await Promise.resolve();
  return engine.read(e.argon2_finish(), tagLength);
}

export interface Argon2CalibrationOptions {
  /** The derivation time wanted on this machine, in milliseconds. */
  targetMs: number;
  /** Never less memory than this (KiB); defaults to 64 MiB. */
  minMemoryKiB?: number;
  /** Never fewer passes than this; defaults to 3. */
  minPasses?: number;
  /**
   * Never more memory than this (KiB); defaults to 64 MiB, which every runtime can give, so
   * extra time goes into passes. Raise it when the repository is only ever opened where more
   * memory is available.
   */
  maxMemoryKiB?: number;
  parallelism?: number;
  tagLength?: number;
  /**
   * The derivation to time; this library's `argon2id` unless given (a caller whose keys are
   * derived by another implementation times that one, since its speed is what counts).
   */
  derive?: (password: Uint8Array, salt: Uint8Array, cost: Argon2idCost) => Promise<unknown>;
  /** The clock, in milliseconds; `performance.now` unless given (tests pass a simulated one). */
  now?: () => number;
}

export interface Argon2Calibration {
  params: Argon2idCost;
  /** How long a derivation with `params` took here. */
  measuredMs: number;
}

/**
 * Picks Argon2id parameters that take about `targetMs` here, never below the floor
 * (`minMemoryKiB`, `minPasses`; by default RFC 9106's 64 MiB and 3 passes): extra time buys
 * memory up to `maxMemoryKiB` first, then passes. When even the floor takes longer than the
 * target, the floor is returned with its time. Time per block is close to linear in memory and
 * passes, so a measurement at the floor predicts the rest; each prediction is measured and, if
 * it misses the target by more than a tenth, refitted with the rate it showed (a few rounds at
 * most). The result is the costliest fit measured within a tenth over the target.
 *
 * It needs a clock that advances during computation: Cloudflare Workers stop theirs until the
 * next I/O, so calibrate elsewhere and store the result.
 */
export async function calibrateArgon2id(options: Argon2CalibrationOptions): Promise<Argon2Calibration> {
  const { targetMs } = options;
  const parallelism = options.parallelism ?? ARGON2ID_DEFAULTS.parallelism;
  const tagLength = options.tagLength ?? ARGON2ID_DEFAULTS.tagLength;
  const minPasses = options.minPasses ?? ARGON2ID_DEFAULTS.passes;
  const minMemoryKiB = options.minMemoryKiB ?? ARGON2ID_DEFAULTS.memoryKiB;
  const maxMemoryKiB = options.maxMemoryKiB ?? Math.max(minMemoryKiB, ARGON2ID_DEFAULTS.memoryKiB);
  if (typeof targetMs !== "number" || !(targetMs > 0) || !Number.isFinite(targetMs)) {
    throw bad(`calibration target must be a positive number of milliseconds, not ${String(targetMs)}`);
  }
  if (!(maxMemoryKiB >= minMemoryKiB)) throw bad("calibration: maxMemoryKiB is below minMemoryKiB");
  if (maxMemoryKiB > ARGON2_MAX_MEMORY_KIB) {
    throw new IbtError("LIMIT", `Argon2: memory above ${ARGON2_MAX_MEMORY_KIB} KiB (1 GiB) is not supported`);
  }

  const floor: Argon2idCost = { memoryKiB: minMemoryKiB, passes: minPasses, parallelism, tagLength };
  const time = timer(options.derive ?? argon2id, options.now ?? (() => performance.now()));
  // A stopped clock shows on the first run, so a runtime without one wastes only that run.
  const firstMs = await time(floor);
  if (firstMs <= 0) {
    throw new IbtError("UNSUPPORTED", "Argon2: the clock did not advance during a derivation; calibrate on another runtime");
  }
  // The first run also instantiates the engine and warms the compiler; the faster run counts.
  const floorMs = Math.min(firstMs, await time(floor));
  if (floorMs >= targetMs) return { params: floor, measuredMs: floorMs };

  // Time is close to linear in memory × passes, but the first pass costs more than the rest, so
  // a fit from the floor undershoots: each measured fit gives a better rate for the next.
  const work = (p: Argon2idCost) => p.memoryKiB * p.passes;
  let best: Argon2Calibration = { params: floor, measuredMs: floorMs };
  let tried = floor;
  let msPerKiBPass = floorMs / work(floor);
  for (let round = 0; round < MAX_CALIBRATION_ROUNDS; round++) {
    const params = fitToTime(floor, targetMs, msPerKiBPass, maxMemoryKiB);
    if (params.memoryKiB === tried.memoryKiB && params.passes === tried.passes) break;
    const measuredMs = await time(params);
    tried = params;
    if (measuredMs <= targetMs * 1.1 && work(params) > work(best.params)) best = { params, measuredMs };
    if (Math.abs(measuredMs - targetMs) <= targetMs * 0.1) break;
    msPerKiBPass = measuredMs / work(params);
  }
  return best;
}

/** Fits measured after the floor's: enough to settle, few enough to keep calibration short. */
const MAX_CALIBRATION_ROUNDS = 3;

/** The most memory (whole MiB when above the floor), then passes, that fit `targetMs`. */
function fitToTime(floor: Argon2idCost, targetMs: number, msPerKiBPass: number, maxMemoryKiB: number): Argon2idCost {
  const affordable = targetMs / (msPerKiBPass * floor.passes);
  let memoryKiB = Math.min(maxMemoryKiB, Math.floor(affordable / 1024) * 1024);
  memoryKiB = Math.max(floor.memoryKiB, memoryKiB);
  const passes = Math.max(floor.passes, Math.min(ARGON2_MAX_PASSES, Math.floor(targetMs / (msPerKiBPass * memoryKiB))));
  return { ...floor, memoryKiB, passes };
}

/** Times one derivation with `cost` of a fixed dummy password and salt. */
function timer(derive: NonNullable<Argon2CalibrationOptions["derive"]>, now: () => number): (cost: Argon2idCost) => Promise<number> {
  return async (cost) => {
    const start = now();
    await derive(new Uint8Array(16), new Uint8Array(16), cost);
    return now() - start;
  };
}

/**
 * H0's input as RFC 9106 section 3.2 lays it out: LE32 p, T, m, t, version, type, then each of
 * password, salt, secret and associated data after its LE32 length. The engine reads the
 * parameters back from this header, so what is hashed is what is computed.
 */
function h0Input(type: number, password: Uint8Array, salt: Uint8Array, params: Argon2idParams): Uint8Array {
  checkParams(password, salt, params);
  const secret = params.secret ?? new Uint8Array(0);
  const data = params.associatedData ?? new Uint8Array(0);
  const out = new Uint8Array(24 + 16 + password.length + salt.length + secret.length + data.length);
  const view = new DataView(out.buffer);
  const header = [params.parallelism, params.tagLength, params.memoryKiB, params.passes, VERSION, type];
  header.forEach((value, i) => view.setUint32(4 * i, value, true));
  let at = 24;
  for (const part of [password, salt, secret, data]) {
    view.setUint32(at, part.length, true);
    out.set(part, at + 4);
    at += 4 + part.length;
  }
  return out;
}

function bad(message: string): IbtError {
  return new IbtError("BAD_ARGUMENT", `Argon2: ${message}`);
}

function checkInteger(name: string, value: unknown, min: number, max: number): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw bad(`${name} must be an integer from ${min} to ${max}, not ${String(value)}`);
  }
}

function checkBytes(name: string, value: unknown, min: number): void {
  if (!(value instanceof Uint8Array)) throw bad(`${name} must be a Uint8Array`);
  if (value.length < min) throw bad(`${name} must be at least ${min} bytes, not ${value.length}`);
  if (value.length > UINT32_MAX) throw bad(`${name} must be at most ${UINT32_MAX} bytes`);
}

/** RFC 9106 section 3.1's bounds (BAD_ARGUMENT), then this library's caps (LIMIT). */
function checkParams(password: Uint8Array, salt: Uint8Array, params: Argon2idParams): void {
  if (typeof params !== "object" || params === null) throw bad("parameters must be an object");
  checkBytes("password", password, 0);
  checkBytes("salt", salt, MIN_SALT_LENGTH);
  if (params.secret !== undefined) checkBytes("secret", params.secret, 0);
  if (params.associatedData !== undefined) checkBytes("associated data", params.associatedData, 0);
  checkInteger("parallelism", params.parallelism, 1, MAX_LANES);
  checkInteger("passes", params.passes, 1, UINT32_MAX);
  checkInteger("tag length", params.tagLength, 4, UINT32_MAX);
  checkInteger("memory (KiB)", params.memoryKiB, 8 * params.parallelism, UINT32_MAX);

  if (params.memoryKiB > ARGON2_MAX_MEMORY_KIB) {
    throw new IbtError("LIMIT", `Argon2: memory above ${ARGON2_MAX_MEMORY_KIB} KiB (1 GiB) is not supported`);
  }
  if (params.passes > ARGON2_MAX_PASSES) {
    throw new IbtError("LIMIT", `Argon2: more than ${ARGON2_MAX_PASSES} passes is not supported`);
  }
  if (params.tagLength > ARGON2_MAX_TAG_LENGTH) {
    throw new IbtError("LIMIT", `Argon2: tags longer than ${ARGON2_MAX_TAG_LENGTH} bytes are not supported`);
  }
  const inputs = password.length + salt.length + (params.secret?.length ?? 0) + (params.associatedData?.length ?? 0);
  if (inputs > MAX_INPUT_BYTES) {
    throw new IbtError("LIMIT", `Argon2: password, salt, secret and associated data exceed ${MAX_INPUT_BYTES} bytes`);
  }
}
