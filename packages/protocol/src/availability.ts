/** Availability as every buyer sees it: aggregate numbers per ticket type, never who holds or bought what. */

/** `paused`: the ticket type or event is paused; `off_sale`: the event is a draft, ended or cancelled. */
export type AvailabilityStatus = 'available' | 'low_stock' | 'sold_out' | 'paused' | 'off_sale';

/**
 * `exact`: counts are shown. `bands`: the organizer shows only the status
 * band (available, low stock, sold out), so every count is null.
 */
export type DisplayPrecision = 'exact' | 'bands';

/** One ticket type. Field names follow the design's TicketAvailability record. */
export interface TicketAvailability {
  ticketTypeId: string;
  eventId: string;
  ticketTypeName: string;
  description: string | null;
  /** Decimal string, e.g. "45.00": money is never a float. */
  price: string;
  currency: string;
  /** null when unlimited, or when the event shows bands only. */
  totalCapacity: number | null;
  soldCount: number | null;
  reservedCount: number | null;
  /** Seats a buyer can take now (capacity - sold - reserved); null when unlimited or banded. */
  availableCount: number | null;
  /** Same as availableCount; kept because code written against the design reads it. */
  actualAvailable: number | null;
  percentageSold: number | null;
  isSoldOut: boolean;
  isUnlimited: boolean;
  status: AvailabilityStatus;
  maxPerOrder: number;
  sortOrder: number;
  /** Rises with every change to this ticket type; 0 when the event shows bands only. */
  version: number;
  /** null when the event shows bands only: when a type last changed would tell when it sold. */
  lastUpdated: string | null;
}

/** An event's availability at one version: the unit clients cache and resync by. */
export interface AvailabilitySnapshot {
  eventId: string;
  /** The event's availability_version; rises with every change to any of its ticket types. */
  version: number;
  precision: DisplayPrecision;
  /** Database clock when this snapshot was read, so clients can correct their own clock's offset. */
  serverTime: string;
  tickets: TicketAvailability[];
}
