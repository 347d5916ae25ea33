// BLAKE2b (RFC 7693), unkeyed, as librsync uses it for strong sums.
//
// librsync asks for a 32-byte digest, and the digest length is part of BLAKE2b's parameter
// block, so this is not BLAKE2b-512 cut short: the output length goes into h[0] at init. A
// signature with a strong length under 32 keeps the leading bytes of that 32-byte digest.
//
// State lives in linear memory at a caller-chosen address so that a job can keep one running
// hash per stream without any managed objects:
//   +0   h[8]      u64 chaining value
//   +64  t         u64 bytes compressed so far (inputs here never reach 2^64 bytes)
//   +72  buflen    u32 bytes waiting in buf
//   +76  outlen    u32 digest length
//   +80  buf[128]  the last, possibly partial, block: it must be held back until we know
//                  whether it is the final one, because the final block is compressed with a flag.
//
// The compression function (blake2b_rounds.generated.ts, written by build/gen-blake2b.mjs) keeps
// the sixteen working words in locals and has the twelve rounds unrolled with the message
// schedule resolved at build time: a round loop that reads the schedule from a table is slower,
// and so is a 128-bit SIMD version (V8 builds the shuffle masks for the lane rotations at every
// use).

import { compress } from "./blake2b_rounds.generated";

export const BLAKE2B_STATE_SIZE: usize = 208;
const BLOCK: u32 = 128;

const IV0: u64 = 0x6a09e667f3bcc908;
const IV1: u64 = 0xbb67ae8584caa73b;
const IV2: u64 = 0x3c6ef372fe94f82b;
const IV3: u64 = 0xa54ff53a5f1d36f1;
const IV4: u64 = 0x510e527fade682d1;
const IV5: u64 = 0x9b05688c2b3e6c1f;
const IV6: u64 = 0x1f83d9abfb41bd6b;
const IV7: u64 = 0x5be0cd19137e2179;

export function blake2bInit(st: usize, outlen: u32): void {
  store<u64>(st, IV0 ^ (0x01010000 | <u64>outlen), 0);
  store<u64>(st, IV1, 8);
  store<u64>(st, IV2, 16);
  store<u64>(st, IV3, 24);
  store<u64>(st, IV4, 32);
  store<u64>(st, IV5, 40);
  store<u64>(st, IV6, 48);
  store<u64>(st, IV7, 56);
  store<u64>(st, 0, 64);
  store<u32>(st, 0, 72);
  store<u32>(st, outlen, 76);
}

export function blake2bUpdate(st: usize, ptr: usize, len: usize): void {
  if (len == 0) return;
  const buf = st + 80;
  let p = ptr;
  let n = len;
  let fill = load<u32>(st, 72);
  if (fill > 0) {
    const take = min<usize>(BLOCK - fill, n);
    memory.copy(buf + fill, p, take);
    fill += <u32>take;
    p += take;
    n -= take;
    if (n == 0) {
      store<u32>(st, fill, 72);
      return;
    }
    // More input follows, so the buffered block is not the last one.
    store<u64>(st, load<u64>(st, 64) + BLOCK, 64);
    compress(st, buf, false);
    fill = 0;
  }
  // Compress straight from the input while more than one block remains.
  while (n > BLOCK) {
    store<u64>(st, load<u64>(st, 64) + BLOCK, 64);
    compress(st, p, false);
    p += BLOCK;
    n -= BLOCK;
  }
  memory.copy(buf, p, n);
  store<u32>(st, <u32>n, 72);
}

/** Finishes the hash and writes `outlen` bytes at `out`. */
export function blake2bFinal(st: usize, out: usize): void {
  const buf = st + 80;
  const fill = load<u32>(st, 72);
  store<u64>(st, load<u64>(st, 64) + fill, 64);
  memory.fill(buf + fill, 0, BLOCK - fill);
  compress(st, buf, true);
  // The chaining value is stored little-endian, which is the digest's byte order.
  memory.copy(out, st, load<u32>(st, 76));
}

/** One-shot BLAKE2b of a contiguous region. */
export function blake2b(st: usize, ptr: usize, len: usize, outlen: u32, out: usize): void {
  blake2bInit(st, outlen);
  blake2bUpdate(st, ptr, len);
  blake2bFinal(st, out);
}
