// MD4 (RFC 1320), the strong sum of librsync's older signature formats.
//
// MD4 is broken as a cryptographic hash, but librsync 2.x still reads and writes MD4 signatures
// (magics 0x72730136 and 0x72730146), and tools such as older rdiff-backup repositories use them.
// Same memory-resident state design as blake2b.ts:
//   +0  a, b, c, d   u32 chaining value
//   +16 total        u64 bytes hashed
//   +24 buflen       u32 bytes waiting in buf
//   +32 buf[64]      a partial block

export const MD4_STATE_SIZE: usize = 96;
const BLOCK: u32 = 64;

// @ts-ignore: decorator
@inline function F(x: u32, y: u32, z: u32): u32 { return (x & y) | (~x & z); }
// @ts-ignore: decorator
@inline function G(x: u32, y: u32, z: u32): u32 { return (x & y) | (x & z) | (y & z); }
// @ts-ignore: decorator
@inline function H(x: u32, y: u32, z: u32): u32 { return x ^ y ^ z; }

// Word offsets of each round's message order, and the rotation amounts.
const ORDER: usize = memory.data<u8>([
  0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60,
  0, 16, 32, 48, 4, 20, 36, 52, 8, 24, 40, 56, 12, 28, 44, 60,
  0, 32, 16, 48, 8, 40, 24, 56, 4, 36, 20, 52, 12, 44, 28, 60,
]);

function compress(st: usize, m: usize): void {
  let a = load<u32>(st, 0);
  let b = load<u32>(st, 4);
  let c = load<u32>(st, 8);
  let d = load<u32>(st, 12);
  const aa = a, bb = b, cc = c, dd = d;

  // Round 1: shifts 3, 7, 11, 19.
  for (let i: usize = 0; i < 16; i += 4) {
    a = rotl<u32>(a + F(b, c, d) + load<u32>(m + <usize>load<u8>(ORDER + i)), 3);
    d = rotl<u32>(d + F(a, b, c) + load<u32>(m + <usize>load<u8>(ORDER + i + 1)), 7);
    c = rotl<u32>(c + F(d, a, b) + load<u32>(m + <usize>load<u8>(ORDER + i + 2)), 11);
    b = rotl<u32>(b + F(c, d, a) + load<u32>(m + <usize>load<u8>(ORDER + i + 3)), 19);
  }
  // Round 2: shifts 3, 5, 9, 13, constant 0x5a827999.
  for (let i: usize = 16; i < 32; i += 4) {
    a = rotl<u32>(a + G(b, c, d) + load<u32>(m + <usize>load<u8>(ORDER + i)) + 0x5a827999, 3);
    d = rotl<u32>(d + G(a, b, c) + load<u32>(m + <usize>load<u8>(ORDER + i + 1)) + 0x5a827999, 5);
    c = rotl<u32>(c + G(d, a, b) + load<u32>(m + <usize>load<u8>(ORDER + i + 2)) + 0x5a827999, 9);
    b = rotl<u32>(b + G(c, d, a) + load<u32>(m + <usize>load<u8>(ORDER + i + 3)) + 0x5a827999, 13);
  }
  // Round 3: shifts 3, 9, 11, 15, constant 0x6ed9eba1.
  for (let i: usize = 32; i < 48; i += 4) {
    a = rotl<u32>(a + H(b, c, d) + load<u32>(m + <usize>load<u8>(ORDER + i)) + 0x6ed9eba1, 3);
    d = rotl<u32>(d + H(a, b, c) + load<u32>(m + <usize>load<u8>(ORDER + i + 1)) + 0x6ed9eba1, 9);
    c = rotl<u32>(c + H(d, a, b) + load<u32>(m + <usize>load<u8>(ORDER + i + 2)) + 0x6ed9eba1, 11);
    b = rotl<u32>(b + H(c, d, a) + load<u32>(m + <usize>load<u8>(ORDER + i + 3)) + 0x6ed9eba1, 15);
  }

  store<u32>(st, a + aa, 0);
  store<u32>(st, b + bb, 4);
  store<u32>(st, c + cc, 8);
  store<u32>(st, d + dd, 12);
}

export function md4Init(st: usize): void {
  store<u32>(st, 0x67452301, 0);
  store<u32>(st, 0xefcdab89, 4);
  store<u32>(st, 0x98badcfe, 8);
  store<u32>(st, 0x10325476, 12);
  store<u64>(st, 0, 16);
  store<u32>(st, 0, 24);
}

export function md4Update(st: usize, ptr: usize, len: usize): void {
  const buf = st + 32;
  store<u64>(st, load<u64>(st, 16) + <u64>len, 16);
  let p = ptr;
  let n = len;
  let fill = load<u32>(st, 24);
  if (fill > 0) {
    const take = min<usize>(BLOCK - fill, n);
    memory.copy(buf + fill, p, take);
    fill += <u32>take;
    p += take;
    n -= take;
    if (fill < BLOCK) {
      store<u32>(st, fill, 24);
      return;
    }
    compress(st, buf);
  }
  while (n >= BLOCK) {
    compress(st, p);
    p += BLOCK;
    n -= BLOCK;
  }
  memory.copy(buf, p, n);
  store<u32>(st, <u32>n, 24);
}

/** Finishes the hash and writes the 16-byte digest at `out`. */
export function md4Final(st: usize, out: usize): void {
  const buf = st + 32;
  const bits = load<u64>(st, 16) << 3;
  let fill = load<u32>(st, 24);
  store<u8>(buf + fill, 0x80);
  fill++;
  if (fill > 56) {
    memory.fill(buf + fill, 0, BLOCK - fill);
    compress(st, buf);
    fill = 0;
  }
  memory.fill(buf + fill, 0, 56 - fill);
  store<u64>(buf, bits, 56);
  compress(st, buf);
  memory.copy(out, st, 16);
}

export function md4(st: usize, ptr: usize, len: usize, out: usize): void {
  md4Init(st);
  md4Update(st, ptr, len);
  md4Final(st, out);
}
