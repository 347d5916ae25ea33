// Delta command encoding, librsync's opcode table.
//
//   0x00                 END
//   0x01..0x40           LITERAL of 1..64 bytes, the bytes follow
//   0x41..0x44           LITERAL whose length follows in 1, 2, 4 or 8 bytes, then the bytes
//   0x45..0x54           COPY: 0x45 + 4·(offset width code) + (length width code), then the
//                        offset and the length, each big-endian in 1, 2, 4 or 8 bytes
//
// Each integer takes the narrowest width that holds it, as librsync writes them. The writer
// appends to an output region whose free space the caller has checked.

export const OP_END: u8 = 0x00;
export const OP_LITERAL_N1: u8 = 0x41;
export const OP_COPY_BASE: u8 = 0x45;

/** Width code of an unsigned integer: 0 for 1 byte, 1 for 2, 2 for 4, 3 for 8. */
// @ts-ignore: decorator
@inline function widthCode(v: u64): u32 {
  if (v <= 0xff) return 0;
  if (v <= 0xffff) return 1;
  if (v <= 0xffffffff) return 2;
  return 3;
}

function putInt(out: usize, v: u64, code: u32): usize {
  if (code == 0) {
    store<u8>(out, <u8>v);
    return 1;
  }
  if (code == 1) {
    store<u16>(out, bswap<u16>(<u16>v));
    return 2;
  }
  if (code == 2) {
    store<u32>(out, bswap<u32>(<u32>v));
    return 4;
  }
  store<u64>(out, bswap<u64>(v));
  return 8;
}

/** Writes a LITERAL command header for `len` bytes (len >= 1); returns bytes written. */
export function putLiteralHeader(out: usize, len: u64): usize {
  if (len <= 64) {
    store<u8>(out, <u8>len);
    return 1;
  }
  const code = widthCode(len);
  store<u8>(out, OP_LITERAL_N1 + <u8>code);
  return 1 + putInt(out + 1, len, code);
}

/** Writes a COPY command; returns bytes written (at most 17). */
export function putCopy(out: usize, offset: u64, len: u64): usize {
  const oc = widthCode(offset);
  const lc = widthCode(len);
  store<u8>(out, OP_COPY_BASE + <u8>(oc * 4 + lc));
  let n: usize = 1;
  n += putInt(out + n, offset, oc);
  n += putInt(out + n, len, lc);
  return n;
}
