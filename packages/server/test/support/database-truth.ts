import type { TicketAvailability } from '@ticketpulse/protocol';
import type { Queryable } from '../../src/db/database.ts';

export interface TicketCounts {
  soldCount: number;
  reservedCount: number;
  availableCount: number | null;
}

/** What the database says about each ticket type of an event, keyed by ticket type id. */
export async function databaseCounts(db: Queryable, eventId: string): Promise<Map<string, TicketCounts>> {
  const { rows } = await db.query<{ id: string; sold_count: number; reserved_count: number; available_count: number | null }>(
    'SELECT id, sold_count, reserved_count, available_count FROM event_tickets WHERE event_id = $1',
    [eventId],
  );
  return new Map(rows.map((r) => [r.id, { soldCount: r.sold_count, reservedCount: r.reserved_count, availableCount: r.available_count }]));
}

/** Whether what a viewer shows for every ticket type equals the database's counts. */
export function showsExactly(lookup: (ticketTypeId: string) => TicketAvailability | null | undefined, truth: Map<string, TicketCounts>): boolean {
  for (const [id, counts] of truth) {
    const shown = lookup(id);
    if (!shown) return false;
    if (shown.soldCount !== counts.soldCount || shown.reservedCount !== counts.reservedCount || shown.availableCount !== counts.availableCount) {
      return false;
    }
  }
  return true;
}
