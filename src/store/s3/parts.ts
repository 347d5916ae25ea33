/**
 * Cuts a byte source into parts of exactly `partSize` bytes (the last one shorter), for S3's
 * multipart uploads, in buffers lent by a `PartBuffers` pool. A part is kept until its upload has
 * settled, because any attempt may have to send it again, and is then given back and refilled.
 *
 * Memory bound: a pool creates at most `capacity` buffers of `partSize` bytes and a part is
 * filled only in a buffer the pool lends, so a save holds at most `capacity × partSize` bytes of
 * its data however long the source, plus the one source chunk being copied. A consumer that
 * asks for a part while every buffer is lent waits until one is given back, so the bound holds
 * whatever the consumer does; a consumer that keeps more parts than the pool has buffers would
 * wait for ever, which is why the uploader gives every part back when its upload settles,
 * success or not. Reused buffers also spare the runtime a fresh allocation per part.
 *
 * The caller's chunks are copied, because a source may reuse its buffers.
 */
import { chunksOf, type ByteSource } from "../../bytes.js";

/** A fixed number of part buffers, lent and given back. */
export class PartBuffers {
  private readonly free: Uint8Array[] = [];
  private readonly waiting: ((buffer: Uint8Array) => void)[] = [];
  private made = 0;
  private lentNow = 0;
  private lentPeak = 0;

  constructor(
    readonly partSize: number,
    readonly capacity: number,
  ) {}

  /** Buffers created so far; never more than `capacity`. */
  get created(): number {
    return this.made;
  }

  /** The most buffers lent at one time. */
  get peakLent(): number {
    return this.lentPeak;
  }

  /** A free buffer, a new one while fewer than `capacity` exist, or else the next one given back. */
  take(): Promise<Uint8Array> {
    let buffer = this.free.pop();
    if (!buffer && this.made < this.capacity) {
      this.made++;
      buffer = new Uint8Array(this.partSize);
    }
    if (buffer) return Promise.resolve(this.lend(buffer));
    return new Promise((resolve) => this.waiting.push((b) => resolve(this.lend(b))));
  }

  /** Gives back the buffer that `part` (a view from its start) was filled in. */
  give(part: Uint8Array): void {
    const buffer = new Uint8Array(part.buffer, 0, this.partSize);
    this.lentNow--;
    const next = this.waiting.shift();
    if (next) next(buffer);
    else this.free.push(buffer);
  }

  private lend(buffer: Uint8Array): Uint8Array {
    this.lentNow++;
    this.lentPeak = Math.max(this.lentPeak, this.lentNow);
    return buffer;
  }
}

/** The parts of `source`, each in a buffer from `buffers`; the consumer MUST give each one back. */
export async function* partsOf(source: ByteSource, buffers: PartBuffers): AsyncGenerator<Uint8Array> {
  const { partSize } = buffers;
  // Taken at its first byte, so a source that ends on a part boundary takes no extra buffer.
  let part: Uint8Array | undefined;
  let used = 0;
  try {
    for await (const chunk of chunksOf(source)) {
      for (let at = 0; at < chunk.length; ) {
        part ??= await buffers.take();
        const n = Math.min(partSize - used, chunk.length - at);
        part.set(chunk.subarray(at, at + n), used);
        used += n;
        at += n;
        if (used === partSize) {
          const full = part;
          part = undefined;
          used = 0;
          yield full;
        }
      }
    }
    if (part && used > 0) {
      const last = part.subarray(0, used);
      part = undefined;
      yield last;
    }
  } finally {
    // A part being filled when the consumer stopped was never handed out: it goes back here.
    if (part) buffers.give(part);
  }
}

/** The parts of an array already in memory: views, no copies, nothing to give back. */
export function* partsOfArray(data: Uint8Array, partSize: number): Generator<Uint8Array> {
  for (let at = 0; at < data.length; at += partSize) yield data.subarray(at, at + partSize);
}
