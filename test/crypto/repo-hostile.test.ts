/**
 * The hostile-input suites on an encrypted repository: objects that are hostile but validly
 * sealed, as someone holding the key (or a bug writing through the EncryptedStore) would make
 * them. The encryption passes them, so the layers above it must refuse them exactly as they do
 * in a plain repository.
 *
 * Two repositories, one plain and one encrypted (over MemoryStores), each get a full snapshot of
 * the hostile fixture's base tree and an incremental of its new tree, at fixed times, so either's
 * archives and indexes restore in the other. Then each hostile
 * object is written into both (for archives and indexes the same bytes, made from the plain
 * repository's by the surgery of hostile-archive, hostile-manifest and
 * hostile-index: cuts, bit flips, sizes that lie, unsafe and unnormalized paths, bad versions,
 * a zip bomb; for records and the repository record, the same field edit of each one's own
 * record, checksummed again). In each, the repository is opened, both snapshots are restored
 * into empty targets and the incremental over the base tree, and verify reads every byte.
 * What must hold: the encrypted repository's answers are the plain one's (codes, which object
 * they name, which restores succeed), never AUTH_FAILED; a refused restore leaves its target as
 * it was with no staging directory; a restore that succeeds is exact.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { IbtError, MANIFEST_NAME, MemoryFs, MemoryStore, Repository, blake2b, type FsAdapter, type Store } from "../../src/index.js";
import { CONFIG, archivePath, decodeRecord, encodeRecord, indexPath, recordPath } from "../../src/repo/layout.js";
import { deflatedIndex, indexFileOf } from "../../src/repo/index-object.js";
import { collect } from "../../src/bytes.js";
import { BASE_SPEC, NEW_SPEC, centralRecords, crc32, handZip, memoryTree, membersOf, withU32, zeroBomb, zipOf } from "../support/hostile-fixture.js";
import { tally } from "../support/hostile-kit.js";
import { equalBytes, rng } from "../support/helpers.js";
import { treeId } from "../support/repo-kit.js";
import { encrypt } from "../support/encrypted-repo-kit.js";

interface World {
  name: string;
  store: Store;
  full: string;
  incr: string;
  /** Each object's bytes as the repository wrote them (plaintext). */
  original: Map<string, Uint8Array>;
}

const enc = (s: string) => new TextEncoder().encode(s);
const TIME = Date.UTC(2026, 0, 2);

async function world(encrypted: boolean): Promise<World> {
  const inner = new MemoryStore();
  const store: Store = encrypted ? await encrypt(inner) : inner;
  const repo = await Repository.init(store);
  const full = await repo.backup(await memoryTree(BASE_SPEC), { time: new Date(TIME), source: "tree" });
  const incr = await repo.backup(await memoryTree(NEW_SPEC), { time: new Date(TIME + 1000), source: "tree" });
  assert.equal(incr.kind, "incremental");
  const original = new Map<string, Uint8Array>();
  for (const name of [CONFIG, ...[full.id, incr.id].flatMap((id) => [recordPath(id), archivePath(id), indexPath(id)])]) {
    original.set(name, await store.load(name));
  }
  return { name: encrypted ? "encrypted" : "plain", store, full: full.id, incr: incr.id, original };
}

const [plain, sealed] = [await world(false), await world(true)];
const BASE_TREE = await treeId(await memoryTree(BASE_SPEC));
const NEW_TREE = await treeId(await memoryTree(NEW_SPEC));

/** An object by its role, in a world: "archive full", "index incr", "record incr", "config". */
type Role = `${"archive" | "index" | "record"} ${"full" | "incr"}` | "config";

function nameOf(w: World, role: Role): string {
  if (role === "config") return CONFIG;
  const [what, which] = role.split(" ") as ["archive" | "index" | "record", "full" | "incr"];
  const id = which === "full" ? w.full : w.incr;
  return what === "archive" ? archivePath(id) : what === "index" ? indexPath(id) : recordPath(id);
}

/** A path as the outcome reports it: the world's ids replaced by their roles, so worlds compare. */
function neutral(w: World, text: string | undefined): string | undefined {
  return text?.replaceAll(w.full, "FULL").replaceAll(w.incr, "INCR");
}

/** What one world answers with one object replaced by `bytes`. */
async function outcome(w: World, role: Role, bytes: Uint8Array, label: string): Promise<string[]> {
  const name = nameOf(w, role);
  const where = `${label} (${w.name})`;
  await w.store.save(name, bytes);
  const out: string[] = [];
  const answer = (what: string, e: unknown) => {
    assert.ok(e instanceof IbtError, `${where}: ${what} threw ${String(e)}`);
    assert.notEqual(e.code, "AUTH_FAILED", `${where}: the object was validly sealed`);
    out.push(`${what}: ${e.code} ${neutral(w, e.path) ?? ""}`);
  };
  try {
    let repo: Repository;
    try {
      repo = await Repository.open(w.store);
    } catch (e) {
      answer("open", e);
      return out;
    }
    const runs: [string, string, () => Promise<FsAdapter>, string][] = [
      ["full into empty", w.full, async () => new MemoryFs(), BASE_TREE],
      ["incr into empty", w.incr, async () => new MemoryFs(), NEW_TREE],
      ["incr over base", w.incr, () => memoryTree(BASE_SPEC), NEW_TREE],
    ];
    for (const [what, id, make, want] of runs) {
      const target = await make();
      const before = await treeId(target);
      try {
        await repo.restore(id, target, { delete: true });
        assert.equal(await treeId(target), want, `${where}: ${what} succeeded, so it must be exact`);
        out.push(`${what}: ok`);
      } catch (e) {
        answer(what, e);
        assert.equal(await treeId(target), before, `${where}: ${what} was refused and left its target as it was`);
        assert.ok(!(await target.list("")).some((n) => n.startsWith(".ibt-staging")), `${where}: ${what} left staging`);
      }
    }
    const report = await repo.verify({ readData: true });
    for (const p of report.problems) {
      assert.notEqual(p.code, "AUTH_FAILED", `${where}: verify`);
      out.push(`verify: ${p.code} ${neutral(w, p.path) ?? ""}`);
    }
    return out.sort();
  } finally {
    await w.store.save(name, w.original.get(name)!);
  }
}

/** Both worlds given the same hostile object: the same answers, and a refusal somewhere. */
async function same(role: Role, label: string, hostile: (w: World, bytes: Uint8Array) => Promise<Uint8Array> | Uint8Array, counts: Record<string, number>): Promise<void> {
  const answers: string[][] = [];
  for (const w of [plain, sealed]) answers.push(await outcome(w, role, await hostile(w, w.original.get(nameOf(w, role))!), `${role}: ${label}`));
  assert.deepEqual(answers[1], answers[0], `${role}: ${label}: the encrypted repository answers as the plain one`);
  assert.ok(answers[0]!.some((a) => !a.endsWith(": ok")), `${role}: ${label}: nothing noticed ${JSON.stringify(answers[0])}`);
  for (const a of answers[0]!) {
    const code = a.split(": ")[1]!.split(" ")[0]!;
    counts[code] = (counts[code] ?? 0) + 1;
  }
}

test("the two repositories hold equivalent archives and indexes: either's restores in the other", async () => {
  for (const role of ["archive full", "archive incr", "index full", "index incr"] as Role[]) {
    for (const [w, other] of [[plain, sealed], [sealed, plain]] as const) {
      const theirs = other.original.get(nameOf(other, role))!;
      const answers = await outcome(w, role, theirs, `${role} of the other repository`);
      assert.deepEqual(answers.filter((x) => !x.startsWith("verify")), ["full into empty: ok", "incr into empty: ok", "incr over base: ok"], `${role} in ${w.name}`);
      const problems = answers.filter((x) => x.startsWith("verify"));
      // Archives dated with the snapshot's time are the same bytes in both: nothing to see.
      if (equalBytes(theirs, w.original.get(nameOf(w, role))!)) {
        assert.deepEqual(problems, [], `${role} in ${w.name}: the same bytes`);
        continue;
      }
      // Only verify sees that it is not the object this repository wrote (change times differ),
      // and may say so of the snapshot's record too.
      const which = role.endsWith("full") ? "FULL" : "INCR";
      assert.ok(problems.includes(`verify: CORRUPT ${neutral(w, nameOf(w, role))}`), `${role} in ${w.name}: ${problems.join("; ")}`);
      assert.ok(problems.every((x) => x === `verify: CORRUPT ${neutral(w, nameOf(w, role))}` || x === `verify: CORRUPT snapshots/${which}.json`), `${role} in ${w.name}: ${problems.join("; ")}`);
    }
  }
});

test("hostile archives, validly sealed, are refused as in a plain repository: cuts, flips, lying sizes, hostile manifests, a zip bomb", async () => {
  const t = tally("encrypted repository: hostile archives");
  const next = rng(1717);
  for (const role of ["archive incr", "archive full"] as const) {
    const archive = plain.original.get(nameOf(plain, role))!;
    const n = archive.length;
    const cases: [string, (bytes: Uint8Array) => Promise<Uint8Array> | Uint8Array][] = [];
    for (const at of [0, 1, 30, n >> 1, n - 23, n - 1]) cases.push([`cut at ${at}`, (b) => b.slice(0, at)]);
    for (let i = 0; i < (role === "archive incr" ? 8 : 3); i++) {
      const at = Math.floor(next() * n);
      const bit = 1 << Math.floor(next() * 8);
      cases.push([`bit ${bit} flipped at ${at}`, (b) => {
        const out = b.slice();
        out[at]! ^= bit;
        return out;
      }]);
    }
    const records = centralRecords(archive);
    const member = records.find((r) => r.name !== MANIFEST_NAME)!;
    for (const delta of [1, -1]) {
      cases.push([`${member.name}'s uncompressed size off by ${delta}`, (b) => {
        const v = new DataView(b.buffer, b.byteOffset, b.length);
        return withU32(b, [member.at + 24, member.local + 22], v.getUint32(member.at + 24, true) + delta);
      }]);
    }
    cases.push(["trailing bytes", (b) => new Uint8Array([...b, ...enc("trailing")])]);
    if (role === "archive incr") {
      const withManifest = (edit: (m: Record<string, any>) => unknown) => async (b: Uint8Array) => {
        const members = await membersOf(b);
        const m = JSON.parse(new TextDecoder().decode(members.find(([name]) => name === MANIFEST_NAME)![1]));
        const edited = edit(m);
        return zipOf(members.map(([name, data]) => [name, name === MANIFEST_NAME ? (edited instanceof Uint8Array ? edited : enc(JSON.stringify(m))) : data]));
      };
      const firstPath = (p: string) => withManifest((m) => void (m.changes.find((c: { path: string }) => c.path !== "")!.path = p));
      for (const p of ["../escape", "/etc/passwd", "dir/../../x", "dir\\x", "caf\u0065\u0301", "dir//x"]) cases.push([`manifest path ${JSON.stringify(p)}`, firstPath(p)]);
      cases.push(["manifest version 99", withManifest((m) => void (m.version = 99))]);
      cases.push(["manifest from another base", withManifest((m) => void (m.base = "ab".repeat(32)))]);
      cases.push(["manifest to another tree", withManifest((m) => void (m.target = "cd".repeat(32)))]);
      cases.push(["manifest duplicating a change", withManifest((m) => void m.changes.push(m.changes[0]))]);
      cases.push(["manifest not JSON", withManifest(() => enc("{ not json"))]);
      cases.push(["no manifest", async (b) => zipOf((await membersOf(b)).filter(([name]) => name !== MANIFEST_NAME))]);
      cases.push(["two manifests", async (b) => {
        const members = await membersOf(b);
        const stored = members.map(([name, data]) => ({ name, data, method: 0 as const, size: data.length, crc: crc32(data) }));
        return handZip([...stored, stored.find((m) => m.name === MANIFEST_NAME)!]);
      }]);
      cases.push(["a member's content replaced", async (b) => zipOf((await membersOf(b)).map(([name, data]) => [name, name === member.name ? data.map((x) => x ^ 0x55) : data]))]);
      const bomb = zeroBomb(20_000);
      cases.push(["a zip bomb for a manifest", () => handZip([{ name: MANIFEST_NAME, data: bomb, method: 8, size: 1 + 258 * 20_000, crc: 0 }])]);
      cases.push(["a bomb member declared small", async (b) => {
        const members = await membersOf(b);
        return handZip(members.map(([name, data]) => name === member.name
          ? { name, data: bomb, method: 8 as const, size: data.length, crc: crc32(data) }
          : { name, data, method: 0 as const, size: data.length, crc: crc32(data) }));
      }]);
    }
    for (const [label, make] of cases) {
      // The same hostile bytes for both repositories.
      const bytes = await make(archive);
      t.tried++;
      await same(role, label, () => bytes, t.codes);
      t.refused++;
    }
  }
  assert.ok(t.tried >= 45, `${t.tried} cases`);
});

/** An index file as the repository stores it. */
function deflated(file: Uint8Array): Promise<Uint8Array> {
  return collect(deflatedIndex([file]));
}

/** Re-seals an edited index: its last 32 bytes are the BLAKE2b-256 of everything before. */
async function resealIndex(bytes: Uint8Array): Promise<Uint8Array> {
  const out = bytes.slice();
  out.set(await blake2b(out.subarray(0, out.length - 32)), out.length - 32);
  return out;
}

function replaced(bytes: Uint8Array, from: string, to: string): Uint8Array {
  const at = Buffer.from(bytes).indexOf(Buffer.from(from));
  assert.ok(at >= 0 && from.length === to.length, `${from} in the index, ${JSON.stringify(to)} as long`);
  const out = bytes.slice();
  out.set(enc(to), at);
  return out;
}

test("hostile indexes, validly sealed, are refused as in a plain repository: cuts, flips, and behind a valid checksum a bad version and unsafe or duplicate paths", async () => {
  const t = tally("encrypted repository: hostile indexes");
  const next = rng(31);
  for (const role of ["index incr", "index full"] as const) {
    // The repository stores the index file deflated: the surgery is on the file, deflated again.
    const stored = plain.original.get(nameOf(plain, role))!;
    const index = await collect(indexFileOf([stored]));
    const n = index.length;
    const cases: [string, () => Promise<Uint8Array> | Uint8Array][] = [];
    const m = stored.length;
    for (const at of [0, 11, 12, 13, m >> 1, m - 1]) cases.push([`the stored object cut at ${at}`, () => stored.slice(0, at)]);
    cases.push(["the stored object with a byte after its end", () => new Uint8Array([...stored, 0])]);
    cases.push(["the stored object's version made 4", () => {
      const out = stored.slice();
      new DataView(out.buffer).setUint32(8, 4);
      return out;
    }]);
    for (const at of [0, 11, n >> 1, n - 32, n - 1]) cases.push([`cut at ${at}`, () => deflated(index.slice(0, at))]);
    for (let i = 0; i < 4; i++) {
      const at = Math.floor(next() * n);
      cases.push([`flip at ${at}`, () => {
        const out = index.slice();
        out[at]! ^= 0x10;
        return deflated(out);
      }]);
    }
    cases.push(["a trailing byte", () => deflated(new Uint8Array([...index, 0]))]);
    cases.push(["version 2", async () => {
      const out = index.slice();
      new DataView(out.buffer).setUint32(8, 2);
      return deflated(await resealIndex(out));
    }]);
    // keep.txt is in both trees; each replacement has its length.
    for (const to of ["../x.txt", "/x/x.txt", "a\\bc.txt", "keep.tx\0"]) cases.push([`path keep.txt made ${JSON.stringify(to)}`, async () => deflated(await resealIndex(replaced(index, "keep.txt", to)))]);
    cases.push(["mode.txt renamed keep.txt: a duplicate, out of order", async () => deflated(await resealIndex(replaced(index, "mode.txt", "keep.txt")))]);
    // As an older library stored it, the file as it is: read the same way.
    cases.push(["the plain file, a path made unsafe", () => resealIndex(replaced(index, "keep.txt", "../x.txt"))]);
    for (const [label, make] of cases) {
      const bytes = await make();
      t.tried++;
      await same(role, label, () => bytes, t.codes);
      t.refused++;
    }
  }
  assert.ok(t.tried >= 40, `${t.tried} cases`);
});

test("snapshot and repository records, edited and checksummed again, are refused as in a plain repository", async () => {
  const t = tally("encrypted repository: hostile records");
  const edit = (change: (v: Record<string, unknown>, w: World) => void) => async (w: World, bytes: Uint8Array) => {
    const v = await decodeRecord(bytes, "record");
    change(v, w);
    return encodeRecord(v);
  };
  const cases: [Role, string, (w: World, bytes: Uint8Array) => Promise<Uint8Array> | Uint8Array][] = [
    ["record incr", "a byte of the JSON changed, checksum left", (_w, b) => {
      const out = b.slice();
      out[out.indexOf(0x3a) + 3]! ^= 0x01;
      return out;
    }],
    ["record incr", "version 2", edit((v) => void (v.version = 2))],
    ["record incr", "its own parent", edit((v, w) => void (v.parent = w.incr))],
    ["record incr", "a parent that does not exist", edit((v) => void (v.parent = "0123456789abcdef"))],
    ["record incr", "full with a parent", edit((v) => void (v.kind = "full"))],
    ["record incr", "another tree", edit((v) => void (v.tree = "ef".repeat(32)))],
    ["record incr", "another archive hash", edit((v) => void ((v.archive as { hash: string }).hash = "01".repeat(32)))],
    ["record incr", "another id", edit((v, w) => void (v.id = w.full))],
    ["record full", "an incremental without a parent", edit((v) => void (v.kind = "incremental"))],
    ["record full", "a negative file count", edit((v) => void (v.files = -1))],
    ["config", "a byte changed, checksum left", (_w, b) => {
      const out = b.slice();
      out[2]! ^= 0x20;
      return out;
    }],
    ["config", "version 99", edit((v) => void (v.version = 99))],
    ["config", "not a repository record", edit((v) => void (v.format = "something else"))],
  ];
  for (const [role, label, hostile] of cases) {
    t.tried++;
    await same(role, label, hostile, t.codes);
    t.refused++;
  }
});
