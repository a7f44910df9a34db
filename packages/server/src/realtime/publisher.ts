import type { Logger } from 'pino';
import { PeriodicTask } from '../periodic-task.ts';
import type { Database } from '../db/database.ts';
import { readAvailabilityVersions, readEventAvailability } from '../inventory/availability.ts';
import type { ChangeFeed } from './change-feed.ts';
import type { ClientConnection } from './connection.ts';
import type { DatabaseClock } from './database-clock.ts';
import type { RealtimeMetrics } from './metrics.ts';
import type { PublishedChange, SnapshotStore } from './snapshot-store.ts';
import type { Subscriptions } from './subscriptions.ts';

export interface PublisherTiming {
  /** At most one update per event per tick. */
  tickMs: number;
  /** How often every watched event is re-checked, whatever the signals say. */
  reconcileMs: number;
}

/**
 * The tick: once per `tickMs`, re-read the events that changed (one query for
 * all of them), serialize each update once, and send every connection one
 * frame with all of its updates. A sale storm of hundreds of changes a second
 * becomes one update per event per tick, and the last one is exact.
 */
export class Publisher {
  private readonly task: PeriodicTask;
  private lastReconcile = Date.now();

  constructor(
    private readonly db: Database,
    private readonly store: SnapshotStore,
    private readonly feed: ChangeFeed,
    private readonly subscriptions: Subscriptions,
    private readonly connections: () => Iterable<ClientConnection>,
    private readonly clock: DatabaseClock,
    private readonly metrics: RealtimeMetrics,
    private readonly logger: Logger,
    private readonly timing: PublisherTiming,
  ) {
    this.task = new PeriodicTask(timing.tickMs, () => this.tick());
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  async tick(): Promise<void> {
    await this.feed.flush();
    if (Date.now() - this.lastReconcile >= this.timing.reconcileMs) {
      this.lastReconcile = Date.now();
      this.feed.markAll();
    }
    this.catchUpSlowConsumers();
    const { eventIds, verify } = this.feed.take(this.store.watchedIds());
    if (eventIds.length === 0) return;
    try {
      const events = await this.read(verify ? await this.changedOnly(eventIds) : eventIds);
      // Access may have been narrowed (made private, a grant revoked): check before anyone is told more.
      for (const event of events) await this.subscriptions.reauthorize(event);
      // From here on synchronous: a subscriber joining mid-tick cannot get an update its snapshot already has.
      const changes = this.store.apply(events);
      if (changes.length === 0) return;
      this.metrics.ticks.inc();
      this.fanOut(changes);
    } catch (error) {
      // The database may be restarting: try everything again next tick, so viewers converge once it is back.
      this.feed.markAll();
      this.logger.warn({ err: error }, 'realtime tick failed; retrying');
    }
  }

  private async changedOnly(eventIds: string[]): Promise<string[]> {
    const versions = await readAvailabilityVersions(this.db, eventIds);
    return eventIds.filter((id) => (versions.get(id) ?? 0) > (this.store.get(id)?.version ?? 0));
  }

  private async read(eventIds: string[]) {
    if (eventIds.length === 0) return [];
    const sentAt = Date.now();
    const events = await readEventAvailability(this.db, eventIds);
    if (events[0]) this.clock.observe(events[0].readAt, sentAt, Date.now());
    return events;
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
