import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { IBT, rng, tempDir, textBytes } from "../support/helpers.js";

interface Line {
  phase: string;
  files: number;
  bytes: number;
  totalFiles?: number;
  totalBytes?: number;
  rate: number;
  elapsedMs: number;
  etaSeconds?: number;
}

/** Runs ibt with --json (and IBT_PROGRESS as given); returns its answer and the progress lines, every stderr line parsed. */
function withProgress(args: string[], setting: string | undefined = "json"): { answer: any; lines: Line[] } {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env["IBT_PROGRESS"];
  if (setting !== undefined) env["IBT_PROGRESS"] = setting;
  const r = spawnSync(process.execPath, [IBT, ...args, "--json"], { env, maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, r.stderr.toString());
  const lines = r.stderr.toString().split("\n").filter(Boolean).map((l) => JSON.parse(l) as Line);
  return { answer: JSON.parse(r.stdout.toString()), lines };
}

/** Each phase's lines are contiguous, and within a phase files, bytes and time never go back. */
function assertWellFormed(lines: Line[]): string[] {
  const phases: string[] = [];
  for (const [i, l] of lines.entries()) {
    assert.equal(typeof l.phase, "string");
    for (const k of ["files", "bytes", "rate", "elapsedMs"] as const) assert.ok(Number.isInteger(l[k]) && l[k] >= 0, `${k} in ${JSON.stringify(l)}`);
    const prev = lines[i - 1];
    if (prev?.phase === l.phase) {
      assert.ok(l.files >= prev.files && l.bytes >= prev.bytes && l.elapsedMs >= prev.elapsedMs, `counts go back in ${JSON.stringify([prev, l])}`);
    } else {
      assert.ok(!phases.includes(l.phase), `phase ${l.phase} comes back after another`);
      phases.push(l.phase);
    }
  }
  return phases;
}

test("IBT_PROGRESS=json: backup and restore write one JSON progress line per tick on stderr, counts monotonic per phase", () => {
  const root = tempDir();
  const src = join(root, "src");
  const repo = join(root, "repo");
  const next = rng(16);
  let bytes = 0;
  for (let i = 0; i < 300; i++) {
    mkdirSync(join(src, `d${i % 6}`), { recursive: true });
    const data = textBytes(next, 200 + Math.floor(next() * 2800));
    writeFileSync(join(src, `d${i % 6}`, `f${i}.txt`), data);
    bytes += data.length;
  }

  const backup = withProgress(["backup", src, repo, "--insecure-no-password"]);
  const phases = assertWellFormed(backup.lines);
  assert.deepEqual(phases, ["index", "diff", "write", "commit"]);
  const last = (phase: string) => backup.lines.filter((l) => l.phase === phase).at(-1)!;
  assert.equal(last("index").bytes, bytes, "the walk's last line has read every byte");
  assert.equal(last("diff").totalFiles, 300);
  assert.equal(last("diff").totalBytes, bytes);
  assert.equal(last("write").files, backup.answer.changed, "the archive's last line counts every change");
  assert.equal(last("write").totalFiles, backup.answer.changed);

  const restore = withProgress(["restore", repo, join(root, "out")]);
  assert.deepEqual(assertWellFormed(restore.lines), ["restore"]);
  const done = restore.lines.at(-1)!;
  assert.equal(done.files, 300);
  assert.equal(done.bytes, bytes);
  assert.equal(done.totalBytes, bytes);
  assert.equal(done.etaSeconds, 0, "the last line of a finished phase estimates nothing left");
});

test("--json alone writes JSON progress lines on stderr (stderr not a terminal); IBT_PROGRESS=none silences them", () => {
  const root = tempDir();
  const src = join(root, "src");
  mkdirSync(src);
  for (let i = 0; i < 20; i++) writeFileSync(join(src, `f${i}.txt`), `file ${i}\n`.repeat(i + 1));
  const first = withProgress(["backup", src, join(root, "repo"), "--insecure-no-password"], undefined);
  assert.deepEqual(assertWellFormed(first.lines), ["index", "diff", "write", "commit"]);
  assert.equal(first.answer.files, 20);
  const quiet = withProgress(["backup", src, join(root, "repo")], "none");
  assert.deepEqual(quiet.lines, [], "IBT_PROGRESS=none: nothing on stderr");
  assert.equal(quiet.answer.files, 20);
});

test("IBT_PROGRESS with an unknown value is a usage error, before anything is written", () => {
  const root = tempDir();
  mkdirSync(join(root, "src"));
  const r = spawnSync(process.execPath, [IBT, "backup", join(root, "src"), join(root, "repo"), "--insecure-no-password"], { env: { ...process.env, IBT_PROGRESS: "loud" } });
  assert.equal(r.status, 2);
  assert.match(r.stderr.toString(), /^ibt: BAD_ARGUMENT: IBT_PROGRESS must be json, bar or none/);
  assert.ok(!existsSync(join(root, "repo")), "no repository was made");
});
