// The delta job: slide a window over the new data, find basis blocks anywhere in it, and emit
// librsync delta commands (COPY for matched blocks, LITERAL for everything else).
//
// State machine, driven by its caller:
//   - The caller appends new data at the end of the window, and calls `dlRun` only when the
//     window is full or the input has ended. Because the window's capacity is fixed and its
//     compaction depends only on what was consumed, the commands produced depend only on the
//     bytes, never on how the caller's input was chunked.
//   - `dlRun` consumes as far as it can and returns NEED_INPUT (fewer than a block's worth of
//     look-ahead left), OUTPUT_FULL (the caller must take the output and call again) or DONE.
//     Every call either consumes input, produces output, or returns NEED_INPUT/DONE, so the job
//     always makes progress.
//
// Matching: at each offset the rolling weak sum of the next `blockLen` bytes is tested against
// the block table's filter; only a filter hit looks the sum up, and only a weak hit computes the
// strong sum, which must match before a block is used. After a match the window jumps a whole
// block; otherwise it rolls one byte and that byte becomes literal. Any block can match at any
// offset, so moved, reordered and repeated blocks are all found.
//
// The last block of the basis may be shorter than `blockLen`, and the signature does not say how
// long. It is found (a) at the end of the new data, by shrinking the window from the front as
// librsync does, (b) right after a match of the block before it, and (c) at the start of the new
// data, by growing a window one byte at a time and comparing with the last block's weak sum.
// (b) and (c) cover the common "appended to" and "short file" cases that a plain end-of-data check
// misses.
//
// Bounded memory: the window holds at most one pending literal (LITERAL_MAX bytes, then it is
// flushed), one block of look-ahead, and room for new input.

import { RK_MULT, RK_ADJ, RK_SEED, ROLLSUM_OFFSET, rkSum, rkPow, rollsumSum } from "./rollsums";
import { strongSum, STRONG_STATE_SIZE } from "./strongsum";
import { count, lookupWeak, matchStrong, mayContain, weakOf, strongOf, strongLen, filterAddress, filterBitsShift } from "./blocktable";
import { putLiteralHeader, putCopy, OP_END } from "./emit";

export const NEED_INPUT: i32 = 0;
export const OUTPUT_FULL: i32 = 1;
export const DONE: i32 = 2;

const LITERAL_MAX: usize = 256 * 1024;
const INPUT_ROOM_MIN: usize = 1 << 20;
const RK_INVM: u32 = 0x98f009ad; // RK_MULT^-1 mod 2^32
const RK_MULT2: u32 = RK_MULT * RK_MULT;

let blockLen: usize = 0;
let useRabinKarp: bool = true;
let useBlake2: bool = true;

let win: usize = 0;
let winCap: usize = 0;
let pos: usize = 0; // start of the current window
let end: usize = 0; // end of the data in the window
let litStart: usize = 0; // start of the pending literal; litStart <= pos
let inputEnded: bool = false;
let finished: bool = false;
let startChecked: bool = false;

// Rolling state of the window [pos, pos + blockLen).
let hashValid: bool = false;
let checked: bool = false; // the window at pos was tested and did not match
let rk: u32 = 0;
let rkOut: u32 = 0; // RK_MULT^blockLen
// What rolling a byte out subtracts, per byte value: RK_MULT^blockLen * (byte + RK_ADJ). A table
// load is cheaper than the multiplication at every offset.
let rkOutTable: usize = 0;
let s1: u32 = 0;
let s2: u32 = 0;

let pendingOffset: u64 = 0;
let pendingLength: u64 = 0;

let out: usize = 0;
let outCap: usize = 0;
let outLen: usize = 0;

let strongState: usize = 0;
let digest: usize = 0;

export function dlBegin(rabinKarp: bool, blake2: bool, blen: u32): void {
  useRabinKarp = rabinKarp;
  useBlake2 = blake2;
  blockLen = blen;
  winCap = LITERAL_MAX + blockLen + max<usize>(INPUT_ROOM_MIN, blockLen);
  win = heap.alloc(winCap);
  outCap = 2 * (LITERAL_MAX + blockLen) + 256;
  out = heap.alloc(outCap);
  strongState = heap.alloc(STRONG_STATE_SIZE);
  digest = heap.alloc(32);
  pos = 0;
  end = 0;
  litStart = 0;
  inputEnded = false;
  finished = false;
  startChecked = false;
  hashValid = false;
  checked = false;
  rkOut = rkPow(blockLen);
  rkOutTable = heap.alloc(256 * 4);
  for (let b: u32 = 0; b < 256; b++) store<u32>(rkOutTable + (<usize>b << 2), rkOut * (b + RK_ADJ));
  pendingOffset = 0;
  pendingLength = 0;
  outLen = 0;
}

export function dlInputPtr(): usize { return win + end; }
export function dlInputSpace(): usize { return winCap - end; }
export function dlCommit(n: usize): void { end += n; }
export function dlOutputPtr(): usize { return out; }
export function dlOutputLen(): usize { return outLen; }
export function dlOutputTaken(): void { outLen = 0; }

/** Drops consumed bytes from the front of the window; call after NEED_INPUT. */
export function dlCompact(): void {
  const keep = litStart;
  if (keep == 0) return;
  memory.copy(win, win + keep, end - keep);
  pos -= keep;
  end -= keep;
  litStart = 0;
}

function flushCopy(): void {
  if (pendingLength == 0) return;
  outLen += putCopy(out + outLen, pendingOffset, pendingLength);
  pendingLength = 0;
}

function flushLiteral(): void {
  if (pos == litStart) return;
  flushCopy();
  while (litStart < pos) {
    const n = min<usize>(pos - litStart, LITERAL_MAX);
    outLen += putLiteralHeader(out + outLen, <u64>n);
    memory.copy(out + outLen, win + litStart, n);
    outLen += n;
    litStart += n;
  }
}

function addCopy(offset: u64, len: u64): void {
  if (pendingLength != 0 && pendingOffset + pendingLength == offset) {
    pendingLength += len;
    return;
  }
  flushCopy();
  pendingOffset = offset;
  pendingLength = len;
}

/** Block `idx` of length `len` matches the new data at `pos`. */
function matched(idx: u32, len: usize): void {
  flushLiteral();
  addCopy(<u64>idx * <u64>blockLen, <u64>len);
  pos += len;
  litStart = pos;
  hashValid = false;
  if (count >= 2 && idx == count - 2) tryShortLast();
}

function weakNow(): u32 {
  return useRabinKarp ? rk : ((s2 << 16) | (s1 & 0xffff));
}

function setWindow(p: usize, len: usize): void {
  if (useRabinKarp) {
    rk = rkSum(win + p, len);
  } else {
    const d = rollsumSum(win + p, len);
    s1 = d & 0xffff;
    s2 = d >>> 16;
  }
}

/** Block index matching `len` bytes at `p` with weak sum `weak`, or -1. */
function findBlock(p: usize, len: usize, weak: u32): i32 {
  const u = lookupWeak(weak);
  if (u < 0) return -1;
  strongSum(strongState, useBlake2, win + p, len, digest);
  return matchStrong(u, digest, len == blockLen);
}

/**
 * Grows a window from `pos` one byte at a time looking for the last basis block, which may be
 * short. Only strong-checks lengths whose weak sum equals the last block's.
 */
function tryShortLast(): void {
  if (count == 0) return;
  const last = count - 1;
  const target = weakOf(last);
  const maxLen = min<usize>(blockLen - 1, end - pos);
  let h: u32 = RK_SEED;
  let a: u32 = 0;
  let b: u32 = 0;
  for (let len: usize = 1; len <= maxLen; len++) {
    const c = <u32>load<u8>(win + pos + len - 1);
    let weak: u32;
    if (useRabinKarp) {
      h = h * RK_MULT + c;
      weak = h;
    } else {
      a += c + ROLLSUM_OFFSET;
      b += a;
      weak = (b << 16) | (a & 0xffff);
    }
    if (weak != target) continue;
    strongSum(strongState, useBlake2, win + pos, len, digest);
    if (memory.compare(strongOf(last), digest, strongLen) == 0) {
      matched(last, len);
      return;
    }
  }
}

/**
 * Rolls the window forward byte by byte until the filter reports a possible match, the
 * look-ahead runs out, or the pending literal reaches its limit.
 */
function scan(): void {
  const limit = min<usize>(end - blockLen, litStart + LITERAL_MAX);
  let p = pos;
  const base = win;
  const bl = blockLen;
  if (useRabinKarp) {
    // Two offsets per step: h2 is computed from h directly (h·M² + …), not from h1, so the
    // multiply chain from one step to the next is half as long as rolling byte by byte.
    let h = rk;
    const table = rkOutTable;
    const filter = filterAddress();
    const shift = filterBitsShift();
    while (p + 1 < limit) {
      const d1 = <u32>load<u8>(base + p + bl) - load<u32>(table + (<usize>load<u8>(base + p) << 2));
      const d2 = <u32>load<u8>(base + p + bl + 1) - load<u32>(table + (<usize>load<u8>(base + p + 1) << 2));
      const h1 = h * RK_MULT + d1;
      const h2 = h * RK_MULT2 + (d1 * RK_MULT + d2);
      const b1 = h1 >>> shift;
      if ((load<u32>(filter + ((<usize>b1 >>> 5) << 2)) >>> (b1 & 31)) & 1) {
        h = h1;
        p += 1;
        checked = false;
        break;
      }
      const b2 = h2 >>> shift;
      h = h2;
      p += 2;
      if ((load<u32>(filter + ((<usize>b2 >>> 5) << 2)) >>> (b2 & 31)) & 1) {
        checked = false;
        break;
      }
    }
    if (checked && p < limit) {
      h = h * RK_MULT + (<u32>load<u8>(base + p + bl) - load<u32>(table + (<usize>load<u8>(base + p) << 2)));
      p++;
      if (mayContain(h)) checked = false;
    }
    rk = h;
  } else {
    let a = s1;
    let b = s2;
    const n = <u32>bl;
    while (p < limit) {
      const o = <u32>load<u8>(base + p) + ROLLSUM_OFFSET;
      const i = <u32>load<u8>(base + p + bl) + ROLLSUM_OFFSET;
      a += i - o;
      b += a - n * o;
      p++;
      if (mayContain((b << 16) | (a & 0xffff))) {
        checked = false;
        break;
      }
    }
    s1 = a;
    s2 = b;
  }
  pos = p;
}

/** End of input: try the windows [p, end) for p from `from`, all shorter than a block. */
function tail(from: usize): void {
  let p = from;
  if (p < end) {
    let len = end - p;
    setWindow(p, len);
    let mult: u32 = rkPow(len);
    while (p < end) {
      const idx = findBlock(p, len, weakNow());
      if (idx >= 0) {
        pos = p;
        matched(<u32>idx, len);
        break;
      }
      const o = <u32>load<u8>(win + p);
      if (useRabinKarp) {
        mult *= RK_INVM;
        rk -= mult * (o + RK_ADJ);
      } else {
        s1 -= o + ROLLSUM_OFFSET;
        s2 -= <u32>len * (o + ROLLSUM_OFFSET);
      }
      p++;
      len--;
    }
  }
  pos = end;
  flushLiteral();
  flushCopy();
  store<u8>(out + outLen, OP_END);
  outLen++;
  finished = true;
}

export function dlRun(final: bool): i32 {
  if (final) inputEnded = true;
  const reserve = LITERAL_MAX + blockLen + 64;
  while (true) {
    if (finished) return DONE;
    if (outCap - outLen < reserve) return OUTPUT_FULL;
    if (!startChecked) {
      if (!inputEnded && end - pos < blockLen) return NEED_INPUT;
      startChecked = true;
      tryShortLast();
      continue;
    }
    if (end - pos < blockLen) {
      if (!inputEnded) return NEED_INPUT;
      tail(pos);
      continue;
    }
    if (!hashValid) {
      setWindow(pos, blockLen);
      hashValid = true;
      checked = false;
    }
    if (!checked) {
      const idx = findBlock(pos, blockLen, weakNow());
      if (idx >= 0) {
        matched(<u32>idx, blockLen);
        continue;
      }
      checked = true;
    }
    if (pos + blockLen == end) {
      if (!inputEnded) return NEED_INPUT;
      tail(pos + 1);
      continue;
    }
    if (pos - litStart >= LITERAL_MAX) flushLiteral();
    scan();
  }
  return DONE;
}
