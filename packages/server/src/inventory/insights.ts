import type { Queryable } from '../db/database.ts';
import { isoTime } from '../iso-time.ts';

/** The most holds one read returns: a dashboard list, not an export. */
export const MAX_LISTED_HOLDS = 50;

/** A live hold as organizers see it: what it holds and when, never who holds it. */
export interface ExpiringHold {
  id: string;
  expiresAt: string;
  extensionsUsed: number;
  items: Array<{ ticketTypeId: string; ticketTypeName: string; quantity: number }>;
}

export interface SalesBucket {
  /** Start of the minute, ISO 8601. */
  minute: string;
  /** Seats whose purchase completed in that minute. */
  sold: number;
}

/**
 * Active holds of an event whose deadline falls within the next `withinSeconds`,
 * soonest first. Holds already past their deadline are left out even before
 * the sweeper has released them: their seats are as good as free.
 */
export async function readExpiringHolds(
  db: Queryable,
  eventId: string,
  withinSeconds: number,
): Promise<{ serverTime: string; holds: ExpiringHold[] }> {
  // Starts from the held seats so the partial index on live deadlines does the filtering.
  const { rows } = await db.query<{ server_time: Date; holds: Array<ExpiringHold & { expiresAt: string }> }>(
    `WITH due AS (
       SELECT r.id, r.expires_at, r.extensions_used FROM reservations r
       WHERE r.status = 'active' AND r.expires_at > now() AND r.expires_at <= now() + make_interval(secs => $2)
         AND r.id IN (SELECT t.reservation_id FROM tickets t
                      WHERE t.status = 'reserved' AND t.event_id = $1
                        AND t.reservation_expires_at > now() AND t.reservation_expires_at <= now() + make_interval(secs => $2))
       ORDER BY r.expires_at, r.id
       LIMIT $3
     )
     SELECT now() AS server_time, coalesce(jsonb_agg(jsonb_build_object(
              'id', d.id, 'expiresAt', d.expires_at, 'extensionsUsed', d.extensions_used,
              'items', (SELECT jsonb_agg(jsonb_build_object('ticketTypeId', g.event_ticket_id, 'ticketTypeName', g.name, 'quantity', g.quantity)
                                         ORDER BY g.sort_order, g.name COLLATE "C", g.event_ticket_id)
                        FROM (SELECT t.event_ticket_id, et.name, et.sort_order, count(*)::integer AS quantity
                              FROM tickets t JOIN event_tickets et ON et.id = t.event_ticket_id
                              WHERE t.reservation_id = d.id
                              GROUP BY t.event_ticket_id, et.name, et.sort_order) AS g))
            ORDER BY d.expires_at, d.id), '[]'::jsonb) AS holds
     FROM due d`,
    [eventId, withinSeconds, MAX_LISTED_HOLDS],
  );
  const row = rows[0]!;
  return { serverTime: isoTime(row.server_time), holds: row.holds.map((h) => ({ ...h, expiresAt: isoTime(h.expiresAt) })) };
}

/**
 * Seats sold per minute over the last `minutes` minutes (the current one
 * included), oldest first, from ticket_sales_per_minute (kept per ticket
 * type by the counter trigger): a few rows per minute, whatever was sold in
 * it. generate_series supplies every minute, so quiet minutes are zeros
 * rather than gaps a chart would have to fill.
 */
export async function readSalesPerMinute(
  db: Queryable,
  eventId: string,
  minutes: number,
): Promise<{ serverTime: string; buckets: SalesBucket[] }> {
  const { rows } = await db.query<{ server_time: Date; minute: Date; sold: number }>(
    `WITH span AS (
       SELECT date_trunc('minute', now()) - make_interval(mins => $2::integer - 1) AS first_minute,
              date_trunc('minute', now()) AS last_minute
     ), sold AS (
       SELECT s.minute, sum(s.sold)::integer AS sold
       FROM ticket_sales_per_minute s, span
       WHERE s.event_id = $1 AND s.minute >= span.first_minute
       GROUP BY 1
     )
     SELECT now() AS server_time, m.minute, coalesce(s.sold, 0) AS sold
     FROM span, generate_series(span.first_minute, span.last_minute, interval '1 minute') AS m(minute)
     LEFT JOIN sold s ON s.minute = m.minute
     ORDER BY m.minute`,
    [eventId, minutes],
  );
  return {
    serverTime: isoTime(rows[0]!.server_time),
    buckets: rows.map((r) => ({ minute: isoTime(r.minute), sold: r.sold })),
  };
}
