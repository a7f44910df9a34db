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

  constructor(
    private readonly bus: ChangeBus | undefined,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    await this.bus?.start({
      onChanged: (eventIds) => {
        for (const id of eventIds) this.dirty.add(id);
      },
      onMissedSignals: () => this.markAll(),
    });
  }

  /** A change in this process: tell local viewers next tick, and the other nodes. */
  touch(eventId: string): void {
    this.dirty.add(eventId);
    if (this.bus) this.touched.add(eventId); // alone, there is nobody to tell
  }

  /** Re-read one event on the next tick, telling nobody else. */
  markDirty(eventId: string): void {
    this.dirty.add(eventId);
  }

  /** Re-read every watched event on the next tick. */
  markAll(): void {
    this.everything = true;
  }

  /**
   * The events to re-read this tick, of those watched ('all': any event).
   * `verify` means the set came from markAll(): most have not changed, so
   * check versions first.
   */
  take(watched: ReadonlySet<string> | 'all'): { eventIds: string[]; verify: false } | { eventIds: string[] | 'all'; verify: true } {
    const dirty = this.dirty;
    this.dirty = new Set();
    if (this.everything) {
      this.everything = false;
      return { eventIds: watched === 'all' ? 'all' : [...watched], verify: true };
    }
    return { eventIds: watched === 'all' ? [...dirty] : [...dirty].filter((id) => watched.has(id)), verify: false };
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
