import type { Queryable } from '../db/database.ts';
import { byIdOrSlug, visibleTo, type Audience } from './catalog.ts';
import { InventoryError } from './errors.ts';

/** `paused`: the ticket type or event is paused; `off_sale`: the event is a draft, ended or cancelled. */
export type AvailabilityStatus = 'available' | 'low_stock' | 'sold_out' | 'paused' | 'off_sale';

/** What a buyer may see of one ticket type: aggregate numbers only. Names follow the design. */
export interface TicketAvailability {
  ticketTypeId: string;
  eventId: string;
  ticketTypeName: string;
  description: string | null;
  price: string;
  currency: string;
  totalCapacity: number | null;
  soldCount: number;
  reservedCount: number;
  /** Seats a buyer can take now (capacity - sold - reserved); null when unlimited. */
  availableCount: number | null;
  /** Same as availableCount; kept because code written against the design reads it. */
  actualAvailable: number | null;
  percentageSold: number;
  isSoldOut: boolean;
  isUnlimited: boolean;
  status: AvailabilityStatus;
  maxPerOrder: number;
  sortOrder: number;
  version: number;
  lastUpdated: string;
}

/** An event's availability at one version: the unit clients cache and resync by. */
export interface AvailabilitySnapshot {
  eventId: string;
  version: number;
  /** Database clock, so clients can correct for their own clock's offset. */
  serverTime: string;
  tickets: TicketAvailability[];
}

interface Row {
  event_id: string;
  availability_version: number;
  server_time: Date;
  ticket_type_id: string | null;
  ticket_type_name: string;
  description: string | null;
  price: string;
  currency: string;
  total_capacity: number | null;
  sold_count: number;
  reserved_count: number;
  available_count: number | null;
  actual_available: number | null;
  percentage_sold: number;
  is_sold_out: boolean;
  is_unlimited: boolean;
  status: AvailabilityStatus;
  max_per_order: number;
  sort_order: number;
  version: number;
  updated_at: Date;
}

/** Reads an event's availability snapshot from ticket_availability_view in one query. */
export async function readAvailability(db: Queryable, idOrSlug: string, audience: Audience): Promise<AvailabilitySnapshot> {
  const { rows } = await db.query<Row>(
    `SELECT e.id AS event_id, e.availability_version, clock_timestamp() AS server_time, v.*
     FROM events e LEFT JOIN ticket_availability_view v ON v.event_id = e.id
     WHERE ${byIdOrSlug(idOrSlug)} AND ${visibleTo(audience)}
     ORDER BY v.sort_order, v.ticket_type_name`,
    [idOrSlug],
  );
  const first = rows[0];
  if (!first) throw new InventoryError('event_not_found', 'Event not found');
  return {
    eventId: first.event_id,
    version: first.availability_version,
    serverTime: first.server_time.toISOString(),
    tickets: rows.filter((r) => r.ticket_type_id !== null).map(toTicketAvailability),
  };
}

const toTicketAvailability = (r: Row): TicketAvailability => ({
  ticketTypeId: r.ticket_type_id!,
  eventId: r.event_id,
  ticketTypeName: r.ticket_type_name,
  description: r.description,
  price: r.price,
  currency: r.currency,
  totalCapacity: r.total_capacity,
  soldCount: r.sold_count,
  reservedCount: r.reserved_count,
  availableCount: r.available_count,
  actualAvailable: r.actual_available,
  percentageSold: r.percentage_sold,
  isSoldOut: r.is_sold_out,
  isUnlimited: r.is_unlimited,
  status: r.status,
  maxPerOrder: r.max_per_order,
  sortOrder: r.sort_order,
  version: r.version,
  lastUpdated: r.updated_at.toISOString(),
});
