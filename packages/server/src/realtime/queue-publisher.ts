import type { QueueEntry, QueueLive } from '@ticketpulse/protocol';
import type { QueueLiveState, WaitingRoom } from '../waiting-room/waiting-room.ts';
import type { TickConsumer } from './change-tick.ts';
import type { ClientConnection } from './connection.ts';
import type { DatabaseClock } from './database-clock.ts';

/** Connected visitors are marked seen every abandonAfterSeconds / 4, at most once a second per event. */
const MIN_PRESENCE_MS = 1000;
/** Subscribers with no entry are looked up again (they may have joined since) at most this often per event. */
const MISSING_RECHECK_MS = 1000;
/** Watched events without a waiting room are checked for one at most this often. */
const NO_QUEUE_RECHECK_MS = 2000;

/** One watched event's waiting room, as this node last read it and told its subscribers. */
interface QueueView {
  live: QueueLive;
  /** The frame's body without serverTime: what is compared to tell a change. */
  body: string;
  abandonAfterSeconds: number;
  seenAt: number;
  missingReadAt: number;
  /** Subscribed holders' entries as last sent (null: they have none). */
  entries: Map<string, QueueEntry | null>;
}

/** The queue state the subscribe reply carries (Subscriptions). */
export interface QueueStates {
  /** Reads the event's waiting room if this node has no view of it yet (one read for a crowd). */
  ensure(eventId: string): Promise<void>;
  /** What this node last read; undefined when the event has no waiting room. */
  current(eventId: string): QueueLive | undefined;
  /** A connection subscribed: mark its user seen and send them their entry, if they have one. */
  joined(connection: ClientConnection, eventId: string): Promise<void>;
}

/**
 * The waiting room's share of the realtime tick (docs/protocol.md, "Waiting
 * room"). Each tick, every node reads the live state of the waiting rooms of
 * the events its viewers watch, in one query (queue_live()), and when one
 * changed sends every subscriber the same `queue` frame, serialized once.
 * Admission is the leader's alone, but its results are in the database, so
 * every node reads them and no signal between nodes is needed.
 *
 * It also keeps subscribed visitors' own entries: each user's connections
 * get a `queue_entry` frame when their entry's status, position or pass
 * changes, read from the database (queue_entry_json()) only when it may
 * have: their position reached, their pass run out, the queue's status
 * changed. And it marks subscribed visitors seen, one statement per event
 * every abandonAfterSeconds / 4, so a connected visitor is never skipped.
 */
export class QueuePublisher implements TickConsumer, QueueStates {
  private readonly views = new Map<string, QueueView>();
  /** Watched events with no waiting room, and when that was last checked. */
  private readonly noQueue = new Map<string, number>();
  private readonly reading = new Map<string, Promise<void>>();

  constructor(
    private readonly waitingRoom: Pick<WaitingRoom, 'live' | 'entriesOf'>,
    private readonly watchedIds: () => string[],
    private readonly subscribersOf: (eventId: string) => ReadonlySet<ClientConnection>,
    private readonly clock: DatabaseClock,
  ) {}

  /** It reads queue state, not availability: no event needs reading for it. */
  watched(): string[] {
    return [];
  }

  versionOf(): undefined {
    return undefined;
  }

  current(eventId: string): QueueLive | undefined {
    return this.views.get(eventId)?.live;
  }

  ensure(eventId: string): Promise<void> {
    if (this.views.has(eventId) || this.noQueue.has(eventId)) return Promise.resolve();
    let reading = this.reading.get(eventId);
    if (!reading) {
      reading = this.waitingRoom
        .live([eventId])
        .then(([state]) => {
          if (!state) this.noQueue.set(eventId, Date.now());
          else if (!this.views.has(eventId)) this.views.set(eventId, this.view(state));
        })
        .finally(() => this.reading.delete(eventId));
      this.reading.set(eventId, reading);
    }
    return reading;
  }

  async joined(connection: ClientConnection, eventId: string): Promise<void> {
    const holderId = connection.principal.userId;
    const view = this.views.get(eventId);
    if (!view || !holderId) return;
    const [found] = await this.waitingRoom.entriesOf(eventId, [holderId], true);
    if (!found || !connection.subscriptions.has(eventId)) return;
    view.entries.set(holderId, found.entry);
    connection.send({ type: 'queue_entry', eventId, entry: found.entry });
  }

  async consume(): Promise<void> {
    const now = Date.now();
    const watched = new Set(this.watchedIds());
    for (const eventId of this.views.keys()) if (!watched.has(eventId)) this.views.delete(eventId);
    for (const eventId of this.noQueue.keys()) if (!watched.has(eventId)) this.noQueue.delete(eventId);
    const due = [...watched].filter((eventId) => now - (this.noQueue.get(eventId) ?? -Infinity) >= NO_QUEUE_RECHECK_MS);
    if (due.length === 0) return;
    const states = await this.waitingRoom.live(due);
    // From here to the entry reads synchronous: a subscriber joining mid-tick gets either this state in its reply or this frame.
    const serverTime = this.clock.now();
    const found = new Set<string>();
    const entryReads: Array<Promise<void>> = [];
    for (const state of states) {
      const eventId = state.live.eventId;
      found.add(eventId);
      this.noQueue.delete(eventId);
      const before = this.views.get(eventId);
      const view = this.view(state, before);
      this.views.set(eventId, view);
      if (view.body !== before?.body) {
        const frame = Buffer.from(`{"type":"queue","serverTime":"${serverTime}",${view.body.slice(1)}`);
        for (const connection of this.subscribersOf(eventId)) connection.sendFrame(frame);
      }
      // Entries may change with no change to the frame (a pass running out), and presence is due by time.
      entryReads.push(this.refreshEntries(eventId, view, before?.live.status !== view.live.status, now));
    }
    for (const eventId of due) {
      if (found.has(eventId)) continue;
      this.views.delete(eventId);
      this.noQueue.set(eventId, now);
    }
    await Promise.all(entryReads);
  }

  private view(state: QueueLiveState, before?: QueueView): QueueView {
    return {
      live: state.live,
      body: JSON.stringify(state.live),
      abandonAfterSeconds: state.abandonAfterSeconds,
      seenAt: before?.seenAt ?? 0,
      missingReadAt: before?.missingReadAt ?? 0,
      entries: before?.entries ?? new Map(),
    };
  }

  /**
   * Reads the entries of subscribed visitors that may have changed (all of
   * them when presence is due, marking them seen) and sends each changed one
   * to its holder's connections alone.
   */
  private async refreshEntries(eventId: string, view: QueueView, statusChanged: boolean, now: number): Promise<void> {
    const connections = new Map<string, ClientConnection[]>();
    for (const connection of this.subscribersOf(eventId)) {
      const holderId = connection.principal.userId;
      if (holderId) connections.set(holderId, [...(connections.get(holderId) ?? []), connection]);
    }
    const presence = now - view.seenAt >= Math.max(MIN_PRESENCE_MS, view.abandonAfterSeconds * 250);
    const missingDue = now - view.missingReadAt >= MISSING_RECHECK_MS;
    const databaseNow = Date.parse(this.clock.now());
    const holders = [...connections.keys()].filter((holderId) => {
      if (presence || statusChanged) return true;
      const known = view.entries.get(holderId);
      if (known === undefined) return true;
      if (known === null) return missingDue;
      return mayHaveChanged(known, view.live, databaseNow);
    });
    if (holders.length === 0) return;
    const read = new Map((await this.waitingRoom.entriesOf(eventId, holders, presence)).map(({ holderId, entry }) => [holderId, entry]));
    if (presence) {
      view.seenAt = now;
      // Holders no longer subscribed here are forgotten.
      for (const holderId of view.entries.keys()) if (!connections.has(holderId)) view.entries.delete(holderId);
    }
    if (holders.some((holderId) => !read.has(holderId))) view.missingReadAt = now;
    for (const holderId of holders) {
      const entry = read.get(holderId) ?? null;
      const known = view.entries.get(holderId);
      view.entries.set(holderId, entry);
      if (!entry || (known && !differs(known, entry))) continue;
      for (const connection of connections.get(holderId) ?? []) {
        if (connection.subscriptions.has(eventId)) connection.send({ type: 'queue_entry', eventId, entry });
      }
    }
  }
}

/** Whether an entry's status may have moved on, by what the frame says: its turn came, its pass ran out, positions were drawn. */
function mayHaveChanged(entry: QueueEntry, live: QueueLive, databaseNow: number): boolean {
  switch (entry.status) {
    case 'waiting':
      return entry.position !== null && entry.position <= live.servedUpTo;
    case 'prequeue':
      return live.status !== 'prequeue';
    case 'admitted':
      return entry.passExpiresAt !== null && Date.parse(entry.passExpiresAt) <= databaseNow;
    default:
      return false;
  }
}

/** What a visitor is told of: a new status, position or pass (people ahead and wait they compute from the `queue` frame). */
function differs(a: QueueEntry, b: QueueEntry): boolean {
  return a.status !== b.status || a.position !== b.position || a.passExpiresAt !== b.passExpiresAt;
}
