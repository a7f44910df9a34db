import type { Logger } from 'pino';
import type { Database } from '../db/database.ts';
import { readAvailabilityVersions, readEventAvailabilityWithRows, type EventAvailabilityWithRows } from '../inventory/availability.ts';
import { PeriodicTask } from '../periodic-task.ts';
import type { ChangeFeed } from './change-feed.ts';
import type { DatabaseClock } from './database-clock.ts';
import type { RealtimeMetrics } from './metrics.ts';
import { SerialRuns } from './serial-runs.ts';

export interface TickTiming {
  /** At most one update per event per tick. */
  tickMs: number;
  /** How often every watched event is re-checked, whatever the signals say. */
  reconcileMs: number;
  /** A change to an event read in no run of the last tick is read and sent at once, not at the next tick. */
  leadingEdge: boolean;
}

/** A tick on the clock, or a leading-edge run for quiet events alone (no per-tick work rides on it). */
export type TickRun = 'tick' | 'leading';

/** Timers fire late, never early: this much short of tickMs since an event's last read (or a viewer's last frame) still counts as a tick. */
export const JITTER_MS = 10;

/** A realtime endpoint fed by the tick (the native publisher, the Supabase-compatible endpoint). */
export interface TickConsumer {
  /** The events whose changes it wants read; 'all' for any event. */
  watched(): Iterable<string> | 'all';
  /** The version of an event it holds; undefined when it holds none. */
  versionOf(eventId: string): number | undefined;
  /**
   * Whether a change to this event, read now, would be sent at once by this
   * consumer: false when every viewer of it had a frame less than a tick ago,
   * or when it sends on the tick only. What no consumer would send is not read
   * on the leading edge: the tick reads it.
   */
  sendsNow(eventId: string): boolean;
  /**
   * Every run, with the changed events read in it (often none) in the order
   * read. A rejection makes the next tick check every event again. Work
   * done per tick rather than per change (queue frames, catching up slow
   * consumers) belongs to `run === 'tick'`.
   */
  consume(events: readonly EventAvailabilityWithRows[], run: TickRun): Promise<void>;
}

/**
 * The realtime tick: once per `tickMs`, decide which watched events changed
 * (ChangeFeed), read them once, in one query, for every endpoint, and hand
 * the result to each consumer to turn into its own frames. With viewers on
 * both endpoints, the database is read as often as with one.
 *
 * Leading edge: a change to an event that was read in no run of the last
 * tick (a quiet event) is read and sent at once, in a run of its own, instead
 * of waiting for the tick. An event read less than a tick ago waits for the
 * first tick at least `tickMs` after that read, so under load every viewer
 * still gets at most one frame per event per tick, carrying the final state.
 * Runs never overlap: a change during a run is looked at when it ends. No
 * leading-edge read when no consumer would send from it (TickConsumer.sendsNow;
 * a change made here is still told to the other nodes at once), and no
 * leading-edge run once the tick is due: under load the read waits for the
 * tick, and the leading edge adds no runs to it (coalescing wins).
 *
 * Adaptive: a tick begins `tickMs` after the last one began, or when it
 * ends if it took longer (PeriodicTask). Past capacity, when writing a
 * tick's frames to every viewer takes longer than `tickMs`, the effective
 * tick lengthens to what a fan-out takes, each frame carries more changes,
 * and nothing queues up (ticketpulse_realtime_tick_interval_seconds).
 */
export class ChangeTick {
  private readonly task: PeriodicTask;
  private readonly consumers: TickConsumer[] = [];
  private lastReconcile = Date.now();
  /** When each event that changed within the last tick was read (Date.now()); older ones are quiet and dropped. */
  private readonly readAt = new Map<string, number>();
  /** Its runs (ticks and leading-edge runs), one at a time. */
  private readonly runs = new SerialRuns();
  private leadingQueued = false;
  /** Whether the queued leading-edge run reads (some consumer would send what it reads), or only tells the other nodes. */
  private leadingReads = false;
  /** When the last tick began (performance.now()): the effective tick is the time between two. */
  private lastTickAt: number | undefined;
  /** Between start() and stop(): leading-edge runs only then. */
  private live = false;

  constructor(
    private readonly db: Database,
    private readonly feed: ChangeFeed,
    private readonly clock: DatabaseClock,
    private readonly logger: Logger,
    private readonly metrics: Pick<RealtimeMetrics, 'tickInterval'>,
    private readonly timing: TickTiming,
  ) {
    this.task = new PeriodicTask(timing.tickMs, () => this.runs.run(() => this.tick()));
    if (timing.leadingEdge) feed.onMarked((eventId) => this.wake(eventId));
  }

  add(consumer: TickConsumer): void {
    this.consumers.push(consumer);
  }

  start(): void {
    this.live = true;
    this.task.start();
  }

  async stop(): Promise<void> {
    this.live = false;
    this.lastTickAt = undefined;
    await this.task.stop();
    await this.runs.idle();
  }

  async tick(): Promise<void> {
    const began = performance.now();
    if (this.lastTickAt !== undefined) this.metrics.tickInterval.observe((began - this.lastTickAt) / 1000);
    this.lastTickAt = began;
    const now = Date.now();
    for (const [eventId, at] of this.readAt) if (now - at >= this.timing.tickMs) this.readAt.delete(eventId);
    if (now - this.lastReconcile >= this.timing.reconcileMs) {
      this.lastReconcile = now;
      this.feed.markAll();
    }
    await this.run('tick');
  }

  /**
   * An event was marked: read it now if it is quiet and nothing is running; else the run in progress or the tick will.
   * A busy event's mark wakes nothing (under an on-sale, a thousand a second would each run for nothing).
   */
  private wake(eventId: string): void {
    if (!this.live || this.tickDue() || !this.due(eventId, Date.now())) return;
    // A reading run is queued already: it reads this change too, whoever would be sent it.
    if (this.leadingQueued && this.leadingReads) return;
    const sends = this.consumers.some((consumer) => consumer.sendsNow(eventId));
    // Nobody here would be sent it: a change made here is still told to the other nodes at once (their viewers may be), but not read here.
    if (!sends && !this.feed.unsent(eventId)) return;
    this.leadingReads ||= sends;
    if (this.leadingQueued) return;
    this.leadingQueued = true;
    // After the current macrotask, so changes committed together are read together.
    setImmediate(() => {
      void this.runs.run(async () => {
        const reads = this.leadingReads;
        this.leadingQueued = false;
        this.leadingReads = false;
        // Queued behind a long run, the tick may be due by now: it reads the change.
        if (this.live && !this.tickDue()) await this.run('leading', reads);
      });
    });
  }

  /** The next tick is due (or overdue, behind a long run): a leading-edge run now would only delay it. */
  private tickDue(): boolean {
    return this.lastTickAt !== undefined && performance.now() - this.lastTickAt >= this.timing.tickMs - JITTER_MS;
  }

  private async run(run: TickRun, reads = true): Promise<void> {
    let events: EventAvailabilityWithRows[] = [];
    // Other nodes are told while this one reads (flushes never throw). On the leading edge only of
    // quiet events: a busy event's signal waits for the tick, as its frame does.
    const told = run === 'tick' ? this.feed.flush() : this.feed.flushQuiet(this.timing.tickMs - JITTER_MS);
    if (!reads) return told;
    try {
      events = await this.read(run);
    } catch (error) {
      // The database may be restarting: try everything again next tick, so viewers converge once it is back.
      this.feed.markAll();
      this.logger.warn({ err: error }, 'realtime tick failed; retrying');
    }
    await told;
    if (run === 'leading' && events.length === 0) return;
    const results = await Promise.allSettled(this.consumers.map((consumer) => consumer.consume(events, run)));
    for (const result of results) {
      if (result.status === 'fulfilled') continue;
      this.feed.markAll();
      this.logger.warn({ err: result.reason }, 'realtime tick failed; retrying');
    }
  }

  /** Read within the last tick: its next change waits for the tick. */
  private due(eventId: string, now: number): boolean {
    const at = this.readAt.get(eventId);
    return at === undefined || now - at >= this.timing.tickMs - JITTER_MS;
  }

  private async read(run: TickRun): Promise<EventAvailabilityWithRows[]> {
    const now = Date.now();
    const due = (eventId: string) => this.due(eventId, now);
    const taken = this.feed.take(this.watched(), due, run === 'tick');
    let ids: string[];
    if (taken.verify) {
      const changed = await this.changedOnly(taken.eventIds);
      ids = changed.filter(due);
      this.feed.defer(changed.filter((id) => !due(id)));
    } else ids = taken.eventIds;
    if (ids.length === 0) return [];
    const sentAt = Date.now();
    const events = await readEventAvailabilityWithRows(this.db, ids);
    if (events[0]) this.clock.observe(events[0].readAt, sentAt, Date.now());
    // Only a read that makes a frame starts the event's tick: a re-read of what viewers already have (a new subscriber's) does not.
    const behind = this.behind();
    for (const event of events) if (behind(event.eventId, event.version)) this.readAt.set(event.eventId, now);
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
    const behind = this.behind();
    return [...versions].filter(([id, version]) => behind(id, version)).map(([id]) => id);
  }

  /** Whether some consumer watching an event holds an older version of it than `version`: it gets a frame. */
  private behind(): (eventId: string, version: number) => boolean {
    const watching = this.consumers.map((consumer) => {
      const watched = consumer.watched();
      return { consumer, all: watched === 'all', ids: new Set(watched === 'all' ? [] : watched) };
    });
    return (id, version) => watching.some(({ consumer, all, ids }) => (all || ids.has(id)) && version > (consumer.versionOf(id) ?? 0));
  }
}
