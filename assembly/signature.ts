// The signature job: cut the basis into blocks of `blockLen` bytes and emit, per block, its
// weak sum (big-endian u32) followed by the first `strongLen` bytes of its strong sum.
//
// Input arrives in chunks of any size. A block that lies whole inside one chunk is summed in
// place (the fast path, which is nearly every block when chunks are large); a block split across
// chunks is summed incrementally: the strong hash is streaming by nature and the weak sum is
// carried as running state. Either way the output depends only on the bytes, never on how they
// were chunked. The last block may be short; an empty basis has no blocks.
//
// The caller guarantees that the output region has room for one record per block that can
// complete in this call: (len / blockLen + 1) * (4 + strongLen) bytes.

import { rkSum, rkUpdate, rollsumSum, ROLLSUM_OFFSET, RK_SEED } from "./rollsums";
import { strongInit, strongUpdate, strongFinal, strongSum, STRONG_STATE_SIZE } from "./strongsum";

let blockLen: usize = 0;
let strongLen: usize = 0;
let useRabinKarp: bool = true;
let useBlake2: bool = true;

// The block being filled across chunks.
let filled: usize = 0;
let rkHash: u32 = RK_SEED;
let rsS1: u32 = 0;
let rsS2: u32 = 0;

let strongState: usize = 0;
let digest: usize = 0;

export function sigBegin(rabinKarp: bool, blake2: bool, blen: u32, slen: u32): void {
  useRabinKarp = rabinKarp;
  useBlake2 = blake2;
  blockLen = blen;
  strongLen = slen;
  partialReset();
  // Always allocate: the instance's heap is reset between jobs.
  strongState = heap.alloc(STRONG_STATE_SIZE);
  digest = heap.alloc(32);
}

function emit(out: usize, weak: u32): usize {
  store<u32>(out, bswap<u32>(weak));
  memory.copy(out + 4, digest, strongLen);
  return 4 + strongLen;
}

function partialWeak(): u32 {
  return useRabinKarp ? rkHash : (((rsS2 & 0xffff) << 16) | (rsS1 & 0xffff));
}

function partialAdd(ptr: usize, len: usize): void {
  if (useRabinKarp) {
    rkHash = rkUpdate(rkHash, ptr, len);
  } else {
    for (let p = ptr, end = ptr + len; p < end; p++) {
      rsS1 += <u32>load<u8>(p) + ROLLSUM_OFFSET;
      rsS2 += rsS1;
    }
  }
  strongUpdate(strongState, useBlake2, ptr, len);
  filled += len;
}

function partialReset(): void {
  filled = 0;
  rkHash = RK_SEED;
  rsS1 = 0;
  rsS2 = 0;
}

/** Consumes `len` bytes at `ptr`; returns how many output bytes were written at `out`. */
export function sigUpdate(ptr: usize, len: usize, out: usize): usize {
  let p = ptr;
  let n = len;
  let o = out;
  while (n > 0) {
    if (filled == 0 && n >= blockLen) {
      const weak = useRabinKarp ? rkSum(p, blockLen) : rollsumSum(p, blockLen);
      strongSum(strongState, useBlake2, p, blockLen, digest);
      o += emit(o, weak);
      p += blockLen;
      n -= blockLen;
      continue;
    }
    if (filled == 0) strongInit(strongState, useBlake2);
    const take = min<usize>(blockLen - filled, n);
    partialAdd(p, take);
    p += take;
    n -= take;
    if (filled == blockLen) {
      strongFinal(strongState, useBlake2, digest);
      o += emit(o, partialWeak());
      partialReset();
    }
  }
  return o - out;
}

/** Emits the short last block, if any; returns the output bytes written. */
export function sigFinish(out: usize): usize {
  if (filled == 0) return 0;
  strongFinal(strongState, useBlake2, digest);
  const n = emit(out, partialWeak());
  partialReset();
  return n;
}
