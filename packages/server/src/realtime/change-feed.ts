import type { Logger } from 'pino';
import type { ChangeBatch, ChangeBus } from './buses/change-bus.ts';
import { holderKey } from './holder-key.ts';

/** Whose personal feeds may have changed since the last tick (PersonalFeed reads them). */
export interface HolderChanges {
  /** Holders whose change was made in this process. */
  holderIds: string[];
  /** Holder keys (holderKey()) other nodes sent. */
  holderKeys: string[];
  /** Signals may have been lost, or it is time for the periodic re-check: check every subscribed user. */
  all: boolean;
}

interface HolderInbox {
  ids: Set<string>;
  keys: Set<string>;
  all: boolean;
}

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
  private wake: (eventId: string) => void = () => {};
  /** Told when the admission leader (another node) says these events' waiting rooms moved. */
  private admitted: (eventIds: string[]) => void = () => {};
  /** What each consumer of holder changes has not taken yet (holderChanges()). */
  private readonly holderInboxes: HolderInbox[] = [];
  /** Holders changed here since the last flush: the other nodes are sent their keys. */
  private touchedHolders = new Set<string>();
  /** When each event was last sent to the other nodes (Date.now()), for the leading edge's spacing. */
  private readonly publishedAt = new Map<string, number>();

  constructor(
    private readonly bus: ChangeBus | undefined,
    private readonly logger: Logger,
  ) {}

  onMarked(wake: (eventId: string) => void): void {
    this.wake = wake;
  }

  onQueuesAdmitted(admitted: (eventIds: string[]) => void): void {
    this.admitted = admitted;
  }

  async start(): Promise<void> {
    await this.bus?.start({
      onChanged: ({ eventIds, holderKeys, queueIds }) => {
        for (const inbox of this.holderInboxes) for (const key of holderKeys) inbox.keys.add(key);
        for (const id of eventIds) {
          this.dirty.add(id);
          this.wake(id);
        }
        if (queueIds.length > 0) this.admitted(queueIds);
      },
      onMissedSignals: () => this.markAll(),
    });
  }

  /** A change in this process: tell local viewers next tick, and the other nodes. */
  touch(eventId: string): void {
    this.dirty.add(eventId);
    if (this.bus) this.touched.add(eventId); // alone, there is nobody to tell
    this.wake(eventId);
  }

  /**
   * This node's admission tick moved these events' waiting rooms: the other
   * nodes are told at once, not at the next flush, so that their viewers get
   * the `queue` frame as soon as the leader's do (one message an admission tick).
   */
  async announceAdmitted(eventIds: string[]): Promise<void> {
    if (this.bus) await this.publish({ eventIds: [], holderKeys: [], queueIds: eventIds });
  }

  /** A change to a holder's own holds or entries in this process: their feeds, here and on the other nodes. No database work. */
  touchHolder(holderId: string): void {
    for (const inbox of this.holderInboxes) inbox.ids.add(holderId);
    if (this.bus) this.touchedHolders.add(holderId);
  }

  /**
   * Registers a consumer of holder changes (the personal feed, the waiting
   * room's entries): each call of the function it returns gives the holders
   * whose state may have changed since that consumer's previous call.
   */
  holderChanges(): () => HolderChanges {
    const inbox: HolderInbox = { ids: new Set(), keys: new Set(), all: false };
    this.holderInboxes.push(inbox);
    return () => {
      const changes = { holderIds: [...inbox.ids], holderKeys: [...inbox.keys], all: inbox.all };
      inbox.ids.clear();
      inbox.keys.clear();
      inbox.all = false;
      return changes;
    };
  }

  /** A change made here that the other nodes have not been told of yet (always false without a bus: nobody to tell). */
  unsent(eventId: string): boolean {
    return this.touched.has(eventId);
  }

  /** Re-read one event on the next tick, telling nobody else. */
  markDirty(eventId: string): void {
    this.dirty.add(eventId);
    this.wake(eventId);
  }

  /** Re-read every watched event on the next tick. */
  markAll(): void {
    this.everything = true;
    for (const inbox of this.holderInboxes) inbox.all = true;
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

  /** Sends this tick's local changes (events and holder keys) to the other nodes, in one message. */
  async flush(): Promise<void> {
    if (!this.bus || (this.touched.size === 0 && this.touchedHolders.size === 0)) return;
    const eventIds = [...this.touched];
    // Hashed here, once per holder per tick, not on the hold's path.
    const holderKeys = [...this.touchedHolders].map(holderKey);
    this.touched.clear();
    this.touchedHolders.clear();
    const now = Date.now();
    // Past the longest tick (TICKETPULSE_TICK_MS is at most 5 s) an entry no longer holds anything back.
    for (const [id, at] of this.publishedAt) if (now - at > 5000) this.publishedAt.delete(id);
    for (const id of eventIds) this.publishedAt.set(id, now);
    await this.publish({ eventIds, holderKeys, queueIds: [] });
  }

  /**
   * The leading edge's share: sends at once the touched events not sent in
   * the last `spacingMs` (quiet ones); busy events and holder keys wait for
   * the tick's flush(), so a busy event costs the bus one message a tick.
   */
  async flushQuiet(spacingMs: number): Promise<void> {
    if (!this.bus || this.touched.size === 0) return;
    const now = Date.now();
    const quiet = [...this.touched].filter((id) => now - (this.publishedAt.get(id) ?? -Infinity) >= spacingMs);
    if (quiet.length === 0) return;
    for (const id of quiet) {
      this.touched.delete(id);
      this.publishedAt.set(id, now);
    }
    await this.publish({ eventIds: quiet, holderKeys: [], queueIds: [] });
  }

  private async publish(batch: ChangeBatch): Promise<void> {
    try {
      await this.bus?.publish(batch);
    } catch (error) {
      // The others' reconcile poll (or, for queues, their tick) picks these up; nothing is lost for good.
      const { eventIds, holderKeys, queueIds } = batch;
      this.logger.warn({ err: error, events: eventIds.length, holders: holderKeys.length, queues: queueIds.length }, 'could not signal changes to other nodes');
    }
  }

  async close(): Promise<void> {
    await this.bus?.close();
  }
}
