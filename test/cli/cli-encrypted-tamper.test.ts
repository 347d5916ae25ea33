/**
 * Tampering with an encrypted repository's folder, seen through the CLI: one byte flipped in
 * each kind of stored object (archive, index, snapshot record), a segment cut off, and an
 * object copied over another's name. `ibt verify --read-data` exits 1 naming the object with
 * AUTH_FAILED (in text and in JSON), and `ibt restore` is refused with one AUTH_FAILED line,
 * leaving an existing target as it was. The library-level tests (test/crypto/repo-tamper) try
 * every byte; this checks that the command a user runs reports what they find.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../support/helpers.js";
import { cliEnv, ibtAsync, type CliResult } from "../support/cli-kit.js";

const PASSWORD = "tamper-test-password-3391";

function json(r: CliResult): any {
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** Every file of a folder, relative, with its bytes. */
function files(dir: string, prefix = ""): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) for (const [k, v] of files(dir, rel)) out.set(k, v);
    else out.set(rel, readFileSync(join(dir, rel)).toString("base64"));
  }
  return out;
}

test("ibt verify --read-data names each tampered object with AUTH_FAILED, and ibt restore refuses it leaving the target alone", async () => {
  const root = tempDir();
  const src = join(root, "src");
  mkdirSync(join(src, "d"), { recursive: true });
  writeFileSync(join(src, "d", "plans.txt"), "x".repeat(200_000));
  writeFileSync(join(src, "note.txt"), "a note\n");
  const repo = join(root, "repo");
  const env = cliEnv({ IBT_PASSWORD: PASSWORD });
  json(await ibtAsync(["init", repo, "--json"], env));
  const first = json(await ibtAsync(["backup", src, repo, "--json"], env));
  writeFileSync(join(src, "note.txt"), "a changed note\n");
  const second = json(await ibtAsync(["backup", src, repo, "--json"], env));
  assert.equal(json(await ibtAsync(["verify", repo, "--read-data", "--json"], env)).ok, true);
  // An existing target holding the first snapshot, to restore the second over.
  const target = join(root, "target");
  json(await ibtAsync(["restore", repo, target, "--snapshot", first.id, "--json"], env));
  const before = files(target);

  const data = `data/${second.id}.zip`;
  const damage: [string, string, (bytes: Buffer) => Buffer][] = [
    ["a byte of the archive flipped", data, (b) => Buffer.from(b.map((x, i) => (i === b.length >> 1 ? x ^ 0x04 : x)))],
    ["the archive's last segment cut off", data, (b) => b.subarray(0, b.length - 100)],
    ["a byte of the index flipped", `index/${second.id}.ibtindex`, (b) => Buffer.from(b.map((x, i) => (i === 50 ? x ^ 0x80 : x)))],
    ["a byte of the snapshot record flipped", `snapshots/${second.id}.json`, (b) => Buffer.from(b.map((x, i) => (i === b.length - 20 ? x ^ 0x01 : x)))],
    ["the first snapshot's archive copied over the second's", data, () => readFileSync(join(repo, `data/${first.id}.zip`))],
  ];
  for (const [label, name, change] of damage) {
    const path = join(repo, name);
    const original = readFileSync(path);
    writeFileSync(path, change(original));
    try {
      const text = await ibtAsync(["verify", repo, "--read-data"], env);
      assert.equal(text.status, 1, `${label}: ${text.stderr}`);
      assert.match(text.stdout + text.stderr, new RegExp(`AUTH_FAILED[^\\n]*${name.replace(/\./g, "\\.")}|${name.replace(/\./g, "\\.")}[^\\n]*AUTH_FAILED`), label);
      const report = JSON.parse((await ibtAsync(["verify", repo, "--read-data", "--json"], env)).stdout);
      assert.equal(report.ok, false, label);
      assert.ok(report.problems.some((p: { path?: string; code: string }) => p.path === name && p.code === "AUTH_FAILED"), `${label}: ${JSON.stringify(report.problems)}`);

      const restore = await ibtAsync(["restore", repo, target, "--snapshot", second.id], env);
      assert.equal(restore.status, 1, `${label}: ${restore.stderr}`);
      assert.match(restore.stderr, /^ibt: AUTH_FAILED: [^\n]+\n$/, label);
      assert.ok(restore.stderr.includes(name), `${label}: names ${name}: ${restore.stderr}`);
      assert.ok(!restore.stderr.includes(PASSWORD));
      assert.deepEqual(files(target), before, `${label}: the target is as it was`);
    } finally {
      writeFileSync(path, original);
    }
  }
  // Undamaged again: the restore goes through.
  json(await ibtAsync(["restore", repo, target, "--snapshot", second.id, "--json"], env));
  assert.equal(readFileSync(join(target, "note.txt"), "utf8"), "a changed note\n");
});
