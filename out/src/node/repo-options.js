/**
 * The repository options a Node process should use: its pid and host in locks with stale-lock
 * detection (repo-lock.ts), and node:zlib for deflating archives (deflate.ts).
 */
import { hostname } from "node:os";
import { nodeDeflate } from "./deflate.js";
import { isLockOwnerAlive } from "./repo-lock.js";
/** Node's defaults under `options`: whatever the caller sets wins. */
export function nodeRepositoryOptions(options = {}) {
    return { owner: { pid: process.pid, host: hostname() }, isAlive: isLockOwnerAlive, deflate: nodeDeflate, ...options };
}
//# sourceMappingURL=repo-options.js.map