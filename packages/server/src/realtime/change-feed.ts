import type { Logger } from 'pino';
import type { ChangeBus } from './buses/change-bus.ts';

/**
 * Which watched events may have changed since the last tick.
 *
 * Writers in this process call touch() after they commit: no database work,
 * and nothing on the hold transaction's path. Once per tick, flush() sends the
 * touched ids to the other nodes in one bus message. A slow reconcile poll
 * (and every bus reconnect) marks everything, so a missed signal or a change
 * made outside the service (psql, another tool) still reaches viewers.
 */
export class ChangeFeed {
  private dirty = new Set<string>();
  private touched = new Set<string>();
  private everything = false;
  /** Told whenever an event is marked (ChangeTick sends a quiet event's change at once). */
  private wake: () => void = () => {};

  constructor(
    private readonly bus: ChangeBus | undefined,
    private readonly logger: Logger,
  ) {}

  onMarked(wake: () => void): void {
    this.wake = wake;
  }

  async start(): Promise<void> {
    await this.bus?.start({
      onChanged: (eventIds) => {
        for (const id of eventIds) this.dirty.add(id);
        this.wake();
      },
      onMissedSignals: () => this.markAll(),
    });
  }

  /** A change in this process: tell local viewers next tick, and the other nodes. */
  touch(eventId: string): void {
    this.dirty.add(eventId);
    if (this.bus) this.touched.add(eventId); // alone, there is nobody to tell
    this.wake();
  }

  /** Re-read one event on the next tick, telling nobody else. */
  markDirty(eventId: string): void {
    this.dirty.add(eventId);
    this.wake();
  }

  /** Re-read every watched event on the next tick. */
  markAll(): void {
    this.everything = true;
  }

  /**
   * The events to re-read this tick, of those watched ('all': any event).
   * `verify` means the set came from markAll(): most have not changed, so
   * check versions first. Events `due` refuses stay marked for a later tick;
   * a leading-edge read (`everything: false`) leaves markAll() to the tick.
   */
  take(
    watched: ReadonlySet<string> | 'all',
    due: (eventId: string) => boolean,
    everything = true,
  ): { eventIds: string[]; verify: false } | { eventIds: string[] | 'all'; verify: true } {
    if (everything && this.everything) {
      this.everything = false;
      this.dirty.clear();
      return { eventIds: watched === 'all' ? 'all' : [...watched], verify: true };
    }
    const eventIds: string[] = [];
    for (const id of this.dirty) {
      if (watched !== 'all' && !watched.has(id)) this.dirty.delete(id);
      else if (due(id)) {
        eventIds.push(id);
        this.dirty.delete(id);
      }
    }
    return { eventIds, verify: false };
  }

  /** Put back events a verified read found changed but not yet due. */
  defer(eventIds: readonly string[]): void {
    for (const id of eventIds) this.dirty.add(id);
  }

  /** Sends this tick's local changes to the other nodes. */
  async flush(): Promise<void> {
    if (!this.bus || this.touched.size === 0) return;
    const eventIds = [...this.touched];
    this.touched.clear();
    try {
      await this.bus.publish(eventIds);
    } catch (error) {
      // The others' reconcile poll picks these up; nothing is lost for good.
      this.logger.warn({ err: error, events: eventIds.length }, 'could not signal changes to other nodes');
    }
  }

  async close(): Promise<void> {
    await this.bus?.close();
  }
}
