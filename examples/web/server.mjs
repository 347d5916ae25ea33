// `npm run web`: bundles the folder-backup page (page.ts and worker.ts) with esbuild and serves
// it on http://127.0.0.1:PORT (PORT from `--port N` or $PORT; 0 or unset picks a free one),
// printing the URL. 127.0.0.1 is a secure context, which OPFS and the directory picker need.
//
// The library is not bundled into the page's scripts: every import of src/index.js becomes
// /lib/incremental-backups-tools.js, the browser build that `npm run build` makes in
// dist/browser, so the page runs what users load, and the page and its worker share one copy.
// Any other import of src/ fails the bundle: the page may use only the public entry. The page's
// own scripts are bundled in memory at start, so a restart picks up their changes.
//
// The end-to-end test imports `startWebServer` to serve the very same page.
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const LIB = "/lib/incremental-backups-tools.js";
const LIB_FILE = join(root, "dist", "browser", "incremental-backups-tools.js");
const STATIC = { "/": "index.html", "/index.html": "index.html", "/style.css": "style.css" };

/** Points imports of the library's entry at the browser build; refuses deeper imports of src/. */
const libraryFromBuild = {
  name: "library-from-browser-build",
  setup(build) {
    build.onResolve({ filter: /\/src\// }, (args) => {
      if (resolve(args.resolveDir, args.path).replace(/\.[jt]s$/, "") === join(root, "src", "index")) return { path: LIB, external: true };
      return { errors: [{ text: `${args.path} (from ${args.importer}): the page takes the library only from its entry, src/index.js` }] };
    });
  },
};
const TYPES = { ".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".map": "application/json" };

/**
 * The page's scripts and the library's browser build, by URL path. The platform is "browser",
 * so a `node:` import in the page's own code fails the build.
 */
export async function bundleWebPage() {
  const result = await esbuild.build({
    entryPoints: { page: join(here, "page.ts"), worker: join(here, "worker.ts") },
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    sourcemap: "inline",
    outdir: "/",
    write: false,
    plugins: [libraryFromBuild],
    logLevel: "warning",
  });
  const files = new Map(result.outputFiles.map((f) => [`/${f.path.split("/").pop()}`, f.contents]));
  try {
    files.set(LIB, await readFile(LIB_FILE));
    files.set(`${LIB}.map`, await readFile(`${LIB_FILE}.map`));
  } catch {
    throw new Error(`${LIB_FILE} is missing: run npm run build first`);
  }
  return files;
}

/** Serves the page on 127.0.0.1; resolves to `{ url, close() }` once listening. */
export async function startWebServer({ port = 0 } = {}) {
  const scripts = await bundleWebPage();
  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    try {
      const body = scripts.get(path) ?? (STATIC[path] ? await readFile(join(here, STATIC[path])) : undefined);
      if (body === undefined) return void res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      const file = STATIC[path] ?? path;
      res.writeHead(200, { "content-type": TYPES[file.slice(file.lastIndexOf("."))] ?? "application/octet-stream", "cache-control": "no-store" });
      res.end(body);
    } catch (e) {
      res.writeHead(500, { "content-type": "text/plain" }).end(String(e));
    }
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const url = `http://127.0.0.1:${server.address().port}/`;
  return { url, close: () => new Promise((resolve) => server.close(resolve)) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const i = process.argv.indexOf("--port");
  const port = Number(i > 0 ? process.argv[i + 1] : process.env.PORT ?? 0);
  const { url } = await startWebServer({ port });
  console.log(`Folder backup page: ${url}`);
}
