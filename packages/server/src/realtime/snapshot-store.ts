import type { AvailabilitySnapshot, AvailabilityUpdate, DisplayPrecision, TicketAvailability } from '@ticketpulse/protocol';
import { presentTickets, type EventAvailability } from '../inventory/availability.ts';

/** One event's newest state as one precision sees it. */
interface View {
  version: number;
  tickets: TicketAvailability[];
  /** Serialized tickets by id, to tell what changed without comparing field by field. */
  serialized: Map<string, string>;
}

interface Entry {
  event: EventAvailability;
  /** Nodes on this gateway watching the event (subscriptions, counted). */
  watchers: number;
  views: Record<DisplayPrecision, View>;
}

/** What one tick has to say about one event, serialized once per precision. */
export interface PublishedChange {
  eventId: string;
  version: number;
  committedAt: string;
  /** AvailabilityUpdate JSON per precision; absent when that precision sees no change. */
  frames: Partial<Record<DisplayPrecision, string>>;
}

function view(event: EventAvailability, precision: DisplayPrecision): View {
  const tickets = presentTickets(event.tickets, precision);
  return { version: event.version, tickets, serialized: new Map(tickets.map((t) => [t.ticketTypeId, JSON.stringify(t)])) };
}

function makeUpdate(
  event: EventAvailability,
  precision: DisplayPrecision,
  previousVersion: number,
  after: View,
  content: Pick<AvailabilityUpdate, 'snapshot' | 'tickets' | 'removedTicketTypeIds'>,
): AvailabilityUpdate {
  return { eventId: event.eventId, version: after.version, previousVersion, precision, committedAt: event.changedAt, ...content };
}

/** The update from `before` to `after`, or undefined when this precision sees no difference. */
function diff(event: EventAvailability, precision: DisplayPrecision, before: View, after: View): AvailabilityUpdate | undefined {
  const tickets = after.tickets.filter((t) => before.serialized.get(t.ticketTypeId) !== after.serialized.get(t.ticketTypeId));
  const removedTicketTypeIds = [...before.serialized.keys()].filter((id) => !after.serialized.has(id));
  if (tickets.length === 0 && removedTicketTypeIds.length === 0) return undefined;
  return makeUpdate(event, precision, before.version, after, { snapshot: false, tickets, removedTicketTypeIds });
}

/** The whole state as an update, replacing whatever the viewer had since `previousVersion`. */
function whole(event: EventAvailability, precision: DisplayPrecision, previousVersion: number, after: View): AvailabilityUpdate {
  return makeUpdate(event, precision, previousVersion, after, { snapshot: true, tickets: after.tickets, removedTicketTypeIds: [] });
}

/**
 * The newest availability of every event this gateway's clients watch: the
 * latest snapshot is the whole state, so there is no replay log. Banded
 * viewers have their own version line that moves only when the bands do, so
 * they learn nothing from changes they may not see.
 */
export class SnapshotStore {
  private readonly entries = new Map<string, Entry>();

  get(eventId: string): EventAvailability | undefined {
    return this.entries.get(eventId)?.event;
  }

  /** The version a viewer at this precision has when fully up to date. */
  version(eventId: string, precision: DisplayPrecision): number | undefined {
    return this.entries.get(eventId)?.views[precision].version;
  }

  snapshot(eventId: string, precision: DisplayPrecision, serverTime: string): AvailabilitySnapshot | undefined {
    const entry = this.entries.get(eventId);
    if (!entry) return undefined;
    const v = entry.views[precision];
    return { eventId, version: v.version, precision, serverTime, tickets: v.tickets };
  }

  /** Everything at once, for a viewer whose base is unknown (a slow consumer catching up). */
  wholeUpdate(eventId: string, precision: DisplayPrecision): AvailabilityUpdate | undefined {
    const entry = this.entries.get(eventId);
    if (!entry) return undefined;
    const v = entry.views[precision];
    return whole(entry.event, precision, 0, v);
  }

  watchedIds(): string[] {
    return [...this.entries.keys()];
  }

  /** Starts (or keeps) watching, with this state unless one is already held. True for the first watcher. */
  watch(event: EventAvailability): boolean {
    const entry = this.entries.get(event.eventId);
    if (entry) {
      entry.watchers += 1;
      return false;
    }
    this.entries.set(event.eventId, { event, watchers: 1, views: { exact: view(event, 'exact'), bands: view(event, 'bands') } });
    return true;
  }

  unwatch(eventId: string): void {
    const entry = this.entries.get(eventId);
    if (entry && --entry.watchers <= 0) this.entries.delete(eventId);
  }

  /** Takes in freshly read states; returns what changed, for the events still watched. */
  apply(events: EventAvailability[]): PublishedChange[] {
    const changes: PublishedChange[] = [];
    for (const event of events) {
      const entry = this.entries.get(event.eventId);
      if (!entry || event.version <= entry.event.version) continue;
      const frames: PublishedChange['frames'] = {};
      for (const precision of ['exact', 'bands'] as const) {
        const before = entry.views[precision];
        const after = view(event, precision);
        // A change of precision changes every ticket's shape: send it whole.
        // Exact viewers follow every version (an empty update at worst), so theirs matches the HTTP
        // ETag; banded viewers hear only of band changes, so they cannot count sales.
        const update =
          entry.event.precision !== event.precision
            ? whole(event, precision, before.version, after)
            : (diff(event, precision, before, after) ??
              (precision === 'exact' ? makeUpdate(event, precision, before.version, after, { snapshot: false, tickets: [], removedTicketTypeIds: [] }) : undefined));
        if (update) {
          entry.views[precision] = after;
          frames[precision] = JSON.stringify(update);
        }
      }
      entry.event = event;
      changes.push({ eventId: event.eventId, version: event.version, committedAt: event.changedAt, frames });
    }
    return changes;
  }
}
