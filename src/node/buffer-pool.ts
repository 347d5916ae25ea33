/**
 * Read buffers lent to transient streams (`readStream(path, { transient: true })`) and taken back
 * when they end, so that reading many files touches the same memory again instead of fresh pages
 * (the first touch of every fresh page is a page fault, which costs more than the read into it).
 */
export class BufferPool {
  private readonly free: Uint8Array[] = [];

  /** Buffers of `size` bytes; at most `keep` (as many as streams usually run at once) are held. */
  constructor(
    readonly size: number,
    readonly keep = 16,
  ) {}

  /**
   * A buffer for a stream of `length` bytes: a pooled one if any is free, else a new one, sized
   * to the stream when it is shorter than a pooled buffer (that one is not pooled afterwards):
   * a small file read while every pooled buffer is out costs its own size, not a whole buffer.
   */
  take(length: number): Uint8Array {
    return this.free.pop() ?? new Uint8Array(Math.min(this.size, length));
  }

  give(buffer: Uint8Array): void {
    if (buffer.length === this.size && this.free.length < this.keep) this.free.push(buffer);
  }
}
