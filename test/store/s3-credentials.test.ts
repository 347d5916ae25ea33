// Node's S3 credentials: environment first, then a profile of the shared credentials file, and
// errors that name what is missing without repeating a value.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { s3CredentialsFromEnvironment } from "../../src/node/s3-credentials.js";
import { isIbtError } from "../../src/errors.js";

test("S3 credentials from the environment, with token and region", async () => {
  const found = await s3CredentialsFromEnvironment({ AWS_ACCESS_KEY_ID: "AK", AWS_SECRET_ACCESS_KEY: "SK", AWS_SESSION_TOKEN: "TK", AWS_DEFAULT_REGION: "eu-west-1" });
  assert.deepEqual(found, { credentials: { accessKeyId: "AK", secretAccessKey: "SK", sessionToken: "TK" }, region: "eu-west-1", source: "environment" });
  const regionWins = await s3CredentialsFromEnvironment({ AWS_ACCESS_KEY_ID: "AK", AWS_SECRET_ACCESS_KEY: "SK", AWS_REGION: "ap-south-1", AWS_DEFAULT_REGION: "eu-west-1" });
  assert.equal(regionWins.region, "ap-south-1");
  await assert.rejects(s3CredentialsFromEnvironment({ AWS_ACCESS_KEY_ID: "AK" }), (e) => isIbtError(e, "BAD_ARGUMENT") && /AWS_SECRET_ACCESS_KEY is not set/.test(e.message));
});

test("S3 credentials from a profile of the shared credentials file", async () => {
  const dir = await mkdtemp(join(tmpdir(), "ibt-aws-"));
  try {
    const file = join(dir, "credentials");
    await writeFile(file, "# comment\n[default]\naws_access_key_id = DEF\naws_secret_access_key=DEFSECRET\n\n[backup]\n; another\naws_access_key_id = BK\naws_secret_access_key = BKSECRET\naws_session_token = BKTOKEN\n[broken]\naws_access_key_id = X\n");
    const env = { AWS_SHARED_CREDENTIALS_FILE: file };
    assert.deepEqual((await s3CredentialsFromEnvironment(env)).credentials, { accessKeyId: "DEF", secretAccessKey: "DEFSECRET" });
    const backup = await s3CredentialsFromEnvironment({ ...env, AWS_PROFILE: "backup" });
    assert.deepEqual(backup.credentials, { accessKeyId: "BK", secretAccessKey: "BKSECRET", sessionToken: "BKTOKEN" });
    assert.equal(backup.source, `profile backup in ${file}`);
    await assert.rejects(s3CredentialsFromEnvironment({ ...env, AWS_PROFILE: "nope" }), (e) => isIbtError(e, "BAD_ARGUMENT") && e.message.includes("no profile [nope]"));
    await assert.rejects(s3CredentialsFromEnvironment({ ...env, AWS_PROFILE: "broken" }), (e) => isIbtError(e, "BAD_ARGUMENT") && e.message.includes("has no aws_secret_access_key") && !e.message.includes("X\n"));
    await assert.rejects(s3CredentialsFromEnvironment({ AWS_SHARED_CREDENTIALS_FILE: join(dir, "missing") }), (e) => isIbtError(e, "BAD_ARGUMENT") && /AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set, and the credentials file .* does not exist/.test(e.message));
    // HOME decides the default file.
    await assert.rejects(s3CredentialsFromEnvironment({ HOME: dir }), (e) => isIbtError(e, "BAD_ARGUMENT") && e.message.includes(join(dir, ".aws", "credentials")));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
