// The block table: every block of a signature, findable by weak sum.
//
// Built once per delta job from the signature's records (big-endian weak sum + strong prefix),
// which the caller copies verbatim into linear memory. Layout after `tableBuild`:
//
//   records   n × (4 + strongLen)  the signature as read, block i at i × (4 + strongLen)
//   filter    2^k bits             one bit per weak sum, at least 256 bits per block: the cheap
//                                  "certainly absent" test that the matcher runs at every byte
//                                  offset, one shift, one load and one bit test. (A two-bit
//                                  blocked Bloom filter passes fewer offsets but costs more at
//                                  every offset than it saves.)
//   uniqWeak  u32 per distinct weak sum, ascending, searched by bisection
//   uniqFirst u32 index of its first candidate in `cands`
//   uniqCount u32 candidates kept (distinct strong sums, at most CANDIDATE_CAP)
//   uniqMiss  u32 weak hits whose strong sum matched no candidate
//   cands     u32 block indices, ascending within one weak sum
//
// Sorting is a stable radix sort on the weak sum, so for equal sums the lowest block index comes
// first and wins ties, and identical blocks collapse to their first copy.
//
// Bounded work against hostile inputs: at most CANDIDATE_CAP strong comparisons per weak value,
// and a weak value whose hits keep failing the strong check (MISS_CAP misses beyond eight per
// real match) is switched off, so neither a crafted signature nor crafted new data can make the
// matcher hash a block at every offset. Bisection, unlike open hashing, has no bad key pattern.

export const CANDIDATE_CAP: u32 = 32;
export const MISS_CAP: u32 = 256;

export let count: u32 = 0;
export let strongLen: u32 = 0;
export let records: usize = 0;
let recordSize: usize = 0;

let filter: usize = 0;
let filterShift: u32 = 0; // 32 - log2(words)
let uniqWeak: usize = 0;
let uniqFirst: usize = 0;
let uniqCount: usize = 0;
let uniqMiss: usize = 0;
let uniqHits: usize = 0;
let uniqN: u32 = 0;
let cands: usize = 0;

/** Reserves room for `n` records and returns where the caller copies them. */
export function tableAlloc(n: u32, slen: u32): usize {
  count = n;
  strongLen = slen;
  recordSize = 4 + <usize>slen;
  records = heap.alloc(max<usize>(<usize>n * recordSize, 16));
  return records;
}

// @ts-ignore: decorator
@inline export function weakOf(i: u32): u32 {
  return bswap<u32>(load<u32>(records + <usize>i * recordSize));
}

// @ts-ignore: decorator
@inline export function strongOf(i: u32): usize {
  return records + <usize>i * recordSize + 4;
}

// RabinKarp sums are well mixed in their high bits, so the filter takes those as they are; the
// old rollsum keeps a plain byte sum in its low half, so its sums are multiplied first.
let mixWeak: bool = false;

// @ts-ignore: decorator
@inline function filterBit(weak: u32): u32 {
  return (mixWeak ? weak * 0x9e3779b1 : weak) >>> filterShift;
}

/** The filter's address and shift, for a matcher loop that tests it inline. */
export function filterAddress(): usize { return filter; }
export function filterBitsShift(): u32 { return filterShift; }

// @ts-ignore: decorator
@inline export function mayContain(weak: u32): bool {
  const bit = filterBit(weak);
  return ((load<u32>(filter + ((<usize>bit >>> 5) << 2)) >>> (bit & 31)) & 1) != 0;
}

function sortByWeak(n: u32): usize {
  // Keys are (weak << 32 | index): sorting the low byte planes of `weak` only, in four stable
  // passes, orders by weak and keeps indices ascending within equal weak sums.
  let a = heap.alloc(max<usize>(<usize>n << 3, 16));
  let b = heap.alloc(max<usize>(<usize>n << 3, 16));
  for (let i: u32 = 0; i < n; i++) {
    store<u64>(a + (<usize>i << 3), (<u64>weakOf(i) << 32) | <u64>i);
  }
  const counts = heap.alloc(256 * 4);
  for (let shift: u64 = 32; shift < 64; shift += 8) {
    memory.fill(counts, 0, 256 * 4);
    for (let i: u32 = 0; i < n; i++) {
      const d = <usize>((load<u64>(a + (<usize>i << 3)) >> shift) & 0xff);
      store<u32>(counts + (d << 2), load<u32>(counts + (d << 2)) + 1);
    }
    let sum: u32 = 0;
    for (let d: usize = 0; d < 256; d++) {
      const c = load<u32>(counts + (d << 2));
      store<u32>(counts + (d << 2), sum);
      sum += c;
    }
    for (let i: u32 = 0; i < n; i++) {
      const key = load<u64>(a + (<usize>i << 3));
      const d = <usize>((key >> shift) & 0xff);
      const at = load<u32>(counts + (d << 2));
      store<u32>(counts + (d << 2), at + 1);
      store<u64>(b + (<usize>at << 3), key);
    }
    const t = a;
    a = b;
    b = t;
  }
  return a;
}

function sameStrong(i: u32, j: u32): bool {
  return memory.compare(strongOf(i), strongOf(j), strongLen) == 0;
}

/** Builds the filter and the sorted index over the records copied in. */
export function tableBuild(rabinKarp: bool): void {
  mixWeak = !rabinKarp;
  const n = count;
  // Filter size: a power of two of bits, at least 256 per block (under 0.4% of offsets pass it by
  // chance; 64 bits per block let 1.5% through, and the bisections cost more than the larger
  // filter); at least 4 KiB, at most 64 MiB.
  let bits: u32 = 15;
  while (bits < 29 && (<u64>1 << bits) < (<u64>n << 9)) bits++;
  filterShift = 32 - bits;
  filter = heap.alloc(<usize>1 << (bits - 3));
  memory.fill(filter, 0, <usize>1 << (bits - 3));

  const sorted = sortByWeak(n);
  const cap = max<usize>(<usize>n << 2, 16);
  uniqWeak = heap.alloc(cap);
  uniqFirst = heap.alloc(cap);
  uniqCount = heap.alloc(cap);
  uniqMiss = heap.alloc(cap);
  uniqHits = heap.alloc(cap);
  cands = heap.alloc(cap);

  let u: u32 = 0;
  let c: u32 = 0;
  let i: u32 = 0;
  while (i < n) {
    const weak = <u32>(load<u64>(sorted + (<usize>i << 3)) >> 32);
    const first = c;
    let kept: u32 = 0;
    while (i < n) {
      const key = load<u64>(sorted + (<usize>i << 3));
      if (<u32>(key >> 32) != weak) break;
      const idx = <u32>key;
      i++;
      if (kept >= CANDIDATE_CAP) continue;
      let dup = false;
      for (let k = first; k < c; k++) {
        if (sameStrong(load<u32>(cands + (<usize>k << 2)), idx)) {
          dup = true;
          break;
        }
      }
      if (dup) continue;
      store<u32>(cands + (<usize>c << 2), idx);
      c++;
      kept++;
    }
    const o = <usize>u << 2;
    store<u32>(uniqWeak + o, weak);
    store<u32>(uniqFirst + o, first);
    store<u32>(uniqCount + o, kept);
    store<u32>(uniqMiss + o, 0);
    store<u32>(uniqHits + o, 0);
    const bit = filterBit(weak);
    const word = filter + ((<usize>bit >>> 5) << 2);
    store<u32>(word, load<u32>(word) | (<u32>1 << (bit & 31)));
    u++;
  }
  uniqN = u;
}

/** Position of `weak` among the distinct weak sums, or -1. */
function findWeak(weak: u32): i32 {
  let lo: i32 = 0;
  let hi: i32 = <i32>uniqN - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const w = load<u32>(uniqWeak + (<usize>mid << 2));
    if (w < weak) lo = mid + 1;
    else if (w > weak) hi = mid - 1;
    else return mid;
  }
  return -1;
}

/**
 * First step of a lookup: the entry of the distinct weak sum `weak`, or -1 when no block has it
 * (or it has been switched off for failing too often). The caller computes the strong sum only
 * after this succeeds, because that is the expensive part.
 */
export function lookupWeak(weak: u32): i32 {
  if (!mayContain(weak)) return -1;
  const u = findWeak(weak);
  if (u < 0) return -1;
  const o = <usize>u << 2;
  if (load<u32>(uniqMiss + o) >= MISS_CAP + (load<u32>(uniqHits + o) << 3)) return -1;
  return u;
}

/**
 * Second step: the block of entry `u` whose strong sum prefix equals the one at `strong`, or
 * -1. Only the last block can match a window shorter than a block (`fullLength` false).
 */
export function matchStrong(u: i32, strong: usize, fullLength: bool): i32 {
  const o = <usize>u << 2;
  const first = load<u32>(uniqFirst + o);
  const end = first + load<u32>(uniqCount + o);
  const last = count - 1;
  for (let k = first; k < end; k++) {
    const idx = load<u32>(cands + (<usize>k << 2));
    if (!fullLength && idx != last) continue;
    if (memory.compare(strongOf(idx), strong, strongLen) == 0) {
      store<u32>(uniqHits + o, load<u32>(uniqHits + o) + 1);
      return <i32>idx;
    }
  }
  store<u32>(uniqMiss + o, load<u32>(uniqMiss + o) + 1);
  return -1;
}
