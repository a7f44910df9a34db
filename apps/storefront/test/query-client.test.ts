import { describe, expect, it } from 'vitest';
import { ApiError } from '../src/api.ts';
import { shouldRetry } from '../src/query-client.ts';

describe('shouldRetry', () => {
  it('never asks again after a 4xx: the answer would be the same', () => {
    for (const status of [400, 401, 403, 404, 409, 429]) expect(shouldRetry(0, new ApiError('refused', 'no', status))).toBe(false);
  });

  it('asks twice more when the server could not be reached or failed', () => {
    for (const error of [new ApiError('network_error', 'down', 0), new ApiError('database_unavailable', 'busy', 503)]) {
      expect([0, 1, 2].map((failures) => shouldRetry(failures, error))).toEqual([true, true, false]);
    }
  });
});
