/**
 * Cryptography for encrypted repositories: key derivation from a password (Argon2id), key
 * objects, the segmented AES-256-GCM object format, and the EncryptedStore that wraps any Store.
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
export { EncryptedStore } from "./encrypted-store.js";
export {
  addRepositoryKey,
  changeRepositoryPassword,
  createRepositoryKey,
  DEFAULT_KDF_CHOICE,
  DEFAULT_KDF_PARAMS,
  DEFAULT_KDF_TARGET_MS,
  hasRepositoryKeys,
  KEYS_PREFIX,
  listRepositoryKeys,
  openRepositoryKey,
  removeRepositoryKey,
  RepositoryKey,
  type CreateOptions,
  type DamagedKey,
  type Kdf,
  type KdfChoice,
  type KdfParams,
  type KdfTarget,
  type KeyInfo,
  type KeyOptions,
} from "./keys.js";
export { decryptRange, type StoredRange } from "./segment-range.js";
export {
  ciphertextSize,
  decryptObject,
  DEFAULT_SEGMENT_SIZE,
  encryptObject,
  FORMAT_VERSION,
  HEADER_LENGTH,
  importMasterKey,
  plaintextSize,
  TAG_LENGTH,
  type EncryptOptions,
} from "./segments.js";
