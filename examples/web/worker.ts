/**
 * The backup worker (a module worker): it owns the repository, in the origin private file system
 * under REPO_DIR or in an S3-compatible bucket, and does every piece of work the page asks for,
 * so the page only draws. Requests are handled one at a time, in order: a repository takes a
 * lock for each operation anyway, and a queue turns a double click into a second run rather than
 * a LOCKED error.
 *
 * The password. New repositories are encrypted (EncryptedStore over the chosen store). The
 * password arrives with `create` or `unlock`, is used once to derive the key that opens the
 * repository's key object, and is dropped with the request; what stays, in this worker's memory
 * only, is the opened store (the repository key) until `lock`, another `connect`, or the page
 * closing. Nothing here writes the password or the S3 credentials to any storage.
 *
 * The repository is opened afresh (over the kept store) for each request: it holds no state
 * between operations that a reopen would lose, and a fresh open sees what another tab wrote.
 *
 * Stale locks. The repository's own lock outlives a tab closed in the middle of a backup, and
 * the core cannot tell a dead writer from a live one. In OPFS a Web Lock can: the browser
 * releases it when its holder goes away. So every request runs holding the Web Lock WEB_LOCK, and
 * while we hold it no other page of this origin is inside the repository; an OPFS repository
 * lock found then was left by a writer that died, and `isAlive` says so. A bucket is shared with
 * other machines, which no Web Lock covers, so there the core's own rule holds (a lock is taken
 * over only once stale). Browsers without Web Locks keep the core's default everywhere.
 *
 * Progress from the library arrives as often as the library likes; it is forwarded at most
 * every PROGRESS_MS (plus every phase change and the last one before an answer), so a backup of
 * many small files does not flood the page with messages it would only redraw.
 */
import {
  EncryptedStore,
  createEncryptedRepository,
  FileListFs,
  FsStore,
  HandleFs,
  IbtError,
  MemoryFs,
  Repository,
  S3Store,
  type FsAdapter,
  type Progress,
  type Snapshot,
  type Store,
} from "../../src/index.js";
import { BlobBuilder } from "./blob-builder.js";
import { NEEDS_UNLOCK, toWire } from "./errors.js";
import type { Found, FromWorker, Request, Results, SourceSpec, Target, ToWorker } from "./protocol.js";
import { zipTree } from "./zip-tree.js";

/** The repository's folder in OPFS. */
export const REPO_DIR = "ibt-repository";
/** The Web Lock held by whichever page of this origin is working in the repository. */
const WEB_LOCK = "ibt-repository";
const PROGRESS_MS = 100;
/** The name of an unencrypted repository's configuration object (src/repo/layout.ts). */
const PLAIN_CONFIG = "ibt-repo.json";

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

/** The chosen storage, and once unlocked the store the repository is read through. */
let connection: { target: Target; inner: Store; found: Found; unlocked?: Store } | undefined;

async function run(request: Request, onProgress: (p: Progress) => void): Promise<Results[keyof Results]> {
  switch (request.op) {
    case "connect": {
      const inner = await innerStore(request.target);
      const found: Found = (await EncryptedStore.isEncrypted(inner)) ? "encrypted" : (await hasObject(inner, PLAIN_CONFIG)) ? "plain" : "none";
      connection = { target: request.target, inner, found };
      return { found, location: inner.location };
    }
    case "create": {
      const c = connected();
      if (c.found !== "none") throw new IbtError("EXISTS", `a repository exists in ${c.inner.location} already`, { caller: "create" });
      // The key is made under the repository lock: another tab or machine may be creating too.
      const { store, repository: repo } = await createEncryptedRepository(c.inner, request.password, repositoryOptions(c.target));
      Object.assign(c, { found: "encrypted", unlocked: store });
      return repo.snapshots();
    }
    case "unlock": {
      const c = connected();
      if (c.found === "none") throw new IbtError("NOT_FOUND", `no repository in ${c.inner.location} yet`, { caller: "unlock" });
      const store = c.found === "encrypted" ? await EncryptedStore.open(c.inner, request.password ?? "") : c.inner;
      const snapshots = await (await Repository.open(store, repositoryOptions(c.target))).snapshots();
      c.unlocked = store;
      return snapshots;
    }
    case "lock":
      if (connection) connection.unlocked = undefined;
      return null;
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
      const c = connected();
      await repository(); // only an unlocked repository may be erased
      if (c.target.kind === "opfs") {
        const root = await navigator.storage.getDirectory();
        await root.removeEntry(REPO_DIR, { recursive: true }).catch((e: unknown) => {
          if ((e as { name?: string }).name !== "NotFoundError") throw e;
        });
      } else {
        // Every object under the prefix, key objects included: the bucket holds nothing of it after.
        const names: string[] = [];
        for await (const object of c.inner.list("")) names.push(object.name);
        for (const name of names) await c.inner.remove(name);
      }
      // The OPFS folder is gone with its handle; the next create starts from a fresh one.
      Object.assign(c, { inner: await innerStore(c.target), found: "none", unlocked: undefined });
      return null;
    }
  }
}

function connected(): NonNullable<typeof connection> {
  if (!connection) throw new IbtError("BAD_ARGUMENT", "choose where the repository is first", { caller: NEEDS_UNLOCK });
  return connection;
}

/** The unlocked repository; NEEDS_UNLOCK before a password opened it. */
async function repository(): Promise<Repository> {
  const c = connected();
  if (!c.unlocked) throw new IbtError("BAD_ARGUMENT", "the repository is locked: enter its password first", { caller: NEEDS_UNLOCK });
  return Repository.open(c.unlocked, repositoryOptions(c.target));
}

function repositoryOptions(target: Target) {
  // In OPFS, only called while this worker holds WEB_LOCK (see above): no live writer can hold the lock.
  return target.kind === "opfs" && navigator.locks ? { isAlive: () => false, owner: { host: "browser" } } : {};
}

async function innerStore(target: Target): Promise<Store> {
  if (target.kind === "opfs") {
    const root = await navigator.storage.getDirectory();
    return new FsStore(new HandleFs(await root.getDirectoryHandle(REPO_DIR, { create: true })), `OPFS ${REPO_DIR}`);
  }
  const { endpoint, bucket, prefix, region, accessKeyId, secretAccessKey, sessionToken } = target;
  return new S3Store({
    endpoint,
    bucket,
    prefix,
    region: region || "us-east-1",
    credentials: sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey },
    fetch: uncachedFetch,
  });
}

/**
 * fetch past the browser's HTTP cache. A cache holding part of an object rewrites a later ranged
 * GET of it (another Range, an If-Range added) after the request was signed, and the bucket then
 * refuses the signature; and an object store's answers are never worth caching here anyway.
 */
const uncachedFetch = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => fetch(input, { ...init, cache: "no-store" });

async function hasObject(store: Store, name: string): Promise<boolean> {
  try {
    await store.stat(name);
    return true;
  } catch (e) {
    if (e instanceof IbtError && e.code === "NOT_FOUND") return false;
    throw e;
  }
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
