// Argon2 (RFC 9106, version 0x13): the memory-hard password hash that derives repository keys.
//
// The job runs in three steps, each one call from src/crypto/argon2.ts:
//   1. `argon2Begin` takes H0's input exactly as RFC 9106 section 3.2 lays it out (p, T, m, t,
//      v, y, then password, salt, secret and associated data, each after its length) and reads
//      the parameters from that message's first 24 bytes, so the parameters hashed into H0 and
//      the parameters the fill uses cannot disagree. It reserves the m' = 4p * floor(m / 4p)
//      blocks, computes H0 and the first two blocks of every lane with H'.
//   2. `argon2FillSlice`, called 4t times, fills one slice: segment `slice` of every lane, lanes
//      one after another (there is one thread; lanes only shape which blocks may be referenced).
//   3. `argon2Finish` XORs the last block of every lane and hashes that with H' into the tag.
// Splitting the fill by slice lets the caller yield between slices without the core holding
// anything but its position.
//
// Reference blocks: Argon2i addressing (pseudo-random numbers from address blocks that depend
// only on the position and parameters) in the first two slices of the first pass, Argon2d
// addressing (the first word of the previous block) everywhere else, as Argon2id prescribes.
// The index arithmetic follows section 3.4 literally: which lane, how large the reference area
// is, the quadratic map of J1 onto it, and where the area starts.
//
// Memory: scratch space comes from the heap; the blocks come from `memory.grow` past the end of
// memory, so a refused growth is a clean "no" (0) instead of a trap. Nothing may allocate from
// the heap in this instance after `argon2Begin` until `mem_reset`, because the heap does not
// know about the grown region. `argon2Wipe` zeroes every byte that depended on the password.
//
// BLAKE2b is the engine's own (blake2b.ts). H' (section 3.3) returns BLAKE2b of the length and
// input when at most 64 bytes are wanted, and otherwise chains 64-byte digests, keeping the
// first half of each and the whole of the last.

import { blake2b, blake2bInit, blake2bUpdate, blake2bFinal } from "./blake2b";
import { compressBlock, BLOCK_SIZE } from "./argon2_block";

const VERSION: u32 = 0x13;
const TYPE_D: u32 = 0;
const TYPE_I: u32 = 1;
const TYPE_ID: u32 = 2;
const SYNC_POINTS: u32 = 4;
const ADDRESSES_PER_BLOCK: u32 = 128;
const HEADER_SIZE: usize = 24;

// Scratch layout (offsets into one heap allocation).
const S_STATE: usize = 0; // BLAKE2b state, 208 bytes
const S_LENGTH: usize = 256; // LE32(T) prefix for H'
const S_CHAIN: usize = 272; // H' chaining digest, 64 bytes
const S_SEED: usize = 384; // H0 || LE32(block) || LE32(lane), 72 bytes
const S_R: usize = 1024; // compressBlock scratch
const S_KEEP: usize = 2048; // compressBlock scratch
const S_ADDRESS: usize = 3072; // current address block (Argon2i addressing)
const S_INPUT: usize = 4096; // address generator input Z
const S_ZERO: usize = 5120; // the all-zero block
const S_FINAL: usize = 6144; // XOR of the last blocks
const S_TAG: usize = 7168; // the tag, tagLength bytes

let scratch: usize = 0;
let scratchSize: usize = 0;
let message: usize = 0;
let messageLength: usize = 0;
let blocks: usize = 0;
let lanes: u32 = 0;
let laneLength: u32 = 0;
let segmentLength: u32 = 0;
let blockCount: u32 = 0;
let passes: u32 = 0;
let tagLength: u32 = 0;
let type: u32 = 0;
let pass: u32 = 0;
let slice: u32 = 0;

// @ts-ignore: decorator
@inline function blockAt(lane: u32, index: u32): usize {
  return blocks + (<usize>lane * laneLength + index) * BLOCK_SIZE;
}

/** H'^outLen(input), written at `out` (section 3.3). */
function hashLong(out: usize, outLen: u32, input: usize, inputLen: usize): void {
  const st = scratch + S_STATE;
  const chain = scratch + S_CHAIN;
  store<u32>(scratch + S_LENGTH, outLen);
  blake2bInit(st, min<u32>(outLen, 64));
  blake2bUpdate(st, scratch + S_LENGTH, 4);
  blake2bUpdate(st, input, inputLen);
  if (outLen <= 64) {
    blake2bFinal(st, out);
    return;
  }
  blake2bFinal(st, chain);
  memory.copy(out, chain, 32);
  let done: u32 = 32;
  while (outLen - done > 64) {
    blake2b(st, chain, 64, 64, chain);
    memory.copy(out + done, chain, 32);
    done += 32;
  }
  blake2b(st, chain, 64, outLen - done, out + done);
}

/**
 * Starts a job from H0's input message. Returns the number of slices to fill (4t), 0 when the
 * memory cannot grow to m' KiB, or -1 when the header is not a valid Argon2 version 0x13 one.
 */
export function argon2Begin(msg: usize, len: usize): i32 {
  if (len < HEADER_SIZE + 16) return -1;
  const p = load<u32>(msg, 0);
  const t = load<u32>(msg, 4);
  const m = load<u32>(msg, 8);
  const iterations = load<u32>(msg, 12);
  if (load<u32>(msg, 16) != VERSION || load<u32>(msg, 20) > TYPE_ID) return -1;
  if (p == 0 || p > 0xffffff || iterations == 0 || iterations > 0x1fffffff || t < 4 || m < 8 * p) return -1;

  const segment = m / (SYNC_POINTS * p);
  const count = segment * SYNC_POINTS * p;
  const pages = (<u64>count * BLOCK_SIZE + 0xffff) >> 16;
  if (pages + <u64>memory.size() > 65536) return 0;

  lanes = p;
  segmentLength = segment;
  laneLength = segment * SYNC_POINTS;
  blockCount = count;
  passes = iterations;
  tagLength = t;
  type = load<u32>(msg, 20);
  pass = 0;
  slice = 0;
  message = msg;
  messageLength = len;
  scratchSize = S_TAG + t;
  scratch = heap.alloc(scratchSize);
  memory.fill(scratch, 0, scratchSize);

  const base = <usize>memory.size() << 16;
  if (memory.grow(<i32>pages) < 0) {
    blocks = 0;
    return 0;
  }
  blocks = base;

  const seed = scratch + S_SEED;
  blake2b(scratch + S_STATE, msg, len, 64, seed);
  for (let lane: u32 = 0; lane < lanes; lane++) {
    store<u32>(seed, 0, 64);
    store<u32>(seed, lane, 68);
    hashLong(blockAt(lane, 0), <u32>BLOCK_SIZE, seed, 72);
    store<u32>(seed, 1, 64);
    hashLong(blockAt(lane, 1), <u32>BLOCK_SIZE, seed, 72);
  }
  return <i32>(passes * SYNC_POINTS);
}

/** The next address block: Z's counter goes up by one, then G(0, G(0, Z)). */
function nextAddresses(): void {
  const input = scratch + S_INPUT;
  const address = scratch + S_ADDRESS;
  const zero = scratch + S_ZERO;
  store<u64>(input, load<u64>(input, 48) + 1, 48);
  compressBlock(zero, input, address, false, scratch + S_R, scratch + S_KEEP);
  compressBlock(zero, address, address, false, scratch + S_R, scratch + S_KEEP);
}

function fillSegment(lane: u32): void {
  const independent = type == TYPE_I || (type == TYPE_ID && pass == 0 && slice < SYNC_POINTS / 2);
  const first: u32 = pass == 0 && slice == 0 ? 2 : 0;
  const address = scratch + S_ADDRESS;
  if (independent) {
    const input = scratch + S_INPUT;
    store<u64>(input, pass, 0);
    store<u64>(input, lane, 8);
    store<u64>(input, slice, 16);
    store<u64>(input, blockCount, 24);
    store<u64>(input, passes, 32);
    store<u64>(input, type, 40);
    store<u64>(input, 0, 48);
  }
  // The reference area starts after the segment being filled (later passes) or at 0.
  const areaStart: u32 = pass == 0 || slice == SYNC_POINTS - 1 ? 0 : (slice + 1) * segmentLength;
  // Blocks of finished segments: this pass's earlier slices, or the other three in later passes.
  const finished: u32 = pass == 0 ? slice * segmentLength : laneLength - segmentLength;

  for (let index = first; index < segmentLength; index++) {
    const current = slice * segmentLength + index;
    const previous = current == 0 ? laneLength - 1 : current - 1;
    let random: u64;
    if (independent) {
      if (index == first || index % ADDRESSES_PER_BLOCK == 0) nextAddresses();
      random = load<u64>(address + <usize>(index % ADDRESSES_PER_BLOCK) * 8);
    } else {
      random = load<u64>(blockAt(lane, previous));
    }
    const j1 = random & 0xffffffff;
    const j2 = <u32>(random >> 32);
    const refLane = pass == 0 && slice == 0 ? lane : j2 % lanes;
    // The block being filled and its predecessor are never referenced; from another lane, the
    // last finished block is excluded at a segment's start, where it may still be written.
    let area: u32;
    if (refLane == lane) area = finished + index - 1;
    else area = index == 0 ? finished - 1 : finished;
    const x = (j1 * j1) >> 32;
    const y = (<u64>area * x) >> 32;
    const relative = <u64>area - 1 - y;
    const refIndex = <u32>((<u64>areaStart + relative) % laneLength);
    compressBlock(
      blockAt(lane, previous),
      blockAt(refLane, refIndex),
      blockAt(lane, current),
      pass > 0,
      scratch + S_R,
      scratch + S_KEEP,
    );
  }
}

/** Fills the next slice of every lane; returns how many slices remain. */
export function argon2FillSlice(): u32 {
  if (pass >= passes) return 0;
  for (let lane: u32 = 0; lane < lanes; lane++) fillSegment(lane);
  if (++slice == SYNC_POINTS) {
    slice = 0;
    pass++;
  }
  return (passes - pass) * SYNC_POINTS - slice;
}

/** Computes the tag after the last slice; returns its address (tagLength bytes). */
export function argon2Finish(): usize {
  const final = scratch + S_FINAL;
  memory.copy(final, blockAt(0, laneLength - 1), BLOCK_SIZE);
  for (let lane: u32 = 1; lane < lanes; lane++) {
    const last = blockAt(lane, laneLength - 1);
    for (let i: usize = 0; i < BLOCK_SIZE; i += 16) v128.store(final + i, v128.xor(v128.load(final + i), v128.load(last + i)));
  }
  hashLong(scratch + S_TAG, tagLength, final, BLOCK_SIZE);
  return scratch + S_TAG;
}

/** Zeroes the blocks, the scratch space (H0, the tag) and the input message. */
export function argon2Wipe(): void {
  if (blocks != 0) memory.fill(blocks, 0, <usize>blockCount * BLOCK_SIZE);
  if (scratch != 0) memory.fill(scratch, 0, scratchSize);
  if (message != 0) memory.fill(message, 0, messageLength);
  blocks = 0;
  scratch = 0;
  message = 0;
}
