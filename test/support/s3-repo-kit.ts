/**
 * Repositories on S3Store against the strict S3 test server (./s3-server.ts): what the
 * repository tests need to run on S3. A test that makes such a store gets its own server, started
 * on 127.0.0.1 and closed when that test ends, so no server outlives the test file that started
 * it and no test sees another's objects or faults.
 *
 * Parts are small (the server's multipart minimum lowered to match) so that the archives of a
 * test tree, a few hundred KiB, go up as multipart uploads, and loadStream reads them in several
 * ranged GETs: the repository's S3 path is the one large backups take, at test sizes. Retries
 * wait milliseconds, not seconds, so a test of faults does not sleep.
 */
import { after } from "node:test";
import { S3Store, type S3StoreOptions } from "../../src/store/index.js";
import { type S3TestServer, startS3Server } from "./s3-server.js";
import { BUCKET, KEY, transportFor } from "./s3-strict-kit.js";
import type { StoreFactory } from "./store-conformance.js";

export { BUCKET, KEY };

/** Part size of the repository tests' S3 stores, and the server's multipart minimum. */
export const TEST_PART_SIZE = 64 * 1024;

/** Starts a strict server for the repository tests: parts down to `minPartSize` allowed, the bucket made. */
export function startRepoS3Server(minPartSize = TEST_PART_SIZE): Promise<S3TestServer> {
  return startS3Server({ credentials: [KEY], buckets: [BUCKET], minPartSize });
}

/** An S3Store on `server` under `prefix`, with small parts and millisecond retries; `more` wins. */
export function repoStoreOn(server: S3TestServer, prefix: string, more: Partial<S3StoreOptions> = {}): S3Store {
  return new S3Store({
    endpoint: server.endpoint,
    bucket: BUCKET,
    prefix,
    region: server.region,
    credentials: KEY,
    partSize: TEST_PART_SIZE,
    minPartSize: TEST_PART_SIZE,
    streamChunkSize: 96 * 1024,
    retry: { attempts: 5, baseDelayMs: 1, maxDelayMs: 4 },
    ...transportFor(more),
    ...more,
  });
}

/** Starts a server that the current test closes when it ends. */
export async function serverForThisTest(minPartSize?: number): Promise<S3TestServer> {
  const server = await startRepoS3Server(minPartSize);
  after(() => server.close());
  return server;
}

let made = 0;

/** Fresh, empty S3 stores, each on a server of its own that its test closes when it ends. */
export const s3StoreFactory: StoreFactory = {
  name: "S3Store(strict server)",
  make: async () => repoStoreOn(await serverForThisTest(), `repo-${++made}`),
};

/** Keys of `server`'s in-progress multipart uploads under `prefix/`. */
export function uploadsUnder(server: S3TestServer, prefix: string): string[] {
  return server.uploads(BUCKET).filter((u) => u.key.startsWith(prefix + "/")).map((u) => u.key);
}
