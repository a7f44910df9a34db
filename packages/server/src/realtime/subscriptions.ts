import type { DisplayPrecision, SubscribeMessage, UnsubscribeMessage } from '@ticketpulse/protocol';
import type { Database } from '../db/database.ts';
import { audienceOf } from '../auth/principal.ts';
import { precisionFor, readVisibleEventAvailability, type EventAvailability } from '../inventory/availability.ts';
import type { Audience } from '../auth/principal.ts';
import { InventoryError } from '../inventory/errors.ts';
import { UUID } from '../inventory/event-ref.ts';
import type { ClientConnection } from './connection.ts';
import type { DatabaseClock } from './database-clock.ts';
import type { RealtimeMetrics } from './metrics.ts';
import type { QueueStates } from './queue-publisher.ts';
import type { SnapshotStore } from './snapshot-store.ts';

const EMPTY: ReadonlySet<ClientConnection> = new Set();

const openToEveryone = (event: EventAvailability) => event.isPublic && event.status !== 'draft';

/** Which connection watches which event, and who may. */
export class Subscriptions {
  private readonly byEvent = new Map<string, Set<ClientConnection>>();
  /** Reads of events as everyone sees them, in flight, by the id or slug asked for. */
  private readonly reading = new Map<string, Promise<EventAvailability>>();

  constructor(
    private readonly db: Database,
    private readonly store: SnapshotStore,
    private readonly clock: DatabaseClock,
    private readonly metrics: RealtimeMetrics,
    /** A first viewer on this node: re-read it next tick, in case it changed while it was being read. */
    private readonly onFirstWatch: (eventId: string) => void,
    /** Queued events' waiting rooms, for the subscribe reply and the subscriber's own entry. */
    private readonly queues?: QueueStates,
  ) {}

  subscribersOf(eventId: string): ReadonlySet<ClientConnection> {
    return this.byEvent.get(eventId) ?? EMPTY;
  }

  /** What a connection (or any audience) may see of the event's counts (the rule is inventory's precisionFor). */
  precisionFor(audience: Pick<Audience, 'privileged'>, event: EventAvailability): DisplayPrecision {
    return precisionFor(event, audience);
  }

  async subscribe(connection: ClientConnection, message: SubscribeMessage): Promise<void> {
    const { ref } = message;
    const event = await this.authorizedEvent(connection, message.eventId).catch((error: unknown) => {
      if (error instanceof InventoryError) return undefined;
      throw error;
    });
    if (!event) {
      return connection.send({ type: 'error', code: 'event_not_found', message: 'Event not found', eventId: message.eventId, ...(ref && { ref }) });
    }
    const eventId = event.eventId;
    await this.queues?.ensure(eventId);
    if (!connection.subscriptions.has(eventId)) {
      if (connection.subscriptions.size >= connection.limits.maxSubscriptions) {
        return connection.send({
          type: 'error',
          code: 'too_many_channels',
          message: `At most ${connection.limits.maxSubscriptions} events per connection; unsubscribe from one first`,
          eventId,
          ...(ref && { ref }),
        });
      }
      // Synchronous from here: no tick can slip between joining and the snapshot, so the
      // next update this connection gets starts exactly at the version it is sent now.
      const first = this.store.watch(event);
      connection.subscriptions.add(eventId);
      let subscribers = this.byEvent.get(eventId);
      if (!subscribers) this.byEvent.set(eventId, (subscribers = new Set()));
      subscribers.add(connection);
      this.metrics.subscriptions.inc();
      // Once it is a subscriber: the re-check may run on the leading edge, which asks who would be sent a frame.
      if (first) this.onFirstWatch(eventId);
    }
    connection.aliases.set(message.eventId.toLowerCase(), eventId);
    const current = this.store.get(eventId)!;
    const precision = this.precisionFor(connection, current);
    const version = this.store.version(eventId, precision)!;
    const serverTime = this.clock.now();
    const queue = this.queues?.current(eventId);
    const queued = { ...(queue && { queue }), ...(ref && { ref }) };
    if (message.sinceVersion === version) {
      connection.send({ type: 'subscribed', eventId, version, serverTime, unchanged: true, ...queued });
    } else {
      connection.send({ type: 'subscribed', eventId, version, serverTime, unchanged: false, snapshot: this.store.snapshot(eventId, precision, serverTime)!, ...queued });
    }
    // Not answered here, the entry is read on the next tick instead.
    if (queue) await this.queues?.joined(connection, eventId).catch(() => undefined);
  }

  unsubscribe(connection: ClientConnection, message: UnsubscribeMessage): void {
    // By the id `subscribed` answered with, or whatever the client subscribed with; unknown ones are a no-op.
    const key = message.eventId.toLowerCase();
    this.remove(connection, connection.aliases.get(key) ?? key);
    connection.send({ type: 'unsubscribed', eventId: message.eventId, ...(message.ref && { ref: message.ref }) });
  }

  /** A closed connection leaves all its events. */
  drop(connection: ClientConnection): void {
    for (const eventId of [...connection.subscriptions]) this.remove(connection, eventId);
  }

  /**
   * After a change to an event that is not open to everyone (made private, a
   * grant revoked), subscribers who may no longer see it are unsubscribed and
   * told why. Public events cost nothing here.
   */
  async reauthorize(event: EventAvailability): Promise<void> {
    if (openToEveryone(event)) return;
    const eventId = event.eventId;
    // A copy: the query below awaits, and removals change the set.
    const subscribers = [...this.subscribersOf(eventId)];
    if (subscribers.length === 0) return;
    const userIds = subscribers.map((c) => c.principal.userId).filter((id): id is string => id !== undefined);
    const { rows } = await this.db.query<{ user_id: string }>(
      'SELECT user_id FROM event_access WHERE event_id = $1 AND user_id = ANY ($2::text[])',
      [eventId, userIds],
    );
    const granted = new Set(rows.map((r) => r.user_id));
    for (const connection of subscribers) {
      if (connection.privileged || (connection.principal.userId && granted.has(connection.principal.userId))) continue;
      this.remove(connection, eventId);
      connection.send({ type: 'error', code: 'forbidden', message: 'This event is no longer open to you; you were unsubscribed', eventId });
    }
  }

  /** Subscribed connections per event id. */
  viewerCounts(): Record<string, number> {
    return Object.fromEntries([...this.byEvent].map(([eventId, subscribers]) => [eventId, subscribers.size]));
  }

  /** Subscriptions per connection and per user, for the metrics scrape. */
  distribution(connections: Iterable<ClientConnection>): { perConnection: number[]; perUser: number[] } {
    const perUser = new Map<string, number>();
    const perConnection: number[] = [];
    for (const c of connections) {
      perConnection.push(c.subscriptions.size);
      perUser.set(c.userKey, (perUser.get(c.userKey) ?? 0) + c.subscriptions.size);
    }
    return { perConnection, perUser: [...perUser.values()] };
  }

  /**
   * The event, if this connection may see it. Events already watched and open
   * to everyone need no query, so an on-sale's crowd subscribing costs nothing.
   * Until the first read of an event is back, everyone asking for it shares
   * that read: a crowd arriving at once (a gateway restart's reconnect storm)
   * costs one query per event, not one per viewer.
   */
  private async authorizedEvent(connection: ClientConnection, idOrSlug: string): Promise<EventAvailability> {
    const watched = UUID.test(idOrSlug) ? this.store.get(idOrSlug.toLowerCase()) : undefined;
    if (watched && (openToEveryone(watched) || connection.privileged)) return watched;
    const open = await this.readOpen(idOrSlug).catch((error: unknown) => {
      if (error instanceof InventoryError) return undefined;
      throw error;
    });
    if (open && openToEveryone(open)) return open;
    // Private, draft or unknown: what this viewer may see depends on who they are.
    return this.read(idOrSlug, audienceOf(connection.principal));
  }

  /** The event as anyone may see it (public and on sale), one read in flight per id or slug. */
  private readOpen(idOrSlug: string): Promise<EventAvailability> {
    let reading = this.reading.get(idOrSlug);
    if (!reading) {
      reading = this.read(idOrSlug, audienceOf(undefined)).finally(() => this.reading.delete(idOrSlug));
      this.reading.set(idOrSlug, reading);
    }
    return reading;
  }

  private async read(idOrSlug: string, audience: Audience): Promise<EventAvailability> {
    const sentAt = Date.now();
    const event = await readVisibleEventAvailability(this.db, idOrSlug, audience);
    this.clock.observe(event.readAt, sentAt, Date.now());
    return event;
  }

  private remove(connection: ClientConnection, eventId: string): void {
    if (!connection.subscriptions.delete(eventId)) return;
    for (const [alias, id] of connection.aliases) if (id === eventId) connection.aliases.delete(alias);
    const subscribers = this.byEvent.get(eventId);
    subscribers?.delete(connection);
    if (subscribers?.size === 0) this.byEvent.delete(eventId);
    this.store.unwatch(eventId);
    this.metrics.subscriptions.dec();
  }
}
