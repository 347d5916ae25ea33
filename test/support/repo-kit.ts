/**
 * What the repository tests share: the stores a repository lives in and the adapters its source
 * and target trees are on (each test file takes factories, so the fault-injection suite can hand
 * in its own, and an S3 or R2 store joins every repository test by joining STORES and
 * REPO_CASES: S3_STORES and S3_REPO_CASES are S3Store against a strict server each test starts), a seeded random tree and random changes made through the FsAdapter API (so the
 * same script runs on every adapter), and a tree's identity.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { DirIndex, FsStore, MemoryFs, MemoryStore, joinPath, parentPath, type FsAdapter, type IndexEntry, type Store } from "../../src/index.js";
import { parentTree } from "../../src/repo/stored.js";
import type { SnapshotRecord } from "../../src/repo/snapshot.js";
import type { StoreFactory } from "./store-conformance.js";
import { NodeFs } from "../../src/node/index.js";
import { edit, EDIT_KINDS, randomBytes, textBytes } from "./helpers.js";
import { s3StoreFactory } from "./s3-repo-kit.js";
import { ENCRYPTED_REPO_CASES, ENCRYPTED_STORES } from "./encrypted-repo-kit.js";

/** A factory of fresh, empty, writable adapters. */
export interface AdapterFactory {
  name: string;
  make(): Promise<FsAdapter>;
}

export const memoryFactory: AdapterFactory = { name: "MemoryFs", make: async () => new MemoryFs() };

export const nodeFactory: AdapterFactory = {
  name: "NodeFs",
  make: async () => {
    const dir = mkdtempSync(join(tmpdir(), "ibt-repo-test-"));
    after(() => rmSync(dir, { recursive: true, force: true }));
    return new NodeFs(dir);
  },
};

export const FACTORIES: AdapterFactory[] = [memoryFactory, nodeFactory];

export type { StoreFactory };

export const memoryStoreFactory: StoreFactory = { name: "MemoryStore", make: async () => new MemoryStore() };
export const fsStoreMemoryFactory: StoreFactory = { name: "FsStore(MemoryFs)", make: async () => new FsStore(new MemoryFs()) };
export const fsStoreNodeFactory: StoreFactory = { name: "FsStore(NodeFs)", make: async () => new FsStore(await nodeFactory.make()) };

/** S3Store against the strict S3 test server, one server per test. */
export const S3_STORES: StoreFactory[] = [s3StoreFactory];

/** Every store a repository is tested on. */
export const STORES: StoreFactory[] = [memoryStoreFactory, fsStoreMemoryFactory, fsStoreNodeFactory, ...S3_STORES, ...ENCRYPTED_STORES];

/** A repository's store with the adapter its trees are on: what a repository test runs once per. */
export interface RepoCase {
  name: string;
  store: StoreFactory;
  trees: AdapterFactory;
}

export const S3_REPO_CASES: RepoCase[] = [{ name: "S3Store(strict server)", store: s3StoreFactory, trees: memoryFactory }];

export const REPO_CASES: RepoCase[] = [
  { name: "MemoryStore", store: memoryStoreFactory, trees: memoryFactory },
  { name: "FsStore(MemoryFs)", store: fsStoreMemoryFactory, trees: memoryFactory },
  { name: "FsStore(NodeFs)", store: fsStoreNodeFactory, trees: nodeFactory },
  ...S3_REPO_CASES,
  ...ENCRYPTED_REPO_CASES,
];

/** The identity of what a tree holds: types, paths, sizes, modes, mtimes, content, link targets. */
export async function treeId(fs: FsAdapter): Promise<string> {
  return (await DirIndex.build(fs, { signatures: false })).id;
}

/** A readable listing of a tree, for failure messages. */
export async function listing(fs: FsAdapter): Promise<string> {
  const index = await DirIndex.build(fs, { signatures: false });
  return [...index.entries.values()].map((e) => `${e.type} ${e.path} ${e.size} ${e.mode.toString(8)} ${e.mtimeMs} ${e.hash?.slice(0, 8) ?? ""} ${e.target ?? ""}`).join("\n");
}

interface Walked {
  files: string[];
  dirs: string[];
  links: string[];
}

async function walk(fs: FsAdapter, dir = "", out: Walked = { files: [], dirs: [], links: [] }): Promise<Walked> {
  for (const name of (await fs.list(dir)).sort()) {
    const path = joinPath(dir, name);
    const st = await fs.lstat(path);
    if (st.type === "dir") {
      out.dirs.push(path);
      await walk(fs, path, out);
    } else (st.type === "file" ? out.files : out.links).push(path);
  }
  return out;
}

/** Random trees and random changes to them, reproducible from a seed. */
export class TreeChanger {
  private n = 0;
  constructor(
    readonly fs: FsAdapter,
    private readonly next: () => number,
  ) {}

  private pick<T>(list: readonly T[]): T | undefined {
    return list.length ? list[Math.floor(this.next() * list.length)] : undefined;
  }

  private content(): Uint8Array {
    const size = this.pick([0, 1, 100, 3000, 20_000, 70_000])! + Math.floor(this.next() * 500);
    return this.next() < 0.5 ? textBytes(this.next, size) : randomBytes(this.next, size);
  }

  private fresh(prefix: string): string {
    return `${prefix}${this.n++}`;
  }

  /** A starting tree: nested directories, files of many sizes, an empty directory, symlinks. */
  async seed(files = 24): Promise<void> {
    await this.fs.mkdir("docs/deep/er", { recursive: true });
    await this.fs.mkdir("empty");
    await this.fs.mkdir("src");
    for (let i = 0; i < files; i++) {
      const dir = this.pick(["", "docs", "docs/deep", "docs/deep/er", "src"])!;
      await this.fs.writeFile(joinPath(dir, this.fresh("f")), this.content());
    }
    if (this.fs.capabilities.symlinks) {
      await this.fs.symlink("docs", "to-docs");
      await this.fs.symlink("../nowhere", "src/dangling");
    }
  }

  /** Makes `count` random changes of every kind this adapter supports. */
  async change(count: number): Promise<string[]> {
    const done: string[] = [];
    for (let i = 0; i < count; i++) done.push(await this.one());
    return done;
  }

  private async one(): Promise<string> {
    const t = await walk(this.fs);
    const file = this.pick(t.files);
    const dir = this.pick(["", ...t.dirs])!;
    const kinds = ["edit", "edit", "add", "delete", "rename", "mode", "mtime", "mkdir", "rmdir", "moveDir", "typeChange"];
    if (this.fs.capabilities.symlinks) kinds.push("symlink", "relink");
    const kind = this.pick(kinds)!;
    switch (kind) {
      case "edit": {
        if (!file) break;
        const old = await this.fs.read(file, 0, 1 << 30);
        await this.fs.writeFile(file, edit(this.next, old, this.pick(EDIT_KINDS)!), { mode: (await this.fs.lstat(file)).mode & 0o7777 });
        return `edit ${file}`;
      }
      case "add": {
        const path = joinPath(dir, this.fresh("n"));
        await this.fs.writeFile(path, this.content());
        return `add ${path}`;
      }
      case "delete":
        if (!file) break;
        await this.fs.remove(file);
        return `delete ${file}`;
      case "rename": {
        if (!file) break;
        const to = joinPath(dir, this.fresh("r"));
        await this.fs.rename(file, to);
        return `rename ${file} ${to}`;
      }
      case "mode":
        if (!file || !this.fs.capabilities.modes) break;
        await this.fs.chmod(file, this.pick([0o600, 0o644, 0o755, 0o640, 0o700])!);
        return `chmod ${file}`;
      case "mtime": {
        const path = this.pick([...t.files, ...t.dirs]);
        if (!path || !this.fs.capabilities.mtimes) break;
        await this.fs.utimes(path, Date.UTC(2020, 0, 1) + Math.floor(this.next() * 1e11));
        return `utimes ${path}`;
      }
      case "mkdir": {
        const path = joinPath(dir, this.fresh("e"));
        await this.fs.mkdir(path);
        return `mkdir ${path}`;
      }
      case "rmdir": {
        const d = this.pick(t.dirs);
        if (!d || d === "docs") break;
        await this.fs.remove(d, { recursive: true });
        return `rm -r ${d}`;
      }
      case "moveDir": {
        const d = this.pick(t.dirs);
        if (!d) break;
        const to = this.fresh("m");
        await this.fs.rename(d, to);
        return `mv ${d} ${to}`;
      }
      case "typeChange": {
        if (!file) break;
        await this.fs.remove(file);
        await this.fs.mkdir(file);
        await this.fs.writeFile(joinPath(file, "inside"), this.content());
        return `file to dir ${file}`;
      }
      case "symlink": {
        const path = joinPath(dir, this.fresh("s"));
        await this.fs.symlink(this.pick(t.files) ?? "x", path);
        return `symlink ${path}`;
      }
      case "relink": {
        const link = this.pick(t.links);
        if (!link) break;
        await this.fs.remove(link);
        await this.fs.symlink(`${this.fresh("target")}/${parentPath(link) || "."}`, link);
        return `relink ${link}`;
      }
    }
    return "nothing";
  }
}

/** The snapshot's tree read as a backup reads its parent: as a stream, checked as it ends. */
export async function streamedTree(store: Store, rec: SnapshotRecord, records: readonly SnapshotRecord[]): Promise<{ id: string; sortedEntries: IndexEntry[] }> {
  const tree = await parentTree(store, rec, records);
  const sortedEntries: IndexEntry[] = [];
  for await (const e of tree.entries()) sortedEntries.push(e);
  return { id: tree.id, sortedEntries };
}
