/**
 * S3's answers turned into IbtErrors. The code follows the contract: 404 (but for a missing
 * bucket, which is a configuration fault) is NOT_FOUND, 401 and 403 are DENIED with a hint at what
 * to check, anything else is IO. A message names the request (method and object), the HTTP status
 * and S3's error code, and how many attempts were made, and nothing else from the answer: S3's
 * own error documents can echo the string to sign and the access key id, and a message is shown
 * to people and written to logs.
 */
import { IbtError } from "../../errors.js";
import { childText, parseXml } from "./xml.js";

/** What a request is, for messages: `S3 PUT data/ab.zip`. */
export interface RequestLabel {
  method: string;
  /** The object's name as the Store knows it, or what a bucket request is about. */
  what: string;
}

const HINTS: Record<string, string> = {
  InvalidAccessKeyId: "check the access key id",
  SignatureDoesNotMatch: "check the secret access key and the region",
  AccessDenied: "check that the credentials may use this bucket and prefix",
  ExpiredToken: "the session token has expired; get fresh credentials",
  InvalidToken: "check the session token",
  TokenRefreshRequired: "the session token has expired; get fresh credentials",
  RequestTimeTooSkewed: "check this machine's clock",
  AuthorizationHeaderMalformed: "check the region",
};

/** The `<Code>` of an S3 error document, or undefined where the body is not one. */
export function errorCodeOf(body: Uint8Array): string | undefined {
  if (body.length === 0) return undefined;
  try {
    const root = parseXml(new TextDecoder().decode(body));
    const code = root.name === "Error" ? childText(root, "Code") : undefined;
    // Only a plain identifier goes into a message.
    return code !== undefined && /^[A-Za-z0-9.]{1,64}$/.test(code) ? code : undefined;
  } catch {
    return undefined;
  }
}

export function describe(label: RequestLabel): string {
  return `S3 ${label.method} ${label.what}`;
}

/** The IbtError for a final answer `status` (with S3 error `code`) after `attempts` tries. */
export function httpError(label: RequestLabel, status: number, code: string | undefined, attempts: number): IbtError {
  const what = `${describe(label)}: HTTP ${status}${code ? " " + code : ""}${attempts > 1 ? ` after ${attempts} attempts` : ""}`;
  const data = { path: label.what, caller: label.method };
  if (status === 404 && code !== "NoSuchBucket") return new IbtError("NOT_FOUND", `${what}: no such object`, data);
  if (status === 404) return new IbtError("IO", `${what}: the bucket does not exist`, data);
  if (status === 401 || status === 403) {
    const hint = (code && HINTS[code]) ?? "check the access key, the secret and this machine's clock";
    return new IbtError("DENIED", `${what}: ${hint}`, data);
  }
  // A refusal for a reason the caller can fix (a 400 for the wrong region) says what to check.
  const hint = code === undefined ? undefined : HINTS[code];
  return new IbtError("IO", hint ? `${what}: ${hint}` : what, data);
}

/** The IbtError for a request that never got an answer after `attempts` tries. */
export function networkError(label: RequestLabel, cause: unknown, attempts: number): IbtError {
  // A network error's text says what broke (refused, reset, timed out) and holds no secret.
  const why = cause instanceof Error ? `${cause.name}: ${cause.message}`.slice(0, 200) : "network failure";
  return new IbtError("IO", `${describe(label)}: ${why}, no answer${attempts > 1 ? ` after ${attempts} attempts` : ""}`, {
    path: label.what,
    caller: label.method,
    cause,
  });
}
