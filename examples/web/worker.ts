/**
 * The backup worker (a module worker): it owns the repository, which lives in the origin
 * private file system under REPO_DIR, and does every piece of work the page asks for, so the
 * page only draws. Requests are handled one at a time, in order: a repository takes a lock for
 * each operation anyway, and a queue turns a double click into a second run rather than a
 * LOCKED error.
 *
 * The repository is opened afresh for each request: it holds no state between operations that
 * a reopen would lose, and a fresh open sees what another tab of the same origin wrote.
 *
 * Stale locks. The repository's own lock is a directory in OPFS, which outlives a tab closed in
 * the middle of a backup, and the core cannot tell a dead writer from a live one. A Web Lock
 * can: the browser releases it when its holder goes away. So every request runs holding the
 * Web Lock WEB_LOCK, and while we hold it no other page of this origin is inside the repository;
 * a repository lock found then was left by a writer that died, and `isAlive` says so. Browsers
 * without Web Locks keep the core's default (every lock presumed live).
 *
 * Progress from the library arrives as often as the library likes; it is forwarded at most
 * every PROGRESS_MS (plus every phase change and the last one before an answer), so a backup of
 * many small files does not flood the page with messages it would only redraw.
 */
import { FileListFs, FsStore, HandleFs, IbtError, MemoryFs, Repository, type FsAdapter, type Progress, type Snapshot } from "../../src/index.js";
import { BlobBuilder } from "./blob-builder.js";
import { toWire } from "./errors.js";
import type { FromWorker, Request, Results, SourceSpec, ToWorker } from "./protocol.js";
import { zipTree } from "./zip-tree.js";

/** The repository's folder in OPFS. */
export const REPO_DIR = "ibt-repository";
/** The Web Lock held by whichever page of this origin is working in the repository. */
const WEB_LOCK = "ibt-repository";
const PROGRESS_MS = 100;

interface WorkerScope {
  postMessage(message: FromWorker): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
}
const scope = self as unknown as WorkerScope;

let queue = Promise.resolve();
scope.onmessage = (event) => {
  const { seq, request } = event.data;
  queue = queue.then(() => answer(seq, request));
};

async function answer(seq: number, request: Request): Promise<void> {
  const progress = new ProgressRelay((p) => scope.postMessage({ seq, type: "progress", progress: p }));
  try {
    const work = () => run(request, (p) => progress.push(p));
    const result = navigator.locks ? await navigator.locks.request(WEB_LOCK, work) : await work();
    progress.flush();
    scope.postMessage({ seq, type: "done", result });
  } catch (e) {
    progress.flush();
    scope.postMessage({ seq, type: "error", error: toWire(e) });
  }
}

async function run(request: Request, onProgress: (p: Progress) => void): Promise<Results[keyof Results]> {
  switch (request.op) {
    case "snapshots":
      return (await repository()).snapshots();
    case "backup": {
      const repo = await repository();
      const snapshot = await repo.backup(await sourceFs(request.source), {
        source: request.source.name,
        onProgress,
        // A file that cannot be read fails the whole backup: a snapshot silently missing a file
        // is worse than a clear error the user can act on.
        onError: () => "abort",
      });
      return { snapshot, snapshots: await repo.snapshots() };
    }
    case "archive": {
      const repo = await repository();
      const snapshot = await find(repo, request.id);
      const out = new BlobBuilder();
      for await (const chunk of repo.archiveChunks(request.id)) out.push(chunk);
      return { blob: out.finish("application/zip"), name: `${fileStem(snapshot)}-${snapshot.kind}.zip` };
    }
    case "restoreZip": {
      const repo = await repository();
      const snapshot = await find(repo, request.id);
      const tree = new MemoryFs();
      await repo.restore(request.id, tree, { onProgress });
      const { blob, files } = await zipTree(tree);
      return { blob, files, name: `${fileStem(snapshot)}-restored.zip` };
    }
    case "restoreFolder": {
      const target = await HandleFs.open(request.handle);
      if (!target.capabilities.writable) {
        throw new IbtError("READ_ONLY", "no permission to write into the chosen folder", { caller: "restore" });
      }
      return (await repository()).restore(request.id, target, { onProgress });
    }
    case "erase": {
      const root = await navigator.storage.getDirectory();
      await root.removeEntry(REPO_DIR, { recursive: true }).catch((e: unknown) => {
        if ((e as { name?: string }).name !== "NotFoundError") throw e;
      });
      return null;
    }
  }
}

async function repository(): Promise<Repository> {
  const root = await navigator.storage.getDirectory();
  const store = new FsStore(new HandleFs(await root.getDirectoryHandle(REPO_DIR, { create: true })), `OPFS ${REPO_DIR}`);
  // Only called while this worker holds WEB_LOCK (see above): no live writer can hold the lock.
  return Repository.openOrInit(store, navigator.locks ? { isAlive: () => false, owner: { host: "browser" } } : {});
}

async function sourceFs(source: SourceSpec): Promise<FsAdapter> {
  if (source.kind === "handle") return new HandleFs(source.handle, { readOnly: true });
  source.files.forEach((file, i) => {
    // Restore the relative path where cloning the File into the worker dropped it.
    if (!file.webkitRelativePath && source.paths[i]) {
      Object.defineProperty(file, "webkitRelativePath", { value: source.paths[i] });
    }
  });
  return new FileListFs(source.files);
}

async function find(repo: Repository, id: string): Promise<Snapshot> {
  const snapshot = (await repo.snapshots()).find((s) => s.id === id);
  if (!snapshot) throw new IbtError("NOT_FOUND", `no snapshot ${id}`, { caller: "web" });
  return snapshot;
}

/** "photos-2026-11-29T16-20-05Z": a download name that sorts by time and is safe everywhere. */
function fileStem(snapshot: Snapshot): string {
  const label = snapshot.source.replace(/[^\p{L}\p{N}._-]+/gu, "_") || "snapshot";
  return `${label}-${snapshot.time.replace(/\.\d+/, "").replace(/:/g, "-")}`;
}

/** Forwards progress at most every PROGRESS_MS, always on a phase change, and the last on flush. */
class ProgressRelay {
  private pending: Progress | undefined;
  private lastSent = -Infinity;
  private lastPhase: Progress["phase"] | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly send: (p: Progress) => void) {}

  push(p: Progress): void {
    this.pending = { ...p };
    const now = performance.now();
    if (p.phase !== this.lastPhase || now - this.lastSent >= PROGRESS_MS) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), PROGRESS_MS - (now - this.lastSent));
  }

  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.pending) return;
    this.send(this.pending);
    this.lastPhase = this.pending.phase;
    this.lastSent = performance.now();
    this.pending = undefined;
  }
}
