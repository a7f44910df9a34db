/**
 * Baseline hold path: one transaction per hold, as a straightforward
 * implementation of the original design would write it. Lock the ticket
 * type's row, read availability from its counter, insert the reservation and
 * one ticket per seat. Works on TicketPulse's tables (0001_schema.sql) with
 * whatever triggers keep the counters: ours (hot-holds) or the recount
 * triggers of the cost-growth baseline.
 */
import type { Database } from '../../packages/server/src/db/database.ts';

export interface RowLockHoldRequest {
  eventId: string;
  ticketTypeId: string;
  holderId: string;
  quantity: number;
  holdSeconds: number;
}

export type RowLockHoldResult = { ok: true; reservationId: string } | { ok: false; reason: 'sold_out' };

export async function rowLockHold(
  db: Database,
  { eventId, ticketTypeId, holderId, quantity, holdSeconds }: RowLockHoldRequest,
): Promise<RowLockHoldResult> {
  return db.transaction(async (tx) => {
    // The row lock serializes holds on this ticket type: the availability
    // read below stays true until commit.
    const { rows } = await tx.query<{ available: number | null }>(
      'SELECT total_capacity - sold_count - reserved_count AS available FROM event_tickets WHERE id = $1 FOR UPDATE',
      [ticketTypeId],
    );
    const available = rows[0]?.available;
    if (available === undefined) throw new Error(`unknown ticket type ${ticketTypeId}`);
    if (available !== null && available < quantity) return { ok: false, reason: 'sold_out' } as const;
    const reservation = await tx.query<{ id: string; expires_at: Date }>(
      `INSERT INTO reservations (event_id, holder_id, expires_at)
       VALUES ($1, $2, now() + make_interval(secs => $3)) RETURNING id, expires_at`,
      [eventId, holderId, holdSeconds],
    );
    const { id, expires_at } = reservation.rows[0]!;
    await tx.query(
      `INSERT INTO tickets (event_id, event_ticket_id, reservation_id, status, holder_id, reservation_expires_at)
       SELECT $1, $2, $3, 'reserved', $4, $5 FROM generate_series(1, $6::integer)`,
      [eventId, ticketTypeId, id, holderId, expires_at, quantity],
    );
    return { ok: true, reservationId: id } as const;
  });
}
