import { byDisplayOrder, isBuyable as isStatusBuyable } from '@ticketpulse/protocol';
import type { TicketAvailability } from '@ticketpulse/client';

/** On sale with seats left. */
export function isBuyable(ticket: TicketAvailability): boolean {
  return isStatusBuyable(ticket.status);
}

/** The most a buyer can select: min(maxPerOrder, seats left); 0 when it cannot be bought. */
export function quantityCap(ticket: TicketAvailability): number {
  if (!isBuyable(ticket)) return 0;
  if (ticket.isUnlimited || ticket.actualAvailable === null) return ticket.maxPerOrder;
  return Math.max(0, Math.min(ticket.maxPerOrder, ticket.actualAvailable));
}

/** Ticket types in the organizer's order. */
export function sortedTickets(availability: ReadonlyMap<string, TicketAvailability>): TicketAvailability[] {
  return [...availability.values()].sort(byDisplayOrder);
}

export type EventLiveState = { label: 'Sold out' | 'Almost sold out' | 'Selling fast' | 'On sale' | 'Not on sale' | 'Checking…'; tone: string };

/** At most 10% of the limited seats left (unlimited and banded types do not count). */
function nearlyGone(tickets: TicketAvailability[]): boolean {
  let capacity = 0;
  let left = 0;
  for (const t of tickets) {
    if (t.isUnlimited || t.totalCapacity === null || t.actualAvailable === null) continue;
    capacity += t.totalCapacity;
    left += t.actualAvailable;
  }
  return capacity > 0 && left <= capacity * 0.1;
}

/** The one line an event list shows about an event, from its ticket types and its sales velocity. */
export function eventLiveState(tickets: TicketAvailability[], sellingFast: boolean): EventLiveState {
  if (tickets.length === 0) return { label: 'Checking…', tone: 'unknown' };
  const onSale = tickets.filter((t) => t.status !== 'off_sale' && t.status !== 'paused');
  if (onSale.length === 0) return { label: 'Not on sale', tone: 'unavailable' };
  if (onSale.every((t) => t.isSoldOut)) return { label: 'Sold out', tone: 'sold-out' };
  const buyable = onSale.filter(isBuyable);
  if (buyable.every((t) => t.status === 'low_stock') || nearlyGone(onSale)) return { label: 'Almost sold out', tone: 'low' };
  if (sellingFast) return { label: 'Selling fast', tone: 'hot' };
  return { label: 'On sale', tone: 'available' };
}
