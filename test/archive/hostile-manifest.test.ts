/**
 * Hostile manifests: bad versions, duplicate paths, every unsafe path form in every place a path
 * appears, names that differ only by Unicode normalization or case, symlinks that point out of the
 * target or are used to write through, and thousands of fields set to values no valid manifest
 * has. Each is applied to a base copy on MemoryFs and NodeFs (with a sentinel directory beside it)
 * and must be refused with a manifest code, the target unchanged and nothing written outside.
 *
 * Rules decided here (and in the README):
 *  - A name not in NFC is refused (UNSAFE_PATH) wherever it appears, so two entries whose NFC
 *    forms collide cannot both be accepted.
 *  - Names that differ only by case are legal: the format records POSIX trees. They apply on a
 *    case-sensitive target; on a case-insensitive one the second would find the first and the
 *    base check refuses it (BASE_MISMATCH) for paths the base has.
 *  - A symlink pointing outside the target is data, restored verbatim and never followed: it is
 *    accepted, and nothing outside changes. Any entry below a symlink (or a file, or a deleted
 *    path) is refused: CORRUPT when the diff itself makes that ancestor, BASE_MISMATCH when the
 *    base has it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { blake2b, fflateInflate, MANIFEST_NAME, type ErrorCode, type InflateCodec, type TreeSpec } from "../../src/index.js";
import { nodeInflate } from "../../src/node/index.js";
import { hex, rng } from "../support/helpers.js";
import { scaled, snapshot, tally, type Tally } from "../support/hostile-kit.js";
import { BASE_SPEC, baseTarget, judgeApply, membersOf, validFixture, zipOf } from "../support/hostile-fixture.js";

const MANIFEST_CODES: ErrorCode[] = ["CORRUPT", "UNSAFE_PATH", "UNSUPPORTED", "BASE_MISMATCH"];
const SPEC: TreeSpec = { ...BASE_SPEC, out: { symlink: "../outside" }, indir: { symlink: "dir" } };
const enc = (s: string) => new TextEncoder().encode(s);

const BAD_PATHS = [
  "../x", "dir/../../x", "..", ".", "dir/..", "./dir", "dir/./x", "/etc/passwd", "/", "dir\\x", "..\\..\\x",
  "dir/x\0", "\0", "dir//x", "dir/", "", "C:x", "c:/x", "caf\u0065\u0301", "dir/\u0041\u030a",
];

const hello = hex(await blake2b(enc("hello")));
const file = (size = 5) => ({ type: "file", size, mtimeMs: 1_600_000_000_000, mode: 0o644, hash: hello });
const dir = { type: "dir", size: 0, mtimeMs: 1_600_000_000_000, mode: 0o755 };
const symlink = (target: string) => ({ type: "symlink", size: enc(target).length, mtimeMs: 1_600_000_000_000, mode: 0o777, target });

function manifest(changes: unknown[], parents: unknown[] = [], extra: Record<string, unknown> = {}): Uint8Array {
  return enc(JSON.stringify({ format: "incremental-backups-tools/diff", version: 1, base: "0".repeat(64), target: "1".repeat(64), created: "", changes, parents, ...extra }));
}

const CODECS: [string, InflateCodec][] = [
  ["fflate", fflateInflate],
  ["node:zlib", nodeInflate],
];

// Every case runs once per inflate codec.
for (const [codecName, inflate] of CODECS) {
  async function attempt(t: Tally, label: string, members: [string, Uint8Array][], kind: "memory" | "node", accept?: (fs: Awaited<ReturnType<typeof baseTarget>>["fs"]) => Promise<boolean>): Promise<string> {
    const target = await baseTarget(kind, SPEC);
    return judgeApply(t, `${label} (${kind})`, target, await zipOf(members), MANIFEST_CODES, accept ? () => accept(target.fs) : undefined, inflate);
  }

  test(`every unsafe path, in every place a manifest holds a path, is refused (${codecName})`, async () => {
    const t = tally(`manifest: unsafe paths (${codecName})`);
    const keepHash = hex(await blake2b(enc("unchanged")));
    const slots: [string, (p: string) => [string, Uint8Array][]][] = [
      ["create file", (p) => [[MANIFEST_NAME, manifest([{ kind: "create", path: p, new: file(), member: "new/x", encoding: "bytes" }])], ["new/x", enc("hello")]]],
      ["create dir", (p) => [[MANIFEST_NAME, manifest([{ kind: "create", path: p, new: dir }])]]],
      ["create symlink", (p) => [[MANIFEST_NAME, manifest([{ kind: "create", path: p, new: symlink("keep.txt") }])]]],
      ["delete", (p) => [[MANIFEST_NAME, manifest([{ kind: "delete", path: p, old: file() }])]]],
      ["update", (p) => [[MANIFEST_NAME, manifest([{ kind: "update", path: p, old: file(), new: file(), member: "new/x", encoding: "bytes" }])], ["new/x", enc("hello")]]],
      ["move from", (p) => [[MANIFEST_NAME, manifest([{ kind: "move", path: "dir/moved", from: p, new: file() }])]]],
      ["move to", (p) => [[MANIFEST_NAME, manifest([{ kind: "move", path: p, from: "keep.txt", new: { ...file(9), hash: keepHash } }])]]],
      ["copy from", (p) => [[MANIFEST_NAME, manifest([{ kind: "copy", path: "dir/copied", from: p, new: file() }])]]],
      ["metadata", (p) => [[MANIFEST_NAME, manifest([{ kind: "metadata", path: p, old: file(), new: file() }])]]],
      ["parent", (p) => [[MANIFEST_NAME, manifest([], [{ path: p, mtimeMs: 0, mode: 0o755 }])]]],
      ["member name", (p) => [[MANIFEST_NAME, manifest([{ kind: "create", path: "dir/new", new: file(), member: p, encoding: "bytes" }])], ["new/x", enc("hello")]]],
    ];
    // Controls: with a good path, these slots apply, so the refusals below are the paths' doing.
    for (const [slot, make] of slots.filter(([s]) => ["create file", "create dir", "create symlink", "move to", "parent"].includes(s))) {
      assert.equal(await attempt(t, `${slot} control`, make(slot === "parent" ? "dir" : "dir/okname"), "memory", async () => true), "accepted");
    }
    for (const [slot, make] of slots) {
      for (const [i, p] of [...BAD_PATHS, ".ibt-staging-0123456789abcdef/x"].entries()) {
        if (slot === "member name" && p.startsWith(".ibt-staging")) continue;
        await attempt(t, `${slot} ${JSON.stringify(p)}`, make(p), i % 4 === 0 ? "node" : "memory");
      }
    }
    assert.equal(t.refused, t.tried - 5);
  });

  test(`bad versions, duplicates and malformed structure are refused (${codecName})`, async () => {
    const t = tally(`manifest: structure (${codecName})`);
    const create = (path: string) => ({ kind: "create", path, new: dir });
    const cases: [string, Uint8Array][] = [
      ...[0, 4, -1, "1", "2", "3", null, 1.5].map((v) => [`version ${JSON.stringify(v)}`, manifest([], [], { version: v })] as [string, Uint8Array]),
      ["format", manifest([], [], { format: "something/else" })],
      ["no base", manifest([], [], { base: undefined })],
      ["changes not a list", manifest([], [], { changes: {} })],
      ["parents not a list", manifest([], [], { parents: null })],
      ["created twice", manifest([create("dir/n"), create("dir/n")])],
      ["deleted twice", manifest([{ kind: "delete", path: "keep.txt", old: file(9) }, { kind: "delete", path: "keep.txt", old: file(9) }])],
      ["member used twice", manifest([
        { kind: "create", path: "dir/n1", new: file(), member: "new/x", encoding: "bytes" },
        { kind: "create", path: "dir/n2", new: file(), member: "new/x", encoding: "bytes" },
      ])],
      ["unknown kind", manifest([{ kind: "rename", path: "dir/n", new: dir }])],
      ["unknown type", manifest([{ kind: "create", path: "dir/n", new: { ...dir, type: "fifo" } }])],
      ["update of a directory", manifest([{ kind: "update", path: "dir", old: dir, new: dir, member: "new/x", encoding: "bytes" }])],
      ["metadata changing the type", manifest([{ kind: "metadata", path: "keep.txt", old: file(9), new: dir }])],
      ["relink to a file", manifest([{ kind: "relink", path: "link", old: symlink("dir/a.txt"), new: file() }])],
      ["file without data", manifest([{ kind: "create", path: "dir/n", new: file() }])],
      ["directory with data", manifest([{ kind: "create", path: "dir/n", new: dir, member: "new/x", encoding: "bytes" }])],
      ["not JSON", enc("{ not json")],
      ["not UTF-8", new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])],
      ["an array", enc("[]")],
      ["empty", new Uint8Array(0)],
    ];
    for (const [i, [label, m]] of cases.entries()) {
      await attempt(t, label, [[MANIFEST_NAME, m], ...(label.includes("data") || label.includes("twice") || label.includes("update") ? [["new/x", enc("hello")] as [string, Uint8Array]] : [])], i % 3 === 0 ? "node" : "memory");
    }
    assert.equal(t.refused, t.tried);
  });

  test(`names differing by normalization are refused; by case, applied as distinct names (${codecName})`, async () => {
    const t = tally(`manifest: unicode and case (${codecName})`);
    const nfc = "caf\u00e9";
    const nfd = "cafe\u0301";
    for (const kind of ["memory", "node"] as const) {
      await attempt(t, "NFC and NFD twins", [[MANIFEST_NAME, manifest([{ kind: "create", path: nfc, new: dir }, { kind: "create", path: nfd, new: dir }])]], kind);
      await attempt(t, "NFD alone", [[MANIFEST_NAME, manifest([{ kind: "create", path: `dir/${nfd}`, new: dir }])]], kind);
    }
    // Case-only twins: legal; both exist afterwards on a case-sensitive target.
    for (const kind of ["memory", "node"] as const) {
      const members: [string, Uint8Array][] = [
        [MANIFEST_NAME, manifest([
          { kind: "create", path: "dir/Readme", new: file(), member: "new/dir/Readme", encoding: "bytes" },
          { kind: "create", path: "dir/README", new: file(), member: "new/dir/README", encoding: "bytes" },
        ])],
        ["new/dir/Readme", enc("hello")],
        ["new/dir/README", enc("hello")],
      ];
      const got = await attempt(t, "case-only twins", members, kind, async (fs) => (await fs.list("dir")).filter((n) => n.toLowerCase() === "readme").length === 2);
      assert.equal(got, "accepted");
    }
    // A name differing by case from a base file is a new path, not a replacement of it.
    const got = await attempt(t, "case twin of a base file", [[MANIFEST_NAME, manifest([{ kind: "create", path: "KEEP.txt", new: file(), member: "new/K", encoding: "bytes" }])], ["new/K", enc("hello")]], "memory", async (fs) => (await snapshot(fs)).get("keep.txt")!.includes(" 9 "));
    assert.equal(got, "accepted");
  });

  test(`symlinks out of the target are restored verbatim; writing through any symlink is refused (${codecName})`, async () => {
    const t = tally(`manifest: symlinks (${codecName})`);
    const evil = (path: string) => ({ kind: "create", path, new: file(), member: "new/evil", encoding: "bytes" });
    const data: [string, Uint8Array] = ["new/evil", enc("hello")];
    const cases: [string, unknown[], ErrorCode][] = [
      ["new link out, then a file under it", [{ kind: "create", path: "esc", new: symlink("../outside") }, evil("esc/evil")], "CORRUPT"],
      ["new absolute link, then a file under it", [{ kind: "create", path: "esc", new: symlink("/tmp") }, evil("esc/evil")], "CORRUPT"],
      ["new link in, then a file under it", [{ kind: "create", path: "esc", new: symlink("dir") }, evil("esc/sub/evil")], "CORRUPT"],
      ["base link out, a file under it", [evil("out/evil")], "BASE_MISMATCH"],
      ["base link in, a file under it", [evil("indir/evil")], "BASE_MISMATCH"],
      ["base link, a directory under it", [{ kind: "create", path: "out/d", new: dir }], "BASE_MISMATCH"],
      ["relinked, then a file under it", [{ kind: "relink", path: "link", old: symlink("dir/a.txt"), new: symlink("../outside") }, evil("link/evil")], "CORRUPT"],
      ["a file under a new file", [evil("dir/f"), { kind: "create", path: "dir/f/g", new: dir }], "CORRUPT"],
      ["a file under a deleted directory", [{ kind: "delete", path: "gone/inner", old: dir }, evil("gone/inner/evil")], "CORRUPT"],
      ["moved through a link", [{ kind: "move", path: "out/moved", from: "keep.txt", new: file(9) }], "BASE_MISMATCH"],
      ["deleted through a link", [{ kind: "delete", path: "indir/b.bin", old: file(13) }], "BASE_MISMATCH"],
      ["empty link target", [{ kind: "create", path: "esc", new: symlink("") }], "CORRUPT"],
      ["link target with NUL", [{ kind: "create", path: "esc", new: symlink("a\0b") }], "CORRUPT"],
    ];
    for (const kind of ["memory", "node"] as const) {
      for (const [label, changes, code] of cases) {
        const members: [string, Uint8Array][] = [[MANIFEST_NAME, manifest(changes)]];
        if (JSON.stringify(changes).includes("new/evil")) members.push(data);
        await judgeApply(t, `${label} (${kind})`, await baseTarget(kind, SPEC), await zipOf(members), [code], undefined, inflate);
      }
      // A link out of the target alone is data: applied, stored verbatim, nothing outside touched.
      const target = await baseTarget(kind, SPEC);
      const linkOut = await zipOf([[MANIFEST_NAME, manifest([{ kind: "create", path: "esc", new: symlink("../outside/sentinel") }])]]);
      const accepted = await judgeApply(t, `link out alone (${kind})`, target, linkOut, [], async () => (await target.fs.readlink("esc")) === "../outside/sentinel", inflate);
      assert.equal(accepted, "accepted");
    }
  });

  /** Values no valid manifest holds in each field. */
  const INVALID: Record<string, unknown[]> = {
    kind: ["rename", "", 5, null, ["create"]],
    path: BAD_PATHS,
    from: BAD_PATHS,
    member: [...BAD_PATHS, 5, true],
    encoding: ["gzip", "", 5, null],
    old: [null, 5, "x", []],
    new: [null, 5, "x", []],
    type: ["fifo", "", null, 3],
    size: [-1, 1.5, 2 ** 53, "5", null, 1e300, true],
    mtimeMs: [1e300, -1e300, "0", null, [], 8.64e15 + 1],
    mode: [-1, 1.5, 0x10000, "0644", null, 1e300],
    hash: ["zz", "", 5, "A".repeat(64), "0".repeat(63), "0".repeat(65)],
    target: ["", "a\0b", 5, null],
  };

  test(`thousands of manifests with one field made invalid are all refused (${codecName})`, async () => {
    const t = tally(`manifest: invalid fields (${codecName})`);
    const { archive } = await validFixture();
    const members = await membersOf(archive);
    const valid = JSON.parse(new TextDecoder().decode(members.find(([n]) => n === MANIFEST_NAME)![1])) as { changes: Record<string, unknown>[]; parents: Record<string, unknown>[] };
    const others = members.filter(([n]) => n !== MANIFEST_NAME);
    assert.equal(await attempt(t, "unmodified control", members, "memory", async () => true), "accepted");
    const next = rng(77);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
    const n = scaled(800);
    for (let i = 0; i < n; i++) {
      const m = structuredClone(valid);
      // A field of a change, of its old or new entry, or of a parent.
      const where = next();
      let obj: Record<string, unknown>;
      if (where < 0.15 && m.parents.length > 0) obj = pick(m.parents);
      else {
        const c = pick(m.changes);
        const sub = (["old", "new"] as const).filter((k) => typeof c[k] === "object");
        obj = next() < 0.5 || sub.length === 0 ? c : (c[pick(sub)] as Record<string, unknown>);
      }
      const keys = Object.keys(obj).filter((k) => k in INVALID);
      if (keys.length === 0) continue;
      const key = pick(keys);
      obj[key] = pick(INVALID[key]!);
      const label = `${key} = ${JSON.stringify(obj[key])} in ${JSON.stringify(obj).slice(0, 120)}`;
      await attempt(t, label, [[MANIFEST_NAME, enc(JSON.stringify(m))], ...others], i % 40 === 0 ? "node" : "memory");
    }
    assert.equal(t.refused, t.tried - 1);
    assert.ok(t.tried > n * 0.9, `${t.tried} cases`);
  });
}
