/**
 * The sequences section of a compressed zstd block (RFC 8878, sections 3.1.1.3.2 and 4.1),
 * decoded for its lengths only: how many literals the sequences take and how many bytes their
 * matches make, without copying anything.
 *
 * It exists because fzstd executes each sequence's literal and match length as it reads them,
 * writing past its output (the writes are dropped) and looping as long as they say: a 21-byte
 * block of 43,690 sequences of 131,075 bytes each kept it busy for minutes. The reference decoder
 * refuses a block whose sequences make more than the block maximum; so does this, and a frame is
 * only handed to fzstd once every block passed. Then fzstd's work per block is bounded by the
 * block maximum (128 KiB), like its output.
 *
 * Decoding follows the RFC: three FSE tables (literal lengths, offsets, match lengths), each
 * predefined, a single repeated symbol (RLE), described in the block, or repeated from the
 * frame's previous block with sequences; a bitstream read backwards from the block's end, which
 * must be consumed exactly. Anything else is CORRUPT, and a frame the reference encoder wrote
 * always passes.
 */
import { IbtError } from "../errors.js";

/** An FSE decoding table: for each state, its symbol, the bits to read and the next state's base. */
interface FseTable {
  log: number;
  symbol: Uint8Array;
  bits: Uint8Array;
  base: Uint16Array;
}

/** The tables a later block may repeat: the last ones of the frame. */
export interface SequenceTables {
  ll?: FseTable;
  of?: FseTable;
  ml?: FseTable;
}

// Predefined distributions (RFC 8878, 3.1.1.3.2.2); -1 is "less than 1".
const LL_DEFAULT = [4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 2, 1, 1, 1, 1, 1, -1, -1, -1, -1];
const ML_DEFAULT = [1, 4, 3, 2, 2, 2, 2, 2, 2, ...Array<number>(37).fill(1), ...Array<number>(7).fill(-1)];
const OF_DEFAULT = [1, 1, 1, 1, 1, 1, 2, 2, 2, ...Array<number>(15).fill(1), ...Array<number>(5).fill(-1)];
// Extra bits of each length code; a code's baseline is the previous one's plus 2^its bits.
const LL_BITS = [...Array<number>(16).fill(0), 1, 1, 1, 1, 2, 2, 3, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
const ML_BITS = [...Array<number>(32).fill(0), 1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
const LL_BASE = baselines(LL_BITS, 0);
const ML_BASE = baselines(ML_BITS, 3);
const LL_MAX = 35;
const ML_MAX = 52;
const OF_MAX = 31;

function baselines(bits: number[], first: number): number[] {
  const out: number[] = [];
  for (let i = 0, b = first; i < bits.length; b += 2 ** bits[i]!, i++) out.push(b);
  return out;
}

function corrupt(message: string, offset: number): IbtError {
  return new IbtError("CORRUPT", `zstd block: ${message}`, { offset });
}

const highBit = (v: number): number => 31 - Math.clz32(v);

/** The decoding table of a normalized distribution (RFC 8878, 4.1.1), or undefined if it is not one. */
function buildTable(counts: number[], log: number): FseTable | undefined {
  const size = 1 << log;
  const table: FseTable = { log, symbol: new Uint8Array(size), bits: new Uint8Array(size), base: new Uint16Array(size) };
  const next: number[] = [];
  let high = size - 1;
  counts.forEach((c, s) => {
    if (c === -1) table.symbol[high--] = s;
    next[s] = c === -1 ? 1 : c;
  });
  const step = (size >> 1) + (size >> 3) + 3;
  let position = 0;
  counts.forEach((c, s) => {
    for (let i = 0; i < c; i++) {
      table.symbol[position] = s;
      do position = (position + step) & (size - 1);
      while (position > high);
    }
  });
  if (position !== 0) return undefined;
  for (let u = 0; u < size; u++) {
    const n = next[table.symbol[u]!]!++;
    const bits = log - highBit(n);
    table.bits[u] = bits;
    table.base[u] = (n << bits) - size;
  }
  return table;
}

let defaults: { ll: FseTable; of: FseTable; ml: FseTable } | undefined;

/** Reads a table description at `start`: the table and the byte after it. */
function readTable(block: Uint8Array, start: number, maxSymbol: number, maxLog: number, offset: number): [FseTable, number] {
  let bit = start * 8;
  // Bits past the block read as 0: only what is consumed must lie inside, as checked at the end.
  const peek = (n: number): number => {
    let v = 0;
    for (let i = 0; i < n; i++) v |= (((block[(bit + i) >> 3] ?? 0) >> ((bit + i) & 7)) & 1) << i;
    return v;
  };
  const log = (peek(4) & 15) + 5;
  if (log > maxLog) throw corrupt(`FSE accuracy ${log} is more than ${maxLog}`, offset);
  bit += 4;
  let remaining = (1 << log) + 1;
  let threshold = 1 << log;
  let nbBits = log + 1;
  const counts: number[] = [];
  let previousZero = false;
  while (remaining > 1) {
    if (previousZero) {
      for (let repeat = 3; repeat === 3; ) {
        repeat = peek(2);
        bit += 2;
        for (let i = 0; i < repeat; i++) counts.push(0);
        if (counts.length > maxSymbol) break;
      }
    }
    if (counts.length > maxSymbol) throw corrupt(`FSE table of more than ${maxSymbol + 1} symbols`, offset);
    const max = 2 * threshold - 1 - remaining;
    let count = peek(nbBits - 1);
    if (count < max) bit += nbBits - 1;
    else {
      count = peek(nbBits);
      if (count >= threshold) count -= max;
      bit += nbBits;
    }
    count -= 1;
    remaining -= Math.abs(count);
    counts.push(count);
    previousZero = count === 0;
    if (remaining < 1) break;
    while (remaining < threshold) {
      nbBits--;
      threshold >>= 1;
    }
  }
  const end = (bit + 7) >> 3;
  const table = remaining === 1 && end <= block.length ? buildTable(counts, log) : undefined;
  if (table === undefined) throw corrupt("invalid FSE table description", offset);
  return [table, end];
}

/**
 * The bytes the sequences at `start` in `block` make, with `literals` literals and `count`
 * sequences, in a frame whose blocks make at most `blockMax` bytes. Updates `tables`.
 */
export function sequencesOutput(block: Uint8Array, start: number, literals: number, count: number, blockMax: number, tables: SequenceTables, offset: number): number {
  defaults ??= { ll: buildTable(LL_DEFAULT, 6)!, of: buildTable(OF_DEFAULT, 5)!, ml: buildTable(ML_DEFAULT, 6)! };
  let pos = start;
  const modes = block[pos++] ?? 0;
  if (pos > block.length || modes & 3) throw corrupt("invalid symbol compression modes", offset);
  const choose = (mode: number, kind: "ll" | "of" | "ml", maxSymbol: number, maxLog: number): FseTable => {
    if (mode === 0) return defaults![kind];
    if (mode === 1) {
      const symbol = block[pos++];
      if (symbol === undefined || symbol > maxSymbol) throw corrupt("invalid RLE sequence code", offset);
      return { log: 0, symbol: Uint8Array.of(symbol), bits: Uint8Array.of(0), base: Uint16Array.of(0) };
    }
    if (mode === 2) {
      const [table, end] = readTable(block, pos, maxSymbol, maxLog, offset);
      pos = end;
      return table;
    }
    const repeated = tables[kind];
    if (repeated === undefined) throw corrupt("repeats a table no earlier block had", offset);
    return repeated;
  };
  const ll = (tables.ll = choose(modes >> 6, "ll", LL_MAX, 9));
  const of = (tables.of = choose((modes >> 4) & 3, "of", OF_MAX, 8));
  const ml = (tables.ml = choose((modes >> 2) & 3, "ml", ML_MAX, 9));

  const last = block[block.length - 1] ?? 0;
  if (pos >= block.length || last === 0) throw corrupt("sequence bitstream is missing or has no end mark", offset);
  let left = (block.length - 1 - pos) * 8 + highBit(last);
  const read = (n: number): number => {
    if (n > left) throw corrupt("sequences read past the start of their bitstream", offset);
    left -= n;
    const at = pos * 8 + left;
    const i = at >> 3;
    const shift = at & 7;
    // Bytes past the block read as 0 (undefined in a bitwise operation): they lie above the bits wanted.
    if (n <= 24) return ((block[i]! | (block[i + 1]! << 8) | (block[i + 2]! << 16) | (block[i + 3]! << 24)) >>> shift) & ((1 << n) - 1);
    let v = 0;
    for (let k = Math.ceil((shift + n) / 8) - 1; k >= 0; k--) v = v * 256 + block[i + k]!;
    return Math.floor(v / 2 ** shift) % 2 ** n;
  };
  let llState = read(ll.log);
  let ofState = read(of.log);
  let mlState = read(ml.log);
  let taken = 0;
  let made = literals;
  for (let i = 0; i < count; i++) {
    const llCode = ll.symbol[llState]!;
    const mlCode = ml.symbol[mlState]!;
    read(of.symbol[ofState]!);
    made += ML_BASE[mlCode]! + read(ML_BITS[mlCode]!);
    taken += LL_BASE[llCode]! + read(LL_BITS[llCode]!);
    if (taken > literals) throw corrupt(`sequences take more than its ${literals} literals`, offset);
    if (made > blockMax) throw corrupt(`sequences make more than its frame's ${blockMax}-byte blocks`, offset);
    if (i + 1 < count) {
      llState = ll.base[llState]! + read(ll.bits[llState]!);
      mlState = ml.base[mlState]! + read(ml.bits[mlState]!);
      ofState = of.base[ofState]! + read(of.bits[ofState]!);
    }
  }
  if (left !== 0) throw corrupt(`${left} bits left after the last sequence`, offset);
  return made;
}
