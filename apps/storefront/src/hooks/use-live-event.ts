import type { TicketAvailability } from '@ticketpulse/client';
import { useTicketAvailability, type TicketAvailabilityResult, type UseTicketAvailabilityOptions } from '@ticketpulse/react';
import { useMemo } from 'react';
import { sortedTickets } from '../availability-rules.ts';

export interface LiveEvent extends TicketAvailabilityResult {
  /** The ticket types in display order: a new array on every change. */
  tickets: TicketAvailability[];
}

/** useTicketAvailability, plus the ticket types in display order, rebuilt with every update. */
export function useLiveEvent(slug: string, options?: UseTicketAvailabilityOptions): LiveEvent {
  const live = useTicketAvailability(slug, options);
  // Sorted again only when the availability changed, not on every render.
  const tickets = useMemo(() => sortedTickets(live.availability), [live.availability]);
  return { ...live, tickets };
}
