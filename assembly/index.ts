// The engine's WebAssembly exports. No I/O and no managed objects cross this boundary: the
// caller (src/rsync/engine.ts) reserves regions with `mem_alloc`, copies bytes in and out of
// linear memory, and calls these functions with addresses and lengths. One instance serves one
// job at a time; `mem_reset` returns all of its memory before the next job.
//
// Prefixes: mem_ memory, hash_ strong sums, sig_ signature job, tbl_ block table, dl_ delta job,
// argon2_ key derivation job.

import { blake2bInit, blake2bUpdate, blake2bFinal, BLAKE2B_STATE_SIZE } from "./blake2b";
import { md4Init, md4Update, md4Final } from "./md4";
import { rkSum, rollsumSum } from "./rollsums";
import { sigBegin, sigUpdate, sigFinish } from "./signature";
import { tableAlloc, tableBuild } from "./blocktable";
import { argon2Begin, argon2FillSlice, argon2Finish, argon2Wipe } from "./argon2";
import { dlBegin, dlInputPtr, dlInputSpace, dlCommit, dlCompact, dlRun, dlOutputPtr, dlOutputLen, dlOutputTaken } from "./matcher";

export function mem_reset(): void { heap.reset(); }
export function mem_alloc(size: usize): usize { return heap.alloc(size); }

export const hash_state_size: usize = BLAKE2B_STATE_SIZE;
export function hash_blake2b_init(st: usize, outlen: u32): void { blake2bInit(st, outlen); }
export function hash_blake2b_update(st: usize, ptr: usize, len: usize): void { blake2bUpdate(st, ptr, len); }
export function hash_blake2b_final(st: usize, out: usize): void { blake2bFinal(st, out); }
export function hash_md4_init(st: usize): void { md4Init(st); }
export function hash_md4_update(st: usize, ptr: usize, len: usize): void { md4Update(st, ptr, len); }
export function hash_md4_final(st: usize, out: usize): void { md4Final(st, out); }
export function hash_rabinkarp(ptr: usize, len: usize): u32 { return rkSum(ptr, len); }
export function hash_rollsum(ptr: usize, len: usize): u32 { return rollsumSum(ptr, len); }

export function sig_begin(rabinKarp: bool, blake2: bool, blockLen: u32, strongLen: u32): void {
  sigBegin(rabinKarp, blake2, blockLen, strongLen);
}
export function sig_update(ptr: usize, len: usize, out: usize): usize { return sigUpdate(ptr, len, out); }
export function sig_finish(out: usize): usize { return sigFinish(out); }

export function tbl_alloc(count: u32, strongLen: u32): usize { return tableAlloc(count, strongLen); }
export function tbl_build(rabinKarp: bool): void { tableBuild(rabinKarp); }

export function dl_begin(rabinKarp: bool, blake2: bool, blockLen: u32): void { dlBegin(rabinKarp, blake2, blockLen); }
export function dl_input_ptr(): usize { return dlInputPtr(); }
export function dl_input_space(): usize { return dlInputSpace(); }
export function dl_commit(n: usize): void { dlCommit(n); }
export function dl_compact(): void { dlCompact(); }
export function dl_run(final: bool): i32 { return dlRun(final); }
export function dl_output_ptr(): usize { return dlOutputPtr(); }
export function dl_output_len(): usize { return dlOutputLen(); }
export function dl_output_taken(): void { dlOutputTaken(); }

export function argon2_begin(msg: usize, len: usize): i32 { return argon2Begin(msg, len); }
export function argon2_fill_slice(): u32 { return argon2FillSlice(); }
export function argon2_finish(): usize { return argon2Finish(); }
export function argon2_wipe(): void { argon2Wipe(); }
