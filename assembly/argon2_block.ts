// Argon2's compression function G (RFC 9106 section 3.5) over 1 KiB blocks in linear memory.
//
// A block is 128 little-endian u64 words, seen as an 8x8 matrix of 16-byte registers. G(X, Y)
// forms R = X ^ Y, applies the permutation P to each row of R and then to each column, and
// returns the permuted matrix XORed with R. P is BLAKE2b's round without message words, with
// each addition replaced by BlaMka's a + b + 2 * lo32(a) * lo32(b), so that a memory-hard fill
// costs as much in multiplier latency on custom hardware as it does here.
//
// Rows and columns differ only in where their sixteen words live: a row's registers are
// consecutive (16 bytes apart), a column's are 128 bytes apart. One inlined `permute` serves both
// with the distance as a constant, so the words stay in locals and the offsets fold at compile
// time. The XOR passes over whole blocks use 128-bit SIMD, which the engine already requires.

export const BLOCK_SIZE: usize = 1024;

// @ts-ignore: decorator
@inline function blamka(a: u64, b: u64): u64 {
  return a + b + 2 * (a & 0xffffffff) * (b & 0xffffffff);
}

// P on the sixteen words at p + (k >> 1) * stride + (k & 1) * 8, k = 0..15, in place.
// @ts-ignore: decorator
@inline function permute(p: usize, stride: usize): void {
  let v0 = load<u64>(p), v1 = load<u64>(p + 8);
  let v2 = load<u64>(p + stride), v3 = load<u64>(p + stride + 8);
  let v4 = load<u64>(p + 2 * stride), v5 = load<u64>(p + 2 * stride + 8);
  let v6 = load<u64>(p + 3 * stride), v7 = load<u64>(p + 3 * stride + 8);
  let v8 = load<u64>(p + 4 * stride), v9 = load<u64>(p + 4 * stride + 8);
  let v10 = load<u64>(p + 5 * stride), v11 = load<u64>(p + 5 * stride + 8);
  let v12 = load<u64>(p + 6 * stride), v13 = load<u64>(p + 6 * stride + 8);
  let v14 = load<u64>(p + 7 * stride), v15 = load<u64>(p + 7 * stride + 8);

  // Columns of the 4x4 word matrix.
  v0 = blamka(v0, v4); v12 = rotr<u64>(v12 ^ v0, 32); v8 = blamka(v8, v12); v4 = rotr<u64>(v4 ^ v8, 24);
  v0 = blamka(v0, v4); v12 = rotr<u64>(v12 ^ v0, 16); v8 = blamka(v8, v12); v4 = rotr<u64>(v4 ^ v8, 63);
  v1 = blamka(v1, v5); v13 = rotr<u64>(v13 ^ v1, 32); v9 = blamka(v9, v13); v5 = rotr<u64>(v5 ^ v9, 24);
  v1 = blamka(v1, v5); v13 = rotr<u64>(v13 ^ v1, 16); v9 = blamka(v9, v13); v5 = rotr<u64>(v5 ^ v9, 63);
  v2 = blamka(v2, v6); v14 = rotr<u64>(v14 ^ v2, 32); v10 = blamka(v10, v14); v6 = rotr<u64>(v6 ^ v10, 24);
  v2 = blamka(v2, v6); v14 = rotr<u64>(v14 ^ v2, 16); v10 = blamka(v10, v14); v6 = rotr<u64>(v6 ^ v10, 63);
  v3 = blamka(v3, v7); v15 = rotr<u64>(v15 ^ v3, 32); v11 = blamka(v11, v15); v7 = rotr<u64>(v7 ^ v11, 24);
  v3 = blamka(v3, v7); v15 = rotr<u64>(v15 ^ v3, 16); v11 = blamka(v11, v15); v7 = rotr<u64>(v7 ^ v11, 63);
  // Diagonals.
  v0 = blamka(v0, v5); v15 = rotr<u64>(v15 ^ v0, 32); v10 = blamka(v10, v15); v5 = rotr<u64>(v5 ^ v10, 24);
  v0 = blamka(v0, v5); v15 = rotr<u64>(v15 ^ v0, 16); v10 = blamka(v10, v15); v5 = rotr<u64>(v5 ^ v10, 63);
  v1 = blamka(v1, v6); v12 = rotr<u64>(v12 ^ v1, 32); v11 = blamka(v11, v12); v6 = rotr<u64>(v6 ^ v11, 24);
  v1 = blamka(v1, v6); v12 = rotr<u64>(v12 ^ v1, 16); v11 = blamka(v11, v12); v6 = rotr<u64>(v6 ^ v11, 63);
  v2 = blamka(v2, v7); v13 = rotr<u64>(v13 ^ v2, 32); v8 = blamka(v8, v13); v7 = rotr<u64>(v7 ^ v8, 24);
  v2 = blamka(v2, v7); v13 = rotr<u64>(v13 ^ v2, 16); v8 = blamka(v8, v13); v7 = rotr<u64>(v7 ^ v8, 63);
  v3 = blamka(v3, v4); v14 = rotr<u64>(v14 ^ v3, 32); v9 = blamka(v9, v14); v4 = rotr<u64>(v4 ^ v9, 24);
  v3 = blamka(v3, v4); v14 = rotr<u64>(v14 ^ v3, 16); v9 = blamka(v9, v14); v4 = rotr<u64>(v4 ^ v9, 63);

  store<u64>(p, v0); store<u64>(p + 8, v1);
  store<u64>(p + stride, v2); store<u64>(p + stride + 8, v3);
  store<u64>(p + 2 * stride, v4); store<u64>(p + 2 * stride + 8, v5);
  store<u64>(p + 3 * stride, v6); store<u64>(p + 3 * stride + 8, v7);
  store<u64>(p + 4 * stride, v8); store<u64>(p + 4 * stride + 8, v9);
  store<u64>(p + 5 * stride, v10); store<u64>(p + 5 * stride + 8, v11);
  store<u64>(p + 6 * stride, v12); store<u64>(p + 6 * stride + 8, v13);
  store<u64>(p + 7 * stride, v14); store<u64>(p + 7 * stride + 8, v15);
}

/**
 * Writes G(prev, ref) to `next`, or XORs it into `next` when `xorInto` (passes after the first,
 * version 0x13). `r` and `keep` are two scratch blocks; `next` may be `prev` or `ref`, since
 * both are read in full before `next` is written.
 */
export function compressBlock(prev: usize, ref: usize, next: usize, xorInto: bool, r: usize, keep: usize): void {
  if (xorInto) {
    for (let i: usize = 0; i < BLOCK_SIZE; i += 16) {
      const x = v128.xor(v128.load(prev + i), v128.load(ref + i));
      v128.store(r + i, x);
      v128.store(keep + i, v128.xor(x, v128.load(next + i)));
    }
  } else {
    for (let i: usize = 0; i < BLOCK_SIZE; i += 16) {
      const x = v128.xor(v128.load(prev + i), v128.load(ref + i));
      v128.store(r + i, x);
      v128.store(keep + i, x);
    }
  }
  for (let row: usize = 0; row < 8; row++) permute(r + row * 128, 16);
  for (let col: usize = 0; col < 8; col++) permute(r + col * 16, 128);
  for (let i: usize = 0; i < BLOCK_SIZE; i += 16) {
    v128.store(next + i, v128.xor(v128.load(r + i), v128.load(keep + i)));
  }
}
