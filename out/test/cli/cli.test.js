import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { IBT, ibt, ok, tempDir, rng, randomBytes, edit, equalBytes } from "../support/helpers.js";
const dir = tempDir();
const next = rng(31);
const basis = randomBytes(next, 700_000);
const target = edit(next, edit(next, edit(next, basis, "insert"), "repeat"), "truncate");
const p = (name) => join(dir, name);
writeFileSync(p("basis"), basis);
writeFileSync(p("new"), target);
function fails(args, code, status = 1, input) {
    const r = ibt(args, input);
    const err = r.stderr.toString();
    assert.equal(r.status, status, `exit status of ibt ${args.join(" ")}: ${err}`);
    const lines = err.trimEnd().split("\n");
    assert.equal(lines.length, 1, `one line on stderr: ${err}`);
    assert.match(lines[0], new RegExp(`^ibt: ${code}: `));
    return lines[0];
}
function noTempFiles() {
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes("ibt-tmp")), []);
}
test("signature, delta and patch through files reproduce the new file, and rdiff agrees", () => {
    ok(process.execPath, [IBT, "signature", p("basis"), p("sig")]);
    ok(process.execPath, [IBT, "delta", p("sig"), p("new"), p("delta")]);
    ok(process.execPath, [IBT, "patch", p("basis"), p("delta"), p("out")]);
    assert.ok(equalBytes(readFileSync(p("out")), target));
    ok("rdiff", ["patch", p("basis"), p("delta"), p("out-rdiff")]);
    assert.ok(equalBytes(readFileSync(p("out-rdiff")), target));
    noTempFiles();
});
test("'-' and missing arguments mean stdin and stdout", () => {
    const sig = ibt(["signature", "-", "-"], basis);
    assert.equal(sig.status, 0);
    writeFileSync(p("pipe.sig"), sig.stdout);
    const d = ibt(["delta", p("pipe.sig"), "-"], target);
    assert.equal(d.status, 0, d.stderr.toString());
    const out = ibt(["patch", p("basis")], d.stdout);
    assert.equal(out.status, 0, out.stderr.toString());
    assert.ok(equalBytes(out.stdout, target));
});
test("an existing output is refused without -f and replaced with it", () => {
    writeFileSync(p("exists"), "keep me");
    fails(["signature", p("basis"), p("exists")], "EXISTS");
    assert.equal(readFileSync(p("exists"), "utf8"), "keep me");
    const r = ibt(["-f", "signature", p("basis"), p("exists")]);
    assert.equal(r.status, 0);
    assert.ok(equalBytes(readFileSync(p("exists")), ok("rdiff", ["signature", p("basis"), "-"])));
});
test("bad input: one line on stderr, non-zero exit, no output file", () => {
    fails(["signature", p("missing"), p("o1")], "NOT_FOUND");
    assert.equal(existsSync(p("o1")), false);
    writeFileSync(p("bad.sig"), new Uint8Array([0x72, 0x73, 0x02, 0x36, 0, 0, 0, 0, 0, 0, 0, 0]));
    fails(["delta", p("bad.sig"), p("new"), p("o2")], "BAD_MAGIC");
    assert.equal(existsSync(p("o2")), false);
    const sig = readFileSync(p("sig"));
    writeFileSync(p("trunc.sig"), sig.subarray(0, sig.length - 3));
    fails(["delta", p("trunc.sig"), p("new"), p("o3")], "TRUNCATED");
    assert.equal(existsSync(p("o3")), false);
    const delta = readFileSync(p("delta"));
    writeFileSync(p("trunc.delta"), delta.subarray(0, delta.length - 1));
    fails(["patch", p("basis"), p("trunc.delta"), p("o4")], "TRUNCATED");
    assert.equal(existsSync(p("o4")), false);
    writeFileSync(p("short-basis"), basis.subarray(0, 1000));
    fails(["patch", p("short-basis"), p("delta"), p("o5")], "OUT_OF_RANGE");
    assert.equal(existsSync(p("o5")), false);
    writeFileSync(p("sig-as-delta"), sig);
    fails(["patch", p("basis"), p("sig-as-delta"), p("o6")], "BAD_MAGIC");
    assert.equal(existsSync(p("o6")), false);
    fails(["patch", p("basis"), p("missing"), p("o7")], "NOT_FOUND");
    assert.equal(existsSync(p("o7")), false);
    fails(["signature", p("basis"), join(dir, "no-such-dir", "x")], "NOT_FOUND");
    noTempFiles();
});
test("usage errors exit 2 with one line", () => {
    fails(["frobnicate"], "BAD_ARGUMENT", 2);
    fails(["-b", "x", "signature", p("basis"), "-"], "BAD_ARGUMENT", 2);
    fails(["-H", "sha1", "signature", p("basis"), "-"], "BAD_ARGUMENT", 2);
    fails(["signature", "a", "b", "c"], "BAD_ARGUMENT", 2);
    fails(["patch", "-", p("delta")], "BAD_ARGUMENT", 2);
    const help = ibt(["--help"]);
    assert.equal(help.status, 0);
    assert.match(help.stdout.toString(), /ibt \[OPTIONS\] signature/);
});
//# sourceMappingURL=cli.test.js.map