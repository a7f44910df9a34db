/**
 * One batch of holds on one event, decided by reserve_holds()
 * (0006_group_commit.sql) in one statement. New holds come back as ids only;
 * their reservations are built here from the request and the ticket types the
 * batch read, which costs far less than reading hundreds of them back.
 */
import type { Reservation, ReservationItem } from '@ticketpulse/protocol';
import type { Queryable } from '../db/database.ts';

/** One request as reserve_holds() takes it. */
export interface BatchedHold {
  holderId: string;
  /** Distinct ticket types, in id order. */
  items: Array<{ ticketTypeId: string; quantity: number }>;
  idempotencyKey: string | undefined;
  fingerprint: string | undefined;
  audience: { userId: string | null; privileged: boolean } | undefined;
}

export type ReservationJson = Reservation & { replayed?: boolean };
export interface Refusal {
  error: { message: string; detail: Record<string, unknown> };
}
export type HoldOutcome = ReservationJson | Refusal;

interface TypeInfo {
  name: string;
  unitPrice: string;
  currency: string;
  sortOrder: number;
}

interface BatchJson {
  eventId: string;
  createdAt: string;
  expiresAt: string;
  types: Record<string, TypeInfo>;
  outcomes: Array<{ made: string } | HoldOutcome>;
}

function newReservation(batch: BatchJson, id: string, request: BatchedHold): ReservationJson {
  const items: Array<ReservationItem & { sortOrder: number }> = request.items.map(({ ticketTypeId, quantity }) => {
    const type = batch.types[ticketTypeId.toLowerCase()]!;
    return { ticketTypeId: ticketTypeId.toLowerCase(), ticketTypeName: type.name, quantity, unitPrice: type.unitPrice, currency: type.currency, sortOrder: type.sortOrder };
  });
  // The order reservation_json() lists items in.
  items.sort((a, b) => a.sortOrder - b.sortOrder || (a.ticketTypeName < b.ticketTypeName ? -1 : a.ticketTypeName > b.ticketTypeName ? 1 : 0));
  return {
    id,
    eventId: batch.eventId,
    holderId: request.holderId,
    status: 'active',
    expiresAt: batch.expiresAt,
    extensionsUsed: 0,
    createdAt: batch.createdAt,
    confirmedAt: null,
    releasedAt: null,
    items: items.map(({ sortOrder: _sortOrder, ...item }) => item),
    replayed: false,
  };
}

async function reserveHolds(db: Queryable, eventRef: string, requests: BatchedHold[], holdSeconds: number): Promise<HoldOutcome[]> {
  const { rows } = await db.query<{ batch: BatchJson }>('SELECT reserve_holds($1, $2::jsonb, $3) AS batch', [
    eventRef,
    JSON.stringify(requests),
    holdSeconds,
  ]);
  const batch = rows[0]!.batch;
  return batch.outcomes.map((outcome, i) => ('made' in outcome ? newReservation(batch, outcome.made, requests[i]!) : outcome));
}

const keyOf = (request: BatchedHold) => (request.idempotencyKey === undefined ? undefined : `${request.holderId}\n${request.idempotencyKey}`);

const keyReused: Refusal = {
  error: { message: 'This Idempotency-Key was already used for a different request', detail: { code: 'idempotency_key_reused' } },
};

/**
 * Decides a batch. A request that repeats an earlier one's Idempotency-Key in
 * the same batch (a double click) is not sent: it is answered as a replay of
 * that one, as if it had come a moment later, without counting its seats
 * again. If the earlier one was refused, the repeat is decided after it.
 */
export async function decideHolds(db: Queryable, eventRef: string, requests: BatchedHold[], holdSeconds: number): Promise<HoldOutcome[]> {
  const firstWithKey = new Map<string, number>();
  const firsts: number[] = [];
  const repeats: Array<[index: number, first: number]> = [];
  requests.forEach((request, i) => {
    const key = keyOf(request);
    const first = key === undefined ? undefined : firstWithKey.get(key);
    if (first !== undefined) return repeats.push([i, first]);
    if (key !== undefined) firstWithKey.set(key, i);
    firsts.push(i);
  });

  const outcomes = new Array<HoldOutcome>(requests.length);
  const decided = await reserveHolds(db, eventRef, firsts.map((i) => requests[i]!), holdSeconds);
  firsts.forEach((i, n) => (outcomes[i] = decided[n]!));
  const undecided: number[] = [];
  for (const [i, first] of repeats) {
    const earlier = outcomes[first]!;
    if ('error' in earlier) undecided.push(i);
    else outcomes[i] = requests[i]!.fingerprint === requests[first]!.fingerprint ? { ...earlier, replayed: true } : keyReused;
  }
  if (undecided.length > 0) {
    const later = await decideHolds(db, eventRef, undecided.map((i) => requests[i]!), holdSeconds);
    undecided.forEach((i, n) => (outcomes[i] = later[n]!));
  }
  return outcomes;
}
