/**
 * Node file helpers for the engine: chunked reads, random access to a basis, and writes that
 * leave either the whole new file or nothing (temp file in the same directory, then rename).
 */
import { open, rename, unlink, lstat, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { IbtError } from "../errors.js";
import type { BasisReader } from "../rsync/patch.js";

const CHUNK = 1 << 20;

/** Maps a Node fs error to an IbtError with a stable code. */
export function fsError(e: unknown, path: string): IbtError {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (e instanceof IbtError) return e;
  if (code === "ENOENT") return new IbtError("NOT_FOUND", `no such file: ${path}`, { path, cause: e });
  if (code === "EEXIST") return new IbtError("EXISTS", `already exists: ${path}`, { path, cause: e });
  if (code === "EISDIR") return new IbtError("BAD_ARGUMENT", `is a directory: ${path}`, { path, cause: e });
  const message = e instanceof Error ? e.message : String(e);
  return new IbtError("IO", `${path}: ${message}`, { path, cause: e });
}

/** Reads a file as fresh chunks of up to `chunkSize` bytes. */
export async function* readFileChunks(path: string, chunkSize = CHUNK): AsyncGenerator<Uint8Array> {
  let fh;
  try {
    fh = await open(path, "r");
  } catch (e) {
    throw fsError(e, path);
  }
  try {
    for (;;) {
      const buf = new Uint8Array(chunkSize);
      const { bytesRead } = await fh.read(buf, 0, chunkSize, null);
      if (bytesRead === 0) return;
      yield bytesRead === chunkSize ? buf : buf.subarray(0, bytesRead);
    }
  } catch (e) {
    throw fsError(e, path);
  } finally {
    await fh.close();
  }
}

export interface OpenBasis {
  size: number;
  read: BasisReader;
  close(): Promise<void>;
}

/** Opens a file for random access, as a patch basis. */
export async function openBasis(path: string): Promise<OpenBasis> {
  let fh;
  try {
    fh = await open(path, "r");
  } catch (e) {
    throw fsError(e, path);
  }
  const { size } = await fh.stat();
  const handle = fh;
  return {
    size,
    async read(offset, length) {
      const buf = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const { bytesRead } = await handle.read(buf, got, length - got, offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return got === length ? buf : buf.subarray(0, got);
    },
    close: () => handle.close(),
  };
}

export interface WriteOptions {
  /** Replace an existing file (default false: refuse with EXISTS). */
  overwrite?: boolean;
  /** fsync the file before the rename, so the new content survives a power loss. */
  durable?: boolean;
}

/**
 * Writes `chunks` to `path` whole or not at all: into a temporary file beside it, renamed over
 * `path` only after the last chunk. If the source throws, the temporary file is removed and
 * `path` is untouched. Returns the number of bytes written.
 */
export async function writeFileAtomic(path: string, chunks: AsyncIterable<Uint8Array>, options: WriteOptions = {}): Promise<number> {
  if (!options.overwrite) {
    const exists = await lstat(path).then(
      () => true,
      () => false,
    );
    if (exists) throw new IbtError("EXISTS", `output exists (use --force to overwrite): ${path}`, { path });
  }
  const dir = dirname(path);
  await stat(dir).catch((e) => {
    throw fsError(e, dir);
  });
  const temp = join(dir, `.${basename(path)}.ibt-tmp-${Math.random().toString(36).slice(2, 10)}`);
  let fh;
  try {
    fh = await open(temp, "wx", 0o644);
  } catch (e) {
    throw fsError(e, temp);
  }
  let total = 0;
  try {
    for await (const c of chunks) {
      let at = 0;
      while (at < c.length) {
        const { bytesWritten } = await fh.write(c, at, c.length - at);
        at += bytesWritten;
      }
      total += c.length;
    }
    if (options.durable) await fh.sync();
    await fh.close();
    fh = undefined;
    await rename(temp, path);
    return total;
  } catch (e) {
    if (fh) await fh.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw e instanceof IbtError ? e : fsError(e, path);
  }
}
