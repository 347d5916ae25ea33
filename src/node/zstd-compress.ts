/**
 * Zstandard compression on node:zlib, for the writer's method 93 members (DeflateCodec.zstd).
 * node:zlib has zstd from Node 22.15 and 23.8, and in Deno and Bun; Node 20 has none, so this
 * is undefined there and the writer deflates. The frame carries its content size (the readers
 * require it): without `pledgedSrcSize` Node's async form and Deno leave it out. The async form
 * runs on libuv's thread pool, so groups compress on both cores while the writer fills the next;
 * it gives the same bytes as the synchronous one. As for deflate (deflate.ts), the output buffer
 * is sized to the bound readers allow (above zstd's own), so each member is one thread-pool job: a smaller one hands the job
 * back to the main thread at every buffer filled, where it waits behind the walk.
 */
import * as zlib from "node:zlib";
import { zstdMaxCompressed } from "../archive/zip-central.js";

type Compress = (data: Uint8Array, level: number) => Promise<Uint8Array>;

function make(): Compress | undefined {
  const compress = (zlib as { zstdCompress?: unknown }).zstdCompress;
  const level = (zlib.constants as Record<string, number | undefined>).ZSTD_c_compressionLevel;
  if (typeof compress !== "function" || level === undefined) return undefined;
  const run = compress as (data: Uint8Array, options: object, done: (error: Error | null, out: Uint8Array) => void) => void;
  return (data, lvl) =>
    new Promise((resolve, reject) => {
      const chunkSize = zstdMaxCompressed(data.length);
      run(data, { pledgedSrcSize: data.length, chunkSize, params: { [level]: lvl } }, (error, out) => (error ? reject(error) : resolve(out)));
    });
}

/** One whole frame of `data` at `level`, or undefined where node:zlib has no zstd. */
export const nodeZstdCompress: Compress | undefined = make();
