import { localStorageCache, waitlistClient, type FetchLike, type TicketAvailabilityManagerOptions, type WaitlistClient } from '@ticketpulse/client';
import { getBuyerToken } from './session.ts';

/**
 * The browser's fetch, called as a plain function: handing `window.fetch`
 * itself to the SDK would call it with the SDK object as `this`, which
 * browsers refuse ("Illegal invocation").
 */
export const browserFetch: FetchLike = (input, init) => fetch(input, init);

/** The buyer's manager: same origin, this tab's dev token, and the last snapshot cached for offline reloads. */
export function buyerManagerOptions(): TicketAvailabilityManagerOptions {
  return { url: window.location.origin, getToken: getBuyerToken, fetch: browserFetch, storage: localStorageCache() };
}

let waitlist: WaitlistClient | undefined;

/** The buyer's waiting-list client (the SDK's), on the same origin and token as their manager. */
export function buyerWaitlist(): WaitlistClient {
  return (waitlist ??= waitlistClient({ url: window.location.origin, getToken: getBuyerToken, fetch: browserFetch }));
}
