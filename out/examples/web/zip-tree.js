/**
 * A restored tree as one ZIP download. The worker restores a snapshot into a MemoryFs (a
 * browser has no other scratch space it can hand to the user whole), then walks it here and
 * writes every directory and file with the project's own ZipWriter, keeping mtimes and modes.
 * The archive goes into a Blob piece by piece (BlobBuilder), so the ZIP is never one big array.
 *
 * Paths are sorted so the same tree always gives the same member order. Directories are written
 * too, so empty ones survive; symlinks cannot come from a browser source and a ZIP member cannot
 * portably hold one, so meeting one is an error rather than a silent gap in the restore.
 */
import { BlobBuilder } from "./blob-builder.js";
import { IbtError, joinPath, ZipWriter } from "../../src/index.js";
export async function zipTree(fs) {
    const out = new BlobBuilder();
    const zip = new ZipWriter((chunk) => out.push(chunk));
    let files = 0;
    const walk = async (dir) => {
        for (const name of (await fs.list(dir)).sort()) {
            const path = joinPath(dir, name);
            const st = await fs.lstat(path);
            if (st.type === "dir") {
                await zip.addDirectory(path, { mtimeMs: st.mtimeMs || Date.now(), mode: st.mode || 0o755 });
                await walk(path);
            }
            else if (st.type === "file") {
                await zip.add(path, fs.readStream(path), { mtimeMs: st.mtimeMs, mode: st.mode || 0o644 });
                files++;
            }
            else {
                throw new IbtError("UNSUPPORTED", `a ZIP download cannot hold the symlink ${path}`, { path, caller: "zipTree" });
            }
        }
    };
    await walk("");
    await zip.finish();
    return { blob: out.finish("application/zip"), files };
}
//# sourceMappingURL=zip-tree.js.map