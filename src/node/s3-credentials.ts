/**
 * S3 credentials for Node, found where the AWS tools look: the environment first
 * (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), then a profile of the
 * shared credentials file (`AWS_PROFILE`, default "default"; `AWS_SHARED_CREDENTIALS_FILE`,
 * default ~/.aws/credentials), read as plain INI. The region comes from `AWS_REGION` or
 * `AWS_DEFAULT_REGION` when set. What is missing is named in a BAD_ARGUMENT error, which never
 * repeats a value it read.
 */
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { IbtError } from "../errors.js";
import type { S3Credentials } from "../store/s3/sigv4.js";

export interface FoundS3Credentials {
  credentials: S3Credentials;
  /** The region from the environment, where one is set. */
  region?: string;
  /** Where the credentials came from, for messages: "environment" or "profile P in FILE". */
  source: string;
}

type Env = Record<string, string | undefined>;

export async function s3CredentialsFromEnvironment(env: Env = process.env): Promise<FoundS3Credentials> {
  const region = env["AWS_REGION"] || env["AWS_DEFAULT_REGION"] || undefined;
  const withRegion = (found: Omit<FoundS3Credentials, "region">): FoundS3Credentials => (region ? { ...found, region } : found);
  const id = env["AWS_ACCESS_KEY_ID"];
  const secret = env["AWS_SECRET_ACCESS_KEY"];
  if (id || secret) {
    if (!id || !secret) {
      throw bad(`AWS_${id ? "SECRET_ACCESS_KEY" : "ACCESS_KEY_ID"} is not set, while AWS_${id ? "ACCESS_KEY_ID" : "SECRET_ACCESS_KEY"} is`);
    }
    const credentials: S3Credentials = { accessKeyId: id, secretAccessKey: secret };
    if (env["AWS_SESSION_TOKEN"]) credentials.sessionToken = env["AWS_SESSION_TOKEN"];
    return withRegion({ credentials, source: "environment" });
  }
  const profile = env["AWS_PROFILE"] || "default";
  const file = env["AWS_SHARED_CREDENTIALS_FILE"] || join(env["HOME"] || homedir(), ".aws", "credentials");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === "ENOENT" ? "does not exist" : "cannot be read";
    throw bad(`no S3 credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set, and the credentials file ${file} ${why}`);
  }
  const section = parseIni(text).get(profile);
  if (!section) throw bad(`no S3 credentials: the credentials file ${file} has no profile [${profile}]`);
  const fileId = section.get("aws_access_key_id");
  const fileSecret = section.get("aws_secret_access_key");
  const missing = [!fileId && "aws_access_key_id", !fileSecret && "aws_secret_access_key"].filter(Boolean);
  if (missing.length) throw bad(`profile [${profile}] in ${file} has no ${missing.join(" and no ")}`);
  const credentials: S3Credentials = { accessKeyId: fileId!, secretAccessKey: fileSecret! };
  const token = section.get("aws_session_token");
  if (token) credentials.sessionToken = token;
  return withRegion({ credentials, source: `profile ${profile} in ${file}` });
}

/** Sections of an INI text: `[name]` headers, `key = value` lines, `#` and `;` comment lines. */
export function parseIni(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[\s*([^\]]+?)\s*\]$/.exec(line);
    if (header) {
      const name = header[1]!;
      current = sections.get(name) ?? new Map();
      sections.set(name, current);
      continue;
    }
    const eq = line.indexOf("=");
    if (eq > 0 && current) current.set(line.slice(0, eq).trim().toLowerCase(), line.slice(eq + 1).trim());
  }
  return sections;
}

function bad(message: string): IbtError {
  return new IbtError("BAD_ARGUMENT", message, { caller: "s3CredentialsFromEnvironment" });
}
