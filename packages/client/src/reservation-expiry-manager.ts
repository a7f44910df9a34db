import { EXPIRING_SOON_SECONDS, type PersonalChange, type PersonalHold, type PersonalState } from '@ticketpulse/protocol';
import { HoldClient } from './hold-client.ts';
import type { HttpClientOptions } from './http-client.ts';
import { PersonalFeed } from './personal-feed.ts';
import type { ServerClock } from './server-clock.ts';
import type { AnalyticsEvent, WebSocketConstructor } from './types.ts';

export type HoldStatus = 'active' | 'confirmed' | 'released' | 'expired';

/** A hold as the holder's page sees it; a new object on every change. */
export interface HoldState {
  reservationId: string;
  status: HoldStatus;
  expiresAt: string;
  /** Milliseconds left by the server's clock; 0 once expired. */
  remainingMs: number;
  isExpiringSoon: boolean;
  isExpired: boolean;
  extensionsUsed: number;
}

/** What the API returns for a reservation (the fields this manager uses). */
export interface ReservationRecord {
  id: string;
  eventId: string;
  status: HoldStatus;
  expiresAt: string;
  extensionsUsed: number;
}

/** A waiting-list offer: seats held in your name until `expiresAt` (confirm, extend or release it as any hold). */
export interface Offer {
  reservationId: string;
  eventId: string;
  waitlistEntryId: string;
  ticketTypeId: string;
  ticketTypeName: string;
  quantity: number;
  expiresAt: string;
}

export interface HoldCallbacks {
  /** Fires once, `expiringSoonMs` before the deadline. */
  onExpiringSoon?: (state: HoldState) => void;
  /** Fires once, at the deadline (or when the server says it expired). */
  onExpired?: (state: HoldState) => void;
}

/** The service and how to reach it (HttpClientOptions: url, getToken, fetch, clock, retry), and the countdown's settings. */
export interface ReservationExpiryManagerOptions extends HttpClientOptions {
  /** Default 2 minutes: when the personal feed says `hold_expiring` (EXPIRING_SOON_SECONDS). */
  expiringSoonMs?: number;
  /** How often each hold's status is re-checked with the server. Default 30 s, the design's interval. */
  recheckMs?: number;
  onEvent?: (event: AnalyticsEvent) => void;
  /** For the personal feed: the browser's WebSocket unless given (`ws` in Node). */
  WebSocket?: WebSocketConstructor;
  /**
   * Hear of holds and offers over the personal feed (docs/protocol.md) while
   * something is monitored or listened to. Default true when there is a
   * WebSocket; without one, or while it is down, holds are re-checked over HTTP every `recheckMs`.
   */
  feed?: boolean;
}

interface Tracked {
  record: ReservationRecord;
  callbacks: HoldCallbacks;
  state: HoldState;
  warned: boolean;
  expiredReported: boolean;
}

const TICK_MS = 1000;

/** Both monitors' callbacks, the earlier first. */
function combine(earlier: HoldCallbacks, later: HoldCallbacks): HoldCallbacks {
  const both =
    (a: ((state: HoldState) => void) | undefined, b: ((state: HoldState) => void) | undefined) =>
    (state: HoldState): void => {
      a?.(state);
      b?.(state);
    };
  return { onExpiringSoon: both(earlier.onExpiringSoon, later.onExpiringSoon), onExpired: both(earlier.onExpired, later.onExpired) };
}

/**
 * The current user's own holds: a countdown per hold by the server's clock,
 * warnings before the deadline, and a periodic check with the server. The
 * server alone decides expiry; this never expires anyone's hold, it only
 * shows what the server decided.
 */
export class ReservationExpiryManager {
  private readonly holds = new Map<string, Tracked>();
  /** Kept apart from `holds` so a listener may come before the hold is tracked. */
  private readonly listeners = new Map<string, Set<(state: HoldState) => void>>();
  /** Its requests: the SDK's hold methods, without a tracker (answers come back here). */
  private readonly requests: HoldClient;
  private readonly clock: Pick<ServerClock, 'now' | 'observe'>;
  private readonly expiringSoonMs: number;
  private tickTimer: ReturnType<typeof setInterval> | undefined;
  private recheckTimer: ReturnType<typeof setInterval> | undefined;
  private feed: PersonalFeed | undefined;
  private readonly offerListeners = new Set<(offer: Offer) => void>();
  private readonly offersListeners = new Set<(offers: readonly Offer[]) => void>();
  private offers: readonly Offer[] = [];
  private readonly announced = new Set<string>();

  constructor(private readonly options: ReservationExpiryManagerOptions) {
    this.clock = options.clock ?? { now: () => Date.now(), observe: () => {} };
    this.requests = new HoldClient({ ...options, clock: this.clock });
    this.expiringSoonMs = options.expiringSoonMs ?? EXPIRING_SOON_SECONDS * 1000;
  }

  /** Starts tracking a hold (from the reserve response, or by id, fetched from the server). */
  async startMonitoring(reservation: ReservationRecord | string, callbacks: HoldCallbacks = {}): Promise<HoldState> {
    const record = typeof reservation === 'string' ? await this.requests.getHold(reservation) : reservation;
    const existing = this.holds.get(record.id);
    const tracked: Tracked = existing ?? { record, callbacks, state: this.compute(record), warned: false, expiredReported: false };
    // What earlier monitors already heard: update() says each thing once, so a later monitor is told here.
    const warned = existing?.warned ?? false;
    const expiredReported = existing?.expiredReported ?? false;
    // Several parts of an app may monitor one hold; later callbacks add to earlier ones.
    if (existing) tracked.callbacks = combine(existing.callbacks, callbacks);
    else if (record.status === 'active') this.options.onEvent?.({ type: 'hold_created', reservationId: record.id, eventId: record.eventId });
    this.holds.set(record.id, tracked);
    this.update(tracked, record);
    // HoldClient.createHold monitors its holds without callbacks, so a short hold is expiring soon before the app's own startMonitoring.
    if (warned && tracked.warned) callbacks.onExpiringSoon?.(tracked.state);
    if (expiredReported) callbacks.onExpired?.(tracked.state);
    this.ensureTimers();
    return tracked.state;
  }

  getState(reservationId: string): HoldState | undefined {
    return this.holds.get(reservationId)?.state;
  }

  /**
   * Fires once per waiting-list offer, as it arrives over the personal feed
   * (and, on first connecting, for each offer already open). Returns the unsubscribe.
   */
  onOffer(listener: (offer: Offer) => void): () => void {
    return this.listen(this.offerListeners, listener);
  }

  /** The open offers, the same array until they change (for useSyncExternalStore). */
  getOffers(): readonly Offer[] {
    return this.offers;
  }

  /** Hears the open offers each time they change (an offer arrives, is extended, taken or ends). */
  subscribeOffers(listener: (offers: readonly Offer[]) => void): () => void {
    return this.listen(this.offersListeners, listener);
  }

  /** Hears every change of one hold (each second while it counts down), tracked yet or not. */
  subscribe(reservationId: string, listener: (state: HoldState) => void): () => void {
    let set = this.listeners.get(reservationId);
    if (!set) this.listeners.set(reservationId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(reservationId);
    };
  }

  async extend(reservationId: string): Promise<HoldState> {
    return this.observe(await this.requests.extendHold(reservationId));
  }

  async release(reservationId: string): Promise<HoldState> {
    return this.observe(await this.requests.releaseHold(reservationId));
  }

  async confirm(reservationId: string): Promise<HoldState> {
    return this.observe(await this.requests.confirmHold(reservationId));
  }

  /** The server's latest word on a hold (any reservation answer): its countdown follows if tracked; its state either way. */
  observe(record: ReservationRecord): HoldState {
    const tracked = this.holds.get(record.id);
    if (!tracked) return this.compute(record);
    this.update(tracked, record);
    return tracked.state;
  }

  stopMonitoring(reservationId: string): void {
    this.holds.delete(reservationId);
    if (this.holds.size === 0) this.stopTimers();
  }

  stopAll(): void {
    this.holds.clear();
    this.offerListeners.clear();
    this.offersListeners.clear();
    this.stopTimers();
  }

  private listen<T>(set: Set<T>, listener: T): () => void {
    set.add(listener);
    this.startFeed();
    return () => {
      set.delete(listener);
      if (this.holds.size === 0) this.stopTimers();
    };
  }

  /** The feed, opened while something is monitored or listened to (when it can be). */
  private startFeed(): void {
    const WebSocket = this.options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (this.options.feed === false || !WebSocket) return;
    this.feed ??= new PersonalFeed({ ...this.options, WebSocket }, (changes, state) => this.fromFeed(changes, state));
    this.feed.start();
  }

  /** What the feed said: tracked holds follow it; offers are announced once. */
  private fromFeed(changes: readonly PersonalChange[], state: PersonalState): void {
    const told = new Map<string, PersonalHold>();
    for (const change of changes) if ('hold' in change) told.set(change.hold.reservationId, change.hold);
    for (const hold of state.holds) told.set(hold.reservationId, hold);
    for (const tracked of this.holds.values()) {
      const hold = told.get(tracked.record.id);
      if (hold) this.update(tracked, { ...hold, id: hold.reservationId });
      // Ended while we were away (a resync lists live holds only): the server says how.
      else if (changes.length === 0 && tracked.record.status === 'active') void this.recheckOne(tracked);
    }
    const offers = state.holds.flatMap(({ offer, items: [item], reservationId, eventId, expiresAt }): Offer[] =>
      offer && item ? [{ reservationId, eventId, waitlistEntryId: offer.waitlistEntryId, ...item, expiresAt }] : [],
    );
    if (JSON.stringify(offers) === JSON.stringify(this.offers)) return;
    this.offers = offers;
    for (const offer of offers) {
      if (this.announced.has(offer.reservationId)) continue;
      this.announced.add(offer.reservationId);
      for (const listener of this.offerListeners) listener(offer);
    }
    for (const listener of this.offersListeners) listener(offers);
  }

  private compute(record: ReservationRecord): HoldState {
    const remaining = record.status === 'active' ? Math.max(0, Date.parse(record.expiresAt) - this.clock.now()) : 0;
    const isExpired = record.status === 'expired' || record.status === 'released' || (record.status === 'active' && remaining === 0);
    return {
      reservationId: record.id,
      status: record.status === 'active' && remaining === 0 ? 'expired' : record.status,
      expiresAt: record.expiresAt,
      remainingMs: remaining,
      isExpiringSoon: record.status === 'active' && remaining > 0 && remaining <= this.expiringSoonMs,
      isExpired,
      extensionsUsed: record.extensionsUsed,
    };
  }

  private update(tracked: Tracked, record: ReservationRecord): void {
    tracked.record = record;
    const state = this.compute(record);
    if (!state.isExpiringSoon) tracked.warned = false; // an extension re-arms the warning
    tracked.state = state;
    if (state.isExpiringSoon && !tracked.warned) {
      tracked.warned = true;
      tracked.callbacks.onExpiringSoon?.(state);
    }
    if (state.status === 'expired' && !tracked.expiredReported) {
      tracked.expiredReported = true;
      tracked.callbacks.onExpired?.(state);
      this.options.onEvent?.({ type: 'hold_expired', reservationId: record.id });
    }
    for (const listener of this.listeners.get(record.id) ?? []) listener(state);
  }

  private ensureTimers(): void {
    this.tickTimer ??= setInterval(() => {
      for (const tracked of this.holds.values()) if (tracked.record.status === 'active') this.update(tracked, tracked.record);
    }, TICK_MS);
    this.recheckTimer ??= setInterval(() => void this.recheck(), this.options.recheckMs ?? 30_000);
    this.startFeed();
  }

  /** The server's word on each hold: released elsewhere, confirmed, extended in another tab. */
  private async recheck(): Promise<void> {
    // The feed tells of every change as it happens; polling only stands in for it.
    if (this.feed?.live) return;
    await Promise.all([...this.holds.values()].filter((t) => t.record.status === 'active').map((tracked) => this.recheckOne(tracked)));
  }

  private async recheckOne(tracked: Tracked): Promise<void> {
    try {
      this.update(tracked, await this.requests.getHold(tracked.record.id));
    } catch {
      // Offline or the server is down: the countdown goes on; the next check tries again.
    }
  }

  private stopTimers(): void {
    clearInterval(this.tickTimer);
    clearInterval(this.recheckTimer);
    this.tickTimer = undefined;
    this.recheckTimer = undefined;
    if (this.offerListeners.size + this.offersListeners.size > 0) return;
    this.feed?.stop();
    this.feed = undefined;
  }
}
