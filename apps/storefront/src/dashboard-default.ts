import type { EventSummary } from './types.ts';

/**
 * The event the organizer dashboard opens on when none is chosen: the
 * busiest on-sale event, the one with the most seats taken (sold + held).
 * A tie goes to the first in the list's order (the API lists events by
 * start time, then name). With no event on sale, the first event listed;
 * with no events, none.
 */
export function defaultDashboardEvent(events: readonly EventSummary[]): EventSummary | undefined {
  let busiest: EventSummary | undefined;
  let mostTaken = -1;
  for (const event of events) {
    if (event.status !== 'on_sale') continue;
    const taken = (event.soldCount ?? 0) + (event.reservedCount ?? 0);
    if (taken > mostTaken) {
      busiest = event;
      mostTaken = taken;
    }
  }
  return busiest ?? events[0];
}
