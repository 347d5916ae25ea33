import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { NodeFs, nodeDeflate } from "../../src/node/index.js";
import { IBT, ROOT, ibt, ok, randomBytes, rng, tempDir } from "../support/helpers.js";
import { treeId } from "../support/repo-kit.js";

function json(r: ReturnType<typeof ibt>): any {
  assert.equal(r.status, 0, r.stderr.toString());
  return JSON.parse(r.stdout.toString());
}

// These tests use repositories without a password (--insecure-no-password at the first backup);
// encrypted ones are tested in cli-encrypted.test.ts, repositories on S3 in cli-s3.test.ts.

test("ibt backup, snapshots, restore, verify, forget and unlock on an unencrypted repository, with --json", async () => {
  const root = tempDir();
  const src = join(root, "src");
  const repo = join(root, "repo");
  mkdirSync(join(src, "a/empty"), { recursive: true });
  writeFileSync(join(src, "a/data.bin"), randomBytes(rng(1), 300_000));
  writeFileSync(join(src, "notes.txt"), "first\n");
  writeFileSync(join(src, "skip.log"), "excluded");
  symlinkSync("notes.txt", join(src, "link"));

  const dry = json(ibt(["backup", src, repo, "--dry-run", "--json"]));
  assert.equal(dry.id, "");
  assert.ok(!existsSync(repo), "a dry run creates no repository");
  const first = json(ibt(["backup", src, repo, "--exclude", "*.log", "--insecure-no-password", "--json"]));
  assert.ok(!existsSync(join(repo, "keys")), "no key objects: asked for without a password");
  assert.equal(first.kind, "full");
  assert.equal(first.files, 2);
  writeFileSync(join(src, "notes.txt"), "second\n");
  writeFileSync(join(src, "skip.log"), "still excluded");
  const second = json(ibt(["backup", src, repo, "--exclude", "*.log", "--json"]));
  assert.equal(second.kind, "incremental");
  assert.equal(second.parent, first.id);
  assert.equal(second.changed, 1);

  const list = json(ibt(["snapshots", repo, "--json"]));
  assert.deepEqual(list.map((s: { id: string }) => s.id), [first.id, second.id]);
  const table = ibt(["snapshots", repo]).stdout.toString();
  assert.match(table, new RegExp(`${first.id}.*full`));
  assert.match(table, new RegExp(`${second.id}.*incremental`));

  const out1 = join(root, "out1");
  const r1 = json(ibt(["restore", repo, out1, "--snapshot", first.id.slice(0, 6), "--json"]));
  assert.equal(r1.snapshot, first.id);
  assert.equal(readFileSync(join(out1, "notes.txt"), "utf8"), "first\n");
  assert.ok(!existsSync(join(out1, "skip.log")));
  const out2 = join(root, "out2");
  json(ibt(["restore", repo, out2, "--json"]));
  assert.equal(readFileSync(join(out2, "notes.txt"), "utf8"), "second\n");
  assert.equal(await treeId(new NodeFs(out2)), await treeIdWithout(src, "skip.log"));
  const one = join(root, "one");
  const r3 = json(ibt(["restore", repo, one, "--path", "a/data.bin", "--json"]));
  assert.equal(r3.files, 1);
  assert.deepEqual(readdirSync(one), ["a"]);

  const v = json(ibt(["verify", repo, "--read-data", "--json"]));
  assert.equal(v.ok, true);
  assert.ok(v.bytesRead > 300_000);
  const f = json(ibt(["forget", repo, "--keep-last", "1", "--json"]));
  assert.deepEqual(f.kept, [first.id, second.id], "the full stays: the kept incremental needs it");
  const u = json(ibt(["unlock", repo, "--json"]));
  assert.equal(u.removed, false);
});

async function treeIdWithout(dir: string, name: string): Promise<string> {
  const { DirIndex } = await import("../../src/index.js");
  return (await DirIndex.build(new NodeFs(dir), { signatures: false, exclude: [name] })).id;
}

test("ibt repository commands: --help for each, usage errors exit 2, failures exit 1 with one line", async () => {
  for (const command of ["init", "backup", "snapshots", "restore", "verify", "forget", "unlock", "key"]) {
    const r = ibt([command, "--help"]);
    assert.equal(r.status, 0);
    assert.match(r.stdout.toString(), new RegExp(`^usage: ibt ${command} `));
  }
  const usage = ibt(["--help"]).stdout.toString();
  for (const line of [/ibt init REPO/, /ibt backup DIR REPO/, /ibt key list\|add\|remove\|passwd REPO/, /IBT_REPOSITORY/, /IBT_PASSWORD_COMMAND/]) assert.match(usage, line);
  const root = tempDir();
  const missing = ibt(["restore", join(root, "nope"), join(root, "t")]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr.toString(), /^ibt: NOT_FOUND: /);
  assert.ok(!existsSync(join(root, "t")));
  assert.equal(ibt(["backup", root]).status, 2);
  mkdirSync(join(root, "busy"));
  writeFileSync(join(root, "busy", "someone-elses.txt"), "x");
  const busy = ibt(["backup", join(root, "busy"), join(root, "busy")]);
  assert.equal(busy.status, 2);
  assert.match(busy.stderr.toString(), /neither a repository nor an empty folder/);
  assert.deepEqual(readdirSync(join(root, "busy")), ["someone-elses.txt"]);
  assert.equal(ibt(["forget", root, "--keep-last", "x"]).status, 2);

  // Damage: verify exits 1 and names the file; a restore fails and leaves no target behind.
  const src = join(root, "src");
  mkdirSync(src);
  writeFileSync(join(src, "f"), randomBytes(rng(3), 50_000));
  const repo = join(root, "repo");
  const snap = json(ibt(["backup", src, repo, "--insecure-no-password", "--json"]));
  const archive = join(repo, "data", `${snap.id}.zip`);
  const bytes = readFileSync(archive);
  bytes[100] ^= 0xff;
  writeFileSync(archive, bytes);
  const bad = ibt(["verify", repo, "--read-data"]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr.toString(), new RegExp(`data/${snap.id}\\.zip`));
  const badJson = JSON.parse(ibt(["verify", repo, "--read-data", "--json"]).stdout.toString());
  assert.equal(badJson.ok, false);
  const failed = ibt(["restore", repo, join(root, "r")]);
  assert.equal(failed.status, 1);
  assert.match(failed.stderr.toString(), /^ibt: CORRUPT: /);
  assert.ok(!existsSync(join(root, "r")), "the target the command made is removed");
});

test("ibt backup says LOCKED while another writer holds the lock; ibt unlock clears a dead writer's lock", async () => {
  const root = tempDir();
  const src = join(root, "src");
  const repo = join(root, "repo");
  mkdirSync(src);
  writeFileSync(join(src, "f"), "x");
  const holder = spawn(process.execPath, [join(ROOT, "dist", "test", "support", "repo-child.js"), "hold", repo, src]);
  await new Promise<void>((resolve) => holder.stdout.on("data", (d: Buffer) => d.toString().includes("holding") && resolve()));
  const locked = ibt(["backup", src, repo]);
  assert.equal(locked.status, 1);
  assert.match(locked.stderr.toString(), new RegExp(`^ibt: LOCKED: .*pid ${holder.pid}.*ibt unlock`));
  assert.equal(ibt(["unlock", repo]).status, 1, "a live writer's lock stays");
  holder.kill("SIGKILL");
  await new Promise((resolve) => holder.on("exit", resolve));
  const u = json(ibt(["unlock", repo, "--json"]));
  assert.equal(u.removed, true);
  assert.equal(u.owner.pid, holder.pid);
  assert.equal(json(ibt(["backup", src, repo, "--json"])).kind, "full");
});

test("ibt backup --compression or IBT_COMPRESSION: off stores the files as they are, the flag wins over the variable; an unknown mode exits 2 and makes no repository", async () => {
  const root = tempDir();
  const src = join(root, "src");
  mkdirSync(src);
  const words = Array.from({ length: 60_000 }, (_, i) => ["alpha", "beta", "gamma", "delta"][(i * 7) % 4]).join(" ");
  writeFileSync(join(src, "words.txt"), words);
  const repo = join(root, "repo");
  const backup = (args: string[], compression?: string) =>
    spawnSync(process.execPath, [IBT, "backup", src, repo, "--insecure-no-password", "--json", ...args], { env: { ...process.env, IBT_COMPRESSION: compression } });
  // The member holding words.txt: its own when stored or deflated, a zstd group where this runtime has zstd.
  const method = (id: string): string =>
    /\s(Stored|Defl:\w|Unk:093)\s.*\s(?:new\/words\.txt|group\/000001\.tar)\n/.exec(ok("unzip", ["-v", join(repo, "data", `${id}.zip`)]).toString())![1]!;
  const compressed = nodeDeflate.zstd ? "Unk:093" : "Defl:N";

  for (const [args, variable, name] of [[["--compression", "zstd"], undefined, "--compression"], [[], "fast", "IBT_COMPRESSION"]] as const) {
    const bad = backup([...args], variable);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr.toString(), new RegExp(`^ibt: BAD_ARGUMENT: ${name} "(zstd|fast)" is not one of auto, off, fastest, max, deflate`));
    assert.ok(!existsSync(repo), "no repository is made");
  }
  const off = json(backup(["--compression", "off"]));
  assert.ok(off.bytesStored > words.length, `off stores every byte: ${off.bytesStored}`);
  assert.equal(method(off.id), "Stored");
  const byVariable = json(backup(["--full"], "off"));
  assert.equal(method(byVariable.id), "Stored", "IBT_COMPRESSION=off");
  const flagWins = json(backup(["--full", "--compression", "fastest"], "off"));
  assert.equal(method(flagWins.id), compressed, "--compression fastest over IBT_COMPRESSION=off");
  assert.ok(flagWins.bytesStored < off.bytesStored / 10, `fastest compresses: ${flagWins.bytesStored} of ${off.bytesStored}`);
  const unset = json(backup(["--full"], ""));
  assert.equal(method(unset.id), compressed, "an empty IBT_COMPRESSION is auto");
  // deflate: an archive Info-ZIP's unzip extracts, whatever this runtime has.
  const deflated = json(backup(["--full", "--compression", "deflate"]));
  assert.equal(method(deflated.id), "Defl:N");
  assert.equal(ok("unzip", ["-p", join(repo, "data", `${deflated.id}.zip`), "new/words.txt"]).toString(), words);
  for (const id of [off.id, flagWins.id, deflated.id]) {
    const out = join(root, `out-${id}`);
    json(ibt(["restore", repo, out, "--snapshot", id, "--json"]));
    assert.equal(readFileSync(join(out, "words.txt"), "utf8"), words);
  }
});
