/**
 * The encryption layer's public face, to be re-exported from src/crypto/index.ts: the
 * EncryptedStore, repository key management, and the object format for tools that inspect it.
 */
export { EncryptedStore } from "./encrypted-store.js";
export {
  addRepositoryKey,
  changeRepositoryPassword,
  createRepositoryKey,
  DEFAULT_KDF_PARAMS,
  hasRepositoryKeys,
  KEYS_PREFIX,
  listRepositoryKeys,
  openRepositoryKey,
  removeRepositoryKey,
  RepositoryKey,
  type CreateOptions,
  type DamagedKey,
  type Kdf,
  type KdfParams,
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
