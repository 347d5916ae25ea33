/**
 * Zstandard frames for the reader's tests, made by an independent encoder: the `zstd` CLI
 * (Debian's, libzstd's reference tool), told the input's size so the frame declares it, and
 * node:zlib's where the runtime has it. Plus the surgery the hostile cases need on a frame's
 * header, and a ZIP holding one method 93 member.
 */
import { spawnSync } from "node:child_process";
import * as zlib from "node:zlib";
import { crc32, handZip } from "./hostile-fixture.js";

/** A frame of `data` by the zstd CLI with `args` (a level, --no-check, --zstd=wlog=10...). */
export function zstdCli(data: Uint8Array, ...args: string[]): Uint8Array {
  const r = spawnSync("zstd", ["-q", "-c", `--stream-size=${data.length}`, ...args], { input: data, maxBuffer: 1 << 30 });
  if (r.error || r.status !== 0) throw new Error(`zstd ${args.join(" ")}: ${r.error?.message ?? r.stderr.toString()}`);
  return new Uint8Array(r.stdout);
}

type Compress = (data: Uint8Array) => Uint8Array;
/** node:zlib's zstd encoder, where it has one (Node 22.15 and later). */
export const nodeZstdCompress = (zlib as unknown as { zstdCompressSync?: Compress }).zstdCompressSync;

/** The length of a frame's header: magic, descriptor, window, dictionary ID, content size. */
export function headerLength(frame: Uint8Array): number {
  const d = frame[4]!;
  const single = (d >> 5) & 1;
  const fcs = d >> 6 === 0 ? single : 1 << (d >> 6);
  return 5 + (single ? 0 : 1) + [0, 1, 2, 4][d & 3]! + fcs;
}

/** The frame with a Dictionary_ID field of one byte inserted in its header. */
export function withDictionaryId(frame: Uint8Array, id: number): Uint8Array {
  const d = frame[4]!;
  if ((d & 3) !== 0) throw new Error("the frame has a dictionary ID already");
  const at = 5 + ((d >> 5) & 1 ? 0 : 1);
  const out = new Uint8Array(frame.length + 1);
  out.set(frame.subarray(0, at));
  out[4] = d | 1;
  out[at] = id;
  out.set(frame.subarray(at), at + 1);
  return out;
}

/** An archive of one member `name` of method 93: `data` as its bytes, `size` and `crc` as declared. */
export function zstdZip(data: Uint8Array, size: number, crc: number, name = "z.txt"): Uint8Array {
  return handZip([{ name, data, method: 93, size, crc }]);
}

/** An archive of `content` as one zstd member holding `frame`, its size and CRC-32 true. */
export function zstdMember(content: Uint8Array, frame: Uint8Array, name = "z.txt"): Uint8Array {
  return zstdZip(frame, content.length, crc32(content, 0), name);
}
