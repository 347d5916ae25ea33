/**
 * Where a backup's archive manifest waits once it passes what the backup keeps in memory
 * (`manifestMemory`): objects `data/<id>.zip.manifest-<n>` in the repository's own store, read
 * back in order when the manifest is written as the archive's last member, and removed then.
 * Through an encrypted store they are encrypted like everything else. After a crash they are
 * leftovers: no name under `data/` but a recorded snapshot's archive is kept by the next writer
 * (snapshot.ts, removeLeftovers).
 */
import type { LaterSpill } from "../archive/zip-later.js";
import type { Store } from "../store/types.js";

export function storeSpill(store: Store, archive: string, keep: number, signal?: AbortSignal): LaterSpill {
  const names: string[] = [];
  return {
    keep,
    async write(pieces) {
      const name = `${archive}.manifest-${names.length}`;
      names.push(name);
      await store.save(name, pieces, signal ? { signal } : {});
    },
    async *read() {
      for (const name of names) yield* store.loadStream(name, signal ? { signal } : {});
    },
    async dispose() {
      // Removed without the backup's signal: an aborted backup cleans up too.
      for (const name of names.splice(0)) await store.remove(name).catch(() => {});
    },
  };
}
