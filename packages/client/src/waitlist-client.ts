import type { WaitlistEntries, WaitlistEntry } from '@ticketpulse/protocol';
import { httpClient, type HttpClientOptions } from './http-client.ts';

/** The buyer's waiting-list routes (docs/waiting-list.md), with typed answers and ApiError failures. */
export interface WaitlistClient {
  /**
   * Joins the waiting list of a sold-out ticket type for at most `quantity`
   * seats. Joining again while the entry is live answers that entry as it
   * is (same place, same quantity), so it is safe to retry.
   */
  join(ticketTypeId: string, quantity: number): Promise<WaitlistEntry>;
  /** The buyer's entries, newest first: `place` while waiting, `offer` once seats are held for them. */
  entries(): Promise<WaitlistEntry[]>;
  /** Leaves the list; a running offer is given back to the next in line. */
  leave(entryId: string): Promise<WaitlistEntry>;
}

/**
 * The waiting list over HTTP, on the same retrying client as HoldClient. A
 * module of its own: an app that only shows availability does not carry it.
 * An offer is a hold in the buyer's name: buy or release it with HoldClient
 * (`confirmHold`, `releaseHold`) and count it down with
 * ReservationExpiryManager, by `entry.offer.reservationId`.
 */
export function waitlistClient(options: HttpClientOptions): WaitlistClient {
  const http = httpClient(options);
  const entry = (path: string) => `/api/${path}/waitlist`;
  return {
    join: async (ticketTypeId, quantity) =>
      // Idempotent by design (one live entry per buyer per type), so a lost answer is retried.
      (await http<{ entry: WaitlistEntry }>({ method: 'POST', path: entry(`event-tickets/${encodeURIComponent(ticketTypeId)}`), body: { quantity }, idempotent: true })).entry,
    entries: async () => (await http<WaitlistEntries>({ method: 'GET', path: '/api/waitlist/me' })).entries,
    leave: async (entryId) => (await http<{ entry: WaitlistEntry }>({ method: 'DELETE', path: `/api/waitlist/${encodeURIComponent(entryId)}` })).entry,
  };
}

/** The running offers among entries (status `offered`), oldest first: what the buyer can buy now. */
export function runningOffers(entries: readonly WaitlistEntry[]): Array<WaitlistEntry & { offer: NonNullable<WaitlistEntry['offer']> }> {
  return entries
    .filter((e): e is WaitlistEntry & { offer: NonNullable<WaitlistEntry['offer']> } => e.status === 'offered' && e.offer !== null)
    .sort((a, b) => a.offer.offeredAt.localeCompare(b.offer.offeredAt));
}
