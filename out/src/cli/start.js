#!/usr/bin/env node
/**
 * The ibt executable, dist/cli/ibt.cjs (bin.ibt): it starts the bundled command line,
 * dist/cli/ibt-main.cjs, from V8's code cache for it when there is a valid one.
 *
 * A run of ibt is short, and V8 compiles every function the run calls from source, lazily, on
 * first call. The build runs a small diff once with IBT_CODE_CACHE=write, and what V8 compiled
 * then (the bytecode of the functions a backup step calls) is saved beside the bundle. A later
 * run deserializes it instead of compiling: on the bench/dirs.mjs change, 0.564 → 0.537 s
 * (perf stat, 15 runs each). This file is built only into that CommonJS bundle; it is not part
 * of the library.
 *
 * The cache file starts with a header: a format tag (which also names this file's wrapping of
 * the bundle), the CRC-32 and byte length of the bundle it was made from, and the CRC-32 of V8's
 * data after the header. V8 itself checks only the source's length (and its own version and
 * flags), and a Node release build does not checksum the data: without the first CRC a rebuilt
 * bundle could run an older bundle's bytecode, without the second a damaged cache could crash
 * V8 or run damaged constants. A cache that is missing, stale, damaged or rejected by V8
 * (another Node, other flags) costs nothing but the compile; IBT_CODE_CACHE=report prints
 * which of these happened on stderr. V8 keeps the script name the cache was made with, so an
 * error's stack names the bundle's path at build time.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Script } from "node:vm";
import * as zlib from "node:zlib";
import { tuneForShortRun } from "./v8-tuning.js";
// First: V8 accepts a code cache only under the flags it was made with, and the cache is made
// after these are set.
tuneForShortRun();
const MAIN = join(__dirname, "ibt-main.cjs");
const CACHE = join(__dirname, "ibt-main.cache");
/** "IBC1": the header's layout and the wrapper below; a change to either needs a new tag. */
const TAG = 0x49424331;
const HEADER = 16;
/** zlib.crc32 arrived in Node 20.15; without it there is no cheap way to check a cache. */
const crc32 = zlib.crc32;
function readCache(code) {
    if (!crc32)
        return { state: "unsupported" };
    let file;
    try {
        file = readFileSync(CACHE);
    }
    catch {
        return { state: "missing" };
    }
    if (file.length <= HEADER || file.readUInt32BE(0) !== TAG || file.readUInt32BE(4) !== crc32(code) || file.readUInt32BE(8) !== code.length) {
        return { state: "stale" };
    }
    const data = file.subarray(HEADER);
    return crc32(data) === file.readUInt32BE(12) ? { data, state: "used" } : { state: "damaged" };
}
function writeCache(code, script) {
    const data = script.createCachedData();
    const header = Buffer.alloc(HEADER);
    header.writeUInt32BE(TAG, 0);
    header.writeUInt32BE(crc32(code), 4);
    header.writeUInt32BE(code.length, 8);
    header.writeUInt32BE(crc32(data), 12);
    const temp = `${CACHE}.${process.pid}.tmp`;
    writeFileSync(temp, Buffer.concat([header, data]));
    renameSync(temp, CACHE);
}
const code = readFileSync(MAIN);
const cache = readCache(code);
// The bundle as Node would wrap a CommonJS module; its "#!" line becomes a comment of the same length.
const source = code.toString("utf8").replace(/^#!/, "//");
const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: MAIN,
    ...(cache.data ? { cachedData: cache.data } : {}),
});
const state = cache.data && script.cachedDataRejected ? "rejected" : cache.state;
const mode = process.env.IBT_CODE_CACHE;
if (mode === "report")
    process.stderr.write(`ibt: code cache ${state}\n`);
// The build's training run: at exit, after the command ran, so its functions are compiled.
if (mode === "write" && crc32)
    process.once("exit", () => writeCache(code, script));
const main = { exports: {} };
script.runInThisContext().call(main.exports, main.exports, require, main, MAIN, __dirname);
//# sourceMappingURL=start.js.map