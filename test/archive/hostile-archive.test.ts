/**
 * Hostile diff archives: truncated at every boundary, bit-flipped, members whose declared size
 * lies, zip bombs, members missing or extra, comments and trailing data. Each is applied to a
 * copy of the base tree (MemoryFs, and NodeFs with a sentinel beside it on a sample) and must be
 * refused with an archive error code, the target unchanged, or, for a flip that touches only
 * what the reader does not use (a DOS time, an attribute), applied with exactly the right result.
 *
 * Every case but the CLI's runs once per inflate codec (fflate, node:zlib).
 *
 * Rules decided here: an archive comment is accepted (unzip accepts it and the format carries it);
 * any byte after the end record, or before the first member, is refused (CORRUPT). Every member
 * except the manifest must be named by exactly one change: a missing one and an extra one are
 * both CORRUPT.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { applyDiff, fflateInflate, isIbtError, MANIFEST_NAME, parseManifest, type ErrorCode, type InflateCodec } from "../../src/index.js";
import { nodeInflate } from "../../src/node/index.js";
import { rng, tempDir, ROOT } from "../support/helpers.js";
import { scaled, snapshot, sameSnapshot, tally } from "../support/hostile-kit.js";
import {
  baseTarget,
  centralRecords,
  crc32,
  handZip,
  judgeApply,
  membersOf,
  readerOf,
  validFixture,
  withU32,
  zeroBomb,
  zipOf,
} from "../support/hostile-fixture.js";

const ARCHIVE_CODES: ErrorCode[] = ["CORRUPT", "TRUNCATED", "UNSAFE_PATH", "UNSUPPORTED", "BAD_MAGIC", "OUT_OF_RANGE", "IS_A_DIRECTORY", "LIMIT"];

const CODECS: [string, InflateCodec][] = [
  ["fflate", fflateInflate],
  ["node:zlib", nodeInflate],
];

for (const [codecName, inflate] of CODECS) {
  /** Applies `bytes` to a fresh base copy; refused or exactly right. */
  async function tryArchive(t: ReturnType<typeof tally>, label: string, bytes: Uint8Array, kind: "memory" | "node", mayAccept: boolean): Promise<string> {
    const { want } = await validFixture();
    const target = await baseTarget(kind);
    return judgeApply(t, label, target, bytes, ARCHIVE_CODES, mayAccept ? async () => sameSnapshot(await snapshot(target.fs), want) : undefined, inflate);
  }

  test(`the valid archive applies, so the cases below fail for their own reason (${codecName})`, async () => {
    const { archive, want } = await validFixture();
    for (const kind of ["memory", "node"] as const) {
      const target = await baseTarget(kind);
      await applyDiff(target.fs, await readerOf(archive, inflate));
      assert.ok(sameSnapshot(await snapshot(target.fs), want), kind);
    }
    const members = await membersOf(archive);
    const names = members.map(([n]) => n);
    assert.ok(names.filter((n) => n.startsWith("group/")).length >= 3, names.join());
    const manifest = parseManifest(members.find(([n]) => n === MANIFEST_NAME)![1]);
    const encodings = manifest.changes.filter((c) => c.member?.startsWith("group/")).map((c) => c.encoding);
    assert.ok(encodings.includes("delta") && encodings.includes("bytes"), "a grouped delta and grouped bytes");
  });

  test(`an archive truncated at every byte boundary is refused (${codecName})`, async () => {
    const t = tally(`archive (${codecName}): truncated`);
    const { archive } = await validFixture();
    for (let n = 0; n < archive.length; n++) {
      await tryArchive(t, `cut at ${n}`, archive.subarray(0, n), n % 97 === 0 ? "node" : "memory", false);
    }
    assert.equal(t.refused, archive.length);
  });

  test(`random bit flips are refused or change nothing the result depends on (${codecName})`, async () => {
    const t = tally(`archive (${codecName}): bit flips`);
    const { archive } = await validFixture();
    const next = rng(61);
    const n = scaled(600);
    for (let i = 0; i < n; i++) {
      const bad = archive.slice();
      const flips = 1 + Math.floor(next() * 3);
      for (let f = 0; f < flips; f++) bad[Math.floor(next() * bad.length)]! ^= 1 << Math.floor(next() * 8);
      await tryArchive(t, `flip case ${i}`, bad, i % 50 === 0 ? "node" : "memory", true);
    }
    assert.ok(t.refused > n / 2, `${t.refused} of ${n} refused`);
  });

  test(`a member whose declared size lies, in both directions, is refused (${codecName})`, async () => {
    const t = tally(`archive (${codecName}): lying sizes`);
    const { archive } = await validFixture();
    const view = new DataView(archive.buffer, archive.byteOffset, archive.length);
    for (const r of centralRecords(archive)) {
      const size = view.getUint32(r.at + 24, true);
      for (const lie of [size + 1, size - 1, size * 2 + 7, Math.floor(size / 2), 0, 0x7fffffff, 0xfffffffe]) {
        if (lie === size || lie < 0) continue;
        // Uncompressed size in both headers, so the local/central comparison cannot catch it first;
        // for stored members the compressed size too, as a stored member's two sizes must agree.
        const fields = [r.at + 24, r.local + 22, ...(r.method === 0 ? [r.at + 20, r.local + 18] : [])];
        await tryArchive(t, `${r.name} declares ${lie} of ${size}`, withU32(archive, fields, lie), "memory", false);
      }
    }
    assert.ok(t.tried >= 20, `${t.tried} cases`);
  });

  test(`members missing or extra, a duplicated manifest, a comment and trailing data (${codecName})`, async () => {
    const t = tally(`archive (${codecName}): members and framing`);
    const { archive } = await validFixture();
    const members = await membersOf(archive);
    for (const [i, [name]] of members.entries()) {
      await tryArchive(t, `without ${name}`, await zipOf(members.filter((_, j) => j !== i)), "memory", false);
    }
    for (const extra of ["new/extra", "delta/dir/a.txt.2", "notes.txt"]) {
      await tryArchive(t, `with extra ${extra}`, await zipOf([...members, [extra, new Uint8Array([1, 2, 3])]]), "memory", false);
    }
    // The writer refuses a duplicate name, so this one is made by hand.
    const stored = members.map(([name, data]) => ({ name, data, method: 0 as const, size: data.length, crc: crc32(data) }));
    await tryArchive(t, "all members stored by hand (control)", handZip(stored), "memory", true);
    await tryArchive(t, "two manifests", handZip([...stored, stored.find((m) => m.name === MANIFEST_NAME)!]), "memory", false);
    for (const garbage of [1, 4, 22, 1000]) {
      const tail = new Uint8Array(garbage).fill(0x41);
      await tryArchive(t, `${garbage} bytes after the end record`, new Uint8Array(Buffer.concat([archive, tail])), "memory", false);
      await tryArchive(t, `${garbage} bytes before the first member`, new Uint8Array(Buffer.concat([tail, archive])), "memory", false);
    }
    // A comment is part of the format: accepted, and the result is exact.
    const comment = new TextEncoder().encode("a comment, as zip -z writes one");
    const commented = new Uint8Array(Buffer.concat([archive, comment]));
    new DataView(commented.buffer).setUint16(archive.length - 2, comment.length, true);
    assert.equal(await tryArchive(t, "comment", commented, "node", true), "accepted");
    // A comment length that runs past the end is refused.
    const overlong = archive.slice();
    new DataView(overlong.buffer).setUint16(archive.length - 2, 5, true);
    await tryArchive(t, "comment length past the end", overlong, "memory", false);
  });

  const BOMB_MATCHES = 4_200_000; // inflates to ~1.08 GB from ~6.8 MB

  test(`a zip bomb stops at its declared size and memory stays bounded (${codecName})`, async () => {
    const t = tally(`archive (${codecName}): zip bombs`);
    const bomb = zeroBomb(BOMB_MATCHES);
    const inflated = 1 + 258 * BOMB_MATCHES;
    // Declared small: the reader must stop within a push of the declared size.
    const small = handZip([{ name: "new/x", data: bomb, method: 8, size: 1000, crc: 0 }]);
    let read = 0;
    const reader = await (await import("../../src/index.js")).ZipReader.from(
      {
        size: small.length,
        read: async (o, n) => {
          read += n;
          return small.slice(o, o + n);
        },
      },
      { inflate },
    );
    const before = read;
    t.tried++;
    const e = await reader.bytes("new/x").then(
      () => assert.fail("bomb accepted"),
      (err: unknown) => err,
    );
    assert.ok(isIbtError(e, "CORRUPT"), String(e));
    t.refused++;
    t.codes.CORRUPT = (t.codes.CORRUPT ?? 0) + 1;
    // The reader fetches compressed data in 256 KiB blocks, but pushes it to the inflater in
    // pieces of 1/1032 of the room left (64 B at least): the error offset says where it stopped.
    assert.ok(e.offset! - 30 - 5 <= 64, `stopped ${e.offset! - 35} compressed bytes in`);
    assert.ok(read - before <= 256 * 1024 + 64, `${read - before} bytes read`); // one block and the local header

    // The same bomb inside a diff archive, declared small or honestly huge: apply refuses it.
    const hash = "0".repeat(64);
    const manifest = (size: number) =>
      new TextEncoder().encode(
        JSON.stringify({
          format: "incremental-backups-tools/diff",
          version: 1,
          base: "0".repeat(64),
          target: "1".repeat(64),
          created: "",
          changes: [{ kind: "create", path: "bomb", new: { type: "file", size, mtimeMs: 0, mode: 0o644, hash }, member: "new/bomb", encoding: "bytes" }],
          parents: [],
        }),
      );
    for (const [label, declared, said] of [["declared small", 1000, 1000], ["declared huge, manifest small", inflated, 1000], ["honest", inflated, inflated]] as const) {
      const m = manifest(said);
      const zip = handZip([
        { name: MANIFEST_NAME, data: m, method: 0, size: m.length, crc: crc32(m) },
        { name: "new/bomb", data: bomb, method: 8, size: declared, crc: 0 },
      ]);
      await tryArchive(t, `bomb ${label}`, zip, "memory", false);
    }

    // Memory, measured in a child process that applies the bombs; its peak RSS must stay far
    // below what the bomb inflates to.
    const dir = tempDir();
    const m = manifest(inflated);
    writeFileSync(join(dir, "honest.zip"), handZip([
      { name: MANIFEST_NAME, data: m, method: 0, size: m.length, crc: crc32(m) },
      { name: "new/bomb", data: bomb, method: 8, size: inflated, crc: 0 },
    ]));
    writeFileSync(join(dir, "small.zip"), small);
    const script = `
      import { applyDiff, openArchive, MemoryFs } from ${JSON.stringify(join(ROOT, "dist/src/index.js"))};
      import { NodeFs, nodeInflate } from ${JSON.stringify(join(ROOT, "dist/src/node/index.js"))};
      const base = process.resourceUsage().maxRSS;
      const codes = [];
      for (const name of ["honest.zip", "small.zip"]) {
        const archive = await openArchive(new NodeFs(${JSON.stringify(dir)}), name, ${inflate === nodeInflate ? "{ inflate: nodeInflate }" : "{}"});
        try {
          if (name === "small.zip") await archive.bytes("new/x");
          else await applyDiff(new MemoryFs(), archive);
          codes.push("accepted");
        } catch (e) { codes.push(e.code ?? String(e)); }
      }
      process.stdout.write(JSON.stringify({ base, peak: process.resourceUsage().maxRSS, codes }));
    `;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const { base, peak, codes } = JSON.parse(r.stdout) as { base: number; peak: number; codes: string[] };
    t.tried += 2;
    assert.deepEqual(codes, ["CORRUPT", "CORRUPT"]);
    t.refused += 2;
    t.codes.CORRUPT = (t.codes.CORRUPT ?? 0) + 2;
    const growth = (peak - base) * 1024;
    assert.ok(growth < 64 << 20, `RSS grew ${growth} bytes for a ${inflated}-byte bomb`);
    process.stderr.write(`# zip bomb (${codecName}): ${inflated} bytes claimed, child RSS grew ${(growth / 2 ** 20).toFixed(1)} MiB\n`);
  });

}

test("ibt apply refuses bad archives with one error line and leaves the tree alone", async () => {
  const t = tally("cli: ibt apply");
  const { archive } = await validFixture();
  const dir = tempDir();
  const next = rng(8);
  const cases: [string, Uint8Array][] = [
    ["truncated", archive.subarray(0, archive.length >> 1)],
    ["trailing data", new Uint8Array(Buffer.concat([archive, new Uint8Array(3)]))],
    ["empty", new Uint8Array(0)],
  ];
  for (let i = 0; i < scaled(6); i++) {
    const bad = archive.slice();
    bad[Math.floor(next() * bad.length)]! ^= 0xff;
    cases.push([`flip ${i}`, bad]);
  }
  for (const [i, [label, bytes]] of cases.entries()) {
    const target = await baseTarget("node");
    const file = join(dir, `a${i}.zip`);
    writeFileSync(file, bytes);
    t.tried++;
    const r = spawnSync(process.execPath, [join(ROOT, "dist/cli/ibt.cjs"), "apply", target.dir!, file], { encoding: "utf8" });
    const after = await snapshot(target.fs);
    if (r.status === 0) {
      // A flip in a field the reader does not use: the result must be exact.
      assert.ok(sameSnapshot(after, (await validFixture()).want), `${label}: accepted with a wrong result`);
      t.accepted++;
      continue;
    }
    assert.equal(r.status, 1, `${label}: ${r.stderr}`);
    const lines = r.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, `${label}: ${r.stderr}`);
    const code = /^ibt: ([A-Z_]+): /.exec(lines[0]!)?.[1];
    assert.ok(code && ARCHIVE_CODES.includes(code as ErrorCode), `${label}: ${lines[0]}`);
    assert.ok(sameSnapshot(after, target.before), `${label}: tree changed`);
    assert.ok(sameSnapshot(await snapshot(target.sentinel!.fs), target.sentinel!.before), `${label}: outside changed`);
    t.refused++;
    t.codes[code!] = (t.codes[code!] ?? 0) + 1;
  }
});
