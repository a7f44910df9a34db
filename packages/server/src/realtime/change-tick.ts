import type { Logger } from 'pino';
import type { Database } from '../db/database.ts';
import { readAvailabilityVersions, readEventAvailabilityWithRows, type EventAvailabilityWithRows } from '../inventory/availability.ts';
import { PeriodicTask } from '../periodic-task.ts';
import type { ChangeFeed } from './change-feed.ts';
import type { DatabaseClock } from './database-clock.ts';

export interface TickTiming {
  /** At most one update per event per tick. */
  tickMs: number;
  /** How often every watched event is re-checked, whatever the signals say. */
  reconcileMs: number;
}

/** A realtime endpoint fed by the tick (the native publisher, the Supabase-compatible endpoint). */
export interface TickConsumer {
  /** The events whose changes it wants read; 'all' for any event. */
  watched(): Iterable<string> | 'all';
  /** The version of an event it holds; undefined when it holds none. */
  versionOf(eventId: string): number | undefined;
  /**
   * Every tick, with the changed events read this tick (often none) in the
   * order read. A rejection makes the next tick check every event again.
   */
  consume(events: readonly EventAvailabilityWithRows[]): Promise<void>;
}

/**
 * The realtime tick: once per `tickMs`, decide which watched events changed
 * (ChangeFeed), read them once, in one query, for every endpoint, and hand
 * the result to each consumer to turn into its own frames. With viewers on
 * both endpoints, the database is read as often as with one.
 */
export class ChangeTick {
  private readonly task: PeriodicTask;
  private readonly consumers: TickConsumer[] = [];
  private lastReconcile = Date.now();

  constructor(
    private readonly db: Database,
    private readonly feed: ChangeFeed,
    private readonly clock: DatabaseClock,
    private readonly logger: Logger,
    private readonly timing: TickTiming,
  ) {
    this.task = new PeriodicTask(timing.tickMs, () => this.tick());
  }

  add(consumer: TickConsumer): void {
    this.consumers.push(consumer);
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
    let events: EventAvailabilityWithRows[] = [];
    try {
      events = await this.read();
    } catch (error) {
      // The database may be restarting: try everything again next tick, so viewers converge once it is back.
      this.feed.markAll();
      this.logger.warn({ err: error }, 'realtime tick failed; retrying');
    }
    const results = await Promise.allSettled(this.consumers.map((consumer) => consumer.consume(events)));
    for (const result of results) {
      if (result.status === 'fulfilled') continue;
      this.feed.markAll();
      this.logger.warn({ err: result.reason }, 'realtime tick failed; retrying');
    }
  }

  private async read(): Promise<EventAvailabilityWithRows[]> {
    const taken = this.feed.take(this.watched());
    const ids = taken.verify ? await this.changedOnly(taken.eventIds) : taken.eventIds;
    if (ids.length === 0) return [];
    const sentAt = Date.now();
    const events = await readEventAvailabilityWithRows(this.db, ids);
    if (events[0]) this.clock.observe(events[0].readAt, sentAt, Date.now());
    return events;
  }

  /** Every consumer's watched events together; 'all' when one watches any event. */
  private watched(): ReadonlySet<string> | 'all' {
    const union = new Set<string>();
    for (const consumer of this.consumers) {
      const watched = consumer.watched();
      if (watched === 'all') return 'all';
      for (const id of watched) union.add(id);
    }
    return union;
  }

  /** Of `eventIds` (or all events), those newer than what some consumer watching them holds. */
  private async changedOnly(eventIds: string[] | 'all'): Promise<string[]> {
    if (eventIds !== 'all' && eventIds.length === 0) return [];
    const versions = await readAvailabilityVersions(this.db, eventIds);
    const watching = this.consumers.map((consumer) => {
      const watched = consumer.watched();
      return { consumer, all: watched === 'all', ids: new Set(watched === 'all' ? [] : watched) };
    });
    const behind = (id: string, version: number) =>
      watching.some(({ consumer, all, ids }) => (all || ids.has(id)) && version > (consumer.versionOf(id) ?? 0));
    return [...versions].filter(([id, version]) => behind(id, version)).map(([id]) => id);
  }
}
