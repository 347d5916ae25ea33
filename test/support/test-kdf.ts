/**
 * A cheap Argon2id for tests, shaped as the encryption layer's `Kdf`: hash-wasm's argon2id
 * with whatever (small) parameters a test passes, so key objects are made in milliseconds.
 */
import { argon2id } from "hash-wasm";
import type { Kdf, KdfParams } from "../../src/crypto/keys.js";

export const testKdf: Kdf = (password, salt, params) =>
  argon2id({
    password,
    salt,
    parallelism: params.parallelism,
    iterations: params.passes,
    memorySize: params.memoryKiB,
    hashLength: params.tagLength,
    outputType: "binary",
  });

/** The smallest parameters Argon2id allows with one lane: fast, and useless against guessing. */
export const TEST_KDF_PARAMS: KdfParams = { memoryKiB: 64, passes: 1, parallelism: 1, tagLength: 32 };
