/**
 * The repository commands end to end on S3: `ibt` in a child process against the strict S3 test
 * server (test/support/s3-server.ts, every signature checked, listings paged by three) started
 * here, with credentials from the child's environment or a profile file. An encrypted
 * repository: backup, an incremental backup through IBT_REPOSITORY, snapshots, restore of the
 * exact tree, verify --read-data, forget and unlock; a plain one with --insecure-no-password;
 * and the refusals (a wrong secret, no credentials, a missing bucket, a wrong password) as one
 * line naming the request and its status, with no secret in any output.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { NodeFs } from "../../src/node/index.js";
import { randomBytes, rng, tempDir } from "../support/helpers.js";
import { treeId } from "../support/repo-kit.js";
import { startS3Server, type S3TestServer } from "../support/s3-server.js";
import { BUCKET, KEY } from "../support/s3-strict-kit.js";
import { cliEnv, ibtAsync, type CliResult, type Env } from "../support/cli-kit.js";

const PASSWORD = "s3-repository-password-6620";
let server: S3TestServer;

before(async () => {
  server = await startS3Server({ credentials: [KEY], buckets: [BUCKET] });
});
after(async () => {
  await server.close();
});

function json(r: CliResult): any {
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** The child's environment: the server's credentials and region, and `extra`. */
function s3Env(extra: Env = {}): Env {
  return cliEnv({ AWS_ACCESS_KEY_ID: KEY.accessKeyId, AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey, AWS_DEFAULT_REGION: server.region, ...extra });
}

const location = (prefix: string) => `s3:${server.endpoint}/${BUCKET}/${prefix}`;
const keysUnder = (prefix: string) => server.objects(BUCKET).map((o) => o.key).filter((k) => k.startsWith(prefix + "/"));

function sourceTree(root: string): string {
  const src = join(root, "src");
  mkdirSync(join(src, "docs/empty"), { recursive: true });
  writeFileSync(join(src, "docs/quarterly-report-zebra.txt"), "the zebra crosses at dawn\n");
  writeFileSync(join(src, "big.bin"), randomBytes(rng(5), 400_000));
  symlinkSync("docs/quarterly-report-zebra.txt", join(src, "link"));
  return src;
}

test("backup, snapshots, restore, verify --read-data, forget and unlock of an encrypted repository on S3", async () => {
  const root = tempDir();
  const src = sourceTree(root);
  const repo = location("enc/repo");
  const env = s3Env({ IBT_PASSWORD: PASSWORD });

  const first = json(await ibtAsync(["backup", src, repo, "--json"], env));
  assert.equal(first.kind, "full");
  assert.ok(first.createdRepository, "a first backup makes the repository");
  const stored = keysUnder("enc/repo");
  assert.ok(stored.some((k) => k.startsWith("enc/repo/keys/")), "encrypted: the store holds keys/");
  assert.ok(stored.includes("enc/repo/ibt-repo.json"));
  for (const key of stored) {
    const body = Buffer.from(server.object(BUCKET, key)!.body);
    assert.ok(!body.includes("quarterly-report-zebra") && !body.includes("zebra crosses"), `${key} holds nothing in the clear`);
  }

  // The rest through IBT_REPOSITORY (and -r), with no REPO argument.
  const viaEnv = { ...env, IBT_REPOSITORY: repo };
  writeFileSync(join(src, "docs/quarterly-report-zebra.txt"), "the zebra crosses at dusk\n");
  const second = json(await ibtAsync(["backup", src, "--json"], viaEnv));
  assert.equal(second.kind, "incremental");
  assert.equal(second.parent, first.id);
  const list = json(await ibtAsync(["snapshots", "--json"], viaEnv));
  assert.deepEqual(list.map((s: { id: string }) => s.id), [first.id, second.id]);
  assert.match((await ibtAsync(["snapshots", "-r", repo], env)).stdout, new RegExp(`${second.id}.*incremental`));

  const out = join(root, "out");
  const restored = json(await ibtAsync(["restore", out, "--json"], viaEnv));
  assert.equal(restored.snapshot, second.id);
  assert.equal(await treeId(new NodeFs(out)), await treeId(new NodeFs(src)), "the restored tree is the source, exactly");
  const old = join(root, "old");
  json(await ibtAsync(["restore", repo, old, "--snapshot", first.id, "--path", "docs", "--json"], env));
  assert.equal(readFileSync(join(old, "docs/quarterly-report-zebra.txt"), "utf8"), "the zebra crosses at dawn\n");

  const verified = json(await ibtAsync(["verify", "--read-data", "--json"], viaEnv));
  assert.equal(verified.ok, true);
  assert.ok(verified.bytesRead >= 400_000);
  const forgot = json(await ibtAsync(["forget", "--keep-last", "1", "--json"], viaEnv));
  assert.deepEqual(forgot.kept, [first.id, second.id], "the full stays: the kept incremental needs it");
  json(await ibtAsync(["backup", src, "--full", "--json"], viaEnv));
  const pruned = json(await ibtAsync(["forget", "--keep-last", "1", "--json"], viaEnv));
  assert.deepEqual(pruned.removed, [first.id, second.id]);
  assert.equal(json(await ibtAsync(["snapshots", "--json"], viaEnv)).length, 1);
  assert.equal(json(await ibtAsync(["unlock", "--json"], viaEnv)).removed, false);
  assert.ok(!keysUnder("enc/repo").some((k) => k.endsWith(`${first.id}.zip`)), "forgotten archives are gone from the bucket");

  const twice = await ibtAsync(["snapshots", repo], viaEnv);
  assert.equal(twice.status, 0, "an argument wins over IBT_REPOSITORY");
  const both = await ibtAsync(["snapshots", repo, "-r", repo], env);
  assert.equal(both.status, 2);
  assert.match(both.stderr, /^ibt: BAD_ARGUMENT: the repository is given twice/);
});

test("a plain repository on S3 with --insecure-no-password; credentials from a profile file", async () => {
  const root = tempDir();
  const src = sourceTree(root);
  const repo = location("plain");
  json(await ibtAsync(["init", repo, "--insecure-no-password", "--json"], s3Env()));
  json(await ibtAsync(["backup", src, repo, "--json"], s3Env()));
  const stored = keysUnder("plain");
  assert.ok(!stored.some((k) => k.startsWith("plain/keys/")), "no key objects");
  assert.ok(stored.includes("plain/ibt-repo.json"));

  const file = join(root, "credentials");
  writeFileSync(file, `[default]\naws_access_key_id = nobody\naws_secret_access_key = nothing\n\n[backups]\naws_access_key_id = ${KEY.accessKeyId}\naws_secret_access_key = ${KEY.secretAccessKey}\n`);
  const profile = cliEnv({ AWS_SHARED_CREDENTIALS_FILE: file, AWS_PROFILE: "backups", AWS_REGION: server.region });
  assert.equal(json(await ibtAsync(["snapshots", repo, "--json"], profile)).length, 1);
  const out = join(root, "out");
  json(await ibtAsync(["restore", repo, out, "--json"], profile));
  assert.equal(await treeId(new NodeFs(out)), await treeId(new NodeFs(src)));
});

test("refusals on S3 are one line naming the request, its HTTP status and S3 code, and no secret", async () => {
  const root = tempDir();
  const src = sourceTree(root);
  const repo = location("refusals");
  json(await ibtAsync(["backup", src, repo, "--json"], s3Env({ IBT_PASSWORD: PASSWORD })));
  const wrongSecret = "wrong-secret-that-must-not-leak-3391";
  const secrets = [KEY.secretAccessKey, wrongSecret, PASSWORD];
  const oneLine = (r: CliResult, code: string, status = 1) => {
    assert.equal(r.status, status, r.stderr);
    assert.match(r.stderr, new RegExp(`^ibt: ${code}: [^\\n]+\\n$`), "one line");
    for (const s of secrets) assert.ok(!r.stderr.includes(s) && !r.stdout.includes(s), "no secret printed");
    assert.doesNotMatch(r.stderr, /[0-9a-f]{64}/, "no signature printed");
    return r.stderr;
  };

  for (const command of [["snapshots", repo], ["backup", src, repo], ["restore", repo, join(root, "never")]]) {
    const denied = oneLine(await ibtAsync(command, s3Env({ AWS_SECRET_ACCESS_KEY: wrongSecret, IBT_PASSWORD: PASSWORD })), "DENIED");
    assert.match(denied, /S3 \w+ refusals\/\S*: HTTP 403 SignatureDoesNotMatch: check the secret access key/);
  }
  assert.ok(!existsSync(join(root, "never")), "a refused restore makes no target");
  const unknownKey = oneLine(await ibtAsync(["snapshots", repo], s3Env({ AWS_ACCESS_KEY_ID: "AKIDUNKNOWN", IBT_PASSWORD: PASSWORD })), "DENIED");
  assert.match(unknownKey, /HTTP 403 InvalidAccessKeyId/);
  const noCredentials = oneLine(await ibtAsync(["snapshots", repo], cliEnv({ IBT_PASSWORD: PASSWORD })), "BAD_ARGUMENT", 2);
  assert.match(noCredentials, /AWS_ACCESS_KEY_ID/);
  const noBucket = oneLine(await ibtAsync(["snapshots", `s3:${server.endpoint}/no-such-bucket/x`], s3Env({ IBT_PASSWORD: PASSWORD })), "IO");
  assert.match(noBucket, /HTTP 404 NoSuchBucket.*bucket does not exist/);
  const empty = oneLine(await ibtAsync(["snapshots", location("nothing-here")], s3Env({ IBT_PASSWORD: PASSWORD })), "NOT_FOUND");
  assert.match(empty, /no repository/);
  const wrongPassword = oneLine(await ibtAsync(["verify", repo], s3Env({ IBT_PASSWORD: "not-the-password" })), "WRONG_PASSWORD");
  assert.match(wrongPassword, /refusals/);
  oneLine(await ibtAsync(["snapshots", "s3:http://127.0.0.1:1/"], s3Env()), "BAD_ARGUMENT", 2);
});
