/**
 * Where the page's repository lives, as the user set it: this browser's storage, or an
 * S3-compatible bucket with its endpoint and keys. The settings are written to localStorage
 * only when the user ticks "remember on this device", and removed from it when they untick it;
 * otherwise they live in the page's form for as long as the page is open. The repository's
 * password is never part of them.
 *
 * A browser may call a bucket on another origin only if the bucket's CORS configuration allows
 * it, so the page shows the configuration it needs, filled in with its own origin: the methods
 * the S3 client uses, the headers it sends (the signature's `authorization` and `x-amz-*`,
 * `range` for ranged restores, `if-none-match` for the lock's conditional create, `if-match` to
 * pin a streamed read to one version) and the answers' headers it must read (ETag,
 * Content-Range, Content-Length).
 */

export interface S3Settings {
  endpoint: string;
  bucket: string;
  prefix: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface Settings {
  where: "opfs" | "s3";
  s3: S3Settings;
}

/** The localStorage key of remembered settings. */
export const SETTINGS_KEY = "ibt-web-connection";

export const EMPTY_S3: S3Settings = { endpoint: "", bucket: "", prefix: "", region: "", accessKeyId: "", secretAccessKey: "" };

/** The remembered settings, or undefined when none are (or they cannot be read). */
export function rememberedSettings(): Settings | undefined {
  try {
    const text = localStorage.getItem(SETTINGS_KEY);
    if (text === null) return undefined;
    const parsed = JSON.parse(text) as Partial<Settings>;
    return { where: parsed.where === "s3" ? "s3" : "opfs", s3: { ...EMPTY_S3, ...parsed.s3 } };
  } catch {
    return undefined;
  }
}

export function remember(settings: Settings): void {
  // Only the named fields: nothing else a caller holds (a password) can slip in.
  const { endpoint, bucket, prefix, region, accessKeyId, secretAccessKey } = settings.s3;
  localStorage.setItem(SETTINGS_KEY, JSON.stringify({ where: settings.where, s3: { endpoint, bucket, prefix, region, accessKeyId, secretAccessKey } }));
}

export function forget(): void {
  localStorage.removeItem(SETTINGS_KEY);
}

/** The CORS rules a bucket needs for this page, as JSON for the S3 console, R2 and MinIO. */
export function corsPolicy(origin: string): string {
  const rules = [
    {
      AllowedOrigins: [origin],
      AllowedMethods: ["GET", "PUT", "POST", "DELETE", "HEAD"],
      AllowedHeaders: ["authorization", "content-type", "x-amz-*", "range", "if-none-match", "if-match"],
      ExposeHeaders: ["ETag", "content-range", "content-length"],
      MaxAgeSeconds: 3600,
    },
  ];
  return JSON.stringify(rules, null, 2);
}
