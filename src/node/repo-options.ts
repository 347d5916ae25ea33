/**
 * The repository options a Node process should use: its pid and host in locks with stale-lock
 * detection (repo-lock.ts), and node:zlib for deflating and inflating archives (deflate.ts, inflate.ts).
 */
import { hostname } from "node:os";
import type { RepositoryOptions } from "../repo/index.js";
import { nodeDeflate } from "./deflate.js";
import { nodeInflate } from "./inflate.js";
import { isLockOwnerAlive } from "./repo-lock.js";

/** Node's defaults under `options`: whatever the caller sets wins. */
export function nodeRepositoryOptions(options: RepositoryOptions = {}): RepositoryOptions {
  return { owner: { pid: process.pid, host: hostname() }, isAlive: isLockOwnerAlive, deflate: nodeDeflate, inflate: nodeInflate, ...options };
}
