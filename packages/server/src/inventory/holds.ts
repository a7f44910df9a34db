import { createHash } from 'node:crypto';
import type { Reservation, ReservationItem, ReservationStatus } from '@ticketpulse/protocol';
import type { Queryable } from '../db/database.ts';
import { isoTime, isoTimeOrNull } from '../iso-time.ts';
import type { Audience } from '../auth/principal.ts';
import type { AvailabilityListener, HolderListener } from './availability-listener.ts';
import { InventoryError, refusal, refusalsAsErrors } from './errors.ts';
import { EventIds } from './event-ref.ts';
import { GroupCommit } from './group-commit.ts';
import { decideHolds, keyOf, type BatchedHold, type HoldOutcome, type ReservationJson } from './hold-batch.ts';

export type { Reservation, ReservationItem, ReservationStatus };

/** Hold durations and extensions, from TICKETPULSE_HOLD_* (an event may set its own). */
export interface HoldSettings {
  /** Default hold duration; an event may set its own. */
  holdSeconds: number;
  /** How far one extension pushes the deadline; an event may set its own. */
  extensionSeconds: number;
  /** How many times a hold may be extended; an event may set its own. */
  maxExtensions: number;
}


export interface HoldRequest {
  /** The event's id; or its id or slug when `audience` is given. */
  eventId: string;
  /**
   * Whose request this is (an HTTP caller): the event is then looked up by id
   * or slug, and must be visible to them, in the same statement as the hold.
   */
  audience?: Audience;
  holderId: string;
  /** Distinct ticket types of the event, each with a quantity of at least 1. */
  items: ReadonlyArray<{ ticketTypeId: string; quantity: number }>;
  idempotencyKey?: string;
}

export interface HoldResult {
  reservation: Reservation;
  /** True when an earlier request with the same Idempotency-Key already made this hold. */
  replayed: boolean;
}

/**
 * Who is acting on a reservation: a holder id, or `undefined` for the
 * service role, which may act on any reservation.
 */
export type ActingHolder = string | undefined;

export interface HoldsOptions {
  /** Most holds decided in one transaction. */
  maxBatch?: number;
  /** Told the size of every batch of holds decided. */
  onBatch?: (size: number) => void;
  /**
   * With no batch in flight, send the waiting as two batches that write at
   * once (the default). Off, they go as one batch, decided in arrival order
   * from first to last (docs/inventory.md, A batch written before it locks).
   */
  splitWhenIdle?: boolean;
  /** Told, after commit, whose hold a call made or changed (their personal feed); expiries are told by time, not here. */
  onHolderChange?: HolderListener;
}

// Large enough that an on-sale's burst fits in a few batches, small enough
// that one batch's transaction stays a few milliseconds long.
const DEFAULT_MAX_BATCH = 256;

function toReservation({ replayed: _replayed, ...json }: ReservationJson): Reservation {
  return {
    ...json,
    expiresAt: isoTime(json.expiresAt),
    createdAt: isoTime(json.createdAt),
    confirmedAt: isoTimeOrNull(json.confirmedAt),
    releasedAt: isoTimeOrNull(json.releasedAt),
  };
}

/** Same items in any order give the same fingerprint; the event counts as sent (id or slug), as any request parameter would. */
function fingerprint(request: HoldRequest): string {
  const items = [...request.items].sort((a, b) => a.ticketTypeId.localeCompare(b.ticketTypeId));
  return createHash('sha256').update(JSON.stringify([request.eventId, items])).digest('hex');
}

/**
 * Holds (reservations): reserve, confirm, release, extend. Each call is one
 * SQL function (db/repeatable/) that applies completely or not at all.
 */
export class Holds {
  /** Concurrent holds on one event, decided together (db/repeatable/50_group_commit.sql). */
  private readonly batches: GroupCommit<BatchedHold, HoldOutcome>;
  /** Batches are keyed by event id: a slug and an id of one event share one queue. */
  private readonly eventIds: EventIds;
  private readonly onHolderChange: HolderListener;

  constructor(
    private readonly db: Queryable,
    private readonly settings: HoldSettings,
    /** Told, after commit, of every event whose availability a call changed. */
    private readonly onChange: AvailabilityListener = () => {},
    options: HoldsOptions = {},
  ) {
    this.eventIds = new EventIds(db);
    this.onHolderChange = options.onHolderChange ?? (() => {});
    this.batches = new GroupCommit(
      (eventRef, requests) => decideHolds(this.db, eventRef, requests, this.settings.holdSeconds),
      options.maxBatch ?? DEFAULT_MAX_BATCH,
      options.onBatch,
      // Two halves of an on-sale's crowd write their holds at once (50_group_commit.sql); a double click stays in one.
      options.splitWhenIdle === false ? undefined : keyOf,
    );
  }

  async reserve(request: HoldRequest): Promise<HoldResult> {
    const outcome = await this.batches.submit(await this.eventIds.of(request.eventId), {
      holderId: request.holderId,
      // In id order, so the same request is always refused for the same item.
      items: request.items
        .map(({ ticketTypeId, quantity }) => ({ ticketTypeId, quantity }))
        .sort((a, b) => a.ticketTypeId.localeCompare(b.ticketTypeId)),
      idempotencyKey: request.idempotencyKey,
      fingerprint: request.idempotencyKey ? fingerprint(request) : undefined,
      audience: request.audience && { userId: request.audience.userId ?? null, privileged: request.audience.privileged },
    });
    if ('error' in outcome) throw refusal(outcome.error.message, outcome.error.detail);
    const reservation = toReservation(outcome);
    this.onChange(reservation.eventId);
    this.onHolderChange(reservation.holderId);
    return { reservation, replayed: outcome.replayed === true };
  }

  async confirm(reservationId: string, holder: ActingHolder): Promise<Reservation> {
    return this.changed(toReservation(await this.call('confirm_reservation($1, $2)', [reservationId, holder ?? null])));
  }

  async release(reservationId: string, holder: ActingHolder): Promise<Reservation> {
    return this.changed(toReservation(await this.call('release_reservation($1, $2)', [reservationId, holder ?? null])));
  }

  async extend(reservationId: string, holder: ActingHolder): Promise<Reservation> {
    const reservation = toReservation(
      await this.call('extend_reservation($1, $2, $3, $4)', [
        reservationId,
        holder ?? null,
        this.settings.extensionSeconds,
        this.settings.maxExtensions,
      ]),
    );
    // No count changed, so no event did: only the holder's feed.
    this.onHolderChange(reservation.holderId);
    return reservation;
  }

  async get(reservationId: string, holder: ActingHolder): Promise<Reservation> {
    const { rows } = await this.db.query<{ r: ReservationJson | null }>('SELECT reservation_json($1) AS r', [reservationId]);
    const json = rows[0]?.r;
    // Someone else's reservation looks exactly like one that does not exist (as lock_reservation() answers).
    if (!json || (holder !== undefined && json.holderId !== holder)) throw new InventoryError('reservation_not_found', 'Reservation not found');
    return toReservation(json);
  }

  /** Releases holds past their deadline (at most `limit` of them, earliest first); returns how many seats came back. */
  async expireDue(limit?: number): Promise<number> {
    const { rows } = await this.db.query<{ event_id: string; released: number }>('SELECT * FROM expire_due_holds(NULL, $1::integer)', [limit ?? null]);
    for (const row of rows) this.onChange(row.event_id);
    return rows.reduce((sum, row) => sum + row.released, 0);
  }

  private changed(reservation: Reservation): Reservation {
    this.onChange(reservation.eventId);
    this.onHolderChange(reservation.holderId);
    return reservation;
  }

  private async call(fn: string, params: unknown[]): Promise<ReservationJson> {
    const { rows } = await refusalsAsErrors(this.db.query<{ r: ReservationJson }>(`SELECT ${fn} AS r`, params));
    return rows[0]!.r;
  }
}
