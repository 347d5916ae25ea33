/**
 * The deadline of one attempt of an S3 request: it expires when the answer has not begun within
 * the wait allowed, or when the answer's body stops arriving for that long. It is an idle
 * deadline, moved on by every piece of progress, so a large body that keeps flowing is never cut
 * off while a connection that went silent is given up in bounded time; the attempt then fails
 * like any network failure and is retried.
 *
 * Its signal is handed to fetch so the connection is closed on expiry, and the caller's own
 * signal is forwarded to it by a listener rather than with `AbortSignal.any`, which not every
 * runtime has. Each wait is also raced against the expiry itself, so a fetch that ignores its
 * signal cannot hang an attempt either. `clear` MUST be called when the attempt ends, so that no
 * timer or listener outlives it.
 */

export class AttemptDeadline {
  private readonly controller = new AbortController();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private fail: (reason: Error) => void = () => {};
  private readonly forwardAbort: () => void;
  /** Rejects with a TimeoutError when the deadline passes; never resolves. */
  readonly expiry: Promise<never>;
  /** Set once the deadline has passed. */
  expired: Error | undefined;

  constructor(
    firstWaitMs: number,
    private readonly idleMs: number,
    private readonly callerSignal: AbortSignal | undefined,
  ) {
    this.expiry = new Promise<never>((_, reject) => (this.fail = reject));
    // Only the races observe this rejection; an attempt that ends first leaves it unobserved.
    this.expiry.catch(() => {});
    this.forwardAbort = () => this.controller.abort(callerSignal?.reason);
    if (callerSignal?.aborted) this.forwardAbort();
    else callerSignal?.addEventListener("abort", this.forwardAbort, { once: true });
    this.arm(firstWaitMs, `no answer within ${firstWaitMs} ms`);
  }

  /** The signal for fetch: fires on expiry or when the caller's signal fires. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Progress was made: the next piece must come within the idle wait. */
  progress(): void {
    if (this.expired === undefined) this.arm(this.idleMs, `the answer stalled for ${this.idleMs} ms`);
  }

  /** `work`, or a TimeoutError as soon as the deadline passes. */
  race<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.expiry]);
  }

  clear(): void {
    clearTimeout(this.timer);
    this.callerSignal?.removeEventListener("abort", this.forwardAbort);
  }

  private arm(ms: number, why: string): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      const error = new Error(why);
      error.name = "TimeoutError";
      this.expired = error;
      this.controller.abort(error);
      this.fail(error);
    }, ms);
  }
}
