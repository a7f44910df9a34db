import { localStorageCache, type FetchLike, type TicketAvailabilityManagerOptions } from '@ticketpulse/client';
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
