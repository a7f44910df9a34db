import { detectTransition } from './transitions.ts';
import type { AnalyticsEvent, Transition } from './types.ts';
import type { TicketChange, WatchedEvent } from './watched-event.ts';

interface Entry {
  listener: (transition: Transition) => void;
  eventId: string | undefined;
  threshold: number;
}

/** Who hears low stock, sold out and back in stock, for one event or all. */
export class TransitionListeners {
  private readonly entries = new Set<Entry>();

  constructor(
    private readonly defaultThreshold: number,
    private readonly report: (event: AnalyticsEvent) => void,
  ) {}

  add(listener: Entry['listener'], filter: { eventId?: string; lowStockThreshold?: number }): () => void {
    const entry = { listener, eventId: filter.eventId, threshold: filter.lowStockThreshold ?? this.defaultThreshold };
    this.entries.add(entry);
    return () => this.entries.delete(entry);
  }

  /** Each transition once per change, by each listener's own threshold. */
  announce(event: WatchedEvent, changes: readonly TicketChange[]): void {
    for (const { before, after } of changes) {
      for (const entry of this.entries) {
        if (entry.eventId !== undefined && entry.eventId !== event.key && entry.eventId !== event.serverId) continue;
        const kind = detectTransition(before, after, entry.threshold);
        if (!kind) continue;
        entry.listener({ kind, eventId: event.eventId, ticket: after });
        this.report({ type: 'transition_shown', eventId: event.eventId, ticketTypeId: after.ticketTypeId, transition: kind });
      }
    }
  }
}
