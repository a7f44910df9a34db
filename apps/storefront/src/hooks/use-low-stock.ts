import type { TicketAvailability } from '@ticketpulse/client';
import { useEffect, useRef } from 'react';
import { ranLow } from '../low-stock.ts';

/**
 * Calls `onLow` for each ticket type that runs low (ranLow) between live
 * states. The first live state is the baseline; cached (stale) states are
 * skipped, so a reconnect does not look like news.
 */
export function useLowStock(availability: ReadonlyMap<string, TicketAvailability>, isStale: boolean, onLow: (ticket: TicketAvailability) => void): void {
  const previous = useRef(new Map<string, TicketAvailability['status']>());
  const listener = useRef(onLow);
  listener.current = onLow;

  useEffect(() => {
    if (isStale) return;
    const low = ranLow(previous.current, availability.values());
    previous.current = new Map([...availability.values()].map((ticket) => [ticket.ticketTypeId, ticket.status]));
    for (const ticket of low) listener.current(ticket);
  }, [availability, isStale]);
}
