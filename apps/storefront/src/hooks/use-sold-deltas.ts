import type { TicketAvailability } from '@ticketpulse/client';
import { useEffect, useRef } from 'react';

export type SoldDeltaListener = (deltas: ReadonlyArray<{ ticketTypeId: string; sold: number }>) => void;

/**
 * Calls `onDeltas` with the seats sold since the previous live state, per
 * ticket type. The first live state is the baseline; cached (stale) states
 * are skipped, so a reconnect does not look like a burst of sales.
 */
export function useSoldDeltas(availability: ReadonlyMap<string, TicketAvailability>, isStale: boolean, onDeltas: SoldDeltaListener): void {
  const previous = useRef(new Map<string, number>());
  const listener = useRef(onDeltas);
  listener.current = onDeltas;

  useEffect(() => {
    if (isStale) return;
    const deltas: Array<{ ticketTypeId: string; sold: number }> = [];
    for (const ticket of availability.values()) {
      if (ticket.soldCount === null) continue;
      const before = previous.current.get(ticket.ticketTypeId);
      previous.current.set(ticket.ticketTypeId, ticket.soldCount);
      if (before !== undefined && ticket.soldCount > before) deltas.push({ ticketTypeId: ticket.ticketTypeId, sold: ticket.soldCount - before });
    }
    if (deltas.length > 0) listener.current(deltas);
  }, [availability, isStale]);
}
