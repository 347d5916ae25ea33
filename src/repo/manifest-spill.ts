/**
 * Where a backup's archive manifest waits once it passes what the backup keeps in memory
 * (`manifestMemory`): objects `data/<id>.zip.manifest-<n>` in the repository's own store, read
 * back in order when the manifest is written as the archive's last member, and removed then.
 * Through an encrypted store they are encrypted like everything else. After a crash they are
 * leftovers: no name under `data/` but a recorded snapshot's archive is kept by the next writer
 * (snapshot.ts, removeLeftovers).
 *
 * The archive's writer may go on for a while after its archive has failed or been abandoned (it
 * stops at its next write into the archive), so the backup closes the spill as soon as the
 * archive's save settles: what was kept aside is removed, and a later `write` fails instead of
 * leaving an object behind the backup (or behind a full written in place of an abandoned
 * incremental under the same id).
 */
import { IbtError } from "../errors.js";
import type { LaterSpill } from "../archive/zip-later.js";
import type { Store } from "../store/types.js";

export interface StoreSpill extends LaterSpill {
  /** Removes what was kept aside, once any write in flight has settled; later writes fail. */
  close(): Promise<void>;
}

export function storeSpill(store: Store, archive: string, keep: number, signal?: AbortSignal): StoreSpill {
  const names: string[] = [];
  let writing: Promise<unknown> = Promise.resolve();
  /** The one clean-up, which `dispose` and `close` both wait for, whichever comes first. */
  let cleanup: Promise<void> | undefined;
  const removeAll = (): Promise<void> =>
    (cleanup ??= (async () => {
      await writing;
      // Removed without the backup's signal: an aborted backup cleans up too.
      for (const name of names.splice(0)) await store.remove(name).catch(() => {});
    })());
  return {
    keep,
    async write(pieces) {
      if (cleanup) throw new IbtError("INTERNAL", `${archive}: the archive was given up; its manifest is not kept aside`, { path: archive });
      const name = `${archive}.manifest-${names.length}`;
      names.push(name);
      const saved = store.save(name, pieces, signal ? { signal } : {});
      writing = saved.catch(() => {});
      await saved;
    },
    async *read() {
      for (const name of names) yield* store.loadStream(name, signal ? { signal } : {});
    },
    dispose: removeAll,
    close: removeAll,
  };
}
