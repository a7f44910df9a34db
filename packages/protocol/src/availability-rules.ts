import type { AvailabilityStatus } from './availability.ts';

/**
 * The availability rules of ticket_availability_view, for code that has a
 * ticket type's columns but not the view's row (the Supabase transport reading
 * postgres_changes, the SDK's optimistic holds). The view
 * (packages/server/src/db/repeatable/20_availability.sql) is the definition;
 * packages/server/test/availability-rules.test.ts checks these against it on
 * generated rows, so the two cannot drift apart.
 */

/** The event's part of the status: `off_sale` when it is a draft, ended or cancelled. */
export type EventSaleState = 'open' | 'paused' | 'off_sale';

/** The event_tickets columns the status depends on. */
export interface TicketTypeStock {
  /** event_tickets.status of a visible type. */
  saleStatus: 'on_sale' | 'paused';
  totalCapacity: number | null;
  availableCount: number | null;
  lowStockThreshold: number | null;
}

/** The organizer's threshold, else 10% of capacity rounded up. */
function lowStockLimit(totalCapacity: number, lowStockThreshold: number | null): number {
  // ceil(total_capacity * 0.1) in numeric; capacity / 10 is never within 0.1 of the wrong integer.
  return lowStockThreshold ?? Math.ceil(totalCapacity / 10);
}

/** The view's `status` CASE. */
export function availabilityStatusOf(event: EventSaleState, stock: TicketTypeStock): AvailabilityStatus {
  if (event === 'off_sale') return 'off_sale';
  if (event === 'paused' || stock.saleStatus === 'paused') return 'paused';
  if (stock.totalCapacity === null || stock.availableCount === null) return 'available';
  if (stock.availableCount === 0) return 'sold_out';
  return stock.availableCount <= lowStockLimit(stock.totalCapacity, stock.lowStockThreshold) ? 'low_stock' : 'available';
}

/**
 * The view's `round(sold_count * 100.0 / total_capacity, 1)`: numeric rounds
 * half away from zero, computed here in integers so no float rounding differs.
 */
export function percentageSold(soldCount: number, totalCapacity: number | null): number {
  if (totalCapacity === null || totalCapacity <= 0) return 0;
  return Math.floor((soldCount * 2000 + totalCapacity) / (2 * totalCapacity)) / 10;
}

/** On sale with seats left: a buyer can hold it now. */
export function isBuyable(status: AvailabilityStatus | undefined): boolean {
  return status === 'available' || status === 'low_stock';
}
