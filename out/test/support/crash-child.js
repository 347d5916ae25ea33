/**
 * The process the crash trials kill: it applies a diff archive to a directory through NodeFs,
 * counting every operation that changes the tree, and sends itself SIGKILL just before the Nth
 * one (argument 3; 0 runs to the end). A real SIGKILL, not an exception: no finally block, no
 * cleanup, no flush runs, exactly as when the machine loses power or the OOM killer strikes.
 * On a run to the end it prints the number of changing operations, so the trials know the range.
 *
 *   node out/test/support/crash-child.js TARGET_DIR ARCHIVE N
 */
import { dirname, basename } from "node:path";
import { applyDiff, openArchive } from "../../src/index.js";
import { NodeFs } from "../../src/node/index.js";
const [dir, archive, nth] = process.argv.slice(2);
const killAt = Number(nth);
let ops = 0;
function counted(fs) {
    const wrapped = Object.create(fs);
    for (const method of ["writeFile", "mkdir", "remove", "rename", "symlink", "chmod", "utimes"]) {
        const original = fs[method].bind(fs);
        wrapped[method] = async (...args) => {
            if (++ops === killAt)
                process.kill(process.pid, "SIGKILL");
            return original(...args);
        };
    }
    return wrapped;
}
const reader = await openArchive(new NodeFs(dirname(archive)), basename(archive));
await applyDiff(counted(new NodeFs(dir)), reader);
process.stdout.write(String(ops));
//# sourceMappingURL=crash-child.js.map