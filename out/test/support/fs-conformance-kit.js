/**
 * What the FsAdapter conformance suite is built from: the factory types an adapter's test file
 * fills in, the fixture tree, and small helpers. Imports only node:test, node:assert and the
 * library, so the same suite can run in a browser against the handle adapter.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { isIbtError, joinPath, parentPath } from "../../src/index.js";
export const SECRET = "SECRET: must never be read or written through the adapter";
export const enc = (s) => new TextEncoder().encode(s);
export const dec = (b) => new TextDecoder().decode(b);
/** Deterministic bytes (xorshift32), so failures reproduce. */
export function pseudoRandom(seed, n) {
    const out = new Uint8Array(n);
    let x = seed >>> 0 || 1;
    for (let i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        out[i] = x >>> 0;
    }
    return out;
}
export const BIG = pseudoRandom(7, 1_234_567);
/** Names chosen to trip quoting, encoding and trimming: every adapter must keep them exactly. */
export const ODD_NAMES = {
    unicodeDir: "ü ber",
    unicodeFile: "straße 日本.txt",
    spaced: " lead and trail ",
    spacedFile: "  two  spaces .txt",
    emojiDir: "emoji 😀",
    punctFile: "#%&+,;=@[]{}()'~!$.txt",
};
/** The tree the read-side tests look at. */
export const TREE = {
    "hello.txt": "hello, world\n",
    "empty.txt": "",
    "big.bin": BIG,
    "dir/sub/deep.txt": "deep",
    [`dir/${ODD_NAMES.unicodeDir}/${ODD_NAMES.unicodeFile}`]: "unicode",
    [`${ODD_NAMES.spaced}/${ODD_NAMES.spacedFile}`]: "spaces",
    [`${ODD_NAMES.emojiDir}/${ODD_NAMES.punctFile}`]: "punctuation",
    "emptydir/": null,
    "link-file": { symlink: "hello.txt" },
    "link-dir": { symlink: "dir" },
    "dir/link-up": { symlink: "../hello.txt" },
    "chain": { symlink: "link-file" },
    "dangling": { symlink: "nowhere" },
    "escape": { symlink: "../outside" },
    "absolute": { symlink: "/" },
};
/** Builds `tree` through the adapter's own write calls (symlinks only where it has them). */
export async function build(fs, tree) {
    for (const [key, value] of Object.entries(tree)) {
        const path = key.endsWith("/") ? key.slice(0, -1) : key;
        if (value === null) {
            await fs.mkdir(path, { recursive: true });
            continue;
        }
        if (parentPath(path) !== "")
            await fs.mkdir(parentPath(path), { recursive: true });
        if (typeof value === "string")
            await fs.writeFile(path, enc(value));
        else if (value instanceof Uint8Array)
            await fs.writeFile(path, value);
        else if (fs.capabilities.symlinks)
            await fs.symlink(value.symlink, path);
    }
}
/**
 * Everything in the tree, one line per entry, for "nothing changed" checks. With `dirTimes`
 * false, directories' mtimes are left out: a write that fails may still have touched them.
 */
export async function describeTree(fs, dir = "", dirTimes = true) {
    const lines = [];
    for (const name of (await fs.list(dir)).sort()) {
        const path = joinPath(dir, name);
        const st = await fs.lstat(path);
        let line = `${path} ${st.type} ${st.size} ${st.mode} ${st.type === "dir" && !dirTimes ? "-" : st.mtimeMs}`;
        if (st.type === "file")
            line += ` ${checksum(await fs.read(path, 0, st.size))}`;
        if (st.type === "symlink")
            line += ` -> ${await fs.readlink(path)}`;
        lines.push(line);
        if (st.type === "dir")
            lines.push(await describeTree(fs, path, dirTimes));
    }
    return lines.join("\n");
}
function checksum(b) {
    let h = 0x811c9dc5;
    for (const x of b)
        h = Math.imul(h ^ x, 0x01000193) >>> 0;
    return `${b.length}:${h.toString(16)}`;
}
/** `work` must fail with an IbtError of `code`; the message names the call that did not. */
export async function fails(code, work, what = work.toString()) {
    let error;
    let threw = false;
    try {
        await work();
    }
    catch (e) {
        error = e;
        threw = true;
    }
    if (!threw)
        assert.fail(`${what}: expected ${code}, but it succeeded`);
    if (!isIbtError(error))
        assert.fail(`${what}: expected an IbtError ${code}, got ${String(error)}`);
    assert.equal(error.code, code, `${what}: ${error.message}`);
}
export async function chunks(stream) {
    const out = [];
    for await (const c of stream)
        out.push(c);
    return out;
}
export const sorted = async (names) => (await names).sort();
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Registers tests that get a fresh adapter each, skipping (with the reason) what cannot run. */
export function registrar(options) {
    return (title, needs, body) => {
        test(title, async (t) => {
            if (needs.write && !options.make)
                return t.skip("read-only adapter: nothing to write to");
            if (needs.readOnly && !options.makeReadOnly)
                return t.skip("no read-only factory");
            if (needs.emptyDirs && options.emptyDirs === false)
                return t.skip("this adapter cannot hold empty directories");
            const fromReadOnly = needs.readOnly || (needs.tree && !options.make);
            const made = fromReadOnly ? await options.makeReadOnly(TREE) : await options.make();
            try {
                for (const cap of needs.caps ?? []) {
                    if (!made.fs.capabilities[cap])
                        return t.skip(`no capabilities.${cap}`);
                }
                if (needs.tree && !fromReadOnly)
                    await build(made.fs, TREE);
                await body(made.fs, t, made);
            }
            finally {
                await made.cleanup?.();
            }
        });
    };
}
//# sourceMappingURL=fs-conformance-kit.js.map