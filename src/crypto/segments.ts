/**
 * The encrypted object format: what an encrypting Store writes in place of each plaintext
 * object. An object is a fixed 44-byte header followed by segments:
 *
 *   header   "IBTE" · version u8 (1) · 3 zero bytes · segment size u32 BE · salt[32]
 *   segment  AES-256-GCM(plaintext[segment size], or fewer in the final one) · tag[16]
 *
 * Every object has its own AES key, HKDF-SHA256 of the repository's master key with the
 * object's random salt, so a nonce never meets the same key twice across objects; within an
 * object the nonce is the segment's index and a final-segment flag (the STREAM construction),
 * so segments cannot be reordered, dropped, repeated, nor the object cut or extended at a
 * segment boundary without some tag failing. The header and the object's name are associated
 * data of every segment, so neither the parameters nor the place of an object can change
 * unnoticed. An empty object is one empty final segment (a bare tag); a non-empty object never
 * ends with an empty segment, which makes the ciphertext size a function of the plaintext
 * size and back, so ranged reads and sizes need no extra metadata.
 *
 * Every failure to authenticate is AUTH_FAILED naming the object: the caller cannot and need
 * not tell a flipped bit from a cut, a swap or an object of another repository.
 */
import { chunksOf, type ByteSource } from "../bytes.js";
import { IbtError } from "../errors.js";

export const FORMAT_VERSION = 1;
export const HEADER_LENGTH = 44;
export const TAG_LENGTH = 16;
export const SALT_LENGTH = 32;
/** Large enough that tags cost 0.02 %, small enough that a ranged read wastes little. */
export const DEFAULT_SEGMENT_SIZE = 64 * 1024;
/** Bounds what a header may ask a reader to buffer. */
export const MAX_SEGMENT_SIZE = 16 * 1024 * 1024;

const MAGIC = [0x49, 0x42, 0x54, 0x45]; // "IBTE"
const OBJECT_KEY_INFO = new TextEncoder().encode("ibt encrypted object v1");
const NAME_ENCODER = new TextEncoder();

/** `b` as WebCrypto takes it: a view of a plain ArrayBuffer (copied if it is a shared one). */
export function cryptoBytes(b: Uint8Array): Uint8Array<ArrayBuffer> {
  return b.buffer instanceof ArrayBuffer ? (b as Uint8Array<ArrayBuffer>) : new Uint8Array(b);
}

/** Imports 32 raw bytes as the HKDF base key every object key is derived from. */
export async function importMasterKey(raw: Uint8Array): Promise<CryptoKey> {
  if (raw.length !== 32) throw new IbtError("BAD_ARGUMENT", "a master key is 32 bytes");
  return crypto.subtle.importKey("raw", cryptoBytes(raw), "HKDF", false, ["deriveKey"]);
}

export function checkSegmentSize(segmentSize: number): void {
  if (!Number.isSafeInteger(segmentSize) || segmentSize < 1 || segmentSize > MAX_SEGMENT_SIZE) {
    throw new IbtError("BAD_ARGUMENT", `segment size must be an integer from 1 to ${MAX_SEGMENT_SIZE}`);
  }
}

/** How many segments an object of `plaintextSize` bytes has: at least one. */
export function segmentCount(plaintextSize: number, segmentSize: number): number {
  return Math.max(1, Math.ceil(plaintextSize / segmentSize));
}

/** The stored size of an object of `plaintextSize` bytes. */
export function ciphertextSize(plaintextSize: number, segmentSize: number): number {
  return HEADER_LENGTH + plaintextSize + TAG_LENGTH * segmentCount(plaintextSize, segmentSize);
}

/**
 * The plaintext size of a stored object of `storedSize` bytes; AUTH_FAILED naming `name` for a
 * size no object of this segment size has (cut inside a tag, or extended by a partial segment).
 */
export function plaintextSize(storedSize: number, segmentSize: number, name: string): number {
  const body = storedSize - HEADER_LENGTH;
  const stride = segmentSize + TAG_LENGTH;
  if (body < TAG_LENGTH) throw authFailed(name);
  const count = Math.ceil(body / stride);
  const last = body - (count - 1) * stride;
  // Only the final segment of an empty object may be empty.
  if (last < TAG_LENGTH || (count > 1 && last === TAG_LENGTH)) throw authFailed(name);
  return body - count * TAG_LENGTH;
}

/** Where segment `index` starts in the stored object. */
export function segmentOffset(index: number, segmentSize: number): number {
  return HEADER_LENGTH + index * (segmentSize + TAG_LENGTH);
}

export function authFailed(name: string, cause?: unknown): IbtError {
  return new IbtError("AUTH_FAILED", `${name}: failed authentication (changed, cut, moved, or not of this repository)`, { path: name, cause });
}

export interface Header {
  bytes: Uint8Array;
  segmentSize: number;
  salt: Uint8Array;
}

export function makeHeader(segmentSize: number, salt: Uint8Array): Header {
  checkSegmentSize(segmentSize);
  if (salt.length !== SALT_LENGTH) throw new IbtError("BAD_ARGUMENT", `an object salt is ${SALT_LENGTH} bytes`);
  const bytes = new Uint8Array(HEADER_LENGTH);
  bytes.set(MAGIC, 0);
  bytes[4] = FORMAT_VERSION;
  new DataView(bytes.buffer).setUint32(8, segmentSize);
  bytes.set(salt, 12);
  return { bytes, segmentSize, salt: bytes.slice(12) };
}

/** Reads a header; its authenticity is checked by the first segment that is opened with it. */
export function parseHeader(bytes: Uint8Array, name: string): Header {
  if (bytes.length < HEADER_LENGTH || MAGIC.some((b, i) => bytes[i] !== b)) throw authFailed(name);
  if (bytes[4] !== FORMAT_VERSION) {
    throw new IbtError("UNSUPPORTED", `${name}: encrypted object format version ${bytes[4]} is not supported`, { path: name });
  }
  if (bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) throw authFailed(name);
  const segmentSize = new DataView(bytes.buffer, bytes.byteOffset, HEADER_LENGTH).getUint32(8);
  if (segmentSize < 1 || segmentSize > MAX_SEGMENT_SIZE) throw authFailed(name);
  const header = bytes.slice(0, HEADER_LENGTH);
  return { bytes: header, segmentSize, salt: header.slice(12) };
}

/** Seals and opens the segments of one object: its key, its associated data, its nonces. */
export class ObjectCipher {
  private constructor(
    private readonly key: CryptoKey,
    private readonly associatedData: Uint8Array,
    readonly header: Header,
    readonly name: string,
  ) {}

  static async of(masterKey: CryptoKey, name: string, header: Header): Promise<ObjectCipher> {
    const key = await crypto.subtle.deriveKey(
      { name: "HKDF", hash: "SHA-256", salt: cryptoBytes(header.salt), info: OBJECT_KEY_INFO },
      masterKey,
      { name: "AES-GCM", length: 256 },
      false,
      ["encrypt", "decrypt"],
    );
    const nameBytes = NAME_ENCODER.encode(name);
    const associatedData = new Uint8Array(HEADER_LENGTH + nameBytes.length);
    associatedData.set(header.bytes, 0);
    associatedData.set(nameBytes, HEADER_LENGTH);
    return new ObjectCipher(key, associatedData, header, name);
  }

  async seal(index: number, final: boolean, plaintext: Uint8Array): Promise<Uint8Array> {
    const sealed = await crypto.subtle.encrypt(this.params(index, final), this.key, cryptoBytes(plaintext));
    return new Uint8Array(sealed);
  }

  async open(index: number, final: boolean, sealed: Uint8Array): Promise<Uint8Array> {
    if (sealed.length < TAG_LENGTH || (final && index > 0 && sealed.length === TAG_LENGTH)) throw authFailed(this.name);
    try {
      return new Uint8Array(await crypto.subtle.decrypt(this.params(index, final), this.key, cryptoBytes(sealed)));
    } catch (e) {
      throw authFailed(this.name, e);
    }
  }

  private params(index: number, final: boolean): AesGcmParams {
    return { name: "AES-GCM", iv: cryptoBytes(segmentNonce(index, final)), additionalData: cryptoBytes(this.associatedData), tagLength: 8 * TAG_LENGTH };
  }
}

/** Segment index as u64 BE, three zero bytes, then 1 for the final segment and 0 otherwise. */
export function segmentNonce(index: number, final: boolean): Uint8Array {
  const nonce = new Uint8Array(12);
  const view = new DataView(nonce.buffer);
  view.setUint32(0, Math.floor(index / 0x1_0000_0000));
  view.setUint32(4, index >>> 0);
  nonce[11] = final ? 1 : 0;
  return nonce;
}

export interface EncryptOptions {
  segmentSize?: number;
  /** The object's salt; random unless given. Fixed salts are for known-answer tests only. */
  salt?: Uint8Array;
}

/**
 * Encrypts `data` as object `name`, yielding the header and then one sealed segment at a time:
 * a segment is held until the next byte shows whether it is the final one, so memory stays
 * within two segments whatever the object's size.
 */
export async function* encryptObject(
  masterKey: CryptoKey,
  name: string,
  data: Uint8Array | ByteSource,
  options: EncryptOptions = {},
): AsyncGenerator<Uint8Array> {
  const segmentSize = options.segmentSize ?? DEFAULT_SEGMENT_SIZE;
  const header = makeHeader(segmentSize, options.salt ?? crypto.getRandomValues(new Uint8Array(SALT_LENGTH)));
  const cipher = await ObjectCipher.of(masterKey, name, header);
  yield header.bytes;
  const source = data instanceof Uint8Array ? [data] : chunksOf(data);
  let held = new Uint8Array(segmentSize);
  let used = 0;
  let index = 0;
  for await (const chunk of source) {
    for (let at = 0; at < chunk.length; ) {
      if (used === segmentSize) {
        yield await cipher.seal(index++, false, held);
        held = new Uint8Array(segmentSize);
        used = 0;
      }
      const n = Math.min(segmentSize - used, chunk.length - at);
      held.set(chunk.subarray(at, at + n), used);
      used += n;
      at += n;
    }
  }
  yield await cipher.seal(index, true, held.subarray(0, used));
}

/**
 * Decrypts a stored object read as a stream, yielding plaintext a segment at a time. A segment
 * is opened once more bytes follow it (so it is not the final one) or the stream ends (so it
 * is); nothing is yielded before its tag is verified.
 */
export async function* decryptObject(
  masterKey: CryptoKey,
  name: string,
  stored: Uint8Array | ByteSource,
  expectedSegmentSize?: number,
): AsyncGenerator<Uint8Array> {
  const source = stored instanceof Uint8Array ? [stored] : chunksOf(stored);
  let cipher: ObjectCipher | undefined;
  let stride = HEADER_LENGTH;
  let buffer = new Uint8Array(HEADER_LENGTH);
  let used = 0;
  let index = 0;
  for await (const chunk of source) {
    for (let at = 0; at < chunk.length; ) {
      if (used === stride) {
        if (cipher === undefined) {
          cipher = await cipherFor(masterKey, name, buffer, expectedSegmentSize);
          stride = cipher.header.segmentSize + TAG_LENGTH;
          buffer = new Uint8Array(stride);
        } else {
          yield await cipher.open(index++, false, buffer);
        }
        used = 0;
      }
      const n = Math.min(stride - used, chunk.length - at);
      buffer.set(chunk.subarray(at, at + n), used);
      used += n;
      at += n;
    }
  }
  if (cipher === undefined) {
    if (used < HEADER_LENGTH) throw authFailed(name);
    cipher = await cipherFor(masterKey, name, buffer, expectedSegmentSize);
    used = 0;
  }
  const last = await cipher.open(index, true, buffer.subarray(0, used));
  if (last.length > 0) yield last;
}

/** The cipher of an object whose header is `headerBytes`, refusing a foreign segment size. */
export async function cipherFor(masterKey: CryptoKey, name: string, headerBytes: Uint8Array, expectedSegmentSize?: number): Promise<ObjectCipher> {
  const header = parseHeader(headerBytes, name);
  if (expectedSegmentSize !== undefined && header.segmentSize !== expectedSegmentSize) throw authFailed(name);
  return ObjectCipher.of(masterKey, name, header);
}
