/** Diffs whose manifests are large and cheap to make, for the manifest's writing and reading tests. */
import type { Diff } from "../../src/dirindex/diff-index.js";

/** A diff of `n` deletions: no file data, a manifest of ~230 bytes per change. */
export function deletions(n: number): Diff {
  const changes: Diff["changes"] = [];
  for (let i = 0; i < n; i++) {
    const path = `dir-${String(i >> 8).padStart(4, "0")}/file-${String(i).padStart(7, "0")}.txt`;
    changes.push({ kind: "delete", path, old: { path, type: "file", size: i * 37, mtimeMs: 1_600_000_000_000 + i * 1.25, mode: 0o100644, hash: (i * 2654435761 >>> 0).toString(16).padStart(64, "0") } });
  }
  return { base: "c".repeat(64), target: "d".repeat(64), changes, parents: [] };
}
