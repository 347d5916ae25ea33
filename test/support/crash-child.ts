/**
 * The process the crash trials kill: it applies a diff archive to a directory through NodeFs,
 * counting every operation that changes the tree, and sends itself SIGKILL just before the Nth
 * one (argument 3; 0 runs to the end). A real SIGKILL, not an exception: no finally block, no
 * cleanup, no flush runs, exactly as when the machine loses power or the OOM killer strikes.
 * On a run to the end it prints the number of changing operations, so the trials know the range.
 *
 *   node dist/test/support/crash-child.js TARGET_DIR ARCHIVE N
 */
import { dirname, basename } from "node:path";
import { applyDiff, openArchive, type FsAdapter } from "../../src/index.js";
import { NodeFs } from "../../src/node/index.js";

const [dir, archive, nth] = process.argv.slice(2) as [string, string, string];
const killAt = Number(nth);
let ops = 0;

function counted(fs: FsAdapter): FsAdapter {
  const wrapped = Object.create(fs) as FsAdapter;
  for (const method of ["writeFile", "mkdir", "remove", "rename", "symlink", "chmod", "utimes"] as const) {
    const original = (fs[method] as (...a: unknown[]) => Promise<unknown>).bind(fs);
    (wrapped as unknown as Record<string, unknown>)[method] = async (...args: unknown[]) => {
      if (++ops === killAt) process.kill(process.pid, "SIGKILL");
      return original(...args);
    };
  }
  return wrapped;
}

const reader = await openArchive(new NodeFs(dirname(archive)), basename(archive));
await applyDiff(counted(new NodeFs(dir)), reader);
process.stdout.write(String(ops));
