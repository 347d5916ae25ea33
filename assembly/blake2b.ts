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
// The compression function keeps the sixteen working words in locals and reads message words
// through the sigma permutation, stored as byte offsets, so no per-round copy is made.

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

// The message schedule of the ten distinct rounds, as byte offsets (index * 8); rounds 10 and 11
// reuse rows 0 and 1.
const SIGMA: usize = memory.data<u8>([
  0, 8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 96, 104, 112, 120,
  112, 80, 32, 64, 72, 120, 104, 48, 8, 96, 0, 16, 88, 56, 40, 24,
  88, 64, 96, 0, 40, 16, 120, 104, 80, 112, 24, 48, 56, 8, 72, 32,
  56, 72, 24, 8, 104, 96, 88, 112, 16, 48, 40, 80, 32, 0, 120, 64,
  72, 0, 40, 56, 16, 32, 80, 120, 112, 8, 88, 96, 48, 64, 24, 104,
  16, 96, 48, 80, 0, 88, 64, 24, 32, 104, 56, 40, 120, 112, 8, 72,
  96, 40, 8, 120, 112, 104, 32, 80, 0, 56, 48, 24, 72, 16, 64, 88,
  104, 88, 56, 112, 96, 8, 24, 72, 40, 0, 120, 32, 64, 48, 16, 80,
  48, 120, 112, 72, 88, 24, 0, 64, 96, 16, 104, 56, 8, 32, 80, 40,
  80, 16, 64, 32, 56, 48, 8, 40, 120, 88, 72, 112, 24, 96, 104, 0,
  0, 8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 96, 104, 112, 120,
  112, 80, 32, 64, 72, 120, 104, 48, 8, 96, 0, 16, 88, 56, 40, 24,
]);

function compress(st: usize, m: usize, last: bool): void {
  let v0 = load<u64>(st, 0);
  let v1 = load<u64>(st, 8);
  let v2 = load<u64>(st, 16);
  let v3 = load<u64>(st, 24);
  let v4 = load<u64>(st, 32);
  let v5 = load<u64>(st, 40);
  let v6 = load<u64>(st, 48);
  let v7 = load<u64>(st, 56);
  let v8 = IV0;
  let v9 = IV1;
  let v10 = IV2;
  let v11 = IV3;
  let v12 = IV4 ^ load<u64>(st, 64);
  let v13 = IV5; // high word of the counter is always zero here
  let v14 = last ? ~IV6 : IV6;
  let v15 = IV7;

  for (let r: usize = 0; r < 12; r++) {
    const s = SIGMA + (r << 4);
    // G(v0, v4, v8, v12)
    v0 += v4 + load<u64>(m + <usize>load<u8>(s, 0)); v12 = rotr<u64>(v12 ^ v0, 32);
    v8 += v12; v4 = rotr<u64>(v4 ^ v8, 24);
    v0 += v4 + load<u64>(m + <usize>load<u8>(s, 1)); v12 = rotr<u64>(v12 ^ v0, 16);
    v8 += v12; v4 = rotr<u64>(v4 ^ v8, 63);
    // G(v1, v5, v9, v13)
    v1 += v5 + load<u64>(m + <usize>load<u8>(s, 2)); v13 = rotr<u64>(v13 ^ v1, 32);
    v9 += v13; v5 = rotr<u64>(v5 ^ v9, 24);
    v1 += v5 + load<u64>(m + <usize>load<u8>(s, 3)); v13 = rotr<u64>(v13 ^ v1, 16);
    v9 += v13; v5 = rotr<u64>(v5 ^ v9, 63);
    // G(v2, v6, v10, v14)
    v2 += v6 + load<u64>(m + <usize>load<u8>(s, 4)); v14 = rotr<u64>(v14 ^ v2, 32);
    v10 += v14; v6 = rotr<u64>(v6 ^ v10, 24);
    v2 += v6 + load<u64>(m + <usize>load<u8>(s, 5)); v14 = rotr<u64>(v14 ^ v2, 16);
    v10 += v14; v6 = rotr<u64>(v6 ^ v10, 63);
    // G(v3, v7, v11, v15)
    v3 += v7 + load<u64>(m + <usize>load<u8>(s, 6)); v15 = rotr<u64>(v15 ^ v3, 32);
    v11 += v15; v7 = rotr<u64>(v7 ^ v11, 24);
    v3 += v7 + load<u64>(m + <usize>load<u8>(s, 7)); v15 = rotr<u64>(v15 ^ v3, 16);
    v11 += v15; v7 = rotr<u64>(v7 ^ v11, 63);
    // G(v0, v5, v10, v15)
    v0 += v5 + load<u64>(m + <usize>load<u8>(s, 8)); v15 = rotr<u64>(v15 ^ v0, 32);
    v10 += v15; v5 = rotr<u64>(v5 ^ v10, 24);
    v0 += v5 + load<u64>(m + <usize>load<u8>(s, 9)); v15 = rotr<u64>(v15 ^ v0, 16);
    v10 += v15; v5 = rotr<u64>(v5 ^ v10, 63);
    // G(v1, v6, v11, v12)
    v1 += v6 + load<u64>(m + <usize>load<u8>(s, 10)); v12 = rotr<u64>(v12 ^ v1, 32);
    v11 += v12; v6 = rotr<u64>(v6 ^ v11, 24);
    v1 += v6 + load<u64>(m + <usize>load<u8>(s, 11)); v12 = rotr<u64>(v12 ^ v1, 16);
    v11 += v12; v6 = rotr<u64>(v6 ^ v11, 63);
    // G(v2, v7, v8, v13)
    v2 += v7 + load<u64>(m + <usize>load<u8>(s, 12)); v13 = rotr<u64>(v13 ^ v2, 32);
    v8 += v13; v7 = rotr<u64>(v7 ^ v8, 24);
    v2 += v7 + load<u64>(m + <usize>load<u8>(s, 13)); v13 = rotr<u64>(v13 ^ v2, 16);
    v8 += v13; v7 = rotr<u64>(v7 ^ v8, 63);
    // G(v3, v4, v9, v14)
    v3 += v4 + load<u64>(m + <usize>load<u8>(s, 14)); v14 = rotr<u64>(v14 ^ v3, 32);
    v9 += v14; v4 = rotr<u64>(v4 ^ v9, 24);
    v3 += v4 + load<u64>(m + <usize>load<u8>(s, 15)); v14 = rotr<u64>(v14 ^ v3, 16);
    v9 += v14; v4 = rotr<u64>(v4 ^ v9, 63);
  }

  store<u64>(st, load<u64>(st, 0) ^ v0 ^ v8, 0);
  store<u64>(st, load<u64>(st, 8) ^ v1 ^ v9, 8);
  store<u64>(st, load<u64>(st, 16) ^ v2 ^ v10, 16);
  store<u64>(st, load<u64>(st, 24) ^ v3 ^ v11, 24);
  store<u64>(st, load<u64>(st, 32) ^ v4 ^ v12, 32);
  store<u64>(st, load<u64>(st, 40) ^ v5 ^ v13, 40);
  store<u64>(st, load<u64>(st, 48) ^ v6 ^ v14, 48);
  store<u64>(st, load<u64>(st, 56) ^ v7 ^ v15, 56);
}

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
