import type { TicketAvailability } from '@ticketpulse/client';

/**
 * The ticket types that just ran low, by the rule their rows show ("Only 3
 * left"): the server's `low_stock` status (the organizer's threshold, else
 * 10% of capacity), reached from `available`. The SDK's `onLowStock` counts
 * 10 seats whatever the type, so its toast said "only 9 left!" beside a row
 * reading "9 available", and never came for a type of 10 seats or fewer.
 * From sold out it is back in stock, which has a toast of its own.
 */
export function ranLow<T extends Pick<TicketAvailability, 'ticketTypeId' | 'status'>>(before: ReadonlyMap<string, T['status']>, tickets: Iterable<T>): T[] {
  return [...tickets].filter((ticket) => before.get(ticket.ticketTypeId) === 'available' && ticket.status === 'low_stock');
}
