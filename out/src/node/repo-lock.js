/**
 * What only a runtime with processes can tell the repository: who this writer is (pid, host),
 * and whether the writer named in a lock still runs. A lock from this host whose pid is gone
 * was left by a crash and is broken automatically; a lock from another host cannot be judged
 * from here and stays until `unlock`. `nodeRepositoryOptions` (repo-options.ts) passes both.
 */
import { hostname } from "node:os";
export function isLockOwnerAlive(owner) {
    if (owner.host !== hostname() || owner.pid === undefined)
        return true;
    try {
        process.kill(owner.pid, 0);
        return true;
    }
    catch (e) {
        // EPERM: the process exists but belongs to someone else.
        return e.code === "EPERM";
    }
}
//# sourceMappingURL=repo-lock.js.map