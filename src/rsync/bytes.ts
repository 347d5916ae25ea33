/**
 * Byte-stream plumbing shared by the jobs: every streaming entry point accepts any of the
 * common shapes of a byte source and reads it as an async iterable of Uint8Array.
 */

/** Anything that yields chunks of bytes: an (async) iterable or a web ReadableStream. */
export type ByteSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array> | ReadableStream<Uint8Array>;

function isReadableStream(s: unknown): s is ReadableStream<Uint8Array> {
  return typeof s === "object" && s !== null && typeof (s as ReadableStream).getReader === "function";
}

/** Reads any ByteSource as an async iterable. */
export async function* chunksOf(source: ByteSource): AsyncGenerator<Uint8Array> {
  if (isReadableStream(source)) {
    const reader = source.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      reader.releaseLock();
    }
  }
  yield* source as AsyncIterable<Uint8Array>;
}

/** Concatenates chunks into one array. */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  let total = 0;
  for (const c of chunks) total += c.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Collects a whole async iterable of chunks into one array. */
export async function collect(source: ByteSource): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const c of chunksOf(source)) chunks.push(c);
  return concatBytes(chunks);
}

/** A growable output buffer that hands out full chunks of at least `chunkSize` bytes. */
export class OutputBuffer {
  private buf: Uint8Array;
  private len = 0;

  constructor(private readonly chunkSize = 256 * 1024) {
    this.buf = new Uint8Array(chunkSize);
  }

  get length(): number {
    return this.len;
  }

  append(data: Uint8Array): void {
    if (this.len + data.length > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + data.length));
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
    }
    this.buf.set(data, this.len);
    this.len += data.length;
  }

  /** True when the buffer holds at least one chunk's worth. */
  get full(): boolean {
    return this.len >= this.chunkSize;
  }

  /** Takes everything buffered (a fresh array the caller owns), or undefined when empty. */
  take(): Uint8Array | undefined {
    if (this.len === 0) return undefined;
    const out = this.buf.slice(0, this.len);
    this.len = 0;
    if (this.buf.length > this.chunkSize * 4) this.buf = new Uint8Array(this.chunkSize);
    return out;
  }
}
