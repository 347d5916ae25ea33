/**
 * bench/peers-tools.mjs: the backup tools the peer benchmark runs, each behind one small face.
 *
 * A tool is `{ name, available(), keepsModes, init(ctx), backup(ctx, step), restore(ctx, id,
 * target) }`. `ctx` is the tool's own sandbox for one run of one series: `repo` (the folder whose
 * bytes are counted), `src` (the folder backed up, shared by every tool), `cache` (anything the
 * tool keeps on the side and may rebuild: restic's and borg's caches, duplicity's archive dir;
 * never counted as repository bytes), `env`. `backup` returns the id `restore` takes for that
 * snapshot. Every call is one process, as a user would run it, so start-up costs are in the times
 * of every tool alike.
 *
 * Each tool runs at its documented defaults except where it has a compression choice (issue 18):
 * ibt unencrypted (`--insecure-no-password`), duplicity `--no-encryption`, restic repository v2
 * (compression auto), borg `-e none -C zstd,3`, rdiff-backup as is. duplicity and rdiff-backup
 * name increments by the second, so their backups are given consecutive fake times
 * (`--current-time`) instead of sleeping between runs; restores address those times.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const ROOT = path.dirname(path.dirname(new URL(import.meta.url).pathname));
const IBT = path.join(ROOT, "dist/cli/ibt.cjs");

/** Runs one command to completion; throws with its stderr when it fails. */
export function run(cmd, args, { cwd, env } = {}) {
  const r = spawnSync(cmd, args, { cwd, env: { ...process.env, ...env }, encoding: "utf8", maxBuffer: 1 << 28 });
  if (r.error) throw r.error;
  if (r.status !== 0) {
    const tail = `${r.stderr}\n${r.stdout}`.trim().split("\n").slice(-6).join("\n");
    throw new Error(`${path.basename(cmd)} ${args.join(" ")} exited ${r.status}:\n${tail}`);
  }
  return r.stdout;
}

function onPath(cmd) {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).status === 0;
}

/** Seconds since the epoch for step `i`: a day ago, a minute apart (past times only). */
const fakeTime = (ctx, i) => ctx.t0 + 60 * i;

const ibt = {
  name: "ibt",
  keepsModes: true,
  available: () => fs.existsSync(IBT),
  init(ctx) {
    run(process.execPath, [IBT, "init", ctx.repo, "--insecure-no-password", "--json"]);
  },
  backup(ctx) {
    const out = JSON.parse(run(process.execPath, [IBT, "backup", ctx.src, ctx.repo, "--json"]));
    return { id: out.id, kind: out.kind };
  },
  restore(ctx, id, target) {
    run(process.execPath, [IBT, "restore", ctx.repo, target, "--snapshot", id, "--json"]);
  },
};

const duplicity = {
  name: "duplicity",
  keepsModes: true,
  available: () => onPath("duplicity"),
  init() {},
  args: (ctx) => ["--no-encryption", "--archive-dir", ctx.cache, "--name", "bench"],
  backup(ctx, i) {
    run("duplicity", [...this.args(ctx), "--current-time", String(fakeTime(ctx, i)), ctx.src, `file://${ctx.repo}`], { env: ctx.env });
    return { id: String(fakeTime(ctx, i)) };
  },
  restore(ctx, id, target) {
    run("duplicity", ["restore", ...this.args(ctx), "-t", id, `file://${ctx.repo}`, target], { env: ctx.env });
  },
};

const rdiffBackup = {
  name: "rdiff-backup",
  keepsModes: true,
  available: () => onPath("rdiff-backup"),
  init() {},
  backup(ctx, i) {
    run("rdiff-backup", ["--current-time", String(fakeTime(ctx, i)), "backup", ctx.src, ctx.repo], { env: ctx.env });
    return { id: String(fakeTime(ctx, i)) };
  },
  restore(ctx, id, target) {
    run("rdiff-backup", ["restore", "--at", id, ctx.repo, target], { env: ctx.env });
  },
};

const borg = {
  name: "borg",
  keepsModes: true,
  available: () => onPath("borg"),
  env: (ctx) => ({ ...ctx.env, BORG_BASE_DIR: ctx.cache, BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: "yes", BORG_RELOCATED_REPO_ACCESS_IS_OK: "yes" }),
  init(ctx) {
    run("borg", ["init", "-e", "none", ctx.repo], { env: this.env(ctx) });
  },
  backup(ctx, i) {
    // Run in the source folder so the archive holds relative paths, as the other tools do.
    run("borg", ["create", "-C", "zstd,3", `${ctx.repo}::v${i}`, "."], { cwd: ctx.src, env: this.env(ctx) });
    return { id: `v${i}` };
  },
  restore(ctx, id, target) {
    fs.mkdirSync(target, { recursive: true });
    run("borg", ["extract", `${ctx.repo}::${id}`], { cwd: target, env: this.env(ctx) });
  },
};

const restic = {
  name: "restic",
  keepsModes: true,
  available: () => onPath("restic"),
  env: (ctx) => ({ ...ctx.env, RESTIC_PASSWORD: "bench-peers", RESTIC_CACHE_DIR: ctx.cache }),
  init(ctx) {
    run("restic", ["init", "--repository-version", "2", "-r", ctx.repo, "-q"], { env: this.env(ctx) });
  },
  backup(ctx) {
    // "." in the source folder: the snapshot's root is the folder's content.
    const lines = run("restic", ["-r", ctx.repo, "backup", ".", "--json"], { cwd: ctx.src, env: this.env(ctx) }).trim().split("\n");
    const summary = lines.map((l) => JSON.parse(l)).find((m) => m.message_type === "summary");
    return { id: summary.snapshot_id };
  },
  restore(ctx, id, target) {
    run("restic", ["-r", ctx.repo, "restore", id, "--target", target, "-q"], { env: this.env(ctx) });
  },
};

/** Every tool the benchmark knows, ibt first. */
export const TOOLS = [ibt, duplicity, rdiffBackup, borg, restic];
