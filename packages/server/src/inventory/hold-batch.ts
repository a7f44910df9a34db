/**
 * One batch of holds on one event, decided by reserve_holds()
 * (db/repeatable/50_group_commit.sql) in one statement. New holds come back
 * as ids, and their items and totals as new_holds_priced() (same file)
 * prices them from the requests and the ticket types the batch read; the rest
 * of each reservation is built here. Far less than reading hundreds back.
 */
import type { Reservation } from '@ticketpulse/protocol';
import { isDatabaseError, type Queryable } from '../db/database.ts';
import type { Refusal } from './errors.ts';

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
export type HoldOutcome = ReservationJson | Refusal;

type Priced = Pick<Reservation, 'items' | 'totals'>;

interface BatchJson {
  eventId: string;
  createdAt: string;
  expiresAt: string;
  /** The event's version once this batch is counted: every hold answered here is in it. */
  availabilityVersion: number;
  outcomes: Array<{ made: string } | HoldOutcome>;
  /** From new_holds_priced(): the items and totals of each distinct order among the new holds... */
  priced: Priced[];
  /** ...and, for each outcome, the index of its order in `priced` (null unless it made a hold). */
  pricedAs: Array<number | null>;
}

function newReservation(batch: BatchJson, id: string, request: BatchedHold, { items, totals }: Priced): ReservationJson {
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
    // Holds with the same order share one priced entry; each reservation gets its own objects.
    items: items.map((item) => ({ ...item })),
    totals: totals.map((total) => ({ ...total })),
    replayed: false,
  };
}

const DEADLOCK_DETECTED = '40P01';

/**
 * One statement. A batch written before it locks can meet another batch's
 * Idempotency-Key in a deadlock (docs/inventory.md, A batch written before
 * it locks), which PostgreSQL ends by failing one of them: that one is run
 * again, once, as a deadlock's loser should be.
 */
async function decideInDatabase(db: Queryable, eventRef: string, requests: BatchedHold[], holdSeconds: number): Promise<BatchJson> {
  const params = [eventRef, JSON.stringify(requests), holdSeconds];
  const run = () => db.query<{ batch: BatchJson }>('SELECT new_holds_priced(reserve_holds($1, $2::jsonb, $3), $2::jsonb) AS batch', params);
  const { rows } = await run().catch((error: unknown) => {
    if (isDatabaseError(error) && error.code === DEADLOCK_DETECTED) return run();
    throw error;
  });
  return rows[0]!.batch;
}

async function reserveHolds(db: Queryable, eventRef: string, requests: BatchedHold[], holdSeconds: number): Promise<HoldOutcome[]> {
  const batch = await decideInDatabase(db, eventRef, requests, holdSeconds);
  return batch.outcomes.map((outcome, i) => {
    if ('made' in outcome) return { ...newReservation(batch, outcome.made, requests[i]!, batch.priced[batch.pricedAs[i]!]!), availabilityVersion: batch.availabilityVersion };
    // A replayed hold was counted in an earlier version, so this batch's includes it too.
    return 'error' in outcome ? outcome : { ...outcome, availabilityVersion: batch.availabilityVersion };
  });
}

/** A request's holder and Idempotency-Key: requests that share it are one request sent twice. */
export const keyOf = (request: BatchedHold) => (request.idempotencyKey === undefined ? undefined : `${request.holderId}\n${request.idempotencyKey}`);

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
