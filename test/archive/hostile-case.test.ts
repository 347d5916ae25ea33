/**
 * Names that differ only by case, applied to a case-insensitive target. The format records POSIX
 * trees, where "Readme" and "README" are two files; macOS and Windows volumes (and some browser
 * stores) fold case, where the second would replace the first. CaseFoldFs stands in for such a
 * volume: a wrapper over MemoryFs that resolves every path segment to an existing entry of any
 * case (case-insensitive, case-preserving, as APFS and NTFS behave).
 *
 * The rule: nothing may be clobbered. A created name that meets a base entry of another case is
 * refused by the base check (BASE_MISMATCH); two names the diff itself creates that differ only
 * by case are refused (UNSUPPORTED) when the target folds case, and applied on one that does not.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { applyDiff, blake2b, fflateInflate, joinPath, MANIFEST_NAME, MemoryFs, type ByteSource, type FsAdapter, type InflateCodec, type WriteOptions } from "../../src/index.js";
import { nodeInflate } from "../../src/node/index.js";
import { hex } from "../support/helpers.js";
import { judge, snapshot, tally } from "../support/hostile-kit.js";
import { BASE_SPEC, build, readerOf, zipOf } from "../support/hostile-fixture.js";

class CaseFoldFs implements FsAdapter {
  constructor(readonly inner: FsAdapter) {}
  get capabilities() {
    return this.inner.capabilities;
  }
  /** The stored spelling of `path`: each segment matched to an existing entry of any case. */
  private async real(path: string): Promise<string> {
    if (path === "") return path;
    let at = "";
    for (const seg of path.split("/")) {
      const names = await this.inner.list(at).catch(() => [] as string[]);
      at = joinPath(at, names.find((n) => n.toLowerCase() === seg.toLowerCase()) ?? seg);
    }
    return at;
  }
  async list(p: string) {
    return this.inner.list(await this.real(p));
  }
  async lstat(p: string) {
    return this.inner.lstat(await this.real(p));
  }
  async stat(p: string) {
    return this.inner.stat(await this.real(p));
  }
  async read(p: string, o: number, n: number) {
    return this.inner.read(await this.real(p), o, n);
  }
  async *readStream(p: string) {
    yield* this.inner.readStream(await this.real(p));
  }
  async writeFile(p: string, data: Uint8Array | ByteSource, options?: WriteOptions) {
    return this.inner.writeFile(await this.real(p), data, options);
  }
  async mkdir(p: string, options?: { recursive?: boolean }) {
    return this.inner.mkdir(await this.real(p), options);
  }
  async remove(p: string, options?: { recursive?: boolean }) {
    return this.inner.remove(await this.real(p), options);
  }
  async rename(from: string, to: string) {
    return this.inner.rename(await this.real(from), await this.real(to));
  }
  async symlink(target: string, p: string) {
    return this.inner.symlink(target, await this.real(p));
  }
  async readlink(p: string) {
    return this.inner.readlink(await this.real(p));
  }
  async chmod(p: string, mode: number) {
    return this.inner.chmod(await this.real(p), mode);
  }
  async utimes(p: string, mtimeMs: number) {
    return this.inner.utimes(await this.real(p), mtimeMs);
  }
}

const enc = (s: string) => new TextEncoder().encode(s);
const hash = async (s: string) => hex(await blake2b(enc(s)));
const file = async (s: string) => ({ type: "file", size: enc(s).length, mtimeMs: 1_600_000_000_000, mode: 0o644, hash: await hash(s) });

function manifest(changes: unknown[]): Uint8Array {
  return enc(JSON.stringify({ format: "incremental-backups-tools/diff", version: 1, base: "0".repeat(64), target: "1".repeat(64), created: "", changes, parents: [] }));
}

async function target(fold: boolean): Promise<FsAdapter> {
  const fs = fold ? new CaseFoldFs(new MemoryFs()) : new MemoryFs();
  await build(fs, BASE_SPEC);
  return fs;
}

test("the stand-in folds case: one entry answers to every spelling", async () => {
  const fs = await target(true);
  assert.equal((await fs.lstat("DIR/A.TXT")).type, "file");
  await fs.writeFile("KEEP.TXT", enc("x"));
  assert.deepEqual((await fs.list("")).filter((n) => n.toLowerCase() === "keep.txt"), ["keep.txt"]);
});

const CODECS: [string, InflateCodec][] = [
  ["fflate", fflateInflate],
  ["node:zlib", nodeInflate],
];

// Every case runs once per inflate codec.
for (const [codecName, inflate] of CODECS) {
  test(`names differing only by case never clobber on a case-insensitive target (${codecName})`, async () => {
    const t = tally(`manifest: case on a case-folding target (${codecName})`);
    const twins: [string, Uint8Array][] = [
      [MANIFEST_NAME, manifest([
        { kind: "create", path: "dir/Readme", new: await file("one"), member: "new/1", encoding: "bytes" },
        { kind: "create", path: "dir/README", new: await file("two"), member: "new/2", encoding: "bytes" },
      ])],
      ["new/1", enc("one")],
      ["new/2", enc("two")],
    ];
    const baseTwin: [string, Uint8Array][] = [
      [MANIFEST_NAME, manifest([{ kind: "create", path: "KEEP.txt", new: await file("other"), member: "new/K", encoding: "bytes" }])],
      ["new/K", enc("other")],
    ];
    const rename: [string, Uint8Array][] = [
      [MANIFEST_NAME, manifest([
        { kind: "delete", path: "keep.txt", old: await file("unchanged") },
        { kind: "create", path: "Keep.txt", new: await file("unchanged"), member: "new/k", encoding: "bytes" },
      ])],
      ["new/k", enc("unchanged")],
    ];
    for (const [label, members, fold, code] of [
      ["twins created by one diff", twins, true, "UNSUPPORTED"],
      ["a twin of a base file", baseTwin, true, "BASE_MISMATCH"],
      ["twins created by one diff, case-sensitive target", twins, false, undefined],
      ["a twin of a base file, case-sensitive target", baseTwin, false, undefined],
      // Safe but limiting: the created name finds the deleted one during the base check.
      ["a case-only rename", rename, true, "BASE_MISMATCH"],
      ["a case-only rename, case-sensitive target", rename, false, undefined],
    ] as const) {
      const fs = await target(fold);
      const zip = await zipOf(members as [string, Uint8Array][]);
      const outcome = await judge(t, label, {
        target: fs,
        before: await snapshot(fs),
        allowed: code ? [code] : [],
        work: async () => applyDiff(fs, await readerOf(zip, inflate)),
        accept: async () => {
          const s = await snapshot(fs);
          if (code !== undefined) return false;
          if (label.startsWith("twins")) return s.has("dir/Readme") && s.has("dir/README");
          if (label.includes("rename")) return s.has("Keep.txt") && !s.has("keep.txt");
          return s.has("KEEP.txt") && s.has("keep.txt");
        },
      });
      assert.equal(outcome, code ? "refused" : "accepted", label);
    }
  });
}
