import { partialMatchKey, queryOptions, type QueryKey } from '@tanstack/react-query';
import type { HoldClient, WaitlistClient, WaitlistEntry } from '@ticketpulse/client';
import { api, asBuyer, type RequestOptions } from './api.ts';
import { shown } from './http-request.ts';
import type { EventSummary, EventWithTicketTypes, HoldsResponse, Queue, RealtimeStats, Reservation, SalesResponse, SimulatorState, Waitlist } from './types.ts';

/** The dashboard's panels poll at this pace. */
const POLL_MS = 5000;
/** The buyer's waiting-list entries are read again at this pace while one is live: an offer may come at any moment. */
const WAITLIST_POLL_MS = 4000;
/** An entry that can still change by itself: in line, or an offer running. */
const isLive = (entry: WaitlistEntry) => entry.status === 'waiting' || entry.status === 'offered';
/** The event's details are asked for again at this pace while the server cannot be reached. */
const UNREACHABLE_RETRY_MS = 5000;

/** Holds expiring within this many seconds: a whole default hold (15 minutes), so every live hold is listed. */
export const HOLDS_WITHIN_SECONDS = 900;

/** A query function's call: whatever fails becomes an ApiError as shown, so messages and `status` read the same everywhere. */
async function query<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw shown(error);
  }
}

const request = <T>(path: string, options: RequestOptions): Promise<T> => query(() => api<T>(path, options));

const path = encodeURIComponent;

/** The events' details: the one kind of answer kept across reloads (isPersisted). */
const EVENT_DETAIL = ['events', 'detail'] as const;

/**
 * Every HTTP read of the shop and the dashboard, with its query key: the
 * one place keys are named. Buyer reads live under `events` and
 * `reservations`; the organizer's under `organizer`, dropped as soon as the
 * dashboard is gone (gcTime 0), so a sign-out or a new visit loads afresh.
 */
export const queries = {
  events: () =>
    queryOptions({
      queryKey: ['events', 'list'],
      queryFn: ({ signal }) => request<{ events: EventSummary[] }>('/api/events', { signal }),
    }),

  event: (slug: string) =>
    queryOptions({
      queryKey: [...EVENT_DETAIL, slug],
      queryFn: async ({ signal }) => (await request<{ event: EventWithTicketTypes }>(`/api/events/${path(slug)}`, { signal })).event,
      // Kept (and persisted, main.tsx) so a reload while offline still shows what the event is.
      gcTime: Infinity,
      refetchInterval: (query) => (query.state.error?.code === 'network_error' ? UNREACHABLE_RETRY_MS : false),
    }),

  /** Read through the SDK (holds.getHold), as the buyer's other hold calls. */
  reservation: (holds: Pick<HoldClient, 'getHold'>, reservationId: string) =>
    queryOptions({
      queryKey: ['reservations', reservationId],
      queryFn: (): Promise<Reservation> => query(() => holds.getHold(reservationId)),
      // Read for its items and totals, which never change once held; the hold's live status is the SDK's.
      staleTime: Infinity,
    }),

  /** The buyer's waiting-list entries, through the SDK (waitlistClient); polled only while one is live. */
  myWaitlist: (waitlist: Pick<WaitlistClient, 'entries'>) =>
    queryOptions({
      queryKey: ['waitlist', 'me'],
      queryFn: () => query(() => asBuyer(() => waitlist.entries())),
      refetchInterval: (query) => (query.state.data?.some(isLive) ? WAITLIST_POLL_MS : false),
    }),

  organizerEvents: () =>
    queryOptions({
      queryKey: ['organizer', 'events'],
      queryFn: ({ signal }) => request<{ events: EventSummary[] }>('/api/events', { auth: 'organizer', signal }),
      gcTime: 0,
    }),

  sales: (slug: string, minutes: number) =>
    queryOptions({
      queryKey: ['organizer', 'sales', slug, minutes],
      queryFn: ({ signal }) => request<SalesResponse>(`/api/events/${path(slug)}/sales?minutes=${minutes}`, { auth: 'organizer', signal }),
      // A seed, loaded once per dashboard: the live stream counts every sale after it, so a refetch would count them twice.
      staleTime: Infinity,
      gcTime: 0,
    }),

  holds: (slug: string) =>
    queryOptions({
      queryKey: ['organizer', 'holds', slug],
      queryFn: async ({ signal }) => {
        const response = await request<HoldsResponse>(`/api/events/${path(slug)}/holds?expiringWithinSeconds=${HOLDS_WITHIN_SECONDS}`, { auth: 'organizer', signal });
        // The server's time when answered, against ours: countdowns use the server's clock.
        return { ...response, offsetMs: Date.parse(response.serverTime) - Date.now() };
      },
      gcTime: 0,
      refetchInterval: POLL_MS,
    }),

  /** The waiting room's settings and live figures; 404 queue_not_found: the event has none (nothing to poll until one is set up). */
  queue: (slug: string) =>
    queryOptions({
      queryKey: ['organizer', 'queue', slug],
      queryFn: async ({ signal }) => (await request<{ queue: Queue }>(`/api/events/${path(slug)}/queue`, { auth: 'organizer', signal })).queue,
      gcTime: 0,
      // What moves with every tick (status, length, served-up-to) comes live from the `queue` frame (use-organizer-queue.ts).
      refetchInterval: (query) => (query.state.error?.code === 'queue_not_found' ? false : POLL_MS),
    }),

  /** The event's waiting lists: switches, offer time, length and offers per type. */
  waitlist: (slug: string) =>
    queryOptions({
      queryKey: ['organizer', 'waitlist', slug],
      queryFn: async ({ signal }) => (await request<{ waitlist: Waitlist }>(`/api/events/${path(slug)}/waitlist`, { auth: 'organizer', signal })).waitlist,
      gcTime: 0,
      refetchInterval: POLL_MS,
    }),

  realtimeStats: () =>
    queryOptions({
      queryKey: ['organizer', 'realtime-stats'],
      queryFn: ({ signal }) => request<RealtimeStats>('/api/realtime/stats', { auth: 'organizer', signal }),
      gcTime: 0,
      refetchInterval: POLL_MS,
    }),

  simulator: () =>
    queryOptions({
      queryKey: ['organizer', 'simulator'],
      queryFn: ({ signal }) => request<SimulatorState>('/api/simulator', { auth: 'organizer', signal }),
      gcTime: 0,
      // A 404 means a service without --demo: there is no simulator to poll.
      refetchInterval: (query) => (query.state.error?.status === 404 ? false : POLL_MS),
    }),
};

/** The queries worth keeping across reloads (query-persistence.ts): the events' details. */
export function isPersisted(queryKey: QueryKey): boolean {
  return partialMatchKey(queryKey, EVENT_DETAIL);
}
