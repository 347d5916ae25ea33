/**
 * Lets the event loop's timers run during long stretches of work whose awaits all settle at
 * once. A walk over synchronous file calls, or an archive made from cached bytes, is one chain
 * of microtasks, and no timer fires until it ends: not a lock's refresh (a backup of a million
 * files then loses its lock and commits nothing), not a progress tick, not an abort. Every
 * `every` calls, `breathe` hands back a promise that settles on a zero-delay timer, so every
 * other timer due by then runs first. Counting calls rather than reading the clock keeps it
 * cheap and the same on every run; a timer costs about a millisecond, so one per thousand files
 * is lost in their cost.
 */
export class Breather {
  private calls = 0;
  private pending: Promise<void> | undefined;

  constructor(private readonly every = 1024) {}

  /**
   * Undefined while there is no need to pause; else a promise that settles once timers have
   * had their turn. Callers running side by side get the same promise, and all of them must
   * await it: a timer runs only once no microtask is left.
   */
  breathe(): Promise<void> | undefined {
    if (this.pending) return this.pending;
    if (++this.calls % this.every !== 0) return undefined;
    this.pending = new Promise<void>((resolve) =>
      setTimeout(() => {
        this.pending = undefined;
        resolve();
      }, 0),
    );
    return this.pending;
  }
}
