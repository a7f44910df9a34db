/** Events for the realtime scenarios, written straight into a bench schema. */
import type { Database } from '../../packages/server/src/db/database.ts';

export interface SeededEvent {
  eventId: string;
  ticketTypeIds: string[];
}

/** `count` public, on-sale events, each with `ticketTypes` types of `capacity` seats. */
export async function seedEvents(db: Database, count: number, ticketTypes: number, capacity = 1_000_000): Promise<SeededEvent[]> {
  const { rows } = await db.query<{ event_id: string; ids: string[] }>(
    `WITH e AS (
       INSERT INTO events (slug, name, starts_at)
       SELECT 'bench-event-' || n, 'Bench event ' || n, now() + interval '30 days' FROM generate_series(1, $1::integer) AS n
       RETURNING id
     ), t AS (
       INSERT INTO event_tickets (event_id, name, total_capacity, sort_order)
       SELECT e.id, 'Type ' || k, $3::integer, k FROM e CROSS JOIN generate_series(1, $2::integer) AS k
       RETURNING event_id, id, sort_order
     )
     SELECT event_id, array_agg(id ORDER BY sort_order) AS ids FROM t GROUP BY event_id ORDER BY min(id::text)`,
    [count, ticketTypes, capacity],
  );
  return rows.map((r) => ({ eventId: r.event_id, ticketTypeIds: r.ids }));
}
