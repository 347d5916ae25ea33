/**
 * Reading a `Blob` (a `File` from a file list or a directory handle) as chunks. Shared by the
 * browser adapters: a consumer that stops early cancels the stream, so the file is not read on
 * in the background, and a read error is mapped by the caller (each adapter knows what a stale
 * snapshot means for it).
 */
import type { IbtError } from "../errors.js";

export async function* blobChunks(blob: Blob, onError: (e: unknown) => IbtError): AsyncGenerator<Uint8Array> {
  const reader = blob.stream().getReader();
  let done = false;
  try {
    for (;;) {
      let next: ReadableStreamReadResult<Uint8Array>;
      try {
        next = await reader.read();
      } catch (e) {
        done = true; // an errored stream needs no cancel
        throw onError(e);
      }
      if (next.done) {
        done = true;
        return;
      }
      yield next.value; // a Blob stream hands out a fresh array per chunk
    }
  } finally {
    if (!done) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
