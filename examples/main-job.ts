/**
 * The main job, run by `npm start` with no arguments: back up the shipped sample folder into a
 * repository in a temporary folder, change some files, back up again, restore both snapshots
 * into fresh temporary folders, verify the repository with every byte read, and compare each
 * restored tree with the tree as it was when it was backed up (types, paths, sizes, modes,
 * mtimes, content hashes, symlink targets). Prints a table and exits non-zero if anything does
 * not match.
 *
 * The sample is copied first and only the copy is changed. Git cannot store an empty directory,
 * so the copy gets one here, and the symlink is made here too when a checkout did not keep it.
 */
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DirIndex, FsStore, Repository, type Snapshot } from "../src/index.js";
import { NodeFs, nodeRepositoryOptions } from "../src/node/index.js";

const SAMPLE = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "examples", "sample");

async function treeId(dir: string): Promise<string> {
  return (await DirIndex.build(new NodeFs(dir), { signatures: false })).id;
}

function prepare(work: string): void {
  cpSync(SAMPLE, work, { recursive: true, verbatimSymlinks: true });
  mkdirSync(join(work, "cache"));
  const link = join(work, "latest-meeting.md");
  if (!existsSync(link) || !lstatSync(link).isSymbolicLink()) {
    rmSync(link, { force: true });
    symlinkSync("notes/2026-11-meeting.md", link);
  }
}

/** A day's work on the copy: an edit, a binary patch, a new file, a rename, a chmod, a relink. */
async function change(work: string): Promise<void> {
  const fs = new NodeFs(work);
  const enc = (s: string) => new TextEncoder().encode(s);
  const todo = await fs.read("notes/todo.txt", 0, 1 << 20);
  await fs.writeFile("notes/todo.txt", new Uint8Array([...todo, ...enc("renew the uplink certificate\n")]));
  const log = await fs.read("data/measurements.bin", 0, 1 << 30);
  for (let i = 0; i < 4096; i++) log[150_000 + i] = (log[150_000 + i]! * 31 + i) & 0xff;
  await fs.writeFile("data/measurements.bin", log);
  await fs.writeFile("notes/2026-12-plan.md", enc("# December\n\nWinter run from the 3rd; mast B probe replaced.\n"));
  await fs.rename("config/settings.json", "config/settings-2026.json");
  await fs.chmod("src/app.js", 0o755);
  unlinkSync(join(work, "latest-meeting.md"));
  await fs.symlink("notes/2026-12-plan.md", "latest-meeting.md");
  await fs.mkdir("archive/2025", { recursive: true });
}

async function main(): Promise<number> {
  const tmp = mkdtempSync(join(tmpdir(), "ibt-main-job-"));
  const work = join(tmp, "station");
  const repoDir = join(tmp, "repository");
  mkdirSync(repoDir);
  try {
    prepare(work);
    const repo = await Repository.init(new FsStore(new NodeFs(repoDir)), nodeRepositoryOptions());
    const rows: { snapshot: Snapshot; ms: number; tree: string }[] = [];
    for (let round = 0; round < 2; round++) {
      if (round === 1) await change(work);
      const started = Date.now();
      const snapshot = await repo.backup(new NodeFs(work), { source: "station" });
      rows.push({ snapshot, ms: Date.now() - started, tree: await treeId(work) });
    }

    const problems: string[] = [];
    for (const [i, row] of rows.entries()) {
      const target = join(tmp, `restore-${i + 1}`);
      mkdirSync(target);
      await repo.restore(row.snapshot.id, new NodeFs(target));
      if ((await treeId(target)) !== row.tree) problems.push(`snapshot ${row.snapshot.id} restored to a different tree`);
    }
    const report = await repo.verify({ readData: true });
    for (const p of report.problems) problems.push(`verify: ${p.code}: ${p.message}`);

    const table = [
      ["snapshot", "kind", "files changed", "bytes stored", "full size", "time"],
      ...rows.map(({ snapshot: s, ms }) => [s.id, s.kind, String(s.changed), String(s.bytesStored), String(s.fullSize), `${ms} ms`]),
    ];
    const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
    for (const r of table) console.log(r.map((cell, c) => (c >= 2 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join("  "));
    console.log(`\nrestored ${rows.length} snapshots: ${problems.length ? "MISMATCH" : "identical to the trees backed up"}`);
    console.log(`verify --read-data: ${report.ok ? "ok" : "FAILED"} (${report.snapshots} snapshots, ${report.bytesRead} bytes read)`);
    for (const p of problems) console.error(`ibt main job: ${p}`);
    if (process.env.IBT_KEEP) console.log(`kept in ${tmp}`);
    return problems.length ? 1 : 0;
  } finally {
    if (!process.env.IBT_KEEP) rmSync(tmp, { recursive: true, force: true });
  }
}

process.exitCode = await main();
