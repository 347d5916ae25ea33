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

/** A part and whether the source ends with it. */
export interface Part {
  bytes: Uint8Array;
  last: boolean;
}

/**
 * The parts of `source`, each in a buffer from `buffers`; the consumer MUST give each one back.
 * A full part is handed out as soon as the source shows a byte beyond it (or ends), so a
 * consumer learns from the first part alone whether one request will do, without filling a
 * second part first.
 */
export async function* partsOf(source: ByteSource, buffers: PartBuffers): AsyncGenerator<Part> {
  const { partSize } = buffers;
  // Taken at its first byte, so a source that ends on a part boundary takes no extra buffer.
  let part: Uint8Array | undefined;
  let used = 0;
  // A full part held back until the source says whether more follows.
  let full: Uint8Array | undefined;
  try {
    for await (const chunk of chunksOf(source)) {
      for (let at = 0; at < chunk.length; ) {
        if (full) {
          const bytes = full;
          full = undefined;
          yield { bytes, last: false };
        }
        part ??= await buffers.take();
        const n = Math.min(partSize - used, chunk.length - at);
        part.set(chunk.subarray(at, at + n), used);
        used += n;
        at += n;
        if (used === partSize) {
          full = part;
          part = undefined;
          used = 0;
        }
      }
    }
    const bytes = full ?? part?.subarray(0, used);
    full = part = undefined;
    if (bytes && bytes.length > 0) yield { bytes, last: true };
  } finally {
    // A part not handed out when the consumer stopped goes back here.
    for (const held of [full, part]) if (held) buffers.give(held);
  }
}

/** The parts of an array already in memory: views, no copies, nothing to give back. */
export function* partsOfArray(data: Uint8Array, partSize: number): Generator<Part> {
  for (let at = 0; at < data.length; at += partSize) yield { bytes: data.subarray(at, at + partSize), last: at + partSize >= data.length };
}
