/**
 * Random access to one stored object through ranged `load`s, for readers that jump about in a
 * file (the ZIP reader: end record, central directory, then each member's header and data).
 *
 * Each load is a request to a remote store, so small reads are served from a read-ahead cache:
 * a read of less than READ_AHEAD fetches READ_AHEAD bytes from its offset (clipped to the
 * object's end) and keeps that block; the next small reads, which a ZIP reader makes close
 * together (a member's local header, then its data), come from it. At most CACHED_BLOCKS blocks
 * are kept per object, so memory stays bounded however many archives a restore opens; a read
 * of READ_AHEAD or more goes to the store as it is and is not kept, so large members stream
 * through without being held twice. Only what is asked for (plus the read-ahead) is fetched:
 * restoring one path never downloads a whole archive.
 */
import { IbtError } from "../errors.js";
import type { Store } from "./types.js";

/** Bytes fetched for any smaller read: a few round trips cover a member's header and data. */
export const READ_AHEAD = 256 * 1024;
/** Blocks kept per object: the block being read and the one before it, for readers that step back. */
const CACHED_BLOCKS = 2;

export interface StoredRandomAccess {
  readonly size: number;
  /** Exactly `length` bytes from `offset` (TRUNCATED past the end); the caller may keep the array. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** How many loads this reader made, for tests and benchmarks. */
  readonly loads: number;
}

/** Random access to object `name` of `size` bytes (from `stat`). */
export function storedRandomAccess(store: Store, name: string, size: number): StoredRandomAccess {
  const blocks: { offset: number; bytes: Uint8Array }[] = [];
  let loads = 0;
  const load = async (offset: number, length: number): Promise<Uint8Array> => {
    loads++;
    const bytes = await store.load(name, { offset, length });
    if (bytes.length !== length) {
      throw new IbtError("IO", `${name}: asked for ${length} bytes at ${offset}, the store gave ${bytes.length}`, { path: name, offset });
    }
    return bytes;
  };
  return {
    size,
    get loads() {
      return loads;
    },
    async read(offset, length) {
      if (offset < 0 || length < 0 || offset + length > size) {
        throw new IbtError("TRUNCATED", `${name}: ${length} bytes at ${offset} run past the end of the ${size}-byte object`, { path: name, offset });
      }
      if (length === 0) return new Uint8Array(0);
      for (const b of blocks) {
        if (offset >= b.offset && offset + length <= b.offset + b.bytes.length) return b.bytes.subarray(offset - b.offset, offset - b.offset + length);
      }
      if (length >= READ_AHEAD) return load(offset, length);
      const block = { offset, bytes: await load(offset, Math.min(READ_AHEAD, size - offset)) };
      blocks.push(block);
      if (blocks.length > CACHED_BLOCKS) blocks.shift();
      return block.bytes.subarray(0, length);
    },
  };
}
