import { describe, expect, it } from 'vitest';
import { ApiError } from '../src/index.ts';
import { mayRetry, retrySchedule } from '../src/retry-policy.ts';

const networkError = new ApiError('network_error', 'down', 0);
const rateLimited = (seconds: number) => new ApiError('rate_limited', 'slow down', 429, { retryAfterSeconds: seconds });
const databaseUnavailable = new ApiError('database_unavailable', 'retry shortly', 503, { retryAfterSeconds: 1 });

/** A clock the test moves by hand. */
function manualClock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

describe('retry schedule', () => {
  it('waits a random time below a ceiling that doubles from baseDelayMs up to maxDelayMs, then gives up after maxRetries', () => {
    const highest = retrySchedule({ maxRetries: 6, baseDelayMs: 250, maxDelayMs: 4000, maxElapsedMs: Infinity }, () => 0.999999);
    expect(Array.from({ length: 7 }, () => highest(networkError, true))).toEqual([249, 499, 999, 1999, 3999, 3999, undefined]);
    const lowest = retrySchedule({}, () => 0);
    expect(lowest(networkError, true)).toBe(0);
  });

  it('spreads delays over the whole window (full jitter)', () => {
    const delays = Array.from({ length: 200 }, () => retrySchedule({ maxRetries: 1, baseDelayMs: 1000 })(networkError, true)!);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThan(1000);
    expect(new Set(delays).size).toBeGreaterThan(100); // not one value for a crowd of clients
  });

  it("never retries sooner than the server's Retry-After", () => {
    const schedule = retrySchedule({}, () => 0);
    expect(schedule(rateLimited(2), true)).toBe(2000);
    expect(schedule(databaseUnavailable, true)).toBe(1000);
  });

  it('gives up when the next attempt would start after maxElapsedMs, Retry-After included', () => {
    const clock = manualClock();
    const schedule = retrySchedule({ maxRetries: 10, maxElapsedMs: 30_000 }, () => 0, clock.now);
    expect(schedule(rateLimited(60), true)).toBeUndefined(); // a minute's wait is past the budget: report it now
    expect(schedule(rateLimited(20), true)).toBe(20_000);
    clock.advance(20_000);
    expect(schedule(rateLimited(9), true)).toBe(9000);
    clock.advance(9000);
    expect(schedule(rateLimited(2), true)).toBeUndefined();
  });
});

describe('which failures are retried', () => {
  const refusals = [
    new ApiError('invalid_request', 'bad', 400),
    new ApiError('invalid_token', 'no', 401),
    new ApiError('holder_required', 'no', 403),
    new ApiError('reservation_not_found', 'no', 404),
    new ApiError('insufficient_availability', 'sold', 409, { available: 0 }),
    new ApiError('idempotency_key_reused', 'no', 422),
    new ApiError('internal_error', 'oops', 500),
  ];

  it('never an answer that would be the same next time', () => {
    for (const error of refusals) {
      expect(error.retryable).toBe(false);
      expect(mayRetry(error, true)).toBe(false);
      expect(retrySchedule()(error, true)).toBeUndefined();
    }
  });

  it('an idempotent request (or one with an Idempotency-Key) after a network error, a 429 or a 503', () => {
    for (const error of [networkError, rateLimited(1), databaseUnavailable, new ApiError('shutting_down', 'draining', 503)]) {
      expect(error.retryable).toBe(true);
      expect(mayRetry(error, true)).toBe(true);
    }
  });

  it('any other request only when the answer proves it was not processed', () => {
    expect(mayRetry(rateLimited(1), false)).toBe(true);
    expect(mayRetry(new ApiError('shutting_down', 'draining', 503), false)).toBe(true);
    expect(mayRetry(networkError, false)).toBe(false); // the lost answer may have been a success
    expect(mayRetry(databaseUnavailable, false)).toBe(false);
  });
});

describe('ApiError.from', () => {
  it("reads the API's error body: code, message and the extra fields as details", () => {
    const error = ApiError.from(409, { error: { code: 'insufficient_availability', message: 'Only 3 left', available: 3, requested: 4 } });
    expect(error).toMatchObject({ code: 'insufficient_availability', message: 'Only 3 left', status: 409, details: { available: 3, requested: 4 } });
  });

  it("maps an answer without one (a proxy's error page) by its status, and takes Retry-After from the header", () => {
    expect(ApiError.from(502, null)).toMatchObject({ code: 'network_error', status: 502, retryable: true });
    expect(ApiError.from(404, null)).toMatchObject({ code: 'request_failed', retryable: false });
    expect(ApiError.from(429, null, '7').details.retryAfterSeconds).toBe(7);
  });
});
