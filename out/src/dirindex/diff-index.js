import { comparePaths } from "./entry.js";
import { parentPath } from "../fs/paths.js";
export class DiffIndex {
    newIndex;
    oldIndex;
    constructor(newIndex, oldIndex) {
        this.newIndex = newIndex;
        this.oldIndex = oldIndex;
    }
    compute() {
        const oldIdx = this.oldIndex;
        const newIdx = this.newIndex;
        const changes = [];
        const created = [];
        for (const [path, old] of oldIdx.entries) {
            const now = newIdx.get(path);
            if (!now || now.type !== old.type)
                changes.push({ kind: "delete", path, old });
        }
        for (const [path, entry] of newIdx.entries) {
            const old = oldIdx.get(path);
            if (!old || old.type !== entry.type) {
                created.push(entry);
                continue;
            }
            const metaChanged = old.mode !== entry.mode || old.mtimeMs !== entry.mtimeMs;
            if (entry.type === "file" && old.hash !== entry.hash)
                changes.push({ kind: "update", path, old, entry });
            else if (entry.type === "symlink" && old.target !== entry.target)
                changes.push({ kind: "relink", path, old, entry });
            else if (metaChanged)
                changes.push({ kind: "metadata", path, old, entry });
        }
        // Content already in the old tree, by hash: files that are deleted first (moves), then any.
        const gone = new Map();
        const anywhere = new Map();
        for (const [path, old] of oldIdx.entries) {
            if (old.type !== "file" || old.size === 0 || old.hash === undefined)
                continue;
            const now = newIdx.get(path);
            const stays = now?.type === "file" && now.hash === old.hash;
            if (!anywhere.has(old.hash))
                anywhere.set(old.hash, path);
            if (!stays && !gone.has(old.hash))
                gone.set(old.hash, path);
        }
        for (const entry of created) {
            const path = entry.path;
            if (entry.type === "file" && entry.size > 0 && entry.hash !== undefined) {
                const movedFrom = gone.get(entry.hash);
                if (movedFrom !== undefined) {
                    gone.delete(entry.hash); // one move per source; later twins copy
                    changes.push({ kind: "move", path, from: movedFrom, entry });
                    continue;
                }
                const copyFrom = anywhere.get(entry.hash);
                if (copyFrom !== undefined) {
                    changes.push({ kind: "copy", path, from: copyFrom, entry });
                    continue;
                }
            }
            changes.push({ kind: "create", path, entry });
        }
        changes.sort((a, b) => comparePaths(a.path, b.path) || order(a) - order(b));
        const changed = new Set(changes.filter((c) => c.kind !== "delete").map((c) => c.path));
        const parents = new Map();
        for (const c of changes) {
            for (let dir = parentPath(c.path); dir !== ""; dir = parentPath(dir)) {
                const e = newIdx.get(dir);
                if (!e || e.type !== "dir" || changed.has(dir) || parents.has(dir))
                    continue;
                parents.set(dir, { path: dir, mtimeMs: e.mtimeMs, mode: e.mode });
            }
        }
        return { base: oldIdx.id, target: newIdx.id, changes, parents: [...parents.values()].sort((a, b) => comparePaths(a.path, b.path)) };
    }
}
/** A delete sorts before a create at the same path (a type change). */
function order(c) {
    return c.kind === "delete" ? 0 : 1;
}
/** The Python library's groupings of a diff, for callers that want them. */
export function summarize(diff) {
    const s = {
        createdFiles: [],
        updatedFiles: [],
        deletedFiles: [],
        createdDirs: [],
        deletedDirs: [],
        symlinks: [],
        moved: [],
        copied: [],
        metadataOnly: [],
    };
    for (const c of diff.changes) {
        switch (c.kind) {
            case "create":
                if (c.entry.type === "file")
                    s.createdFiles.push(c.path);
                else if (c.entry.type === "dir")
                    s.createdDirs.push(c.path);
                else
                    s.symlinks.push(c.path);
                break;
            case "update":
                s.updatedFiles.push(c.path);
                break;
            case "delete":
                if (c.old.type === "dir")
                    s.deletedDirs.push(c.path);
                else if (c.old.type === "file")
                    s.deletedFiles.push(c.path);
                else
                    s.symlinks.push(c.path);
                break;
            case "move":
                s.moved.push({ from: c.from, to: c.path });
                break;
            case "copy":
                s.copied.push({ from: c.from, to: c.path });
                break;
            case "relink":
                s.symlinks.push(c.path);
                break;
            case "metadata":
                s.metadataOnly.push(c.path);
                break;
        }
    }
    return s;
}
//# sourceMappingURL=diff-index.js.map