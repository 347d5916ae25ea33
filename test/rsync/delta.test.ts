import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { signatureOf, deltaOf, delta, DeltaJob, patch, patchInto, patchOf, DeltaDecoder, collect, isIbtError, type DeltaCommand } from "../../src/index.js";
import { ok, tempDir, rng, randomBytes, textBytes, split, edit, EDIT_KINDS, concat, equalBytes, hex } from "../support/helpers.js";

const dir = tempDir();
const MiB = 1 << 20;

function commands(d: Uint8Array): DeltaCommand[] {
  const dec = new DeltaDecoder();
  const out = [...dec.feed(d)];
  dec.finish();
  return out;
}

function literalBytes(d: Uint8Array): number {
  return commands(d).reduce((n, c) => n + (c.kind === "literal" ? c.data.length : 0), 0);
}

test("random edit scripts: ibt deltas apply with rdiff patch, rdiff deltas apply with ibt patch", async () => {
  const next = rng(2024);
  const kinds = [
    ["blake2", "rabinkarp"],
    ["blake2", "rollsum"],
    ["md4", "rabinkarp"],
    ["md4", "rollsum"],
  ] as const;
  const blockArgs = [[], ["-b", "64"], ["-b", "512"], ["-b", "1000"], ["-b", "4096"]];
  const seen = new Set<string>();
  for (let trial = 0; trial < 60; trial++) {
    const size = Math.floor(next() * 400_000);
    const basis = next() < 0.5 ? randomBytes(next, size) : textBytes(next, size);
    let target = basis;
    const edits = 1 + Math.floor(next() * 6);
    const script: string[] = [];
    for (let k = 0; k < edits; k++) {
      const kind = EDIT_KINDS[Math.floor(next() * EDIT_KINDS.length)]!;
      script.push(kind);
      seen.add(kind);
      target = edit(next, target, kind);
    }
    const [hash, roll] = kinds[trial % kinds.length]!;
    const bargs = blockArgs[Math.floor(next() * blockArgs.length)]!;
    const label = `trial ${trial}: ${size} bytes, ${hash}/${roll} ${bargs.join(" ")}, edits ${script.join(",")}`;
    const files = { basis: join(dir, "basis"), target: join(dir, "new"), sig: join(dir, "sig"), ours: join(dir, "ours.delta"), theirs: join(dir, "theirs.delta"), out: join(dir, "out") };
    writeFileSync(files.basis, basis);
    writeFileSync(files.target, target);
    ok("rdiff", ["-f", "-H", hash, "-R", roll, ...bargs, "signature", files.basis, files.sig]);
    const sig = readFileSync(files.sig);

    const ours = await deltaOf(sig, target);
    writeFileSync(files.ours, ours);
    ok("rdiff", ["-f", "patch", files.basis, files.ours, files.out]);
    assert.ok(equalBytes(readFileSync(files.out), target), `rdiff patch of ibt delta: ${label}`);
    assert.ok(equalBytes(await patchOf(basis, ours), target), `ibt patch of ibt delta: ${label}`);

    ok("rdiff", ["-f", "delta", files.sig, files.target, files.theirs]);
    const theirs = readFileSync(files.theirs);
    assert.ok(equalBytes(await patchOf(basis, theirs), target), `ibt patch of rdiff delta: ${label}`);
  }
  assert.deepEqual([...seen].sort(), [...EDIT_KINDS].sort(), "every kind of edit was tried");
});

test("reordered and repeated blocks are found: a shuffled basis is all COPY commands", async () => {
  const bl = 1024;
  const blocks = Array.from({ length: 64 }, (_, i) => randomBytes(rng(i + 1), bl));
  const basis = concat(...blocks);
  const sig = await signatureOf(basis, { blockLength: bl });
  const reordered = concat(...[...blocks].reverse(), blocks[5]!, blocks[5]!, blocks[5]!, blocks[63]!);
  const d = await deltaOf(sig, reordered);
  assert.equal(literalBytes(d), 0, "no literal bytes");
  assert.ok(equalBytes(await patchOf(basis, d), reordered));
  const copies = commands(d).filter((c) => c.kind === "copy");
  assert.ok(copies.some((c) => c.kind === "copy" && c.offset === 63 * bl), "the last block, moved to the front, is copied");
  assert.ok(d.length < 64 * 8 + 100, `delta is ${d.length} bytes for a ${reordered.length}-byte file`);
});

test("a short last block is matched at the end, after appended data and at the start", async () => {
  const bl = 1024;
  const next = rng(5);
  const basis = randomBytes(next, 10 * bl + 300);
  const sig = await signatureOf(basis, { blockLength: bl });
  const extra = randomBytes(next, 5000);
  const cases: [string, Uint8Array, number][] = [
    ["unchanged", basis, 0],
    ["appended to", concat(basis, extra), extra.length],
    ["prepended to", concat(extra, basis), extra.length],
    ["last block alone, then more", concat(basis.subarray(10 * bl), extra), extra.length],
    ["last block moved to the front", concat(basis.subarray(10 * bl), basis.subarray(0, 10 * bl)), 0],
  ];
  for (const [label, target, literal] of cases) {
    const d = await deltaOf(sig, target);
    assert.equal(literalBytes(d), literal, label);
    assert.ok(equalBytes(await patchOf(basis, d), target), label);
  }
  // A basis shorter than one block is a single short block.
  const small = randomBytes(next, 100);
  const smallSig = await signatureOf(small);
  const grown = concat(small, extra.subarray(0, 50));
  const d = await deltaOf(smallSig, grown);
  assert.equal(literalBytes(d), 50);
  assert.ok(equalBytes(await patchOf(small, d), grown));
});

test("delta streaming equals one-shot for chunk sizes 1, 7, 4096, 1 MiB and random splits", async () => {
  const next = rng(77);
  const basis = concat(randomBytes(next, 2 * MiB), textBytes(next, MiB));
  let target = basis;
  for (let k = 0; k < 30; k++) target = edit(next, target, EDIT_KINDS[k % EDIT_KINDS.length]!);
  target = concat(target, randomBytes(next, 700_000)); // longer than the window: several engine runs
  for (const opts of [{}, { hash: "md4" as const, weak: "rollsum" as const, blockLength: 700 }]) {
    const sig = await signatureOf(basis, opts);
    const whole = hex(await deltaOf(sig, target));
    for (const size of [1, 7, 4096, MiB]) {
      const part = size === 1 ? target.subarray(0, 300_000) : target;
      const expected = size === 1 ? hex(await deltaOf(sig, part)) : whole;
      const job = await DeltaJob.create(sig);
      const out: Uint8Array[] = [];
      job.ondata = (d) => out.push(d);
      for (const c of split(part, size)) job.push(c);
      job.push(new Uint8Array(0), true);
      assert.equal(hex(Buffer.concat(out)), expected, `push, chunks of ${size}`);
      if (size > 1) assert.equal(hex(await collect(delta(sig, split(part, size)))), expected, `async, chunks of ${size}`);
    }
    for (let trial = 0; trial < 4; trial++) {
      assert.equal(hex(await collect(delta(sig, split(target, next)))), whole, `random split ${trial}`);
    }
  }
});

test("small edits give small deltas; unrelated data gives one literal stream", async () => {
  const next = rng(3);
  const basis = randomBytes(next, 2 * MiB);
  const sig = await signatureOf(basis);
  const edited = basis.slice();
  for (let k = 0; k < 10; k++) edited.set(randomBytes(next, 20), Math.floor(next() * (basis.length - 20)));
  const d = await deltaOf(sig, edited);
  const bl = 1408; // floor(sqrt(2 MiB)) & ~127
  assert.ok(d.length < 10 * 2 * (bl + 30) + 200, `delta of 10 small edits is ${d.length} bytes`);
  assert.ok(literalBytes(d) <= 10 * 2 * bl);
  const unrelated = randomBytes(next, MiB);
  const u = await deltaOf(sig, unrelated);
  assert.equal(literalBytes(u), unrelated.length);
  assert.ok(u.length < unrelated.length + 100);
});

test("many blocks sharing one weak sum (a hostile signature) still give a correct delta", async () => {
  // 20,000 fake records with the same weak sum and different strong sums.
  const count = 20_000;
  const sig = new Uint8Array(12 + count * 36);
  const v = new DataView(sig.buffer);
  v.setUint32(0, 0x72730147);
  v.setUint32(4, 256);
  v.setUint32(8, 32);
  const next = rng(11);
  for (let i = 0; i < count; i++) {
    v.setUint32(12 + i * 36, 0x12345678);
    sig.set(randomBytes(next, 32), 16 + i * 36);
  }
  const target = randomBytes(next, 300_000);
  const d = await deltaOf(sig, target);
  assert.equal(literalBytes(d), target.length);
  assert.ok(equalBytes(await patchOf(new Uint8Array(0), d), target));
});

test("two delta jobs interleaved do not disturb each other", async () => {
  const next = rng(8);
  const a = randomBytes(next, 500_000);
  const b = textBytes(next, 500_000);
  const sa = await signatureOf(a);
  const sb = await signatureOf(b);
  const ta = edit(next, a, "insert");
  const tb = edit(next, b, "move");
  const ja = await DeltaJob.create(sa);
  const jb = await DeltaJob.create(sb);
  const oa: Uint8Array[] = [];
  const ob: Uint8Array[] = [];
  ja.ondata = (d) => oa.push(d);
  jb.ondata = (d) => ob.push(d);
  for (let i = 0; i < 600_000; i += 9999) {
    ja.push(ta.subarray(i, i + 9999));
    jb.push(tb.subarray(i, i + 9999));
  }
  ja.push(new Uint8Array(0), true);
  jb.push(new Uint8Array(0), true);
  assert.equal(hex(Buffer.concat(oa)), hex(await deltaOf(sa, ta)));
  assert.equal(hex(Buffer.concat(ob)), hex(await deltaOf(sb, tb)));
});

test("zero-copy input (inputSpace/filled) gives the same delta as push", async () => {
  const next = rng(12);
  const basis = randomBytes(next, 3 * MiB);
  let target = basis;
  for (let k = 0; k < 20; k++) target = edit(next, target, EDIT_KINDS[k % EDIT_KINDS.length]!);
  const sig = await signatureOf(basis);
  const job = await DeltaJob.create(sig);
  const out: Uint8Array[] = [];
  job.onview = (v) => out.push(v.slice());
  for (let at = 0; at < target.length; ) {
    const space = job.inputSpace();
    assert.ok(space.length > 0);
    const n = Math.min(space.length, target.length - at, 1 + Math.floor(next() * 300_000));
    space.set(target.subarray(at, at + n));
    job.filled(n);
    at += n;
  }
  job.push(new Uint8Array(0), true);
  assert.equal(hex(Buffer.concat(out)), hex(await deltaOf(sig, target)));
  assert.throws(() => job.filled(1), /after the final chunk/);
});

test("patch streaming equals one-shot for delta chunk sizes 1, 7, 4096, 1 MiB and random splits", async () => {
  const next = rng(21);
  const basis = randomBytes(next, 2 * MiB);
  let target = basis;
  for (let k = 0; k < 25; k++) target = edit(next, target, EDIT_KINDS[k % EDIT_KINDS.length]!);
  const d = await deltaOf(await signatureOf(basis, { blockLength: 512 }), target);
  const read = (o: number, n: number) => basis.subarray(o, o + n);
  for (const size of [1, 7, 4096, MiB]) {
    const out = await collect(patch(read, split(d, size), { basisSize: basis.length }));
    assert.ok(equalBytes(out, target), `delta chunks of ${size}`);
  }
  for (let trial = 0; trial < 4; trial++) {
    assert.ok(equalBytes(await collect(patch(read, split(d, next))), target), `random split ${trial}`);
  }
  for (const size of [1, 4096]) {
    assert.ok(equalBytes(await patchInto(read, split(d, size), target.length, { basisSize: basis.length }), target), `patchInto, delta chunks of ${size}`);
  }
});

test("patchInto: the rebuilt file in one array of the size it is known to have; CORRUPT when the delta rebuilds more or fewer bytes", async () => {
  const next = rng(22);
  const basis = randomBytes(next, 100_000);
  const target = edit(next, edit(next, basis, "insert"), "overwrite");
  const d = await deltaOf(await signatureOf(basis, { blockLength: 512 }), target);
  const read = (o: number, n: number) => basis.subarray(o, o + n);
  const out = await patchInto(read, [d], target.length);
  assert.ok(equalBytes(out, target));
  assert.equal(out.buffer.byteLength, target.length, "one array of exactly that size");
  await assert.rejects(patchInto(read, [d], target.length - 1), (e) => isIbtError(e, "CORRUPT") && /more than/.test(e.message));
  await assert.rejects(patchInto(read, [d], target.length + 1), (e) => isIbtError(e, "CORRUPT") && /rebuilds \d+ bytes, not/.test(e.message));
  await assert.rejects(patchInto(read, [d.subarray(0, d.length - 1)], target.length), (e) => isIbtError(e, "TRUNCATED"));
});
