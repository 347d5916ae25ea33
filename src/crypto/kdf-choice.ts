/**
 * How a new key's Argon2id parameters are chosen: either given outright (`KdfParams`, taken as
 * they are, so tests and slow machines can pin them), or fitted to a derivation time on this
 * machine (`KdfTarget`), never below RFC 9106's second recommended setting (the floor:
 * DEFAULT_KDF_PARAMS, 64 MiB and 3 passes). The parameters chosen are stored in the key object,
 * so opening a key never calibrates and never depends on the machine that made it.
 *
 * The default target is half a second, restic's: every command that opens a repository pays it
 * once for each key it tries, and a repository made on a fast desktop is also opened on slower
 * devices (a phone's browser, a Worker with a CPU-time limit), where the same parameters take
 * longer. By default extra time buys passes, not memory, so the key still opens where only
 * 64 MiB can be had; `maxMemoryKiB` lets extra time buy memory first.
 *
 * Where the clock stands still during computation (Cloudflare Workers stop it until the next
 * I/O) nothing can be measured, and the floor is used: it is what every runtime can afford.
 */
import { IbtError, isIbtError } from "../errors.js";
import { ARGON2_MAX_MEMORY_KIB, calibrateArgon2id } from "./argon2.js";
import { DEFAULT_KDF_PARAMS, type Kdf, type KdfParams } from "./key-object.js";

/** Fit the parameters to a derivation time here, above the floor. */
export interface KdfTarget {
  /** The derivation time wanted on this machine, in milliseconds. */
  targetMs: number;
  /**
   * The most memory (KiB) extra time may buy; 64 MiB (the floor's) unless given, so keys open
   * in every runtime. At most 1 GiB.
   */
  maxMemoryKiB?: number;
  /** The clock timing the derivations, in milliseconds; `performance.now` unless given. */
  now?: () => number;
}

/** Parameters for a new key: pinned, or a time to fit them to. */
export type KdfChoice = KdfParams | KdfTarget;

/** The derivation time new keys are fitted to unless told otherwise (see the note above). */
export const DEFAULT_KDF_TARGET_MS = 500;

/** What a new key gets when its caller says nothing. */
export const DEFAULT_KDF_CHOICE: Readonly<KdfTarget> = Object.freeze({ targetMs: DEFAULT_KDF_TARGET_MS });

export function isKdfTarget(choice: KdfChoice): choice is KdfTarget {
  return typeof choice === "object" && choice !== null && "targetMs" in choice;
}

/**
 * The parameters a new key gets under `choice`: pinned ones as given (checked when the key is
 * made), or the floor and whatever more `kdf` fits into the target here.
 */
export async function chooseKdfParams(choice: KdfChoice = DEFAULT_KDF_CHOICE, kdf: Kdf): Promise<KdfParams> {
  if (!isKdfTarget(choice)) return choice;
  const floor = DEFAULT_KDF_PARAMS;
  const maxMemoryKiB = choice.maxMemoryKiB ?? floor.memoryKiB;
  if (typeof maxMemoryKiB !== "number" || !Number.isSafeInteger(maxMemoryKiB) || maxMemoryKiB < floor.memoryKiB || maxMemoryKiB > ARGON2_MAX_MEMORY_KIB) {
    throw new IbtError("BAD_ARGUMENT", `key derivation: maxMemoryKiB must be a whole number from ${floor.memoryKiB} to ${ARGON2_MAX_MEMORY_KIB}`, { caller: "chooseKdfParams" });
  }
  try {
    const { params } = await calibrateArgon2id({
      targetMs: choice.targetMs,
      minMemoryKiB: floor.memoryKiB,
      minPasses: floor.passes,
      maxMemoryKiB,
      parallelism: floor.parallelism,
      tagLength: floor.tagLength,
      derive: kdf,
      ...(choice.now === undefined ? {} : { now: choice.now }),
    });
    return params;
  } catch (e) {
    // A clock that does not run during computation: nothing to fit to, so the floor.
    if (isIbtError(e, "UNSUPPORTED")) return { ...floor };
    throw e;
  }
}
