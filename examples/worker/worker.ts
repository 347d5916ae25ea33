/**
 * An example Cloudflare Worker: incremental backups of posted file trees into an R2 bucket.
 *
 *   POST /backup                 body {"files": {"path": "<base64>", "empty/dir/": null, …}}
 *                                → 201 and the new snapshot (a full first, incrementals after)
 *   GET  /snapshots              → the snapshots, oldest first
 *   GET  /restore?snapshot=ID    → {"snapshot": ID, "files": {…}} in the posted form ("latest" works)
 *
 * A tree travels as JSON: each file's path (relative, "/"-separated) with its bytes in base64,
 * and each empty directory as its path with a trailing "/" and the value null. That is the
 * simplest form a shell (`base64`, `jq`) or a browser can make, and it says exactly what a
 * restore gives back: every file and every empty directory, nothing else (no modes, times or
 * symlinks, which a JSON body from a client would only invent).
 *
 * The posted tree is held in memory (MemoryFs), backed up into the repository that lives in the
 * bucket bound as BACKUPS (created by the first backup), and dropped; restores go the other way.
 * The repository's lock is an R2 conditional put, so two backups posted at once cannot both
 * write: the second is answered 409 and may be retried. Workers give a request 128 MB of memory,
 * so a posted tree (and its base64 text) must fit well within that.
 *
 * The library comes from its Workers entry, which hands the engine the precompiled engine.wasm
 * (wrangler bundles the `.wasm` import as a compiled module). The wrangler config is beside this
 * file (wrangler.jsonc).
 */
import { IbtError, MemoryFs, R2Store, Repository, type FsAdapter, type R2BucketLike, type Snapshot } from "incremental-backups-tools/workerd";

export interface Env {
  /** The R2 bucket the repository lives in. */
  BACKUPS: R2BucketLike;
}

/** A tree in the wire form: file paths to base64, empty directories ("dir/") to null. */
type TreeJson = Record<string, string | null>;

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const store = new R2Store(env.BACKUPS, { name: "BACKUPS" });
    try {
      if (request.method === "POST" && url.pathname === "/backup") {
        const tree = treeFromJson(await bodyJson(request));
        const repo = await Repository.openOrInit(store);
        return json(await repo.backup(tree, { source: url.searchParams.get("source") ?? "posted" }), 201);
      }
      if (request.method === "GET" && url.pathname === "/snapshots") {
        const repo = await openRepository(store);
        return json(repo ? await repo.snapshots() : ([] satisfies Snapshot[]));
      }
      if (request.method === "GET" && url.pathname === "/restore") {
        const id = url.searchParams.get("snapshot");
        if (!id) return json({ error: "BAD_ARGUMENT", message: "restore needs ?snapshot=ID (or latest)" }, 400);
        const repo = await openRepository(store);
        if (!repo) return json({ error: "NOT_FOUND", message: "no backups yet" }, 404);
        const target = new MemoryFs();
        const result = await repo.restore(id, target);
        return json({ snapshot: result.snapshot, files: await treeToJson(target) });
      }
      return json({ error: "NOT_FOUND", message: "POST /backup, GET /snapshots, GET /restore?snapshot=ID" }, 404);
    } catch (e) {
      if (!(e instanceof IbtError)) throw e;
      return json({ error: e.code, message: e.message }, STATUS[e.code] ?? 500);
    }
  },
};

/** HTTP statuses for the errors a caller can act on; anything else is the server's fault. */
const STATUS: Partial<Record<string, number>> = { BAD_ARGUMENT: 400, UNSAFE_PATH: 400, NOT_FOUND: 404, LOCKED: 409 };

async function openRepository(store: R2Store): Promise<Repository | undefined> {
  try {
    return await Repository.open(store);
  } catch (e) {
    if (e instanceof IbtError && e.code === "NOT_FOUND") return undefined;
    throw e;
  }
}

async function bodyJson(request: Request): Promise<unknown> {
  try {
    return await request.json();
  } catch {
    throw new IbtError("BAD_ARGUMENT", "the body is not JSON");
  }
}

/** The posted tree as a MemoryFs; MemoryFs.from checks every path (UNSAFE_PATH). */
function treeFromJson(body: unknown): MemoryFs {
  const files = (body as { files?: unknown } | null)?.files;
  if (typeof files !== "object" || files === null || Array.isArray(files)) throw new IbtError("BAD_ARGUMENT", 'the body must be {"files": {path: base64 or null}}');
  const spec: Record<string, Uint8Array | null> = {};
  for (const [path, value] of Object.entries(files as Record<string, unknown>)) {
    if (path.endsWith("/") ? value !== null : typeof value !== "string") {
      throw new IbtError("BAD_ARGUMENT", `${JSON.stringify(path)}: a file's value is base64 text, an empty directory is "path/": null`, { path });
    }
    spec[path] = value === null ? null : fromBase64(value as string, path);
  }
  return MemoryFs.from(spec);
}

/** Every file and every empty directory of `fs`, in the posted form. */
async function treeToJson(fs: FsAdapter, dir = "", out: TreeJson = {}): Promise<TreeJson> {
  const names = (await fs.list(dir)).sort();
  if (dir && names.length === 0) out[`${dir}/`] = null;
  for (const name of names) {
    const path = dir ? `${dir}/${name}` : name;
    const stat = await fs.lstat(path);
    if (stat.type === "dir") await treeToJson(fs, path, out);
    else if (stat.type === "file") out[path] = toBase64(await fs.read(path, 0, stat.size));
  }
  return out;
}

function fromBase64(text: string, path: string): Uint8Array {
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    throw new IbtError("BAD_ARGUMENT", `${JSON.stringify(path)}: not base64`, { path });
  }
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  // In slices, since spreading a large array into one call overflows the argument limit.
  for (let at = 0; at < bytes.length; at += 0x8000) binary += String.fromCharCode(...bytes.subarray(at, at + 0x8000));
  return btoa(binary);
}

function json(value: unknown, status = 200): Response {
  return new Response(JSON.stringify(value, null, 2), { status, headers: { "content-type": "application/json; charset=utf-8" } });
}
