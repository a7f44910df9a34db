import type { AvailabilitySnapshot, AvailabilityUpdate, TicketAvailability } from '@ticketpulse/protocol';
import type { ConnectionStatus, EventListener, EventState } from './types.ts';

export type ApplyResult = 'applied' | 'stale' | 'gap';

/** Seats the user's own holds take, shown before the server confirms them. */
interface OptimisticHold {
  id: number;
  /** Server version when the hold was made; a newer version includes it. */
  baseVersion: number;
  items: ReadonlyArray<{ ticketTypeId: string; quantity: number }>;
}

/** A ticket type changed by an applied snapshot or update. */
export interface TicketChange {
  before: TicketAvailability | undefined;
  after: TicketAvailability;
}

function withHeld(t: TicketAvailability, quantity: number): TicketAvailability {
  if (t.isUnlimited || t.availableCount === null || t.actualAvailable === null || t.reservedCount === null) return t;
  const available = Math.max(0, t.availableCount - quantity);
  return {
    ...t,
    reservedCount: t.reservedCount + quantity,
    availableCount: available,
    actualAvailable: available,
    isSoldOut: available === 0,
    status: available === 0 ? 'sold_out' : t.status,
  };
}

/** One event as this client knows it: versioned server state, its listeners, and their view of it. */
export class EventChannel {
  /** The server's id for the event, once known (the app may subscribe by slug). */
  serverId: string | undefined;
  version = 0;
  status: ConnectionStatus = 'connecting';
  error: EventState['error'] = null;
  isStale = false;
  lastUpdated: number | null = null;
  lastUsed = Date.now();
  readonly listeners = new Set<EventListener>();
  private tickets = new Map<string, TicketAvailability>();
  private optimistic: OptimisticHold[] = [];
  private nextHoldId = 1;
  private snapshotState: EventState;

  constructor(readonly key: string) {
    this.snapshotState = this.build();
  }

  /** The state listeners see: a new object after every change, the same one otherwise. */
  get state(): EventState {
    return this.snapshotState;
  }

  /** Rebuilds `state`; call after changes, before notifying. */
  refresh(): EventState {
    this.snapshotState = this.build();
    return this.snapshotState;
  }

  /** A full snapshot (subscribe answer, poll, cache). Returns the ticket types that changed. */
  load(snapshot: Pick<AvailabilitySnapshot, 'eventId' | 'version' | 'tickets'>, fromCache = false): TicketChange[] {
    // The server's word beats the cache, even at a lower version (its database was reset).
    if (!fromCache && !this.isStale && snapshot.version < this.version) return [];
    const before = this.tickets;
    this.serverId = snapshot.eventId;
    this.version = snapshot.version;
    this.tickets = new Map(snapshot.tickets.map((t) => [t.ticketTypeId, t]));
    this.isStale = fromCache;
    if (!fromCache) this.confirmed();
    this.dropIncludedHolds();
    return snapshot.tickets.filter((t) => JSON.stringify(before.get(t.ticketTypeId)) !== JSON.stringify(t)).map((after) => ({ before: before.get(after.ticketTypeId), after }));
  }

  /** The server has nothing newer than what we have (resubscribe or 304). */
  confirmed(): void {
    this.isStale = false;
    this.lastUpdated = Date.now();
    this.error = null;
  }

  /**
   * An update: applied only on exactly its base version; older ones are
   * dropped; a newer base means we missed something (`gap`: resync).
   */
  apply(update: AvailabilityUpdate, changes: TicketChange[]): ApplyResult {
    if (update.version <= this.version) return 'stale';
    if (!update.snapshot && update.previousVersion !== this.version) return 'gap';
    if (update.snapshot) {
      changes.push(...this.load(update));
      return 'applied';
    }
    // A new map, never an edit: EventState.availability must change identity when its content does.
    const tickets = new Map(this.tickets);
    for (const after of update.tickets) {
      changes.push({ before: tickets.get(after.ticketTypeId), after });
      tickets.set(after.ticketTypeId, after);
    }
    for (const id of update.removedTicketTypeIds) tickets.delete(id);
    this.tickets = tickets;
    this.version = update.version;
    this.confirmed();
    this.dropIncludedHolds();
    return 'applied';
  }

  /** A newer server version already counts the user's holds made before it. */
  private dropIncludedHolds(): void {
    this.optimistic = this.optimistic.filter((hold) => hold.baseVersion >= this.version);
  }

  /** Shows the user's own hold at once; returns its id for rollback. */
  addOptimistic(items: OptimisticHold['items']): number {
    const id = this.nextHoldId++;
    this.optimistic.push({ id, baseVersion: this.version, items });
    return id;
  }

  removeOptimistic(id: number): void {
    this.optimistic = this.optimistic.filter((hold) => hold.id !== id);
  }

  /** The ticket types as the user should see them: server state plus their own unconfirmed holds. */
  visibleTickets(): Map<string, TicketAvailability> {
    if (this.optimistic.length === 0) return this.tickets;
    const visible = new Map(this.tickets);
    for (const hold of this.optimistic) {
      for (const { ticketTypeId, quantity } of hold.items) {
        const t = visible.get(ticketTypeId);
        if (t) visible.set(ticketTypeId, withHeld(t, quantity));
      }
    }
    return visible;
  }

  private build(): EventState {
    return {
      eventId: this.serverId ?? this.key,
      availability: this.visibleTickets(),
      version: this.version,
      status: this.status,
      isStale: this.isStale,
      lastUpdated: this.lastUpdated,
      error: this.error,
    };
  }
}
