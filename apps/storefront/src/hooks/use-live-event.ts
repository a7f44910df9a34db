import type { TicketAvailability } from '@ticketpulse/client';
import { useTicketAvailability, type TicketAvailabilityResult, type UseTicketAvailabilityOptions } from '@ticketpulse/react';
import { useMemo } from 'react';
import { sortedTickets } from '../availability-rules.ts';

export interface LiveEvent extends TicketAvailabilityResult {
  /** The ticket types in display order: a new array on every change. */
  tickets: TicketAvailability[];
  /** The ticket types by id: a new map on every change, safe as an effect or memo dependency. */
  byId: ReadonlyMap<string, TicketAvailability>;
}

/** useTicketAvailability, plus the ticket types in display order and by id, rebuilt with every update. */
export function useLiveEvent(slug: string, options?: UseTicketAvailabilityOptions): LiveEvent {
  const live = useTicketAvailability(slug, options);
  return useMemo(() => {
    const tickets = sortedTickets(live.availability);
    return { ...live, tickets, byId: new Map(tickets.map((t) => [t.ticketTypeId, t])) };
  }, [live]);
}
