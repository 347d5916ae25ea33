/**
 * The key object format: JSON under `keys/<id>` holding one password's wrapping of the master
 * key (operations in keys.ts). Reading is strict, since a key object comes from storage that
 * may be hostile: every field is checked for type and range, KDF parameters are bounded before
 * anyone runs the KDF with them, and anything out of place is CORRUPT naming the field, never
 * its contents. The associated data of the seal is rebuilt from the parsed fields in a fixed
 * order, so it does not depend on how the JSON was spaced or ordered.
 */
import { toHex } from "../bytes.js";
import { IbtError } from "../errors.js";
import { checkSegmentSize } from "./segments.js";
import { ARGON2ID_DEFAULTS } from "./argon2.js";

export interface KdfParams {
  memoryKiB: number;
  passes: number;
  parallelism: number;
  /** Bytes of output; the key that seals the master key is 32. */
  tagLength: number;
}

/** Argon2id, as `argon2id` in argon2.ts computes it. */
export type Kdf = (password: Uint8Array, salt: Uint8Array, params: KdfParams) => Promise<Uint8Array>;

/**
 * The floor: RFC 9106's second recommended setting with one lane (64 MiB, 3 passes; see
 * ARGON2ID_DEFAULTS for why). A key fitted to a time gets at least this (kdf-choice.ts).
 */
export const DEFAULT_KDF_PARAMS: Readonly<KdfParams> = ARGON2ID_DEFAULTS;

export const KEYS_PREFIX = "keys/";
const KEY_FORMAT = "ibt-key";
const KEY_VERSION = 1;
export const SALT_BYTES = 32;
export const NONCE_BYTES = 12;
const SEALED_BYTES = 32 + 16;
/** What a key object read from storage may ask of a reader (4 GiB of memory, 64 passes). */
const MAX_MEMORY_KIB = 4 * 1024 * 1024;
const MAX_PASSES = 64;
const MAX_PARALLELISM = 255;
export const MAX_TEXT = 256;

/** A key object as `listRepositoryKeys` shows it: no secret in it. */
export interface KeyInfo {
  id: string;
  created: string;
  host?: string;
  user?: string;
  kdf: "argon2id";
  params: KdfParams;
  segmentSize: number;
}

export interface DamagedKey {
  id: string;
  /** What is wrong with it, without its contents. */
  problem: string;
}

export interface KeyObject extends KeyInfo {
  salt: Uint8Array;
  nonce: Uint8Array;
  sealed: Uint8Array;
}

export function serializeKeyObject(object: KeyObject): Uint8Array {
  const json = {
    format: KEY_FORMAT,
    version: KEY_VERSION,
    created: object.created,
    ...(object.host === undefined ? {} : { host: object.host }),
    ...(object.user === undefined ? {} : { user: object.user }),
    kdf: object.kdf,
    params: object.params,
    salt: toHex(object.salt),
    segmentSize: object.segmentSize,
    nonce: toHex(object.nonce),
    sealed: toHex(object.sealed),
  };
  return new TextEncoder().encode(JSON.stringify(json, null, 2) + "\n");
}

export /** Every field but the sealed key and its nonce, in a fixed order: what the seal vouches for. */
function associatedData(info: KeyInfo, salt: Uint8Array): Uint8Array {
  const { params } = info;
  const fields = [
    KEY_FORMAT, KEY_VERSION, info.created, info.host ?? null, info.user ?? null, info.kdf,
    params.memoryKiB, params.passes, params.parallelism, params.tagLength, toHex(salt), info.segmentSize,
  ];
  return new TextEncoder().encode(JSON.stringify(fields));
}

export function paramsProblem(p: KdfParams): string | undefined {
  const int = (v: unknown, lo: number, hi: number) => typeof v === "number" && Number.isSafeInteger(v) && v >= lo && v <= hi;
  if (typeof p !== "object" || p === null) return "missing";
  if (!int(p.parallelism, 1, MAX_PARALLELISM)) return `parallelism must be 1 to ${MAX_PARALLELISM}`;
  if (!int(p.memoryKiB, 8 * p.parallelism, MAX_MEMORY_KIB)) return `memoryKiB must be 8 × parallelism to ${MAX_MEMORY_KIB}`;
  if (!int(p.passes, 1, MAX_PASSES)) return `passes must be 1 to ${MAX_PASSES}`;
  if (p.tagLength !== 32) return "tagLength must be 32";
  return undefined;
}

/** Reads a key object strictly; CORRUPT, saying which field, for anything out of place. */
export function parseKeyObject(id: string, bytes: Uint8Array): KeyObject {
  const bad = (what: string) => new IbtError("CORRUPT", `key object ${KEYS_PREFIX}${id}: ${what}`, { path: KEYS_PREFIX + id });
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes)) as Record<string, unknown>;
  } catch {
    throw bad("not JSON");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw bad("not a JSON object");
  if (json.format !== KEY_FORMAT) throw bad("not a key object");
  if (json.version !== KEY_VERSION) throw bad(`unsupported version ${JSON.stringify(json.version)}`);
  if (json.kdf !== "argon2id") throw bad("unsupported kdf");
  const text = (field: string, required: boolean): string | undefined => {
    const v = json[field];
    if (v === undefined && !required) return undefined;
    if (typeof v !== "string" || v.length > MAX_TEXT) throw bad(`bad ${field}`);
    return v;
  };
  const created = text("created", true)!;
  const host = text("host", false);
  const user = text("user", false);
  const raw = json.params as KdfParams;
  const problem = paramsProblem(raw);
  if (problem) throw bad(`params: ${problem}`);
  const params = { memoryKiB: raw.memoryKiB, passes: raw.passes, parallelism: raw.parallelism, tagLength: raw.tagLength };
  const segmentSize = json.segmentSize;
  if (typeof segmentSize !== "number") throw bad("bad segmentSize");
  try {
    checkSegmentSize(segmentSize);
  } catch {
    throw bad("bad segmentSize");
  }
  const hex = (field: string, length: number): Uint8Array => {
    const v = json[field];
    if (typeof v !== "string" || v.length !== 2 * length || !/^[0-9a-f]*$/.test(v)) throw bad(`bad ${field}`);
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = parseInt(v.slice(2 * i, 2 * i + 2), 16);
    return out;
  };
  const object: KeyObject = {
    id, created, kdf: "argon2id", params, segmentSize,
    salt: hex("salt", SALT_BYTES), nonce: hex("nonce", NONCE_BYTES), sealed: hex("sealed", SEALED_BYTES),
  };
  if (host !== undefined) object.host = host;
  if (user !== undefined) object.user = user;
  return object;
}
