/** Shared test helpers: real processes, temp dirs, a seeded PRNG and edit scripts. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { after } from "node:test";
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
/** The CLI as installed: the file package.json's `bin.ibt` names (the bundled dist/cli/ibt.cjs). */
export const IBT = join(ROOT, JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).bin.ibt);
export function run(cmd, args, input) {
    const r = spawnSync(cmd, args, { input, maxBuffer: 1 << 30 });
    if (r.error)
        throw r.error;
    return r;
}
export function ibt(args, input) {
    return run(process.execPath, [IBT, ...args], input);
}
/** Runs a command that must succeed; returns stdout. */
export function ok(cmd, args, input) {
    const r = run(cmd, args, input);
    if (r.status !== 0)
        throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr.toString()}`);
    return r.stdout;
}
/** A temp directory removed when the test file ends. */
export function tempDir() {
    const dir = mkdtempSync(join(tmpdir(), "ibt-test-"));
    after(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
}
// The PRNG and data generators are shared with the Deno and browser suites.
import { rng, randomBytes, textBytes } from "../shared/data.js";
export { rng, randomBytes, textBytes };
export function concat(...parts) {
    const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
    let at = 0;
    for (const p of parts) {
        out.set(p, at);
        at += p.length;
    }
    return out;
}
export const EDIT_KINDS = ["insert", "delete", "overwrite", "move", "repeat", "append", "truncate", "prepend", "unrelated"];
/** Applies one random edit of the given kind. */
export function edit(next, data, kind) {
    const pick = (max) => Math.floor(next() * (max + 1));
    const at = pick(data.length);
    const len = 1 + pick(Math.min(4096, Math.max(1, data.length >> 3)));
    switch (kind) {
        case "insert":
            return concat(data.subarray(0, at), randomBytes(next, len), data.subarray(at));
        case "delete":
            return concat(data.subarray(0, at), data.subarray(Math.min(data.length, at + len)));
        case "overwrite": {
            const out = data.slice();
            out.set(randomBytes(next, Math.min(len, data.length - at)), at);
            return out;
        }
        case "move": {
            const end = Math.min(data.length, at + len * 4);
            const piece = data.subarray(at, end);
            const rest = concat(data.subarray(0, at), data.subarray(end));
            const to = pick(rest.length);
            return concat(rest.subarray(0, to), piece, rest.subarray(to));
        }
        case "repeat": {
            const piece = data.subarray(at, Math.min(data.length, at + len * 4));
            const to = pick(data.length);
            return concat(data.subarray(0, to), piece, piece, data.subarray(to));
        }
        case "append":
            return concat(data, randomBytes(next, len));
        case "prepend":
            return concat(randomBytes(next, len), data);
        case "truncate":
            return data.subarray(0, at);
        case "unrelated":
            return randomBytes(next, data.length + pick(1000));
    }
}
export function equalBytes(a, b) {
    if (a.length !== b.length)
        return false;
    return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;
}
/** Splits data into chunks of a fixed size, or random sizes when `size` is a PRNG. */
export function split(data, size) {
    const out = [];
    for (let at = 0; at < data.length;) {
        const n = typeof size === "number" ? size : 1 + Math.floor(size() * 70000);
        out.push(data.subarray(at, at + n));
        at += n;
    }
    return out;
}
export function hex(b) {
    return Buffer.from(b.buffer, b.byteOffset, b.length).toString("hex");
}
//# sourceMappingURL=helpers.js.map