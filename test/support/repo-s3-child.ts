/**
 * A backup to an S3 repository in a child process, for the S3 crash and two-writer tests (not a
 * test file itself). The strict S3 server runs in the parent; the child signs with the test
 * credentials and uses Node's repository options, so its lock names its pid and host and a
 * parent on this host can tell, once the child is killed, that the lock's writer is dead.
 *   node repo-s3-child.js backup ENDPOINT PREFIX SOURCE [START_AT_MS]   one backup; prints "started", then a JSON result
 *   node repo-s3-child.js hold ENDPOINT PREFIX SOURCE                    takes the lock and holds it until killed
 * START_AT_MS makes two children start at the same moment. IBT_PART_SIZE sets the part size
 * (the server must allow it), so small archives still go up as multipart uploads.
 */
import { Repository, IbtError } from "../../src/index.js";
import { NodeFs, nodeRepositoryOptions } from "../../src/node/index.js";
import { S3Store } from "../../src/store/index.js";
import { BUCKET, KEY } from "./s3-strict-kit.js";

const [command, endpoint, prefix, sourceDir, startAt] = process.argv.slice(2);
const part = Number(process.env.IBT_PART_SIZE ?? 5 * 1024 * 1024);
const store = new S3Store({
  endpoint: endpoint!,
  bucket: BUCKET,
  prefix: prefix!,
  credentials: KEY,
  partSize: part,
  minPartSize: part,
  retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 4 },
});
const repo = await Repository.openOrInit(store, nodeRepositoryOptions());
const source = new NodeFs(sourceDir!);
if (startAt) while (Date.now() < Number(startAt));
process.stdout.write("started\n");
try {
  const snapshot = await repo.backup(source, {
    onProgress: command === "hold" ? () => {
      process.stdout.write("holding\n");
      // Block here, lock held, until killed.
      for (;;);
    } : () => {},
  });
  process.stdout.write(JSON.stringify({ ok: true, id: snapshot.id }) + "\n");
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, code: e instanceof IbtError ? e.code : "?", message: String(e) }) + "\n");
  process.exitCode = 1;
}
