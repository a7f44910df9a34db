import type { ApiError } from './api-error.ts';
import { Backoff } from './backoff.ts';

/** How the SDK asks again after a failure that may pass (docs/api.md, The SDK's holds). */
export interface RetryOptions {
  /** Retries after the first attempt; 0 turns retrying off. Default 3. */
  maxRetries?: number;
  /** The first retry waits a random time below this; each later one's ceiling doubles. Default 250 ms. */
  baseDelayMs?: number;
  /** The ceiling's cap. Default 4 s. */
  maxDelayMs?: number;
  /** No retry is started later than this after the first attempt, a `Retry-After` wait included. Default 30 s. */
  maxElapsedMs?: number;
}

/**
 * Whether a failed request may be sent again. An idempotent one (a read, a
 * request the server treats as done once, or a create with an
 * Idempotency-Key) may whenever asking again may succeed. Any other only when
 * the answer proves it was not processed: refused by the rate limit (429) or
 * by a draining node before routing (`shutting_down`). A dropped connection
 * or a `database_unavailable` may come after the work was done.
 */
export function mayRetry(error: ApiError, idempotent: boolean): boolean {
  return idempotent ? error.retryable : error.status === 429 || error.code === 'shutting_down';
}

/** The retries of one logical request: given each failure, how long to wait before the next attempt, or undefined to give up and report it. */
export type RetrySchedule = (error: ApiError, idempotent: boolean) => number | undefined;

/**
 * Exponential backoff with full jitter (Backoff), never sooner than the
 * server's `Retry-After`, within a count of retries and a total time.
 */
export function retrySchedule(options: RetryOptions = {}, random: () => number = Math.random, now: () => number = Date.now): RetrySchedule {
  const backoff = new Backoff(options.baseDelayMs ?? 250, options.maxDelayMs ?? 4000, random);
  const started = now();
  let retries = 0;
  return (error, idempotent) => {
    if (!mayRetry(error, idempotent) || retries >= (options.maxRetries ?? 3)) return undefined;
    const retryAfterMs = Number(error.details.retryAfterSeconds) * 1000 || 0;
    const delay = Math.max(retryAfterMs, backoff.next());
    if (now() - started + delay > (options.maxElapsedMs ?? 30_000)) return undefined;
    retries += 1;
    return delay;
  };
}
