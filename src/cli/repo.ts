/**
 * The repository commands: backup, snapshots, restore, verify, forget, unlock. A repository is
 * a location, opened by `openStore` (a folder today, through FsStore over NodeFs); source and
 * target trees are folders through NodeFs.
 * Human output goes to stderr (a table for snapshots goes to stdout, being the answer), `--json`
 * puts one JSON document on stdout, and a progress bar is drawn on stderr only when it is a
 * terminal. Node's repository options are used, so a lock left by a crashed ibt on this host is
 * recognised and broken.
 */
import { basename, join, relative, resolve, isAbsolute, sep } from "node:path";
import { mkdirSync, readdirSync, rmSync, existsSync } from "node:fs";
import { IbtError } from "../errors.js";
import { NodeFs } from "../node/fs-node.js";
import { MemoryStore } from "../store/memory.js";
import { nodeRepositoryOptions } from "../node/repo-options.js";
import { isPathLocation, openStore } from "../node/open-store.js";
import { Repository, type Progress, type Snapshot } from "../repo/index.js";
import { flag, integer, value, type Parsed } from "./args.js";

function need(p: Parsed, count: number, usage: string): string[] {
  if (p.positionals.length !== count) throw new IbtError("BAD_ARGUMENT", `usage: ibt ${usage} (see ibt ${usage.split(" ")[0]} --help)`);
  return p.positionals;
}

/** A one-line progress bar on stderr, redrawn at most ten times a second, only on a terminal. */
class ProgressBar {
  private last = 0;
  private readonly tty = process.stderr.isTTY === true;
  readonly update = (p: Progress): void => {
    if (!this.tty) return;
    const now = Date.now();
    if (now - this.last < 100) return;
    this.last = now;
    const total = p.totalBytes ?? p.totalFiles;
    const done = p.totalBytes !== undefined ? p.bytes : p.files;
    const share = total ? Math.min(1, done / total) : undefined;
    const bar = share === undefined ? "" : `[${"#".repeat(Math.round(share * 20)).padEnd(20, ".")}] ${Math.round(share * 100)}% `;
    process.stderr.write(`\r\x1b[K${p.phase} ${bar}${p.files}${p.totalFiles ? `/${p.totalFiles}` : ""} files, ${mib(p.bytes)} MiB, ${mib(p.rate)} MiB/s`);
  };
  done(): void {
    if (this.tty) process.stderr.write("\r\x1b[K");
  }
}

const mib = (n: number) => (n / (1 << 20)).toFixed(1);

function print(p: Parsed, json: unknown, text: string, stream: NodeJS.WriteStream = process.stderr): void {
  if (flag(p, "json")) process.stdout.write(JSON.stringify(json) + "\n");
  else stream.write(text + "\n");
}

function sourceFs(path: string | undefined): NodeFs {
  return new NodeFs(resolve(path!), { sync: true });
}

async function openRepo(location: string): Promise<Repository> {
  if (isPathLocation(location) && !existsSync(resolve(location))) throw new IbtError("NOT_FOUND", `no repository at ${location}`, { path: location });
  return Repository.open(openStore(location), nodeRepositoryOptions());
}

function describe(s: Snapshot): string {
  return `${s.kind} snapshot ${s.id || "(dry run)"}: ${s.files} files, ${s.dirs} dirs, ${s.changed} changes, ${s.bytesStored} bytes stored of ${s.fullSize}`;
}

export async function backupCommand(p: Parsed): Promise<void> {
  const [dir, repoPath] = need(p, 2, "backup DIR REPO");
  const started = Date.now();
  const source = sourceFs(dir);
  const exclude = [...(p.options.get("exclude") ?? [])];
  const isPath = isPathLocation(repoPath!);
  // A repository inside the folder it backs up must not back itself up.
  const inside = isPath ? relative(resolve(dir!), resolve(repoPath!)) : "";
  if (inside && !inside.startsWith("..") && !isAbsolute(inside)) exclude.push(`/${inside.split(sep).join("/")}/`);
  const dryRun = flag(p, "dry-run");
  let repo: Repository;
  if (dryRun && isPath && !existsSync(resolve(repoPath!))) repo = await Repository.init(new MemoryStore(), nodeRepositoryOptions());
  else {
    if (isPath) {
      const at = resolve(repoPath!);
      // Never scatter a repository's objects into a folder that holds something else.
      if (existsSync(at) && readdirSync(at).length && !existsSync(join(at, "ibt-repo.json"))) {
        throw new IbtError("BAD_ARGUMENT", `${repoPath} is neither a repository nor an empty folder`);
      }
      mkdirSync(at, { recursive: true });
    }
    repo = await Repository.openOrInit(openStore(repoPath!), nodeRepositoryOptions());
  }
  const bar = new ProgressBar();
  const snapshot = await repo
    .backup(source, { source: value(p, "source") ?? basename(resolve(dir!)), full: flag(p, "full"), exclude, dryRun, onProgress: bar.update })
    .finally(() => bar.done());
  print(p, { command: "backup", dryRun, ...snapshot, ms: Date.now() - started }, `ibt: ${dryRun ? "would store " : ""}${describe(snapshot)} (${Date.now() - started} ms)`);
}

export async function snapshotsCommand(p: Parsed): Promise<void> {
  const [repoPath] = need(p, 1, "snapshots REPO");
  const list = await (await openRepo(repoPath!)).snapshots();
  const rows = [["ID", "TIME", "KIND", "FILES", "CHANGED", "STORED", "SIZE", "SOURCE"]];
  for (const s of list) rows.push([s.id, s.time.replace(/\.\d+Z$/, "Z"), s.kind, String(s.files), String(s.changed), String(s.bytesStored), String(s.fullSize), s.source]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const table = rows.map((r) => r.map((c, i) => (i >= 3 && i <= 6 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd()).join("\n");
  print(p, list, `${table}\n${list.length} snapshots`, process.stdout);
}

export async function restoreCommand(p: Parsed): Promise<void> {
  const [repoPath, targetPath] = need(p, 2, "restore REPO TARGET");
  const started = Date.now();
  const repo = await openRepo(repoPath!);
  const target = resolve(targetPath!);
  const created = !existsSync(target);
  mkdirSync(target, { recursive: true });
  const bar = new ProgressBar();
  const paths = p.options.get("path");
  try {
    const result = await repo.restore(value(p, "snapshot") ?? "latest", new NodeFs(target), {
      ...(paths ? { paths } : {}),
      delete: flag(p, "delete"),
      onProgress: bar.update,
    });
    bar.done();
    print(
      p,
      { command: "restore", ...result, ms: Date.now() - started },
      `ibt: restored snapshot ${result.snapshot}: ${result.files} files written (${result.bytes} bytes), ${result.unchanged} unchanged, ${result.dirs} dirs and ${result.symlinks} symlinks made, ${result.deleted} removed (${Date.now() - started} ms)`,
    );
  } catch (e) {
    bar.done();
    // A target this command made is not left behind half-made.
    if (created) rmSync(target, { recursive: true, force: true });
    throw e;
  }
}

export async function verifyCommand(p: Parsed): Promise<void> {
  const [repoPath] = need(p, 1, "verify REPO");
  const started = Date.now();
  const bar = new ProgressBar();
  const report = await (await openRepo(repoPath!)).verify({ readData: flag(p, "read-data"), onProgress: bar.update }).finally(() => bar.done());
  const lines = report.problems.map((x) => `ibt: ${x.code}: ${x.snapshot ? `snapshot ${x.snapshot}: ` : ""}${x.message}${x.member ? ` (member ${x.member})` : ""}`);
  print(
    p,
    { command: "verify", ...report, ms: Date.now() - started },
    [...lines, `ibt: ${report.snapshots} snapshots ${report.ok ? "verified, no problems" : `checked, ${report.problems.length} problems`}${flag(p, "read-data") ? ` (${report.bytesRead} bytes read)` : ""}`].join("\n"),
  );
  if (!report.ok) process.exitCode = 1;
}

export async function forgetCommand(p: Parsed): Promise<void> {
  const [repoPath] = need(p, 1, "forget REPO --keep-last N");
  const policy = {
    keepLast: integer(p, "keep-last"),
    keepDaily: integer(p, "keep-daily"),
    keepWeekly: integer(p, "keep-weekly"),
    keepMonthly: integer(p, "keep-monthly"),
    dryRun: flag(p, "dry-run"),
  };
  const result = await (await openRepo(repoPath!)).forget(policy);
  print(p, { command: "forget", ...result }, `ibt: ${policy.dryRun ? "would remove" : "removed"} ${result.removed.length} snapshots, kept ${result.kept.length}${result.removed.length ? `: ${result.removed.join(" ")}` : ""}`);
}

export async function unlockCommand(p: Parsed): Promise<void> {
  const [repoPath] = need(p, 1, "unlock REPO");
  const result = await (await openRepo(repoPath!)).unlock({ force: flag(p, "force") });
  print(p, { command: "unlock", ...result }, result.removed ? `ibt: removed the lock${result.owner ? ` of ${result.owner.operation} by pid ${result.owner.pid ?? "?"} on ${result.owner.host ?? "?"}` : ""}` : "ibt: the repository was not locked");
}
