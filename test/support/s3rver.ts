/**
 * An independent S3 implementation over real HTTP for S3Store's tests: s3rver, on 127.0.0.1 at a
 * port the system picks, storing in a fresh temporary folder, with one bucket, in a child process
 * (see s3rver-child.ts for why).
 *
 * What s3rver cannot check, so these tests cannot either: SigV4 signatures (it only looks the
 * access key id up, so an unknown one still gets a real 403 InvalidAccessKeyId), conditional
 * writes (If-None-Match on PUT is ignored: a 412 is made by the fault fetch instead), If-Match on
 * GET, and S3's 5 MiB minimum part size. It lacks AbortMultipartUpload and ListMultipartUploads;
 * `withUploadsApi` answers those two from s3rver's own upload folders, so an abort really
 * removes the upload's parts from the server and a listing shows what the server holds.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** s3rver accepts any signature for its one key pair, S3RVER/S3RVER. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** The ids of the multipart uploads the server holds now. */
  uploads(): Promise<string[]>;
  /** A fetch that adds the two multipart calls s3rver lacks. */
  fetch: typeof fetch;
  close(): Promise<void>;
}

export async function startS3(bucket = "bucket"): Promise<TestS3> {
  const directory = await mkdtemp(join(tmpdir(), "ibt-s3rver-"));
  const script = fileURLToPath(new URL("./s3rver-child.js", import.meta.url));
  const child = spawn(process.execPath, ["--openssl-legacy-provider", script, directory, bucket], { stdio: ["pipe", "pipe", "inherit"] });
  const exited = once(child, "exit");
  let first = "";
  for await (const chunk of child.stdout) {
    first += String(chunk);
    if (first.includes("\n")) break;
  }
  const { port } = JSON.parse(first) as { port: number };
  const endpoint = `http://127.0.0.1:${port}`;
  const uploadsDir = join(directory, bucket, "._S3rver_uploads");
  const uploads = async () => (await readdir(uploadsDir).catch(() => [] as string[])).sort();
  return {
    endpoint,
    bucket,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    uploads,
    fetch: withUploadsApi(fetch, bucket, uploadsDir),
    async close() {
      child.stdin.end();
      await exited;
      await rm(directory, { recursive: true, force: true });
    },
  };
}

function withUploadsApi(inner: typeof fetch, bucket: string, uploadsDir: string): typeof fetch {
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = init?.method ?? "GET";
    const id = url.searchParams.get("uploadId");
    if (method === "DELETE" && id !== null) {
      if (!/^[0-9a-f]+$/.test(id)) return new Response(null, { status: 404 });
      const there = await stat(join(uploadsDir, id)).then(() => true, () => false);
      await rm(join(uploadsDir, id), { recursive: true, force: true });
      return new Response(null, { status: there ? 204 : 404 });
    }
    if (method === "GET" && url.searchParams.has("uploads") && url.pathname.replace(/\/$/, "") === `/${bucket}`) {
      const prefix = url.searchParams.get("prefix") ?? "";
      let xml = `<?xml version="1.0" encoding="UTF-8"?><ListMultipartUploadsResult><Bucket>${bucket}</Bucket><IsTruncated>false</IsTruncated>`;
      for (const upload of (await readdir(uploadsDir).catch(() => [] as string[])).sort()) {
        const key = (await readFile(join(uploadsDir, upload, "key"))).toString();
        const made = await stat(join(uploadsDir, upload));
        const initiated = new Date(made.birthtimeMs || made.mtimeMs).toISOString();
        if (key.startsWith(prefix)) xml += `<Upload><Key>${escape(key)}</Key><UploadId>${upload}</UploadId><Initiated>${initiated}</Initiated></Upload>`;
      }
      return new Response(xml + "</ListMultipartUploadsResult>", { status: 200, headers: { "content-type": "application/xml" } });
    }
    return inner(input, init);
  };
}

function escape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
