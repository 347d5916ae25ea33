/**
 * A backup in a child process, for the crash and lock tests (not a test file itself).
 *   node repo-child.js backup REPO SOURCE [START_AT_MS]   one backup; prints "started", then a JSON result
 *   node repo-child.js hold REPO SOURCE                    takes the lock and holds it until killed
 * START_AT_MS makes two children start at the same moment.
 */
import { mkdirSync } from "node:fs";
import { Repository, IbtError } from "../../src/index.js";
import { NodeFs, nodeRepositoryOptions, openStore } from "../../src/node/index.js";

const [command, repoDir, sourceDir, startAt] = process.argv.slice(2);
mkdirSync(repoDir!, { recursive: true });
const repo = await Repository.openOrInit(await openStore(repoDir!), nodeRepositoryOptions());
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
