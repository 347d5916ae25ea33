/**
 * The trees and archives the hostile-input tests start from, and the byte surgery they apply.
 *
 * A base tree and a new tree differ in every way a diff can (a delta, a created file, a deleted
 * one, a new directory, a relinked symlink, a mode change), so a valid archive exercises every
 * member kind and every commit step. Trees are built with fixed mtimes so that two copies built
 * at different moments have equal snapshots, and the expected result of a correct apply is known
 * exactly. Targets come as MemoryFs or as NodeFs on a temp directory with a sentinel directory
 * beside it, which must never change.
 *
 * The ZIP surgery reads the structure itself (end record, central records) rather than going
 * through ZipReader, so a test can change one field of a member consistently in both its local
 * and central headers, or hand-build an archive no writer would produce (a zip bomb).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  DiffData,
  DiffIndex,
  DirIndex,
  MemoryFs,
  ZipReader,
  ZipWriter,
  applyDiff,
  joinPath,
  type ErrorCode,
  type FsAdapter,
  type InflateCodec,
  type TreeSpec,
} from "../../src/index.js";
import { NodeFs } from "../../src/node/index.js";
import { crc32 } from "../../src/archive/crc32.js";
import { RecordWriter } from "../../src/archive/zip-format.js";
import { rng, textBytes, tempDir } from "./helpers.js";
import { judge, snapshot, type Snapshot, type Tally } from "./hostile-kit.js";

const text = textBytes(rng(5), 40_000);
const edited = text.slice();
edited.set(new TextEncoder().encode("an edit in the middle"), 20_000);

export const BASE_SPEC: TreeSpec = {
  "dir/a.txt": text,
  "dir/b.bin": "to be deleted",
  "dir/sub/keep.txt": "kept",
  "keep.txt": "unchanged",
  "mode.txt": "mode changes",
  link: { symlink: "dir/a.txt" },
  "gone/inner/x": "x",
};

export const NEW_SPEC: TreeSpec = {
  "dir/a.txt": edited,
  "dir/sub/keep.txt": "kept",
  "dir/c.txt": "created",
  "keep.txt": "unchanged",
  "mode.txt": "mode changes",
  "made/deep/y": "y",
  link: { symlink: "keep.txt" },
};

/** Gives every entry a fixed mtime (children first, so directories keep theirs). */
export async function fixTimes(fs: FsAdapter, dir = "", base = 1_600_000_000_000): Promise<void> {
  const names = (await fs.list(dir)).sort();
  for (const [i, name] of names.entries()) {
    const p = joinPath(dir, name);
    const st = await fs.lstat(p);
    if (st.type === "dir") await fixTimes(fs, p, base + 1_000_000 * (i + 1));
    if (st.type !== "symlink" && p === "mode.txt") await fs.chmod(p, 0o644);
    await fs.utimes(p, base + 1000 * i);
  }
}

/** Writes a TreeSpec through any adapter. */
export async function build(fs: FsAdapter, spec: TreeSpec): Promise<void> {
  for (const [path, value] of Object.entries(spec)) {
    const parent = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
    if (parent) await fs.mkdir(parent, { recursive: true });
    if (value === null) await fs.mkdir(path, { recursive: true });
    else if (typeof value === "string" || value instanceof Uint8Array) {
      await fs.writeFile(path, typeof value === "string" ? new TextEncoder().encode(value) : value);
    } else await fs.symlink(value.symlink, path);
  }
  await fixTimes(fs);
}

export async function memoryTree(spec: TreeSpec): Promise<MemoryFs> {
  const fs = new MemoryFs();
  await build(fs, spec);
  return fs;
}

export interface Target {
  fs: FsAdapter;
  before: Snapshot;
  sentinel?: { fs: FsAdapter; before: Snapshot };
  /** Where the tree is on disk (NodeFs only). */
  dir?: string;
}

let nodeTargets = 0;
let nodeRoot: string | undefined;

/** A fresh copy of the base tree on MemoryFs or NodeFs (with a sentinel directory beside it). */
export async function baseTarget(kind: "memory" | "node", spec: TreeSpec = BASE_SPEC): Promise<Target> {
  if (kind === "memory") {
    const fs = await memoryTree(spec);
    return { fs, before: await snapshot(fs) };
  }
  nodeRoot ??= tempDir();
  const root = join(nodeRoot, `t${nodeTargets++}`);
  const dir = join(root, "target");
  const outside = join(root, "outside");
  mkdirSync(dir, { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(outside, "sentinel"), "must not change");
  const fs = new NodeFs(dir);
  await build(fs, spec);
  const sentinel = new NodeFs(outside);
  return { fs, dir, before: await snapshot(fs), sentinel: { fs: sentinel, before: await snapshot(sentinel) } };
}

/**
 * Judges applying the archive `zip` to a fresh base `target`: refused with one of `allowed`
 * and the target (and its sentinel) unchanged, or, when `accept` is given, applied and confirmed.
 */
export function judgeApply(t: Tally, label: string, target: Target, zip: Uint8Array, allowed: readonly ErrorCode[], accept?: () => Promise<boolean>, inflate?: InflateCodec): Promise<"refused" | "accepted"> {
  const opts: Parameters<typeof judge>[2] = { target: target.fs, before: target.before, allowed, work: async () => applyDiff(target.fs, await readerOf(zip, inflate)) };
  if (target.sentinel) opts.sentinel = target.sentinel;
  if (accept) opts.accept = accept;
  return judge(t, label, opts);
}

/** Bytes of a ZipReader source over an array, inflated by `inflate` (default fflate). */
export function readerOf(bytes: Uint8Array, inflate?: InflateCodec): Promise<ZipReader> {
  return ZipReader.from({ size: bytes.length, read: async (o, n) => bytes.slice(o, o + n) }, inflate ? { inflate } : {});
}

export interface Fixture {
  archive: Uint8Array;
  /** Snapshot of a base copy after the valid archive was applied. */
  want: Snapshot;
}

let fixture: Promise<Fixture> | undefined;

/** The valid archive from BASE_SPEC to NEW_SPEC, and the snapshot a correct apply produces. */
export function validFixture(): Promise<Fixture> {
  fixture ??= (async () => {
    const base = await memoryTree(BASE_SPEC);
    const next = await memoryTree(NEW_SPEC);
    await next.chmod("mode.txt", 0o600);
    await next.utimes("mode.txt", 1_600_000_000_000 + 4000);
    const diff = new DiffIndex(await DirIndex.build(next), await DirIndex.build(base)).compute();
    const parts: Uint8Array[] = [];
    // Format 2 with the smallest groups, so each file's data is a group of its own: the member
    // surgery below then reaches every group (groups.test.ts has groups of many spans).
    await new DiffData(diff, { source: next, groupSize: 512 }).write(async (c) => {
      parts.push(c.slice());
    });
    const archive = new Uint8Array(Buffer.concat(parts));
    const { applyDiff } = await import("../../src/index.js");
    await applyDiff(base, await readerOf(archive));
    return { archive, want: await snapshot(base) };
  })();
  return fixture;
}

/** Rebuilds an archive from named members (in order), through the real writer. */
export async function zipOf(members: [string, Uint8Array][]): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const zip = new ZipWriter((c) => {
    parts.push(c.slice());
  });
  for (const [name, data] of members) await zip.add(name, data, { mtimeMs: 1_600_000_000_000 });
  await zip.finish();
  return new Uint8Array(Buffer.concat(parts));
}

/** Every member of an archive with its bytes. */
export async function membersOf(archive: Uint8Array): Promise<[string, Uint8Array][]> {
  const r = await readerOf(archive);
  const out: [string, Uint8Array][] = [];
  for (const e of r.entries()) out.push([e.name, await r.bytes(e)]);
  return out;
}

export interface CentralRecord {
  /** Offset of the central record. */
  at: number;
  /** Offset of the member's local header. */
  local: number;
  name: string;
  method: number;
}

/** The central records of a small (non-ZIP64, no comment) archive. */
export function centralRecords(zip: Uint8Array): CentralRecord[] {
  const v = new DataView(zip.buffer, zip.byteOffset, zip.length);
  const end = zip.length - 22;
  if (v.getUint32(end, true) !== 0x06054b50) throw new Error("no plain end record");
  const count = v.getUint16(end + 10, true);
  let at = v.getUint32(end + 16, true);
  const out: CentralRecord[] = [];
  for (let i = 0; i < count; i++) {
    const n = v.getUint16(at + 28, true);
    const name = new TextDecoder().decode(zip.subarray(at + 46, at + 46 + n));
    out.push({ at, local: v.getUint32(at + 42, true), name, method: v.getUint16(at + 10, true) });
    at += 46 + n + v.getUint16(at + 30, true) + v.getUint16(at + 32, true);
  }
  return out;
}

/** A copy with a u32 written at each offset. */
export function withU32(zip: Uint8Array, offsets: number[], value: number): Uint8Array {
  const out = zip.slice();
  const v = new DataView(out.buffer);
  for (const o of offsets) v.setUint32(o, value >>> 0, true);
  return out;
}

/**
 * A raw deflate stream (one fixed-Huffman block) that inflates to `1 + 258 * matches` zero bytes:
 * a literal 0, then `matches` copies of 258 bytes at distance 1, 13 bits each (~159:1).
 */
export function zeroBomb(matches: number): Uint8Array {
  const out = new Uint8Array(Math.ceil((3 + 8 + 13 * matches + 7) / 8) + 1);
  let bit = 0;
  const put = (value: number, bits: number) => {
    for (let i = 0; i < bits; i++, bit++) if ((value >> i) & 1) out[bit >> 3]! |= 1 << (bit & 7);
  };
  // Huffman codes go most significant bit first: reverse them into the LSB-first stream.
  const code = (value: number, bits: number) => {
    let r = 0;
    for (let i = 0; i < bits; i++) r |= ((value >> i) & 1) << (bits - 1 - i);
    put(r, bits);
  };
  put(1, 1); // final block
  put(1, 2); // fixed Huffman
  code(0x30, 8); // literal 0
  for (let i = 0; i < matches; i++) {
    code(0b11000101, 8); // length code 285: 258 bytes
    code(0, 5); // distance code 0: distance 1
  }
  code(0, 7); // end of block
  return out.subarray(0, Math.ceil(bit / 8));
}

/**
 * A hand-made archive: each member's local header, data and central record, written as given
 * (sizes and CRC may lie), then the end record.
 */
export function handZip(members: { name: string; data: Uint8Array; method: 0 | 8 | 93; size: number; crc: number }[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const m of members) {
    const name = new TextEncoder().encode(m.name);
    const local = new RecordWriter(30 + name.length)
      .u32(0x04034b50).u16(20).u16(0x0800).u16(m.method).u16(0).u16(0x21)
      .u32(m.crc).u32(m.data.length).u32(m.size).u16(name.length).u16(0).raw(name).done();
    central.push(
      new RecordWriter(46 + name.length)
        .u32(0x02014b50).u16(0x031e).u16(20).u16(0x0800).u16(m.method).u16(0).u16(0x21)
        .u32(m.crc).u32(m.data.length).u32(m.size).u16(name.length).u16(0).u16(0).u16(0).u16(0)
        .u32((0o100644 << 16) >>> 0).u32(offset).raw(name).done(),
    );
    parts.push(local, m.data);
    offset += local.length + m.data.length;
  }
  const cdSize = central.reduce((a, c) => a + c.length, 0);
  const end = new RecordWriter(22).u32(0x06054b50).u16(0).u16(0).u16(members.length).u16(members.length).u32(cdSize).u32(offset).u16(0).done();
  return new Uint8Array(Buffer.concat([...parts, ...central, end]));
}

export { crc32 };
