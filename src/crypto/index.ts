/**
 * Cryptography for encrypted repositories: key derivation from a password (Argon2id).
 */
export {
  argon2id,
  calibrateArgon2id,
  ARGON2ID_DEFAULTS,
  ARGON2_MAX_MEMORY_KIB,
  ARGON2_MAX_PASSES,
  ARGON2_MAX_TAG_LENGTH,
  type Argon2idParams,
  type Argon2idCost,
  type Argon2CalibrationOptions,
  type Argon2Calibration,
} from "./argon2.js";
