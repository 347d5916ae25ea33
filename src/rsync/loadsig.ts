/**
 * Reading a signature file back: validate the header and keep the block records as one byte
 * array, which is exactly what the engine's block table copies in. Memory is the signature's
 * size; nothing is parsed per block in JavaScript.
 */
import { IbtError } from "../errors.js";
import { collect, type ByteSource } from "../bytes.js";
import { kindOfMagic, maxStrongLength, MAX_BLOCK_LENGTH, SIGNATURE_HEADER_LENGTH, type SignatureParams } from "./format.js";

export interface Signature extends SignatureParams {
  /** Number of basis blocks. */
  count: number;
  /** The block records as stored: per block a big-endian u32 weak sum and the strong sum. */
  records: Uint8Array;
}

/** Parses a whole signature held in memory. */
export function parseSignature(bytes: Uint8Array): Signature {
  if (bytes.length < SIGNATURE_HEADER_LENGTH) {
    if (bytes.length >= 4) checkMagic(bytes);
    throw new IbtError("TRUNCATED", `signature is ${bytes.length} bytes, shorter than its 12-byte header`, { offset: bytes.length });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const kind = checkMagic(bytes);
  const blockLength = view.getUint32(4);
  const strongLength = view.getUint32(8);
  if (blockLength < 1 || blockLength > MAX_BLOCK_LENGTH) {
    throw new IbtError("CORRUPT", `signature block length ${blockLength} is out of range (1..${MAX_BLOCK_LENGTH})`, { offset: 4 });
  }
  const max = maxStrongLength(kind.hash);
  if (strongLength < 1 || strongLength > max) {
    throw new IbtError("CORRUPT", `signature strong sum length ${strongLength} is out of range (1..${max})`, { offset: 8 });
  }
  const body = bytes.length - SIGNATURE_HEADER_LENGTH;
  const record = 4 + strongLength;
  if (body % record !== 0) {
    throw new IbtError("TRUNCATED", `signature ends inside a block record (${body % record} of ${record} bytes)`, {
      offset: bytes.length,
    });
  }
  return {
    ...kind,
    blockLength,
    strongLength,
    count: body / record,
    records: bytes.subarray(SIGNATURE_HEADER_LENGTH),
  };
}

function checkMagic(bytes: Uint8Array) {
  const magic = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
  const kind = kindOfMagic(magic);
  if (!kind) {
    throw new IbtError("BAD_MAGIC", `not a librsync signature (magic 0x${magic.toString(16).padStart(8, "0")})`, { offset: 0 });
  }
  return kind;
}

/** Reads and parses a signature from any byte source. */
export async function loadSignature(source: ByteSource | Uint8Array): Promise<Signature> {
  if (source instanceof Uint8Array) return parseSignature(source);
  return parseSignature(await collect(source));
}
