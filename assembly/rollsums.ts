// Rolling checksums: the weak sums of librsync's signatures.
//
// A weak sum is computed over a window of `n` bytes and can be moved one byte to the right in
// constant time (`rotate`), which is what lets the matcher test every offset of the new file
// against every block of the basis. librsync has two:
//
// RabinKarp (the default since librsync 2.2): a polynomial hash modulo 2^32,
//   h(x[0..n)) = SEED·M^n + Σ x[i]·M^(n-1-i),  M = 0x08104225, SEED = 1.
//   The seed term makes runs of zeros of different lengths hash differently. Moving the window
//   multiplies by M, adds the new byte and subtracts the outgoing byte's term together with the
//   change of the seed term: h' = h·M + in − M^n·(out + (M − 1)·SEED).
//
// rollsum (the original rsync/Adler-style sum): two 16-bit running sums of the bytes offset by
//   31, s1 = Σ (x[i] + 31) and s2 = Σ (n − i)·(x[i] + 31); the digest is (s2 << 16) | s1, both
//   taken modulo 2^16.
//
// Whole blocks are summed sixteen bytes at a time (see rkUpdate) so that the multiplications do
// not form one long dependency chain; the result is identical to feeding the bytes one at a time.

export const RK_MULT: u32 = 0x08104225;
export const RK_ADJ: u32 = 0x08104224; // (MULT - 1) * SEED
export const RK_SEED: u32 = 1;
export const ROLLSUM_OFFSET: u32 = 31;

const M2: u32 = RK_MULT * RK_MULT;
const M3: u32 = M2 * RK_MULT;
const M4: u32 = M3 * RK_MULT;
const M5: u32 = M4 * RK_MULT;
const M6: u32 = M5 * RK_MULT;
const M7: u32 = M6 * RK_MULT;
const M8: u32 = M7 * RK_MULT;
const M9: u32 = M8 * RK_MULT;
const M10: u32 = M9 * RK_MULT;
const M11: u32 = M10 * RK_MULT;
const M12: u32 = M11 * RK_MULT;
const M13: u32 = M12 * RK_MULT;
const M14: u32 = M13 * RK_MULT;
const M15: u32 = M14 * RK_MULT;
const M16: u32 = M15 * RK_MULT;

/**
 * RabinKarp: continue `hash` over `len` bytes at `ptr`.
 *
 * Sixteen bytes at a time with SIMD: the bytes are widened to four vectors of 32-bit lanes and
 * multiplied by the powers M^15 … M^0, and a vector accumulator is scaled by M^16 per step, so
 * no multiplication waits for the previous one. All arithmetic is modulo 2^32, so the order of
 * the additions does not matter and the result equals the byte-at-a-time definition.
 */
export function rkUpdate(hash: u32, ptr: usize, len: usize): u32 {
  let h = hash;
  let p = ptr;
  const end16 = ptr + (len & ~(<usize>15));
  if (p < end16) {
    const p0 = i32x4(M15, M14, M13, M12);
    const p1 = i32x4(M11, M10, M9, M8);
    const p2 = i32x4(M7, M6, M5, M4);
    const p3 = i32x4(M3, M2, RK_MULT, 1);
    const step = i32x4.splat(M16);
    let acc = i32x4.splat(0);
    let scale: u32 = 1;
    while (p < end16) {
      const v = v128.load(p);
      const lo = i16x8.extend_low_i8x16_u(v);
      const hi = i16x8.extend_high_i8x16_u(v);
      const s = i32x4.add(
        i32x4.add(i32x4.mul(i32x4.extend_low_i16x8_u(lo), p0), i32x4.mul(i32x4.extend_high_i16x8_u(lo), p1)),
        i32x4.add(i32x4.mul(i32x4.extend_low_i16x8_u(hi), p2), i32x4.mul(i32x4.extend_high_i16x8_u(hi), p3)),
      );
      acc = i32x4.add(i32x4.mul(acc, step), s);
      scale *= M16;
      p += 16;
    }
    const sum =
      <u32>i32x4.extract_lane(acc, 0) + <u32>i32x4.extract_lane(acc, 1) + <u32>i32x4.extract_lane(acc, 2) + <u32>i32x4.extract_lane(acc, 3);
    h = h * scale + sum;
  }
  const end4 = ptr + (len & ~(<usize>3));
  while (p < end4) {
    const w = load<u32>(p); // little-endian: byte 0 in the low bits
    h = h * M4 + (w & 0xff) * M3 + ((w >>> 8) & 0xff) * M2 + ((w >>> 16) & 0xff) * RK_MULT + (w >>> 24);
    p += 4;
  }
  const end = ptr + len;
  while (p < end) {
    h = h * RK_MULT + <u32>load<u8>(p);
    p++;
  }
  return h;
}

/** M^n modulo 2^32: the factor a byte that leaves an n-byte window is weighted with. */
export function rkPow(n: usize): u32 {
  let result: u32 = 1;
  let base: u32 = RK_MULT;
  let e = n;
  while (e != 0) {
    if (e & 1) result *= base;
    base *= base;
    e >>= 1;
  }
  return result;
}

/** RabinKarp sum of one whole window. */
// @ts-ignore: decorator
@inline export function rkSum(ptr: usize, len: usize): u32 {
  return rkUpdate(RK_SEED, ptr, len);
}

/** rollsum over one whole window, as its 32-bit digest. */
export function rollsumSum(ptr: usize, len: usize): u32 {
  let s1: u32 = 0;
  let s2: u32 = 0;
  const end = ptr + len;
  for (let p = ptr; p < end; p++) {
    s1 += <u32>load<u8>(p);
    s2 += s1;
  }
  // Add the offset of 31 per byte in closed form: s1 gains 31·n, s2 gains 31·n(n+1)/2.
  const n = <u32>len;
  s1 += n * ROLLSUM_OFFSET;
  s2 += <u32>((<u64>n * (<u64>n + 1)) >> 1) * ROLLSUM_OFFSET;
  return ((s2 & 0xffff) << 16) | (s1 & 0xffff);
}

/** rollsum state kept as two running sums, for a block that arrives in pieces. */
export function rollsumUpdateS1(s1: u32, ptr: usize, len: usize): u32 {
  let s = s1;
  const end = ptr + len;
  for (let p = ptr; p < end; p++) s += <u32>load<u8>(p) + ROLLSUM_OFFSET;
  return s;
}

export function rollsumUpdateS2(s1: u32, s2: u32, ptr: usize, len: usize): u32 {
  let a = s1;
  let b = s2;
  const end = ptr + len;
  for (let p = ptr; p < end; p++) {
    a += <u32>load<u8>(p) + ROLLSUM_OFFSET;
    b += a;
  }
  return b;
}
