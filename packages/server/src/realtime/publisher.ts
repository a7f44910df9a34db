import type { EventAvailabilityWithRows } from '../inventory/availability.ts';
import { JITTER_MS, type TickConsumer, type TickRun } from './change-tick.ts';
import type { ClientConnection } from './connection.ts';
import type { DatabaseClock } from './database-clock.ts';
import type { RealtimeMetrics } from './metrics.ts';
import type { PublishedChange, SnapshotStore } from './snapshot-store.ts';
import { oldestFirst, UpdateSet } from './update-set.ts';
import type { Subscriptions } from './subscriptions.ts';

const PRIVILEGED = { privileged: true };
const PUBLIC = { privileged: false };

/**
 * The native endpoint's share of the tick (ChangeTick): take in the changed
 * events read this tick, serialize each update once, and send every
 * connection one frame with all of its updates. A sale storm of hundreds of
 * changes a second becomes one update per event per tick, and the last one is exact.
 *
 * A connection gets at most one `updates` frame per tick, whichever runs
 * bring its updates: one sent a frame less than a tick ago (by a leading-edge
 * run, for a quiet event) keeps the updates for its next frame, on the tick.
 */
export class Publisher implements TickConsumer {
  /** Updates held for a connection's next frame, oldest first. */
  private readonly held = new Map<ClientConnection, UpdateSet>();

  constructor(
    private readonly store: SnapshotStore,
    private readonly subscriptions: Subscriptions,
    private readonly connections: () => Iterable<ClientConnection>,
    private readonly clock: DatabaseClock,
    private readonly metrics: RealtimeMetrics,
    private readonly tickMs: number,
  ) {}

  watched(): string[] {
    return this.store.watchedIds();
  }

  versionOf(eventId: string): number | undefined {
    return this.store.get(eventId)?.version;
  }

  /** Some viewer of the event could take a frame now: it had none within the last tick (and is not behind). */
  sendsNow(eventId: string): boolean {
    const tickAgo = this.tickAgo(Date.now());
    for (const connection of this.subscriptions.subscribersOf(eventId)) if (!connection.behind && connection.updatedAt <= tickAgo) return true;
    return false;
  }

  /** A connection sent a frame after this (Date.now()) waits for its next tick. */
  private tickAgo(at: number): number {
    return at - this.tickMs + JITTER_MS;
  }

  async consume(read: readonly EventAvailabilityWithRows[], run: TickRun): Promise<void> {
    if (run === 'tick') this.catchUpSlowConsumers();
    // The ticket types' rows are the Supabase endpoint's; the store keeps the availability only.
    const events = read.filter((event) => this.store.get(event.eventId)).map(({ ticketTypeRows: _rows, ...event }) => event);
    // Access may have been narrowed (made private, a grant revoked): check before anyone is told more.
    for (const event of events) await this.subscriptions.reauthorize(event);
    // From here on synchronous: a subscriber joining mid-tick cannot get an update its snapshot already has.
    const changes = events.length > 0 ? this.store.apply(events) : [];
    if (changes.length === 0 && this.held.size === 0) return;
    if (changes.length > 0) this.metrics.ticks.inc();
    this.fanOut(changes);
  }

  private fanOut(changes: PublishedChange[]): void {
    const serverTime = this.clock.now();
    const now = Date.parse(serverTime);
    const none = new UpdateSet();
    // The connections that get something, each with its set in `pending`: a field, not a map entry, as it is set for every viewer of every frame.
    const touched: ClientConnection[] = [];
    const add = (connection: ClientConnection, eventId: string, update: string, committedAt: number) => {
      if (connection.pending === undefined) touched.push(connection);
      connection.pending = (connection.pending ?? none).with(eventId, update, committedAt);
    };
    try {
      // Held updates go first (their versions come before this run's), for events the connection still watches.
      for (const [connection, held] of this.held) {
        touched.push(connection);
        connection.pending = none;
        held.eventIds.forEach((eventId, i) => {
          if (connection.subscriptions.has(eventId)) add(connection, eventId, held.updates[i]!, held.committedAt[i]!);
        });
      }
      this.held.clear();
      for (const change of changes) {
        const event = this.store.get(change.eventId);
        const subscribers = this.subscriptions.subscribersOf(change.eventId);
        if (!event || subscribers.size === 0) continue;
        const committedAt = Date.parse(change.committedAt);
        // What each audience may see, looked up once per change rather than once per viewer.
        const forPrivileged = change.frames[this.subscriptions.precisionFor(PRIVILEGED, event)];
        const forPublic = change.frames[this.subscriptions.precisionFor(PUBLIC, event)];
        let sent = false;
        for (const connection of subscribers) {
          const update = connection.privileged ? forPrivileged : forPublic;
          if (!update || connection.behind) continue;
          add(connection, change.eventId, update, committedAt);
          sent = true;
        }
        if (sent) this.metrics.commitToSend.observe(Math.max(0, now - committedAt) / 1000);
      }
      this.send(oldestFirst(touched), serverTime);
    } catch (error) {
      // No connection keeps a set into the next fan-out (oldestFirst takes them all once it runs).
      for (const connection of touched) connection.pending = undefined;
      throw error;
    }
  }

  private send(groups: Iterable<[UpdateSet, ClientConnection[]]>, serverTime: string): void {
    // One time for the whole fan-out: a viewer written to late in a long one is not held back at the next tick.
    const at = Date.now();
    const tickAgo = this.tickAgo(at);
    let frames = 0;
    let bytes = 0;
    for (const [set, connections] of groups) {
      if (set.empty) continue;
      const frame = set.framed(serverTime);
      for (const connection of connections) {
        if (connection.updatedAt > tickAgo) {
          this.held.set(connection, set);
          continue;
        }
        if (!connection.sendUpdates(frame, at)) continue;
        frames += 1;
        bytes += frame.length;
      }
    }
    this.metrics.sent(frames, bytes);
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
