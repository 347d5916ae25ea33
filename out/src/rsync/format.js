/**
 * librsync 2.x file formats: magic numbers, headers and the defaults of `rs_sig_args`.
 *
 * All integers are big-endian. A signature is a 12-byte header (magic, block length, strong sum
 * length) followed by one record per basis block: a u32 weak sum and `strongLength` bytes of
 * strong sum. A delta is the u32 magic 0x72730236 followed by commands (see patch.ts) and ends
 * with a zero byte.
 *
 * Defaults follow what `rdiff` 2.3 does, checked against it byte for byte: block length 256 for
 * a basis of at most 64 KiB, otherwise floor(sqrt(size)) rounded down to a multiple of 128, and
 * 2048 when the size is unknown (a pipe); strong length the hash's full length, or with -1 the
 * minimum safe length for the size.
 */
import { IbtError } from "../errors.js";
export const MAGIC_DELTA = 0x72730236;
export const MAGIC_ROLLSUM_MD4 = 0x72730136;
export const MAGIC_ROLLSUM_BLAKE2 = 0x72730137;
export const MAGIC_RABINKARP_MD4 = 0x72730146;
export const MAGIC_RABINKARP_BLAKE2 = 0x72730147;
export const SIGNATURE_HEADER_LENGTH = 12;
export const BLAKE2_LENGTH = 32;
export const MD4_LENGTH = 16;
/** Block length when the basis size is unknown (librsync's RS_DEFAULT_BLOCK_LEN). */
export const DEFAULT_BLOCK_LENGTH = 2048;
/** Minimum strong length asked with -1 when the basis size is unknown (librsync's default). */
export const UNKNOWN_SIZE_MIN_STRONG_LENGTH = 12;
/** Largest block length we accept: blocks must fit the engine's window several times over. */
export const MAX_BLOCK_LENGTH = 1 << 28;
export function kindOfMagic(magic) {
    switch (magic) {
        case MAGIC_ROLLSUM_MD4:
            return { magic, hash: "md4", weak: "rollsum" };
        case MAGIC_ROLLSUM_BLAKE2:
            return { magic, hash: "blake2", weak: "rollsum" };
        case MAGIC_RABINKARP_MD4:
            return { magic, hash: "md4", weak: "rabinkarp" };
        case MAGIC_RABINKARP_BLAKE2:
            return { magic, hash: "blake2", weak: "rabinkarp" };
        default:
            return undefined;
    }
}
export function magicOf(hash, weak) {
    if (hash === "blake2")
        return weak === "rabinkarp" ? MAGIC_RABINKARP_BLAKE2 : MAGIC_ROLLSUM_BLAKE2;
    return weak === "rabinkarp" ? MAGIC_RABINKARP_MD4 : MAGIC_ROLLSUM_MD4;
}
export function maxStrongLength(hash) {
    return hash === "blake2" ? BLAKE2_LENGTH : MD4_LENGTH;
}
/** floor(log2(v)) for v >= 1, 0 for v < 1 (librsync's rs_long_ln2). */
function floorLog2(v) {
    let n = 0;
    while (v >= 2) {
        v = Math.floor(v / 2);
        n++;
    }
    return n;
}
/** Resolves options to concrete parameters exactly as `rdiff signature` does. */
export function signatureParams(options = {}) {
    const hash = options.hash ?? "blake2";
    const weak = options.weak ?? "rabinkarp";
    if (hash !== "blake2" && hash !== "md4")
        throw new IbtError("BAD_ARGUMENT", `unknown strong hash ${String(hash)}`);
    if (weak !== "rabinkarp" && weak !== "rollsum")
        throw new IbtError("BAD_ARGUMENT", `unknown rolling sum ${String(weak)}`);
    const size = options.size;
    if (size !== undefined && (!Number.isSafeInteger(size) || size < 0)) {
        throw new IbtError("BAD_ARGUMENT", `basis size must be a non-negative integer, not ${size}`);
    }
    let blockLength = options.blockLength ?? 0;
    if (!Number.isSafeInteger(blockLength) || blockLength < 0 || blockLength > MAX_BLOCK_LENGTH) {
        throw new IbtError("BAD_ARGUMENT", `block length must be an integer from 1 to ${MAX_BLOCK_LENGTH}, not ${blockLength}`);
    }
    const minBlockLength = options.minBlockLength ?? 0;
    if (!Number.isSafeInteger(minBlockLength) || minBlockLength < 0 || minBlockLength > MAX_BLOCK_LENGTH) {
        throw new IbtError("BAD_ARGUMENT", `minimum block length must be an integer from 0 to ${MAX_BLOCK_LENGTH}, not ${minBlockLength}`);
    }
    if (blockLength === 0) {
        if (size === undefined)
            blockLength = DEFAULT_BLOCK_LENGTH;
        else if (size <= 256 * 256)
            blockLength = 256;
        else
            blockLength = Math.floor(Math.sqrt(size)) & ~127;
        blockLength = Math.max(blockLength, minBlockLength);
    }
    const max = maxStrongLength(hash);
    let strongLength = options.strongLength ?? 0;
    if (strongLength === 0)
        strongLength = max;
    else if (strongLength === -1) {
        strongLength =
            size === undefined
                ? UNKNOWN_SIZE_MIN_STRONG_LENGTH
                : 2 + Math.floor((floorLog2(size + 2 ** 24) + floorLog2(Math.floor(size / blockLength) + 1) + 7) / 8);
    }
    if (!Number.isSafeInteger(strongLength) || strongLength < 1 || strongLength > max) {
        throw new IbtError("BAD_ARGUMENT", `strong length must be from 1 to ${max} for ${hash}, not ${strongLength}`);
    }
    return { magic: magicOf(hash, weak), hash, weak, blockLength, strongLength };
}
export function signatureHeader(p) {
    const h = new Uint8Array(SIGNATURE_HEADER_LENGTH);
    const v = new DataView(h.buffer);
    v.setUint32(0, p.magic);
    v.setUint32(4, p.blockLength);
    v.setUint32(8, p.strongLength);
    return h;
}
//# sourceMappingURL=format.js.map