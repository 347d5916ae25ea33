/**
 * The Argon2id cost of new keys through the CLI: `--kdf-memory` and `--kdf-passes` pin it (at or
 * above RFC 9106's 64 MiB and 3 passes), `--kdf-time` fits it to a time, never below that floor;
 * whatever was chosen is what `ibt key list` shows and what opens the key later, with the real
 * derivation. Bad values are refused before any password is asked for. The flags override the
 * cheap test derivation (IBT_TEST_KDF_MEMORY_KIB) that cliEnv sets.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../support/helpers.js";
import { cliEnv, ibtAsync, type CliResult, type Env } from "../support/cli-kit.js";

const PASSWORD = "kdf-test-password-5521";
const FLOOR = { memoryKiB: 65536, passes: 3, parallelism: 1, tagLength: 32 };

function json(r: CliResult): any {
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const as = (password: string, extra: Env = {}): Env => cliEnv({ IBT_PASSWORD: password, ...extra });

test("--kdf-memory and --kdf-passes pin a new key's cost above the floor, and the key opens with it", async () => {
  const repo = join(tempDir(), "repo");
  json(await ibtAsync(["init", repo, "--kdf-memory", "72", "--kdf-passes", "4", "--json"], as(PASSWORD)));
  // Opening with the first password derives with the pinned cost; one of the two given, the
  // other is the floor's.
  const added = await ibtAsync(["key", "add", repo, "--kdf-memory", "65"], as(PASSWORD, { IBT_NEW_PASSWORD: "second-one" }));
  assert.equal(added.status, 0, added.stderr);
  assert.match(added.stderr, /^ibt: added key [0-9a-f]{32} \(argon2id 65 MiB, 3 passes\)\n$/);
  const list = json(await ibtAsync(["key", "list", repo, "--json"], as("second-one")));
  const params = (current: boolean) => list.keys.find((k: { current: boolean }) => k.current === current).params;
  assert.deepEqual(params(true), { ...FLOOR, memoryKiB: 65 * 1024 });
  assert.deepEqual(params(false), { ...FLOOR, memoryKiB: 72 * 1024, passes: 4 });
});

test("--kdf-time fits the cost to a time and never goes below the floor", async () => {
  const repo = join(tempDir(), "repo");
  // No derivation at the floor takes a millisecond, so the floor is what a 1 ms target gets.
  json(await ibtAsync(["init", repo, "--kdf-time", "1", "--json"], as(PASSWORD)));
  const list = json(await ibtAsync(["key", "list", repo, "--json"], as(PASSWORD)));
  assert.deepEqual(list.keys[0].params, FLOOR);
});

test("bad KDF options are refused with a usage error before any password is asked for, and nothing is made", async () => {
  const root = tempDir();
  const repo = join(root, "repo");
  // No password anywhere in this environment: asking for one would fail otherwise.
  const env = cliEnv();
  for (const options of [
    ["--kdf-memory", "32"],
    ["--kdf-memory", "2048"],
    ["--kdf-memory", "64.5"],
    ["--kdf-passes", "2"],
    ["--kdf-passes", "65"],
    ["--kdf-time", "0"],
    ["--kdf-time", "ten"],
    ["--kdf-time", "500", "--kdf-passes", "4"],
  ]) {
    const r = await ibtAsync(["init", repo, ...options], env);
    assert.equal(r.status, 2, `${options.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /^ibt: BAD_ARGUMENT: [^\n]*--kdf-[^\n]+\n$/, options.join(" "));
    assert.ok(!existsSync(join(repo, "keys")) || readdirSync(join(repo, "keys")).length === 0, `${options.join(" ")}: no key made`);
  }
  json(await ibtAsync(["init", repo, "--json"], as(PASSWORD)));
  const r = await ibtAsync(["key", "add", repo, "--kdf-passes", "1"], env);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^ibt: BAD_ARGUMENT: --kdf-passes [^\n]+\n$/);
});
