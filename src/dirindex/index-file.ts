/**
 * Saving and loading a DirIndex as a file (the format is described in index-format.ts): both
 * stream, both hash every byte with BLAKE2b-256, and loading checks everything before it hands
 * out an index.
 */
import { IbtError } from "../errors.js";
import type { FsAdapter } from "../fs/types.js";
import { chunksOf, type ByteSource } from "../bytes.js";
import { Hasher } from "../rsync/hashes.js";
import { DirIndex } from "./dir-index.js";
import { IndexParser } from "./index-decoder.js";
import { ChunkWriter, writeEnd, writeEntry, writeHeader } from "./index-encoder.js";
import type { IndexEntry } from "./entry.js";

/** Bytes gathered before they are hashed and handed on. */
const OUTPUT_CHUNK = 64 * 1024;

/** Encodes an index as a stream of chunks. */
export function encodeIndex(index: DirIndex): AsyncGenerator<Uint8Array> {
  return encodeEntries(index.sortedEntries);
}

/**
 * Encodes entries in path order as an index file while they come: the bytes `encodeIndex` makes
 * of the index that holds them (the caller answers for the order).
 */
export async function* encodeEntries(entries: Iterable<IndexEntry> | AsyncIterable<IndexEntry>): AsyncGenerator<Uint8Array> {
  const hasher = await Hasher.create();
  try {
    const w = new ChunkWriter();
    const taken = function* () {
      for (const c of w.take()) {
        hasher.update(c);
        yield c;
      }
    };
    writeHeader(w);
    let count = 0;
    for await (const entry of entries) {
      writeEntry(w, entry);
      count++;
      if (w.pending >= OUTPUT_CHUNK) yield* taken();
    }
    writeEnd(w, count);
    yield* taken();
    yield hasher.digest();
  } finally {
    hasher.dispose();
  }
}

/**
 * Decodes an index from a stream of chunks, checking everything. `signatures: false` leaves
 * the files' signatures out (IndexParser), for a reader that makes no deltas against the tree.
 */
export async function decodeIndex(source: ByteSource, o: { signatures?: boolean } = {}): Promise<DirIndex> {
  // Nothing waits for the hasher (the first in a process waits for the engine to compile):
  // parsed bytes queue until it is ready. And each read is asked for before the chunk in hand
  // is parsed, so that the I/O proceeds while the parser works.
  let hasher: Hasher | undefined;
  const queued: Uint8Array[] = [];
  const ready = Hasher.create().then((h) => {
    hasher = h;
    for (const bytes of queued.splice(0)) h.update(bytes);
    return h;
  });
  ready.catch(() => undefined); // awaited below; this only keeps a failure from being unhandled meanwhile
  const chunks = chunksOf(source);
  let next = chunks.next();
  try {
    const parser = new IndexParser(
      (bytes) => {
        if (hasher) hasher.update(bytes);
        else queued.push(bytes);
      },
      undefined,
      o.signatures ?? true,
    );
    for (let r = await next; !r.done; r = await next) {
      next = chunks.next();
      parser.push(r.value);
    }
    const end = parser.finish();
    if (end.count !== parser.entries.length) throw new IbtError("CORRUPT", `index says ${end.count} entries, holds ${parser.entries.length}`);
    const sum = (await ready).digest();
    if (sum.some((b, i) => b !== end.sum[i])) throw new IbtError("CORRUPT", "index checksum mismatch");
    return await DirIndex.fromSorted(parser.entries);
  } catch (e) {
    // Close the source as a for-await loop would; a read still in flight is let go.
    next.catch(() => undefined);
    await chunks.return(undefined).catch(() => undefined);
    throw e;
  } finally {
    await ready.catch(() => undefined);
    hasher?.dispose();
  }
}

/** Saves an index through an adapter, whole or not at all. */
export async function saveIndex(fs: FsAdapter, path: string, index: DirIndex): Promise<void> {
  await fs.writeFile(path, encodeIndex(index));
}

/** Loads an index saved by `saveIndex`. */
export async function loadIndex(fs: FsAdapter, path: string): Promise<DirIndex> {
  try {
    return await decodeIndex(fs.readStream(path));
  } catch (e) {
    if (e instanceof IbtError && e.path === undefined) {
      throw new IbtError(e.code, `${path}: ${e.message}`, { path, ...(e.offset === undefined ? {} : { offset: e.offset }) });
    }
    throw e;
  }
}
