/**
 * A queue between one producer and one consumer that run at their own pace: the producer looks
 * at `full` (or awaits `room`) before it pushes, the consumer takes items with `items`. The
 * queue ends with the producer's `end`, with or without an error for the consumer; a consumer
 * that leaves early says so through the `stop` it gave `items`, and a producer waiting for
 * room is then refused.
 */
import { IbtError } from "./errors.js";

export class BoundedQueue<T> {
  private buffer: T[] = [];
  private head = 0;
  #ended: { error?: unknown } | undefined;
  #left = false;
  private waiting: (() => void) | undefined;
  private roomWaiters: (() => void)[] = [];
  /** Called whenever the consumer has taken an item or left. */
  onRoom: () => void = () => {};

  constructor(readonly limit: number) {}

  get full(): boolean {
    return this.buffer.length - this.head >= this.limit;
  }

  /** Items pushed and not yet taken. */
  get size(): number {
    return this.buffer.length - this.head;
  }

  get ended(): boolean {
    return this.#ended !== undefined;
  }

  push(item: T): void {
    this.buffer.push(item);
    this.signal();
  }

  /** Resolves once the queue is not full; rejects (ABORTED) if the consumer has left. */
  async room(): Promise<void> {
    for (;;) {
      if (this.#left) throw new IbtError("ABORTED", "the consumer of the queue has stopped");
      if (!this.full) return;
      await new Promise<void>((r) => this.roomWaiters.push(r));
    }
  }

  end(error?: unknown): void {
    if (this.#ended) return;
    this.#ended = error === undefined ? {} : { error };
    this.signal();
  }

  /**
   * The consumer gives up, whether or not it ever began to take items: a producer waiting for
   * room, or coming for it later, is refused.
   */
  abandon(): void {
    if (this.#ended || this.#left) return;
    this.#left = true;
    this.made();
  }

  /** Every item, then the producer's error if it gave one. `stop` runs when the loop leaves before the end. */
  async *items(stop: () => void = () => {}): AsyncGenerator<T> {
    try {
      for (;;) {
        if (this.head < this.buffer.length) {
          const item = this.buffer[this.head++]!;
          if (this.head === this.buffer.length) {
            this.buffer = [];
            this.head = 0;
          }
          this.made();
          yield item;
          continue;
        }
        if (this.#ended) {
          if ("error" in this.#ended) throw this.#ended.error;
          return;
        }
        await new Promise<void>((r) => (this.waiting = r));
      }
    } finally {
      if (!this.#ended) {
        this.abandon();
        stop();
      }
    }
  }

  private made(): void {
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const r of waiters) r();
    this.onRoom();
  }

  private signal(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }
}
