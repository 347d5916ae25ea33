// The strong sum of a block: BLAKE2b-256 or MD4, chosen by the signature's magic.
//
// Both hashes keep their state in linear memory, so a job owns one state region and switches on
// a flag. The full digest is always computed; a signature's strong length only decides how many
// of its leading bytes are stored and compared.

import { BLAKE2B_STATE_SIZE, blake2bInit, blake2bUpdate, blake2bFinal, blake2b } from "./blake2b";
import { md4Init, md4Update, md4Final, md4 } from "./md4";

export const STRONG_STATE_SIZE: usize = BLAKE2B_STATE_SIZE;
export const BLAKE2_DIGEST: u32 = 32;
export const MD4_DIGEST: u32 = 16;

export function strongInit(st: usize, useBlake2: bool): void {
  if (useBlake2) blake2bInit(st, BLAKE2_DIGEST);
  else md4Init(st);
}

export function strongUpdate(st: usize, useBlake2: bool, ptr: usize, len: usize): void {
  if (useBlake2) blake2bUpdate(st, ptr, len);
  else md4Update(st, ptr, len);
}

export function strongFinal(st: usize, useBlake2: bool, out: usize): void {
  if (useBlake2) blake2bFinal(st, out);
  else md4Final(st, out);
}

/** Full digest of a contiguous region into `out` (32 or 16 bytes). */
export function strongSum(st: usize, useBlake2: bool, ptr: usize, len: usize, out: usize): void {
  if (useBlake2) blake2b(st, ptr, len, BLAKE2_DIGEST, out);
  else md4(st, ptr, len, out);
}
