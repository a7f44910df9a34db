import { ApiError } from '@ticketpulse/client';
import { describe, expect, it } from 'vitest';
import { shown, shownAfterClick } from '../src/http-request.ts';

describe('shownAfterClick: a failed hold, buy, extend, release, join or leave in words', () => {
  it('asks for another try when the server could not be reached: nothing repeats a click on its own', () => {
    const failure = shownAfterClick(new ApiError('network_error', 'Could not reach http://localhost:3000: TypeError: fetch failed', 0));
    expect(failure.message).toBe("Can't reach the ticket server. Check your connection, then try again.");
    expect(failure.code).toBe('network_error');
    // Reads are polled, so there the shop does keep trying.
    expect(shown(new ApiError('network_error', 'x', 0)).message).toContain("we'll keep trying");
  });

  it('keeps the friendly words, or the server message, of anything else', () => {
    expect(shownAfterClick(new ApiError('queue_pass_expired', 'x', 403)).message).toBe('Your turn in the waiting room has ended. Join the line again to buy.');
    expect(shownAfterClick(new ApiError('extension_limit_reached', 'This hold was already extended 2 times, the maximum', 409)).message).toBe(
      'This hold was already extended 2 times, the maximum',
    );
  });
});
