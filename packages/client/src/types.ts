import type { AvailabilitySnapshot, AvailabilityUpdate, QueueEntry, QueueEntryStatus, QueueLive, TicketAvailability, TicketsLikelyEnough } from '@ticketpulse/protocol';

export type { TicketAvailability } from '@ticketpulse/protocol';
/** The waiting room's wire shapes (docs/protocol.md "The waiting room"). */
export type { QueueEntry, QueueEntryStatus, QueueLive, QueueStatus, TicketsLikelyEnough } from '@ticketpulse/protocol';
/** The waiting list's wire shapes (docs/waiting-list.md). */
export type { WaitlistEntry, WaitlistEntryStatus, WaitlistOffer } from '@ticketpulse/protocol';
/** The API's reservation, with its exact totals: decimal strings computed by the database. */
export type { Reservation, ReservationItem, ReservationStatus, ReservationTotal } from '@ticketpulse/protocol';

/**
 * Connection state, overall or for one event. `polling`: the WebSocket is
 * unavailable and the HTTP endpoint is polled instead. `error`: the event
 * cannot be watched (not found, not allowed); see `EventState.error`.
 */
export type ConnectionStatus = 'connecting' | 'connected' | 'disconnected' | 'reconnecting' | 'polling' | 'error';

/** The minimal WebSocket the SDK needs: the browser's, or `ws` in Node. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
}

/** The browser's WebSocket or `ws`: anything constructed with a URL that behaves like WebSocketLike. */
export type WebSocketConstructor = new (url: string) => unknown;

export type FetchLike = (input: string, init?: { method?: string; headers?: Record<string, string>; body?: string }) => Promise<{
  ok: boolean;
  status: number;
  headers: { get(name: string): string | null };
  json(): Promise<unknown>;
}>;

/** Where the last snapshot per event survives a reload. `localStorageCache()` is the browser one. */
export interface AvailabilityStorage {
  getItem(key: string): string | null | Promise<string | null>;
  setItem(key: string, value: string): void | Promise<void>;
}

export interface ReconnectOptions {
  /**
   * First retry delay; each later one doubles, with full jitter. Default 500 ms.
   * For 30 s after the server announces a restart (close code 1012), retries
   * instead come at random within every 2 s (at most `capMs`), without polling.
   */
  baseMs?: number;
  /** Longest delay between retries. Default 20 s. */
  capMs?: number;
  /** After this many failed connects in a row, poll over HTTP until the WebSocket is back. Default 3. */
  pollAfterFailures?: number;
  /**
   * How long the server may take to answer. A connect attempt that has not
   * been welcomed by then (a lost handshake) is abandoned and retried; a
   * subscribe not answered by then is sent again after a backoff delay (as
   * above), on the same connection, until one is answered. Default 10 s.
   */
  connectTimeoutMs?: number;
}

/** What analytics may want to know; no vendor involved. */
export type AnalyticsEvent =
  | { type: 'subscription_started'; eventId: string }
  | { type: 'transition_shown'; eventId: string; ticketTypeId: string; transition: TransitionKind }
  | { type: 'polling_started' }
  | { type: 'polling_stopped' }
  | { type: 'reconnected'; afterMs: number }
  | { type: 'hold_created'; reservationId: string; eventId: string }
  | { type: 'hold_expired'; reservationId: string };

export type TransitionKind = 'lowStock' | 'soldOut' | 'backInStock';

export interface Transition {
  kind: TransitionKind;
  eventId: string;
  ticket: TicketAvailability;
}

export interface TicketAvailabilityManagerOptions {
  /** The service's base URL, e.g. https://tickets.example.com. */
  url: string;
  /** A JWT, or a promise of one; called again on every reconnect and before the current one expires. */
  getToken: () => string | Promise<string>;
  WebSocket?: WebSocketConstructor;
  fetch?: FetchLike;
  /** Concurrent event subscriptions; past it, the least recently used event without listeners is evicted. Default 10. */
  maxChannels?: number;
  reconnect?: ReconnectOptions;
  /** Listeners hear at most once per window, with the changes coalesced; the first change after a quiet window is told at once. Default 50 ms. */
  debounceMs?: number;
  storage?: AvailabilityStorage;
  /** `lowStock` fires when actualAvailable drops below this from at or above it. Default 10. */
  lowStockThreshold?: number;
  /** Polling interval while the WebSocket is unavailable. Default 5000 ms. */
  pollIntervalMs?: number;
  /** How long an event stays subscribed after its last listener leaves (a remount, a back button). Default 10 s. */
  lingerMs?: number;
  onEvent?: (event: AnalyticsEvent) => void;
  /** For tests: the random source used for jitter. */
  random?: () => number;
}

/** What a transport tells the manager about one event it watches. */
export interface TransportSink {
  /**
   * The event's complete availability. `version` must not fall between calls
   * of one watch: a higher one is a change, the same one again confirms what
   * was sent. `committedAt` (ISO 8601), when the change committed, feeds the
   * latency statistics.
   */
  snapshot(snapshot: Pick<AvailabilitySnapshot, 'eventId' | 'version' | 'tickets'>, committedAt?: string): void;
  status(status: ConnectionStatus): void;
  error(code: string, message: string): void;
  /** The event's waiting room as it stands (a `queue` frame, or null when the subscribe answer had none). TicketPulse's transport only. */
  queue?(live: QueueLive | null): void;
  /** The user's own entry (a `queue_entry` frame). TicketPulse's transport only. */
  queueEntry?(entry: QueueEntry): void;
}

/**
 * Another source of availability than TicketPulse's own service, such as
 * `SupabaseTransport` from `@ticketpulse/client/supabase`. The manager keeps
 * its listeners, debouncing, transitions, cache and optimistic holds; the
 * transport only watches events.
 */
export interface AvailabilityTransport {
  /** Starts watching an event; returns the function that stops. */
  watch(eventId: string, sink: TransportSink): () => void;
}

/** A manager fed by a transport: no service URL, token, WebSocket, polling or reconnect settings (the transport has its own). */
export interface TransportManagerOptions
  extends Omit<TicketAvailabilityManagerOptions, 'url' | 'getToken' | 'WebSocket' | 'fetch' | 'reconnect' | 'pollIntervalMs' | 'random'> {
  transport: AvailabilityTransport;
}

/** One event's availability as the application sees it. A new object on every change. */
export interface EventState {
  eventId: string;
  /** Ticket types by id. */
  availability: ReadonlyMap<string, TicketAvailability>;
  /** The server's availability version; 0 before anything arrived. */
  version: number;
  status: ConnectionStatus;
  /** Data from the cache that the server has not confirmed yet (a reload while offline). */
  isStale: boolean;
  /** When the data was last confirmed by the server (ms since epoch, local clock), or null. */
  lastUpdated: number | null;
  error: { code: string; message: string } | null;
}

export type EventListener = (state: EventState) => void;

/**
 * The user's place in an event's waiting room (docs/waiting-room.md), as
 * `watchQueue` listeners see it. A new object on every change; the
 * countdowns tick each second. The figures are computed here from the
 * latest `queue` frame and the entry's position, by the server's clock.
 */
export interface QueueState {
  eventId: string;
  /** The waiting room as a whole; null without one (or before the server said). */
  queue: QueueLive | null;
  /** The user's entry; null before joining. */
  entry: QueueEntry | null;
  /**
   * `unknown` until the server said whether the event has a waiting room,
   * `none` when it has none (or it is closed and the user has no entry:
   * nothing to join), `not_joined` when it has one and the user no entry;
   * else the entry's status.
   */
  status: QueueEntryStatus | 'unknown' | 'none' | 'not_joined';
  /** Exact; null in the pre-queue until opensAt draws it. */
  position: number | null;
  /** Null unless waiting with a position (0 once admitted). */
  peopleAhead: number | null;
  estimatedWaitSeconds: number | null;
  /** The pre-queue countdown to opensAt; 0 once open, null without a waiting room. */
  secondsUntilOpen: number | null;
  /** Admitted with a pass that still runs. */
  isYourTurn: boolean;
  /** The signed pass holds carry (`X-TicketPulse-Queue-Pass`), while admitted. */
  pass: string | null;
  passExpiresAt: string | null;
  /** The pass countdown while admitted. */
  passSecondsLeft: number | null;
  /** Whether the people ahead, at the event's average seats per order, leave tickets for you. */
  ticketsLikelyEnough: TicketsLikelyEnough;
  /** A joinQueue or leaveQueue is under way. */
  pending: boolean;
  /** Why the last joinQueue or leaveQueue failed (an ApiError), until the next one. */
  error: Error | null;
}

export type QueueListener = (state: QueueState) => void;

export interface ClientStats {
  connectAttempts: number;
  connectSuccesses: number;
  /** How long each completed reconnection took, from the drop to being connected again. */
  reconnectionsMs: number[];
  /** Snapshots and updates that reached an event (an unchanged resync or a 304 included). */
  messagesReceived: number;
  /** Those that moved an event to a newer version. */
  updatesApplied: number;
  errorsByType: Record<string, number>;
  /** From the server's commit time to this client applying the update (server clock). */
  latencyMs: { last: number | null; average: number | null; samples: number };
  mode: 'websocket' | 'polling' | 'idle';
}

export type { AvailabilityUpdate };
