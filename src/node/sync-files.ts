/**
 * Synchronous file access, for the command line, where one process does one job and a
 * thread-pool round trip per call costs more than the call itself: NodeFs's system calls with
 * its `sync` option (syncCalls), and for the engine's commands chunked reads into one reused
 * buffer, random access to a basis, and an output file that appears whole or not at all. All
 * synchronous file I/O lives here.
 */
import { openSync, readSync, writeSync, closeSync, fstatSync, fchmodSync, futimesSync, renameSync, unlinkSync, lstatSync, readdirSync, fsyncSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { IbtError } from "../errors.js";
import { tempName } from "./temp-name.js";
import { fsError } from "./files.js";
import { CREATE_NEW, asError, type FsCalls } from "./fs-calls.js";

const CHUNK = 1 << 20;

/** NodeFs's system calls, synchronous (see fs-calls.ts). */
export const syncCalls: FsCalls = {
  lstat: (abs) => lstatSync(abs),
  lstatMany: (abs) =>
    abs.map((a) => {
      try {
        return lstatSync(a);
      } catch (e) {
        return asError(e);
      }
    }),
  readdir: (abs) => readdirSync(abs),
  openRead(abs, flags) {
    const fd = openSync(abs, flags);
    return {
      stat: () => fstatSync(fd),
      read: (buf, at, length, position) => readSync(fd, buf, at, length, position),
      close: () => closeSync(fd),
    };
  },
  createTemp(abs) {
    const fd = openSync(abs, "wx", 0o666);
    let open = true;
    return {
      write: (chunk, at, length, position) => writeSync(fd, chunk, at, length, position),
      chmod: (mode) => fchmodSync(fd, mode),
      close: () => {
        if (open) closeSync(fd);
        open = false;
      },
    };
  },
  rename: (from, to) => renameSync(from, to),
  createFile(abs, data, mode, mtimeSeconds) {
    const fd = openSync(abs, CREATE_NEW, 0o600);
    let open = true;
    try {
      for (let at = 0; at < data.length; ) at += writeSync(fd, data, at, data.length - at, at);
      if (mode !== undefined) fchmodSync(fd, mode);
      futimesSync(fd, Date.now() / 1000, mtimeSeconds);
      open = false;
      closeSync(fd);
    } catch (e) {
      try {
        if (open) closeSync(fd);
      } catch {
        // the write failed already; that error is the one to report
      }
      try {
        unlinkSync(abs);
      } catch {
        // removing what we made is all that is left to try
      }
      throw e;
    }
  },
};

function openOrThrow(path: string, flags: string, mode?: number): number {
  try {
    return openSync(path, flags, mode);
  } catch (e) {
    throw fsError(e, path);
  }
}

/** Reads a file in chunks; every chunk is a view of one reused buffer, valid until the next. */
export function* readFileChunksSync(path: string, chunkSize = CHUNK): Generator<Uint8Array> {
  const fd = openOrThrow(path, "r");
  try {
    const buf = new Uint8Array(chunkSize);
    for (;;) {
      let got = 0;
      while (got < chunkSize) {
        const n = readSync(fd, buf, got, chunkSize - got, null);
        if (n === 0) break;
        got += n;
      }
      if (got > 0) yield buf.subarray(0, got);
      if (got < chunkSize) return;
    }
  } catch (e) {
    throw fsError(e, path);
  } finally {
    closeSync(fd);
  }
}

export interface ReadFileSync {
  /** Fills a prefix of `into` with the next bytes; returns how many (0 at the end). */
  readInto(into: Uint8Array): number;
  close(): void;
}

/** Sequential reads into buffers the caller provides (for example a job's `inputSpace()`). */
export function openReadSync(path: string): ReadFileSync {
  const fd = openOrThrow(path, "r");
  return {
    readInto(into) {
      let got = 0;
      try {
        while (got < into.length) {
          const n = readSync(fd, into, got, into.length - got, null);
          if (n === 0) break;
          got += n;
        }
      } catch (e) {
        throw fsError(e, path);
      }
      return got;
    },
    close: () => closeSync(fd),
  };
}

export interface BasisFileSync {
  size: number;
  /** Bytes at `offset`, a view of a reused buffer valid until the next call. */
  read(offset: number, length: number): Uint8Array;
  close(): void;
}

export function openBasisSync(path: string): BasisFileSync {
  const fd = openOrThrow(path, "r");
  let size: number;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new IbtError("BAD_ARGUMENT", `not a regular file: ${path}`, { path });
    size = st.size;
  } catch (e) {
    closeSync(fd);
    throw fsError(e, path);
  }
  let shared = new Uint8Array(0);
  return {
    size,
    read(offset, length) {
      if (shared.length < length) shared = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const n = readSync(fd, shared, got, length - got, offset + got);
        if (n === 0) break;
        got += n;
      }
      return shared.subarray(0, got);
    },
    close: () => closeSync(fd),
  };
}

/**
 * An output file written through a temporary file beside it: `commit` renames it into place,
 * `abort` removes it. Until `commit`, the destination is untouched.
 */
export class AtomicFileSync {
  private fd: number | undefined;
  private readonly temp: string;
  private position = 0;

  constructor(
    readonly path: string,
    options: { overwrite?: boolean } = {},
  ) {
    if (!options.overwrite && exists(path)) {
      throw new IbtError("EXISTS", `output exists (use --force to overwrite): ${path}`, { path });
    }
    this.temp = join(dirname(path), tempName(basename(path)));
    this.fd = openOrThrow(this.temp, "wx", 0o644);
  }

  get bytesWritten(): number {
    return this.position;
  }

  write(data: Uint8Array): void {
    const fd = this.fd;
    if (fd === undefined) throw new IbtError("INTERNAL", "write after commit or abort");
    try {
      for (let at = 0; at < data.length; ) {
        const n = writeSync(fd, data, at, data.length - at, this.position);
        at += n;
        this.position += n;
      }
    } catch (e) {
      throw fsError(e, this.path);
    }
  }

  commit(durable = false): void {
    const fd = this.fd;
    if (fd === undefined) throw new IbtError("INTERNAL", "commit after commit or abort");
    try {
      if (durable) fsyncSync(fd);
      closeSync(fd);
      this.fd = undefined;
      renameSync(this.temp, this.path);
    } catch (e) {
      this.abort();
      throw fsError(e, this.path);
    }
  }

  abort(): void {
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch {
        // already closed or broken: removing the file is what matters
      }
      this.fd = undefined;
    }
    try {
      unlinkSync(this.temp);
    } catch {
      // not created or already gone
    }
  }
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
