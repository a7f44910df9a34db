/** The HTTP API's resources (docs/api.md), shared by the server and its clients. */
import type { DisplayPrecision } from './availability.ts';

export type EventStatus = 'draft' | 'on_sale' | 'paused' | 'ended' | 'cancelled';
export type TicketTypeStatus = 'on_sale' | 'paused' | 'hidden';
export type ReservationStatus = 'active' | 'confirmed' | 'released' | 'expired';

export interface TicketType {
  id: string;
  eventId: string;
  name: string;
  description: string | null;
  price: string;
  currency: string;
  /** Counts are null for buyers when the event shows bands only (see Audience). */
  totalCapacity: number | null;
  soldCount: number | null;
  reservedCount: number | null;
  availableCount: number | null;
  status: TicketTypeStatus;
  maxPerOrder: number;
  lowStockThreshold: number | null;
  sortOrder: number;
  version: number;
}

export interface EventSummary {
  id: string;
  slug: string;
  name: string;
  description: string | null;
  venue: string | null;
  startsAt: string;
  isPublic: boolean;
  status: EventStatus;
  /** null for buyers when the event shows bands only. */
  soldCount: number | null;
  reservedCount: number | null;
  availabilityVersion: number;
  displayPrecision: DisplayPrecision;
  holdSeconds: number | null;
}

export interface EventWithTicketTypes extends EventSummary {
  ticketTypes: TicketType[];
}

export interface ReservationItem {
  ticketTypeId: string;
  ticketTypeName: string;
  quantity: number;
  /** Decimal string, e.g. "45.00": money is never a float. */
  unitPrice: string;
  currency: string;
  /**
   * unitPrice × quantity, in `currency`: an exact decimal string (e.g.
   * "139.93") computed by the database in numeric. Show it as it is; never
   * multiply prices in JavaScript, where 0.10 × 3 is 0.30000000000000004.
   */
  total: string;
}

/** What a reservation comes to in one currency. */
export interface ReservationTotal {
  currency: string;
  /** The sum of the items' totals in `currency`: an exact decimal string (e.g. "140.23") computed by the database. */
  total: string;
}

export interface Reservation {
  id: string;
  eventId: string;
  holderId: string;
  status: ReservationStatus;
  expiresAt: string;
  extensionsUsed: number;
  createdAt: string;
  confirmedAt: string | null;
  releasedAt: string | null;
  items: ReservationItem[];
  /** One per currency among the items, ordered by currency code: a reservation may mix currencies, and amounts in two are never added. */
  totals: ReservationTotal[];
}
