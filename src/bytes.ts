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

/** ASCII codes of the two hex digits of each byte value. */
const HEX_DIGITS = new Uint8Array(512);
for (let i = 0; i < 256; i++) {
  const h = i.toString(16).padStart(2, "0");
  HEX_DIGITS[2 * i] = h.charCodeAt(0);
  HEX_DIGITS[2 * i + 1] = h.charCodeAt(1);
}
const ASCII = new TextDecoder("latin1");
const HEX_OF_32 = new Uint8Array(64);

/**
 * Lower-case hexadecimal, as hashes are written in indexes and manifests. Built as bytes and
 * decoded once: appending two-character pieces makes a rope of 32 nodes per hash, which costs
 * ten times the memory of the flat string while an index of millions of files holds it.
 * `start` and `length` pick a range of `b` without making a view of it.
 */
export function toHex(b: Uint8Array, start = 0, length = b.length - start): string {
  // A 32-byte hash (the common case: indexes hold one per file) reuses one buffer.
  const out = length === 32 ? HEX_OF_32 : new Uint8Array(2 * length);
  for (let i = 0; i < length; i++) {
    const x = b[start + i]!;
    out[2 * i] = HEX_DIGITS[2 * x]!;
    out[2 * i + 1] = HEX_DIGITS[2 * x + 1]!;
  }
  return ASCII.decode(out);
}

/**
 * Copies the leading ASCII characters of `s` into `buf` from `at`, one byte each (their UTF-8),
 * stopping at the first other character; returns how many it copied. The caller makes room for
 * all of `s`. Nearly every path is ASCII, and this is cheaper than a TextEncoder call for one.
 */
export function copyAscii(s: string, buf: Uint8Array, at: number): number {
  let i = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) break;
    buf[at + i] = c;
  }
  return i;
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

/**
 * Collects output into fresh fixed-size chunks (64 KiB by default). Allocations of this size are
 * served from the allocator's free lists, while larger ones come as fresh pages from the system
 * at a cost of several milliseconds per MiB; so jobs copy their output once, into chunks of this
 * size, and hand those out without further copies. The first chunk starts small and doubles up
 * to the full size, so a job with little output (a small file's signature) allocates little.
 */
export class ChunkQueue {
  private current: Uint8Array;
  private used = 0;
  private ready: Uint8Array[] = [];
  private readyBytes = 0;

  constructor(private readonly chunkSize = 64 * 1024) {
    this.current = new Uint8Array(Math.min(chunkSize, 1024));
  }

  /** Copies `data` in. */
  append(data: Uint8Array): void {
    for (let at = 0; at < data.length; ) {
      if (this.used === this.current.length) this.makeRoom();
      const n = Math.min(this.current.length - this.used, data.length - at);
      this.current.set(data.subarray(at, at + n), this.used);
      this.used += n;
      at += n;
    }
    if (this.used === this.chunkSize) this.makeRoom();
  }

  private makeRoom(): void {
    if (this.current.length < this.chunkSize) {
      const bigger = new Uint8Array(Math.min(this.chunkSize, this.current.length * 4));
      bigger.set(this.current.subarray(0, this.used));
      this.current = bigger;
      return;
    }
    this.ready.push(this.current);
    this.readyBytes += this.chunkSize;
    this.current = new Uint8Array(this.chunkSize);
    this.used = 0;
  }

  /** Bytes held, in full chunks and the partial one. */
  get length(): number {
    return this.readyBytes + this.used;
  }

  /** Bytes in full chunks waiting to be taken. */
  get readyLength(): number {
    return this.readyBytes;
  }

  /** Takes the full chunks, and with `flush` the partial one too; the caller owns them. */
  take(flush = false): Uint8Array[] {
    const out = this.ready;
    this.ready = [];
    this.readyBytes = 0;
    if (flush && this.used > 0) {
      out.push(this.current.subarray(0, this.used));
      this.current = new Uint8Array(Math.min(this.chunkSize, 1024));
      this.used = 0;
    }
    return out;
  }
}
