import type { AvailabilitySnapshot, TicketAvailability } from '@ticketpulse/protocol';
import { OptimisticHolds, type HeldItems } from './optimistic-holds.ts';
import type { ConnectionStatus, EventListener, EventState } from './types.ts';

/** What a transport delivers, and what the cache keeps. */
export type EventSnapshot = Pick<AvailabilitySnapshot, 'eventId' | 'version' | 'tickets'>;

/** A ticket type changed by a snapshot. */
export interface TicketChange {
  before: TicketAvailability | undefined;
  after: TicketAvailability;
}

/** One event in the manager's registry: its listeners, and the state they see. */
export class WatchedEvent {
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
  private readonly holds = new OptimisticHolds();
  private current: EventState;

  constructor(readonly key: string) {
    this.current = this.build();
  }

  /** The id transitions and the state name the event by. */
  get eventId(): string {
    return this.serverId ?? this.key;
  }

  /** Refused for lack of room: waits for one, unwatched. */
  get isWaiting(): boolean {
    return this.error?.code === 'too_many_channels';
  }

  /** The state listeners see: a new object after every change, the same one otherwise. */
  get state(): EventState {
    return this.current;
  }

  /** Rebuilds `state`; call after changes, before notifying. */
  refresh(): EventState {
    this.current = this.build();
    return this.current;
  }

  /** The server's tickets, without the user's own holds (what the cache keeps). */
  serverTickets(): TicketAvailability[] {
    return [...this.tickets.values()];
  }

  /** A complete snapshot from the transport or the cache. Returns the ticket types that changed. */
  load(snapshot: EventSnapshot, fromCache = false): TicketChange[] {
    // The server's word beats the cache, even at a lower version (its database was reset).
    if (!fromCache && !this.isStale && snapshot.version < this.version) return [];
    const before = this.tickets;
    this.serverId = snapshot.eventId;
    this.version = snapshot.version;
    this.tickets = new Map(snapshot.tickets.map((t) => [t.ticketTypeId, t]));
    this.isStale = fromCache;
    if (!fromCache) this.confirmed();
    this.holds.settle(this.version);
    // Transports hand unchanged types back as the same objects: only the others are compared.
    const changed = (t: TicketAvailability, was: TicketAvailability | undefined) => was !== t && JSON.stringify(was) !== JSON.stringify(t);
    return snapshot.tickets.filter((t) => changed(t, before.get(t.ticketTypeId))).map((after) => ({ before: before.get(after.ticketTypeId), after }));
  }

  /** The server has nothing newer than what we have. */
  confirmed(): void {
    this.isStale = false;
    this.lastUpdated = Date.now();
    this.error = null;
  }

  fail(code: string, message: string): void {
    this.error = { code, message };
    this.status = 'error';
  }

  /** Shows the user's own hold at once; returns its id for `removeHold`. */
  addHold(items: HeldItems): number {
    return this.holds.add(items, this.version);
  }

  removeHold(id: number): void {
    this.holds.remove(id);
  }

  /** The server's hold response named the version that includes it: shown until that version is here. */
  settleHold(id: number, availabilityVersion: number): void {
    this.holds.includeIn(id, availabilityVersion);
    this.holds.settle(this.version);
  }

  private build(): EventState {
    return {
      eventId: this.eventId,
      availability: this.holds.applyTo(this.tickets),
      version: this.version,
      status: this.status,
      isStale: this.isStale,
      lastUpdated: this.lastUpdated,
      error: this.error,
    };
  }
}
