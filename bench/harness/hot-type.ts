/** A hot on-sale's one ticket type, and what the database says is held of it: the hold scenarios' targets and correctness checks. */
import type { Database } from '../../packages/server/src/db/database.ts';
import type { Catalog } from '../../packages/server/src/inventory/catalog.ts';

export interface HotType {
  eventId: string;
  ticketTypeId: string;
}

/** An on-sale event with one ticket type of `capacity` seats, up to 4 per order. */
export async function createHotType(catalog: Catalog, slug: string, capacity: number): Promise<HotType> {
  const event = await catalog.createEvent({
    slug,
    name: `Hot on-sale (${slug})`,
    startsAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
    ticketTypes: [{ name: 'General', price: '49.00', totalCapacity: capacity, maxPerOrder: 4 }],
  });
  return { eventId: event.id, ticketTypeId: event.ticketTypes[0]!.id };
}

export interface HeldSeats {
  capacity: number;
  /** sold_count + reserved_count: what the counters say. */
  counted: number;
  /** Ticket rows reserved or sold: the seats held. */
  tickets: number;
  /** Reservations those tickets belong to. */
  reservations: number;
}

export async function heldSeats(db: Database, ticketTypeId: string): Promise<HeldSeats> {
  const { rows } = await db.query<HeldSeats>(
    `SELECT et.total_capacity AS capacity, et.sold_count + et.reserved_count AS counted,
            (SELECT count(*)::integer FROM tickets t WHERE t.event_ticket_id = et.id AND t.status IN ('reserved', 'sold')) AS tickets,
            (SELECT count(DISTINCT t.reservation_id)::integer FROM tickets t WHERE t.event_ticket_id = et.id AND t.status IN ('reserved', 'sold')) AS reservations
     FROM event_tickets et WHERE et.id = $1`,
    [ticketTypeId],
  );
  return rows[0]!;
}
