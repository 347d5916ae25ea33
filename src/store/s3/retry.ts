/**
 * When an S3 request is tried again, and how long to wait first. What may be retried: network
 * failures (fetch rejects, a body breaks while it is read, or an attempt times out), any 5xx (503 SlowDown among them),
 * 429, and S3's 400 RequestTimeout; everything else is the server's considered answer. The wait
 * is exponential backoff with full jitter (a random delay between 0 and min(max, base * 2^n)),
 * which spreads the retries of many clients that failed together instead of bunching them; the
 * number of attempts is bounded, so a dead endpoint fails in bounded time. Waits end early, with
 * ABORTED, when the caller's signal fires.
 */
import { IbtError } from "../../errors.js";

export interface RetryOptions {
  /** Tries in all, the first included. */
  attempts: number;
  /** The ceiling of the first wait; doubles with each retry. */
  baseDelayMs: number;
  /** No wait is longer than this. */
  maxDelayMs: number;
}

/** Five tries spread over a few seconds ride out a node restart or a throttling burst. */
export const DEFAULT_RETRY: RetryOptions = { attempts: 5, baseDelayMs: 200, maxDelayMs: 10_000 };

/** Whether an answer with this status and S3 error code is worth trying again. */
export function isRetryableStatus(status: number, code: string | undefined): boolean {
  return status >= 500 || status === 429 || code === "RequestTimeout" || code === "SlowDown";
}

/** The wait before retry number `retry` (0 for the first retry): full jitter. */
export function backoffDelay(retry: number, options: RetryOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.min(retry, 30));
  return Math.floor(random() * ceiling);
}

/** Resolves after `ms`, or rejects with ABORTED as soon as `signal` fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  throwIfAborted(signal);
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(aborted(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw aborted(signal);
}

export function aborted(signal: AbortSignal): IbtError {
  return new IbtError("ABORTED", "the operation was cancelled", { cause: signal.reason });
}
