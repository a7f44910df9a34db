/**
 * The database's word on each event, and whether a viewer's copy matches it:
 * every benchmark viewer must end with exactly these counts and versions.
 */
import type { TicketAvailability } from '@ticketpulse/protocol';
import type { Database } from '../../packages/server/src/db/database.ts';

/** The counts a viewer is checked on, in the protocol's field names. */
export type Counts = Pick<TicketAvailability, 'ticketTypeId' | 'totalCapacity' | 'soldCount' | 'reservedCount' | 'availableCount'>;

export interface ExpectedEvent {
  version: number;
  tickets: Counts[];
}

/** Event id to its current version and visible ticket types. */
export type ExpectedState = Record<string, ExpectedEvent>;

export async function readExpectedState(db: Database): Promise<ExpectedState> {
  const { rows } = await db.query<{ event_id: string; version: number; id: string; total_capacity: number | null; sold_count: number; reserved_count: number; available_count: number | null }>(
    `SELECT e.id AS event_id, e.availability_version AS version, t.id, t.total_capacity, t.sold_count, t.reserved_count, t.available_count
       FROM events e JOIN event_tickets t ON t.event_id = e.id
      WHERE t.status <> 'hidden'`,
  );
  const state: ExpectedState = {};
  for (const r of rows) {
    const event = (state[r.event_id] ??= { version: r.version, tickets: [] });
    event.tickets.push({ ticketTypeId: r.id, totalCapacity: r.total_capacity, soldCount: r.sold_count, reservedCount: r.reserved_count, availableCount: r.available_count });
  }
  return state;
}

/** Why a viewer's copy of one event differs from the database, or undefined when it is exact. */
export function mismatch(eventId: string, version: number, tickets: ReadonlyMap<string, Counts>, expected: ExpectedState): string | undefined {
  const want = expected[eventId];
  if (!want) return `event ${eventId} is not in the database`;
  if (version !== want.version) return `event ${eventId}: version ${version}, database ${want.version}`;
  if (tickets.size !== want.tickets.length) return `event ${eventId}: ${tickets.size} ticket types, database ${want.tickets.length}`;
  for (const t of want.tickets) {
    const have = tickets.get(t.ticketTypeId);
    if (
      !have ||
      have.totalCapacity !== t.totalCapacity ||
      have.soldCount !== t.soldCount ||
      have.reservedCount !== t.reservedCount ||
      have.availableCount !== t.availableCount
    ) {
      return `event ${eventId} ticket ${t.ticketTypeId}: ${JSON.stringify(have ?? null)}, database ${JSON.stringify(t)}`;
    }
  }
  return undefined;
}
