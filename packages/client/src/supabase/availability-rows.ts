import { availabilityStatusOf, percentageSold, type AvailabilityStatus, type EventSaleState, type TicketAvailability } from '@ticketpulse/protocol';

/** Columns ticket_availability_view passes through from event_tickets under their own names. */
type TicketTypeColumns = {
  event_id: string;
  description: string | null;
  /** numeric: a JSON number from PostgREST and supabase-js. */
  price: number | string;
  currency: string;
  total_capacity: number | null;
  sold_count: number;
  reserved_count: number;
  available_count: number | null;
  max_per_order: number;
  sort_order: number;
  version: number;
  /** timestamptz as a string. */
  updated_at: string;
};

/**
 * A ticket_availability_view row as PostgREST returns it. (Type aliases, not
 * interfaces: supabase-js wants rows indexable by string.)
 */
export type AvailabilityViewRow = TicketTypeColumns & {
  ticket_type_id: string;
  ticket_type_name: string;
  actual_available: number | null;
  percentage_sold: number;
  is_sold_out: boolean;
  is_unlimited: boolean;
  status: AvailabilityStatus;
};

/** An event_tickets row as a postgres_changes payload carries it (supabase-js has converted the values by column type). */
export type EventTicketRow = TicketTypeColumns & {
  id: string;
  name: string;
  status: 'on_sale' | 'paused' | 'hidden';
  low_stock_threshold: number | null;
};

/**
 * The event's own part of the view's status. `off_sale`: the event is a draft,
 * ended or cancelled; `open`: on sale, so each type's status is its own.
 */
export type EventGate = Exclude<EventSaleState, 'paused'>;

/**
 * What the view's rows tell of the event's status (the server's
 * repeatable/20_availability.sql): off_sale shows on every row; a row that
 * is neither off_sale nor paused means the event is open. When every row is
 * paused (or there is none) the event may be paused or each of its types may
 * be: undefined, nobody can tell from here.
 */
export function eventGate(rows: readonly AvailabilityViewRow[]): EventGate | undefined {
  if (rows.some((row) => row.status === 'off_sale')) return 'off_sale';
  return rows.some((row) => row.status !== 'paused') ? 'open' : undefined;
}

/** price is numeric(12, 2): PostgreSQL's own text for it, as TicketPulse's API sends it. */
const decimal = (price: number | string) => (typeof price === 'number' ? price.toFixed(2) : price);

/** timestamptz as TicketPulse's API sends it. */
const isoTime = (value: string) => new Date(value).toISOString();

/** Rows carry no sales velocity: only TicketPulse's own endpoints publish it (docs/supabase.md). */
export const NO_SALES_VELOCITY = {
  soldPerMinute5m: null,
  soldPerMinute15m: null,
  projectedSellOutAt: null,
  sellingFast: false,
  likelyToSellOut: false,
} as const satisfies Partial<TicketAvailability>;

/** What the view passes through, as TicketPulse's API sends it (actual_available is available_count). */
const passedThrough = (row: TicketTypeColumns) => ({
  eventId: row.event_id,
  description: row.description,
  price: decimal(row.price),
  currency: row.currency,
  totalCapacity: row.total_capacity,
  soldCount: row.sold_count,
  reservedCount: row.reserved_count,
  availableCount: row.available_count,
  actualAvailable: row.available_count,
  maxPerOrder: row.max_per_order,
  sortOrder: row.sort_order,
  version: row.version,
  lastUpdated: isoTime(row.updated_at),
  ...NO_SALES_VELOCITY,
});

export function fromViewRow(row: AvailabilityViewRow): TicketAvailability {
  return {
    ...passedThrough(row),
    ticketTypeId: row.ticket_type_id,
    ticketTypeName: row.ticket_type_name,
    percentageSold: row.percentage_sold,
    isSoldOut: row.is_sold_out,
    isUnlimited: row.is_unlimited,
    status: row.status,
  };
}

/** A visible (not hidden) event_tickets row as ticket_availability_view would show it. */
export function fromTicketRow(row: EventTicketRow, gate: EventGate): TicketAvailability {
  return {
    ...passedThrough(row),
    ticketTypeId: row.id,
    ticketTypeName: row.name,
    percentageSold: percentageSold(row.sold_count, row.total_capacity),
    isSoldOut: row.total_capacity !== null && row.available_count === 0,
    isUnlimited: row.total_capacity === null,
    status: availabilityStatusOf(gate, {
      saleStatus: row.status === 'paused' ? 'paused' : 'on_sale',
      totalCapacity: row.total_capacity,
      availableCount: row.available_count,
      lowStockThreshold: row.low_stock_threshold,
    }),
  };
}
