/**
 * The repository commands: init, backup, snapshots, restore, verify, forget, unlock. A
 * repository is a location (a folder or an `s3:` URL, see repo-location.ts for how it is named),
 * opened by repo-open.ts, with a password where it is encrypted; source and target trees are
 * folders through NodeFs.
 * Human output goes to stderr (a table for snapshots goes to stdout, being the answer), `--json`
 * puts one JSON document on stdout, and progress goes to stderr: a bar when it is a terminal,
 * JSON lines with `--json` or IBT_PROGRESS=json. Node's repository options are used, so a lock left by a
 * crashed ibt on this host is recognised and broken.
 */
import { basename, relative, resolve, isAbsolute, sep } from "node:path";
import { mkdirSync, rmSync, existsSync } from "node:fs";
import { NodeFs } from "../node/fs-node.js";
import { MemoryStore } from "../store/memory.js";
import { nodeRepositoryOptions } from "../node/repo-options.js";
import { isPathLocation, openStore } from "../node/open-store.js";
import { Repository, type Compression, type Snapshot } from "../repo/index.js";
import { compressionLevel } from "../repo/backup-write.js";
import { flag, integer, value, type Parsed } from "./args.js";
import { repositoryArgs } from "./repo-location.js";
import { existingStore, holdsRepository, openEncrypted, openOrCreate, openRepository, storeForWriting } from "./repo-open.js";
import { EncryptedStore } from "../crypto/encrypted-store.js";
import { CONFIG, LOCK, exists } from "../repo/layout.js";
import { unlock } from "../repo/lock.js";
import { ProgressDisplay, progressMode } from "./progress.js";

/** Progress on stderr: a bar on a terminal, JSON lines where `--json` or IBT_PROGRESS=json asks for them (progress.ts). */
function progressDisplay(p: Parsed): ProgressDisplay {
  const mode = progressMode(process.env["IBT_PROGRESS"], process.stderr.isTTY === true, flag(p, "json"));
  return new ProgressDisplay(mode, (text) => process.stderr.write(text));
}

function print(p: Parsed, json: unknown, text: string, stream: NodeJS.WriteStream = process.stderr): void {
  if (flag(p, "json")) process.stdout.write(JSON.stringify(json) + "\n");
  else stream.write(text + "\n");
}

function sourceFs(path: string | undefined): NodeFs {
  return new NodeFs(resolve(path!), { sync: true });
}

async function openRepo(p: Parsed, location: string): Promise<Repository> {
  return (await openRepository(p, location)).repo;
}

function describe(s: Snapshot): string {
  return `${s.kind} snapshot ${s.id || "(dry run)"}: ${s.files} files, ${s.dirs} dirs, ${s.changed} changes, ${s.bytesStored} bytes stored of ${s.fullSize}`;
}

async function noRepositoryAt(location: string): Promise<boolean> {
  if (isPathLocation(location) && !existsSync(resolve(location))) return true;
  return !(await holdsRepository(await openStore(location)));
}

export async function initCommand(p: Parsed): Promise<void> {
  const { location } = repositoryArgs(p, "init REPO");
  const { repo, encrypted } = await openOrCreate(p, location, await storeForWriting(location), true);
  print(
    p,
    { command: "init", location, id: repo.id, encrypted: encrypted !== undefined, ...(encrypted ? { key: encrypted.keyId } : {}) },
    encrypted
      ? `ibt: created encrypted repository ${repo.id} at ${location} (key ${encrypted.keyId}); without its password the data cannot be read`
      : `ibt: created repository ${repo.id} at ${location}, NOT encrypted: anyone who can read the storage can read the backups`,
  );
}

export async function backupCommand(p: Parsed): Promise<void> {
  const { location: repoPath, args: [dir] } = repositoryArgs(p, "backup DIR REPO");
  const bar = progressDisplay(p);
  const started = Date.now();
  const source = sourceFs(dir);
  const exclude = [...(p.options.get("exclude") ?? [])];
  const isPath = isPathLocation(repoPath);
  // A repository inside the folder it backs up must not back itself up.
  const inside = isPath ? relative(resolve(dir!), resolve(repoPath)) : "";
  if (inside && !inside.startsWith("..") && !isAbsolute(inside)) exclude.push(`/${inside.split(sep).join("/")}/`);
  const dryRun = flag(p, "dry-run");
  const flagged = value(p, "compression");
  const compression = (flagged ?? (process.env["IBT_COMPRESSION"] || undefined)) as Compression | undefined;
  compressionLevel(compression, flagged === undefined ? "IBT_COMPRESSION" : "--compression"); // a bad value makes no repository
  let repo: Repository;
  let created = false;
  let encrypted = false;
  // A dry run where there is no repository yet makes none, and so asks for no password.
  if (dryRun && (await noRepositoryAt(repoPath))) repo = await Repository.init(new MemoryStore(), nodeRepositoryOptions());
  else {
    const opened = await openOrCreate(p, repoPath, await storeForWriting(repoPath), false);
    ({ repo, created } = opened);
    encrypted = opened.encrypted !== undefined;
  }
  const snapshot = await repo
    .backup(source, { source: value(p, "source") ?? basename(resolve(dir!)), full: flag(p, "full"), exclude, dryRun, ...(compression ? { compression } : {}), onProgress: bar.update })
    .finally(() => bar.done());
  const made = created ? ` in a new ${encrypted ? "encrypted" : "unencrypted"} repository ${repo.id}` : "";
  print(
    p,
    { command: "backup", dryRun, ...(created ? { createdRepository: repo.id } : {}), ...snapshot, ms: Date.now() - started },
    `ibt: ${dryRun ? "would store " : ""}${describe(snapshot)}${made} (${Date.now() - started} ms)`,
  );
}

export async function snapshotsCommand(p: Parsed): Promise<void> {
  const { location } = repositoryArgs(p, "snapshots REPO");
  const list = await (await openRepo(p, location)).snapshots();
  const rows = [["ID", "TIME", "KIND", "FILES", "CHANGED", "STORED", "SIZE", "SOURCE"]];
  for (const s of list) rows.push([s.id, s.time.replace(/\.\d+Z$/, "Z"), s.kind, String(s.files), String(s.changed), String(s.bytesStored), String(s.fullSize), s.source]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const table = rows.map((r) => r.map((c, i) => (i >= 3 && i <= 6 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd()).join("\n");
  print(p, list, `${table}\n${list.length} snapshots`, process.stdout);
}

export async function restoreCommand(p: Parsed): Promise<void> {
  const { location, args: [targetPath] } = repositoryArgs(p, "restore REPO TARGET");
  const bar = progressDisplay(p);
  const started = Date.now();
  const repo = await openRepo(p, location);
  const target = resolve(targetPath!);
  const created = !existsSync(target);
  mkdirSync(target, { recursive: true });
  const paths = p.options.get("path");
  const fs = new NodeFs(target, { sync: true, createInWorker: true });
  try {
    const result = await repo.restore(value(p, "snapshot") ?? "latest", fs, {
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
  } finally {
    await fs.close();
  }
}

export async function verifyCommand(p: Parsed): Promise<void> {
  const { location } = repositoryArgs(p, "verify REPO");
  const bar = progressDisplay(p);
  const started = Date.now();
  const repo = await openRepo(p, location);
  const report = await repo.verify({ readData: flag(p, "read-data"), onProgress: bar.update }).finally(() => bar.done());
  const lines = report.problems.map((x) => `ibt: ${x.code}: ${x.snapshot ? `snapshot ${x.snapshot}: ` : ""}${x.message}${x.member ? ` (member ${x.member})` : ""}`);
  print(
    p,
    { command: "verify", ...report, ms: Date.now() - started },
    [...lines, `ibt: ${report.snapshots} snapshots ${report.ok ? "verified, no problems" : `checked, ${report.problems.length} problems`}${flag(p, "read-data") ? ` (${report.bytesRead} bytes read)` : ""}`].join("\n"),
  );
  if (!report.ok) process.exitCode = 1;
}

export async function forgetCommand(p: Parsed): Promise<void> {
  const { location } = repositoryArgs(p, "forget REPO");
  const policy = {
    keepLast: integer(p, "keep-last"),
    keepDaily: integer(p, "keep-daily"),
    keepWeekly: integer(p, "keep-weekly"),
    keepMonthly: integer(p, "keep-monthly"),
    dryRun: flag(p, "dry-run"),
  };
  const result = await (await openRepo(p, location)).forget(policy);
  print(p, { command: "forget", ...result }, `ibt: ${policy.dryRun ? "would remove" : "removed"} ${result.removed.length} snapshots, kept ${result.kept.length}${result.removed.length ? `: ${result.removed.join(" ")}` : ""}`);
}

export async function unlockCommand(p: Parsed): Promise<void> {
  const { location } = repositoryArgs(p, "unlock REPO");
  const inner = await existingStore(location);
  // A repository whose making was cut short has no record yet. Its lock is the plain one a new
  // key is made under, or, once there is a key, read through it (so a live init is recognised).
  const making = !(await exists(inner, CONFIG)) && (await exists(inner, LOCK));
  const isAlive = nodeRepositoryOptions().isAlive;
  const result = making
    ? await unlock((await EncryptedStore.isEncrypted(inner)) ? await openEncrypted(p, location, inner) : inner, isAlive ? { isAlive } : {}, flag(p, "force"))
    : await (await openRepo(p, location)).unlock({ force: flag(p, "force") });
  print(p, { command: "unlock", ...result }, result.removed ? `ibt: removed the lock${result.owner ? ` of ${result.owner.operation} by pid ${result.owner.pid ?? "?"} on ${result.owner.host ?? "?"}` : ""}` : "ibt: the repository was not locked");
}
