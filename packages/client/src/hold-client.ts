import { QUEUE_PASS_HEADER, type Reservation } from '@ticketpulse/protocol';
import { httpClient, type HttpClientOptions, type HttpRequest, type SendRequest } from './http-client.ts';
import { newIdempotencyKey } from './idempotency-key.ts';
import type { HeldItems, OptimisticHold } from './optimistic-holds.ts';

/** What keeps the holder's countdowns: a ReservationExpiryManager. */
export interface HoldTracker {
  startMonitoring(reservation: Reservation): Promise<unknown>;
  /** The server's latest word on a hold, for its countdown. */
  observe(reservation: Reservation): unknown;
}

export interface HoldClientOptions extends HttpClientOptions {
  /**
   * Shows each new hold at once on this manager's availability
   * (applyOptimisticHold), and sends the user's waiting-room pass for the
   * event with it (`queuePass`, `X-TicketPulse-Queue-Pass`).
   */
  availability?: { applyOptimisticHold(eventId: string, items: HeldItems): OptimisticHold; queuePass?(eventId: string): string | undefined };
  /** Counts each new hold down, and hears every answer about a hold. */
  reservations?: HoldTracker;
}

export interface CreateHoldOptions {
  /** One per logical hold (default: a new one per call); reuse it to retry the same hold yourself. */
  idempotencyKey?: string;
}

const reservationPath = (id: string) => `/api/reservations/${encodeURIComponent(id)}`;

/**
 * The holder's side of holds: create, read, extend, confirm and release,
 * with typed answers (`Reservation`) and failures (`ApiError`), retried
 * where that is safe (retry-policy.ts). A hold is created with an
 * Idempotency-Key, the same on every retry, so it is made once.
 */
export class HoldClient {
  private readonly http: SendRequest;

  constructor(private readonly options: HoldClientOptions) {
    this.http = httpClient(options);
  }

  /** Holds seats: shown as taken at once, given back if the server refuses, counted down once held. */
  async createHold(eventId: string, items: HeldItems, { idempotencyKey = newIdempotencyKey() }: CreateHoldOptions = {}): Promise<Reservation> {
    const shown = this.options.availability?.applyOptimisticHold(eventId, items);
    const pass = this.options.availability?.queuePass?.(eventId);
    let reservation: Reservation;
    try {
      const path = `/api/events/${encodeURIComponent(eventId)}/reservations`;
      reservation = await this.act({ method: 'POST', path, body: { items }, idempotencyKey, ...(pass && { headers: { [QUEUE_PASS_HEADER]: pass } }) });
    } catch (error) {
      shown?.rollback();
      throw error;
    }
    // Shown until the version that counts it is applied, whatever unrelated updates come first.
    if (reservation.availabilityVersion !== undefined) shown?.settle(reservation.availabilityVersion);
    await this.options.reservations?.startMonitoring(reservation);
    return reservation;
  }

  getHold(reservationId: string): Promise<Reservation> {
    return this.act({ method: 'GET', path: reservationPath(reservationId) });
  }

  /** Each extension adds a step and takes no key: retried only when the answer proves it was not done. */
  extendHold(reservationId: string): Promise<Reservation> {
    return this.act({ method: 'POST', path: `${reservationPath(reservationId)}/extend` });
  }

  /** Confirming again is a no-op, so it is retried like a read. */
  confirmHold(reservationId: string): Promise<Reservation> {
    return this.act({ method: 'POST', path: `${reservationPath(reservationId)}/confirm`, idempotent: true });
  }

  /** Releasing an ended hold is a no-op (DELETE is idempotent), so it is retried like a read. */
  releaseHold(reservationId: string): Promise<Reservation> {
    return this.act({ method: 'DELETE', path: reservationPath(reservationId) });
  }

  /** Sends a reservation request; the tracker hears the answer (a hold it does not track yet is only looked at). */
  private async act(request: HttpRequest): Promise<Reservation> {
    const { reservation } = await this.http<{ reservation: Reservation }>(request);
    this.options.reservations?.observe(reservation);
    return reservation;
  }
}
