/**
 * A backup in a child process, for the crash and lock tests (not a test file itself).
 *   node repo-child.js backup REPO SOURCE [START_AT_MS]   one backup; prints "started", then a JSON result
 *   node repo-child.js hold REPO SOURCE                    takes the lock and holds it until killed
 * START_AT_MS makes two children start at the same moment. With IBT_CHILD_PASSWORD set, the
 * repository is encrypted with that password (made so by the first child, opened by the rest).
 */
import { mkdirSync } from "node:fs";
import { EncryptedStore, Repository, IbtError, type Store } from "../../src/index.js";
import { NodeFs, nodeRepositoryOptions, openStore } from "../../src/node/index.js";
import { encrypt, reopen } from "./encrypted-repo-kit.js";

const [command, repoDir, sourceDir, startAt] = process.argv.slice(2);
mkdirSync(repoDir!, { recursive: true });
const password = process.env.IBT_CHILD_PASSWORD;
let store: Store = await openStore(repoDir!);
if (password) store = (await EncryptedStore.isEncrypted(store)) ? await reopen(store) : await encrypt(store);
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
