import type { AvailabilitySnapshot, AvailabilityStatus, DisplayPrecision, TicketAvailability } from '@ticketpulse/protocol';
import type { Queryable } from '../db/database.ts';
import { audienceParams, type EventStatus } from './catalog.ts';
import { type Audience } from '../auth/principal.ts';
import { byIdOrSlug } from './event-ref.ts';
import { InventoryError } from './errors.ts';
import type { TicketTypeColumns } from './ticket-type-columns.ts';

/** An event's availability as stored, exact counts included; presentSnapshot() decides what a viewer sees. */
export interface EventAvailability {
  eventId: string;
  version: number;
  /** When the availability last changed, by the database clock. */
  changedAt: string;
  isPublic: boolean;
  status: EventStatus;
  precision: DisplayPrecision;
  tickets: TicketAvailability[];
  /** The database clock when this was read. */
  readAt: string;
}

interface Row extends TicketTypeColumns {
  event_id: string;
  availability_version: number;
  availability_changed_at: Date;
  is_public: boolean;
  event_status: EventStatus;
  display_precision: DisplayPrecision;
  read_at: Date;
  ticket_type_id: string | null;
  ticket_type_name: string;
  actual_available: number | null;
  percentage_sold: number;
  is_sold_out: boolean;
  is_unlimited: boolean;
  status: AvailabilityStatus;
  max_per_order: number;
  sort_order: number;
  version: number;
  updated_at: Date;
  /** From sales_velocity; null when the type has no row there (no recent sales). */
  sold_per_minute_5m: number | null;
  sold_per_minute_15m: number | null;
  projected_sell_out_at: Date | null;
  selling_fast: boolean | null;
}

/** An event's availability with its ticket types' rows as stored (every column of event_tickets). */
export interface EventAvailabilityWithRows extends EventAvailability {
  ticketTypeRows: Array<Readonly<Record<string, unknown>>>;
}

const COLUMNS = `e.id AS event_id, e.availability_version, e.availability_changed_at, e.is_public,
    e.status AS event_status, e.display_precision, clock_timestamp() AS read_at, v.*,
    sv.sold_per_minute_5m::float8 AS sold_per_minute_5m, sv.sold_per_minute_15m::float8 AS sold_per_minute_15m,
    sv.projected_sell_out_at, sv.selling_fast`;
// Sales velocity is refreshed apart from the counters (db/repeatable/80_sales_velocity.sql) and read beside them.
const FROM = `FROM events e LEFT JOIN ticket_availability_view v ON v.event_id = e.id
    LEFT JOIN sales_velocity sv ON sv.event_ticket_id = v.ticket_type_id`;
const SELECT = `SELECT ${COLUMNS} ${FROM}`;

function toEventAvailability(rows: Row[]): EventAvailability[] {
  const events = new Map<string, EventAvailability>();
  for (const r of rows) {
    let event = events.get(r.event_id);
    if (!event) {
      event = {
        eventId: r.event_id,
        version: r.availability_version,
        changedAt: r.availability_changed_at.toISOString(),
        isPublic: r.is_public,
        status: r.event_status,
        precision: r.display_precision,
        tickets: [],
        readAt: r.read_at.toISOString(),
      };
      events.set(r.event_id, event);
    }
    if (r.ticket_type_id !== null) event.tickets.push(toTicketAvailability(r, r.ticket_type_id));
  }
  return [...events.values()];
}

const toTicketAvailability = (r: Row, ticketTypeId: string): TicketAvailability => ({
  ticketTypeId,
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
  soldPerMinute5m: r.sold_per_minute_5m ?? 0,
  soldPerMinute15m: r.sold_per_minute_15m ?? 0,
  projectedSellOutAt: r.projected_sell_out_at?.toISOString() ?? null,
  sellingFast: r.selling_fast ?? false,
  likelyToSellOut: r.projected_sell_out_at !== null,
});

/** Several events' availability in one query (the gateway's per-tick read). Unknown ids are left out. */
export async function readEventAvailability(db: Queryable, eventIds: readonly string[]): Promise<EventAvailability[]> {
  if (eventIds.length === 0) return [];
  const { rows } = await db.query<Row>(`${SELECT} WHERE e.id = ANY ($1::uuid[]) ORDER BY e.id, v.sort_order, v.ticket_type_name COLLATE "C", v.ticket_type_id`, [
    eventIds,
  ]);
  return toEventAvailability(rows);
}

/**
 * Several events' availability and their ticket types' rows, in one query:
 * the realtime tick's one read, which every realtime endpoint consumes.
 */
export async function readEventAvailabilityWithRows(db: Queryable, eventIds: readonly string[]): Promise<EventAvailabilityWithRows[]> {
  if (eventIds.length === 0) return [];
  const { rows } = await db.query<Row & { ticket_type_row: Record<string, unknown> | null }>(
    `SELECT ${COLUMNS}, to_jsonb(et) AS ticket_type_row ${FROM} LEFT JOIN event_tickets et ON et.id = v.ticket_type_id
      WHERE e.id = ANY ($1::uuid[]) ORDER BY e.id, v.sort_order, v.ticket_type_name`,
    [eventIds],
  );
  const rowsOf = new Map<string, Array<Readonly<Record<string, unknown>>>>();
  for (const r of rows) {
    let list = rowsOf.get(r.event_id);
    if (!list) rowsOf.set(r.event_id, (list = []));
    if (r.ticket_type_row) list.push(r.ticket_type_row);
  }
  return toEventAvailability(rows).map((event) => ({ ...event, ticketTypeRows: rowsOf.get(event.eventId) ?? [] }));
}

/** Current versions of several events (or all), to tell which changed without reading them whole. */
export async function readAvailabilityVersions(db: Queryable, eventIds: readonly string[] | 'all'): Promise<Map<string, number>> {
  const all = eventIds === 'all';
  if (!all && eventIds.length === 0) return new Map();
  const { rows } = await db.query<{ id: string; availability_version: number }>(
    'SELECT id, availability_version FROM events WHERE $1 OR id = ANY ($2::uuid[])',
    [all, all ? [] : eventIds],
  );
  return new Map(rows.map((r) => [r.id, r.availability_version]));
}

/** One event the audience may see, addressed by id or slug. */
export async function readVisibleEventAvailability(db: Queryable, idOrSlug: string, audience: Audience): Promise<EventAvailability> {
  const { rows } = await db.query<Row>(
    `${SELECT} WHERE ${byIdOrSlug(idOrSlug)} AND event_is_visible(e, $2, $3) ORDER BY v.sort_order, v.ticket_type_name COLLATE "C", v.ticket_type_id`,
    [idOrSlug, ...audienceParams(audience)],
  );
  const [event] = toEventAvailability(rows);
  if (!event) throw new InventoryError('event_not_found', 'Event not found');
  return event;
}

/**
 * Banded: only the status shows; every count is withheld, and of the sales
 * velocity only its two yes/no flags (selling fast, likely to sell out): the
 * rates and the projected time would tell how many seats are left.
 */
function banded(ticket: TicketAvailability): TicketAvailability {
  return {
    ...ticket,
    totalCapacity: null,
    soldCount: null,
    reservedCount: null,
    availableCount: null,
    actualAvailable: null,
    percentageSold: null,
    version: 0,
    lastUpdated: null,
    soldPerMinute5m: null,
    soldPerMinute15m: null,
    projectedSellOutAt: null,
  };
}

/** Organizers and the service always see exact counts; everyone else what the event discloses. */
export const precisionFor = (event: EventAvailability, audience: Pick<Audience, 'privileged'>): DisplayPrecision =>
  audience.privileged ? 'exact' : event.precision;

export function presentTickets(tickets: TicketAvailability[], precision: DisplayPrecision): TicketAvailability[] {
  return precision === 'exact' ? tickets : tickets.map(banded);
}

export function presentSnapshot(event: EventAvailability, precision: DisplayPrecision, serverTime = event.readAt): AvailabilitySnapshot {
  return {
    eventId: event.eventId,
    version: event.version,
    precision,
    serverTime,
    tickets: presentTickets(event.tickets, precision),
  };
}

/** The HTTP availability read (and polling fallback), at the precision this audience may see. */
export async function readAvailability(db: Queryable, idOrSlug: string, audience: Audience): Promise<AvailabilitySnapshot> {
  const event = await readVisibleEventAvailability(db, idOrSlug, audience);
  return presentSnapshot(event, precisionFor(event, audience));
}
