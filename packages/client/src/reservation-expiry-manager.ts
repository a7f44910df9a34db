import { HoldClient } from './hold-client.ts';
import type { HttpClientOptions } from './http-client.ts';
import type { ServerClock } from './server-clock.ts';
import type { AnalyticsEvent } from './types.ts';

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

export interface HoldCallbacks {
  /** Fires once, `expiringSoonMs` before the deadline. */
  onExpiringSoon?: (state: HoldState) => void;
  /** Fires once, at the deadline (or when the server says it expired). */
  onExpired?: (state: HoldState) => void;
}

/** The service and how to reach it (HttpClientOptions: url, getToken, fetch, clock, retry), and the countdown's settings. */
export interface ReservationExpiryManagerOptions extends HttpClientOptions {
  /** Default 2 minutes. */
  expiringSoonMs?: number;
  /** How often each hold's status is re-checked with the server. Default 30 s, the design's interval. */
  recheckMs?: number;
  onEvent?: (event: AnalyticsEvent) => void;
}

interface Tracked {
  record: ReservationRecord;
  callbacks: HoldCallbacks;
  state: HoldState;
  warned: boolean;
  expiredReported: boolean;
}

const TICK_MS = 1000;

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

  constructor(private readonly options: ReservationExpiryManagerOptions) {
    this.clock = options.clock ?? { now: () => Date.now(), observe: () => {} };
    this.requests = new HoldClient({ ...options, clock: this.clock });
    this.expiringSoonMs = options.expiringSoonMs ?? 120_000;
  }

  /** Starts tracking a hold (from the reserve response, or by id, fetched from the server). */
  async startMonitoring(reservation: ReservationRecord | string, callbacks: HoldCallbacks = {}): Promise<HoldState> {
    const record = typeof reservation === 'string' ? await this.requests.getHold(reservation) : reservation;
    const existing = this.holds.get(record.id);
    const tracked: Tracked = existing ?? { record, callbacks, state: this.compute(record), warned: false, expiredReported: false };
    // Several parts of an app may monitor one hold; later callbacks add to earlier ones.
    if (existing) tracked.callbacks = { ...existing.callbacks, ...callbacks };
    else if (record.status === 'active') this.options.onEvent?.({ type: 'hold_created', reservationId: record.id, eventId: record.eventId });
    this.holds.set(record.id, tracked);
    this.update(tracked, record);
    this.ensureTimers();
    return tracked.state;
  }

  getState(reservationId: string): HoldState | undefined {
    return this.holds.get(reservationId)?.state;
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
    this.stopTimers();
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
  }

  /** The server's word on each hold: released elsewhere, confirmed, extended in another tab. */
  private async recheck(): Promise<void> {
    await Promise.all(
      [...this.holds.values()]
        .filter((t) => t.record.status === 'active')
        .map(async (tracked) => {
          try {
            this.update(tracked, await this.requests.getHold(tracked.record.id));
          } catch {
            // Offline or the server is down: the countdown goes on; the next check tries again.
          }
        }),
    );
  }

  private stopTimers(): void {
    clearInterval(this.tickTimer);
    clearInterval(this.recheckTimer);
    this.tickTimer = undefined;
    this.recheckTimer = undefined;
  }
}
