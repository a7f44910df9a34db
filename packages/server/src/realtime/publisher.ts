import type { EventAvailabilityWithRows } from '../inventory/availability.ts';
import type { TickConsumer } from './change-tick.ts';
import type { ClientConnection } from './connection.ts';
import type { DatabaseClock } from './database-clock.ts';
import type { RealtimeMetrics } from './metrics.ts';
import type { PublishedChange, SnapshotStore } from './snapshot-store.ts';
import type { Subscriptions } from './subscriptions.ts';

/**
 * The native endpoint's share of the tick (ChangeTick): take in the changed
 * events read this tick, serialize each update once, and send every
 * connection one frame with all of its updates. A sale storm of hundreds of
 * changes a second becomes one update per event per tick, and the last one is exact.
 */
export class Publisher implements TickConsumer {
  constructor(
    private readonly store: SnapshotStore,
    private readonly subscriptions: Subscriptions,
    private readonly connections: () => Iterable<ClientConnection>,
    private readonly clock: DatabaseClock,
    private readonly metrics: RealtimeMetrics,
  ) {}

  watched(): string[] {
    return this.store.watchedIds();
  }

  versionOf(eventId: string): number | undefined {
    return this.store.get(eventId)?.version;
  }

  async consume(read: readonly EventAvailabilityWithRows[]): Promise<void> {
    this.catchUpSlowConsumers();
    // The ticket types' rows are the Supabase endpoint's; the store keeps the availability only.
    const events = read.filter((event) => this.store.get(event.eventId)).map(({ ticketTypeRows: _rows, ...event }) => event);
    if (events.length === 0) return;
    // Access may have been narrowed (made private, a grant revoked): check before anyone is told more.
    for (const event of events) await this.subscriptions.reauthorize(event);
    // From here on synchronous: a subscriber joining mid-tick cannot get an update its snapshot already has.
    const changes = this.store.apply(events);
    if (changes.length === 0) return;
    this.metrics.ticks.inc();
    this.fanOut(changes);
  }

  private fanOut(changes: PublishedChange[]): void {
    const serverTime = this.clock.now();
    const now = Date.parse(serverTime);
    const perConnection = new Map<ClientConnection, string[]>();
    for (const change of changes) {
      const event = this.store.get(change.eventId);
      const subscribers = this.subscriptions.subscribersOf(change.eventId);
      if (!event || subscribers.size === 0) continue;
      let sent = false;
      for (const connection of subscribers) {
        const frame = change.frames[this.subscriptions.precisionFor(connection, event)];
        if (!frame || connection.behind) continue;
        let parts = perConnection.get(connection);
        if (!parts) perConnection.set(connection, (parts = []));
        parts.push(frame);
        sent = true;
      }
      if (sent) this.metrics.commitToSend.observe(Math.max(0, now - Date.parse(change.committedAt)) / 1000);
    }
    // Frames are built by joining already-serialized updates. Viewers with the same
    // updates (most watch one event) share one frame, built and UTF-8 encoded once.
    const prefix = `{"type":"updates","serverTime":"${serverTime}","updates":[`;
    const shared = new Map<string, Buffer>();
    for (const [connection, parts] of perConnection) {
      const key = parts.length === 1 ? parts[0]! : parts.join(',');
      let frame = shared.get(key);
      if (!frame) shared.set(key, (frame = Buffer.from(prefix + key + ']}')));
      connection.sendUpdates(frame);
    }
  }

  /** Connections that skipped updates get every subscribed event whole, once they have drained. */
  private catchUpSlowConsumers(): void {
    for (const connection of this.connections()) {
      if (!connection.behind || !connection.drained) continue;
      connection.behind = false;
      const updates = [...connection.subscriptions].flatMap((eventId) => {
        const event = this.store.get(eventId);
        const update = event && this.store.wholeUpdate(eventId, this.subscriptions.precisionFor(connection, event));
        return update ? [update] : [];
      });
      if (updates.length > 0) connection.send({ type: 'updates', serverTime: this.clock.now(), updates });
    }
  }
}
