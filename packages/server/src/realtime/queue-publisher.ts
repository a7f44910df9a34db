import type { QueueEntry, QueueLive, QueueStatus } from '@ticketpulse/protocol';
import type { Logger } from 'pino';
import type { QueueLiveState, WaitingRoom } from '../waiting-room/waiting-room.ts';
import type { HolderChanges } from './change-feed.ts';
import { JITTER_MS, type TickConsumer, type TickRun, type TickTiming } from './change-tick.ts';
import type { ClientConnection } from './connection.ts';
import type { DatabaseClock } from './database-clock.ts';
import type { RealtimeMetrics } from './metrics.ts';
import { MinHeap } from './min-heap.ts';
import { SerialRuns } from './serial-runs.ts';
import { holderKey } from './holder-key.ts';
import { encodeTextFrame } from './text-frame.ts';

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
  /** Subscribed holders' connections: rebuilt from the subscribers when they change, added to as visitors subscribe. */
  holders: Map<string, Set<ClientConnection>>;
  /** Subscribers when `holders` was last rebuilt, and when. */
  subscriberCount: number;
  indexedAt: number;
  /** Waiting entries by position: whose turn comes when servedUpTo reaches it. */
  turns: MinHeap<string>;
  /** Admitted entries by when their pass runs out (epoch ms, database clock). */
  expiries: MinHeap<string>;
  /** Holders in the pre-queue: their positions come with the shuffle, soon after the queue opens. */
  prequeue: Set<string>;
  /** Subscribed holders with no entry, or one that ended (left, pass run out): they may join (again) at any time. */
  missing: Set<string>;
  /** Subscribed holders who joined or left since their entry was last read (on any node): read on the next refresh. */
  touched: Set<string>;
  /** The queue went into or out of closed or sold out since the entries were last read (or none were): read them all. */
  readAll: boolean;
  /** An entry read in flight: ticks go on sending frames meanwhile, and the next read waits for it. */
  refreshing: boolean;
  /** When the last `queue` frame went out (Date.now()): at most one a tick. */
  sentAt: number;
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
 * every node reads them on its tick. The nodes need not wait for it: right
 * after each admission tick the leader reads and sends the same way
 * (admitted()), and tells the other nodes over the bus, which do the same,
 * to viewers who had no frame within the last tick, so that each viewer
 * still gets at most one a tick.
 *
 * It also keeps subscribed visitors' own entries: each user's connections
 * get a `queue_entry` frame when their entry's status, position or pass
 * changes, read from the database (queue_entry_json()) only when it may
 * have: their position reached, their pass run out, positions drawn, the
 * queue closed or sold out, they joined or left (through any node: the
 * holder changes the change feed carries). And it marks subscribed visitors seen, one statement per event
 * every abandonAfterSeconds / 4, so a connected visitor is never skipped.
 *
 * Per tick it does no work per subscriber: the frame is written to each
 * socket, and nothing else looks at every subscriber unless the subscribers
 * changed, the queue closed or sold out, or presence is due. Whose turn came
 * and whose pass ran out come off heaps (by position, by expiry). Entry reads
 * run beside the tick, one at a time per event, so a slow read (a presence
 * round over tens of thousands of visitors) never holds the next frame back.
 */
export class QueuePublisher implements TickConsumer, QueueStates {
  private readonly views = new Map<string, QueueView>();
  /** Watched events with no waiting room, and when that was last checked. */
  private readonly noQueue = new Map<string, number>();
  private readonly reading = new Map<string, Promise<void>>();
  /** Subscribed holders' holderKey(), hashed once each as they subscribe, and the holders by key: other nodes' signals name keys. */
  private readonly keys = new Map<string, string>();
  private readonly byKey = new Map<string, Set<string>>();
  /** The read and send in progress (a tick's, or an admission's): the next waits for it, so frames go out in the order read. */
  private readonly runs = new SerialRuns();
  private stopped = false;

  constructor(
    private readonly waitingRoom: Pick<WaitingRoom, 'live' | 'entriesOf'>,
    private readonly watchedIds: () => string[],
    private readonly subscribersOf: (eventId: string) => ReadonlySet<ClientConnection>,
    /** Holders whose entries may have changed (the change feed's holderChanges()). */
    private readonly takeHolders: () => HolderChanges,
    private readonly clock: DatabaseClock,
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly metrics: RealtimeMetrics,
    private readonly timing: Pick<TickTiming, 'tickMs' | 'leadingEdge'>,
  ) {}

  /** It reads queue state, not availability: no event needs reading for it. */
  watched(): string[] {
    return [];
  }

  versionOf(): undefined {
    return undefined;
  }

  /** Queue frames go out on the tick only. */
  sendsNow(): boolean {
    return false;
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
          else if (!this.views.has(eventId)) this.views.set(eventId, newView(state));
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
    this.addHolder(view, holderId, connection);
    remember(view, holderId, found.entry);
    connection.send({ type: 'queue_entry', eventId, entry: found.entry });
  }

  /** Queue frames go out on the tick, and at once after an admission tick here (admitted()): a leading-edge run reads availability, not waiting rooms. */
  consume(_events: unknown, run: TickRun): Promise<void> {
    if (run !== 'tick') return Promise.resolve();
    return this.runs.run(() => this.tick());
  }

  /**
   * An admission tick moved these events' queues (this node's, or the
   * leader's as the bus tells it): their frames go out now, not at the next
   * realtime tick, to the viewers of each that had no `queue` frame within
   * the last tick (the others get it at the tick, as before). With the
   * leading edge off (TICKETPULSE_TICK_LEADING_EDGE=off), these too wait for
   * the tick. Returns whether it acts (false: off, or shutting down).
   */
  admitted(eventIds: readonly string[]): boolean {
    if (this.stopped || !this.timing.leadingEdge) return false;
    void this.runs.run(async () => {
      const now = Date.now();
      const quiet = eventIds.filter((eventId) => this.quiet(this.views.get(eventId), now));
      if (this.stopped || quiet.length === 0) return;
      this.publish(await this.waitingRoom.live(quiet), now);
    }).catch((error: unknown) => this.logger.warn({ err: error }, 'queue frame after admission failed; the next tick sends it'));
    return true;
  }

  /** No more frames: the gateway is shutting down (its close frames are the last thing clients get). */
  stop(): Promise<void> {
    this.stopped = true;
    return this.runs.idle();
  }

  /** A view with no frame sent within the last tick (its next change goes out at once). */
  private quiet(view: QueueView | undefined, now: number): view is QueueView {
    return view !== undefined && now - view.sentAt >= this.timing.tickMs - JITTER_MS;
  }

  private async tick(): Promise<void> {
    this.markTouched(this.takeHolders());
    const now = Date.now();
    const watched = new Set(this.watchedIds());
    for (const eventId of this.views.keys()) if (!watched.has(eventId)) this.views.delete(eventId);
    if (this.views.size === 0) {
      this.keys.clear();
      this.byKey.clear();
    }
    for (const eventId of this.noQueue.keys()) if (!watched.has(eventId)) this.noQueue.delete(eventId);
    const due = [...watched].filter((eventId) => now - (this.noQueue.get(eventId) ?? -Infinity) >= NO_QUEUE_RECHECK_MS);
    if (due.length === 0) return;
    const states = await this.waitingRoom.live(due);
    const found = this.publish(states, now);
    for (const eventId of due) {
      if (found.has(eventId)) continue;
      this.views.delete(eventId);
      this.noQueue.set(eventId, now);
    }
  }

  /**
   * Sends each changed state's frame (serialized once) to its subscribers,
   * and reads the entries that may have changed. Returns the events read.
   * Synchronous: a subscriber joining meanwhile gets either this state in
   * its reply or this frame.
   */
  private publish(states: readonly QueueLiveState[], now: number): Set<string> {
    const serverTime = this.clock.now();
    const found = new Set<string>();
    for (const state of states) {
      const eventId = state.live.eventId;
      found.add(eventId);
      this.noQueue.delete(eventId);
      let view = this.views.get(eventId);
      if (!view) this.views.set(eventId, (view = newView(state)));
      const body = JSON.stringify(state.live);
      // A view sent a frame less than a tick ago (just after an admission) keeps this change for the next tick.
      if (body !== view.body && this.quiet(view, now)) {
        view.readAll ||= endsEveryEntry(view.live.status) !== endsEveryEntry(state.live.status);
        view.live = state.live;
        view.body = body;
        view.sentAt = now;
        const frame = encodeTextFrame(Buffer.from(`{"type":"queue","serverTime":"${serverTime}",${body.slice(1)}`));
        let sent = 0;
        for (const connection of this.subscribersOf(eventId)) if (connection.sendFrame(frame)) sent += 1;
        this.metrics.sent(sent, sent * frame.length);
      }
      view.abandonAfterSeconds = state.abandonAfterSeconds;
      // Entries may change with no change to the frame (a pass running out), and presence is due by time.
      if (!view.refreshing) {
        view.refreshing = true;
        const current = view;
        this.refreshEntries(eventId, current, now)
          .catch((error: unknown) => this.logger.warn({ err: error, eventId }, 'queue entry refresh failed; retrying next tick'))
          .finally(() => (current.refreshing = false));
      }
    }
    return found;
  }

  /**
   * Marks the subscribed holders who joined or left (or held: a signal says
   * only whose state changed) for their entry to be read. A signal for
   * everyone (lost signals, a reconcile) is left to presence, which reads
   * every entry anyway: a crowd's entries are not read on every reconcile.
   */
  private markTouched({ holderIds, holderKeys }: HolderChanges): void {
    if (holderIds.length === 0 && holderKeys.length === 0) return;
    const touched = new Set(holderIds);
    for (const key of holderKeys) for (const holderId of this.byKey.get(key) ?? []) touched.add(holderId);
    for (const view of this.views.values()) for (const holderId of touched) if (view.holders.has(holderId)) view.touched.add(holderId);
  }

  /**
   * Reads the entries of subscribed visitors that may have changed (all of
   * them when presence is due, marking them seen, or when the queue closed,
   * sold out or came back from either) and sends each changed one to its holder's connections alone.
   */
  private async refreshEntries(eventId: string, view: QueueView, now: number): Promise<void> {
    const presence = now - view.seenAt >= Math.max(MIN_PRESENCE_MS, view.abandonAfterSeconds * 250);
    const everyone = presence || view.readAll;
    view.readAll = false;
    const subscribers = this.subscribersOf(eventId);
    // Subscribers who joined since are indexed by joined(): the rebuild catches the rest, at most once a second in a crowd's arrival.
    const reindex = everyone || (subscribers.size !== view.subscriberCount && now - view.indexedAt >= MISSING_RECHECK_MS);
    const unknown = reindex ? this.rebuildHolders(view, subscribers, now) : [];
    const databaseNow = Date.parse(this.clock.now());
    let holders: string[];
    const touched = [...view.touched];
    view.touched.clear();
    if (everyone) holders = [...view.holders.keys()];
    else {
      const due = new Set([...unknown, ...touched]);
      // Heap places left from an entry since re-read are stale: only entries as last read count.
      for (const holderId of view.turns.popUpTo(view.live.servedUpTo)) if (view.entries.get(holderId)?.status === 'waiting') due.add(holderId);
      for (const holderId of view.expiries.popUpTo(databaseNow)) if (view.entries.get(holderId)?.status === 'admitted') due.add(holderId);
      if (view.live.status !== 'prequeue') for (const holderId of view.prequeue) due.add(holderId);
      // Not while the queue itself ends every entry: nobody can join then, and reopening reads everyone.
      if (now - view.missingReadAt >= MISSING_RECHECK_MS && !endsEveryEntry(view.live.status)) {
        view.missingReadAt = now;
        for (const holderId of view.missing) due.add(holderId);
      }
      holders = [...due].filter((holderId) => view.holders.has(holderId));
    }
    if (holders.length === 0) return;
    const read = new Map((await this.waitingRoom.entriesOf(eventId, holders, presence)).map(({ holderId, entry }) => [holderId, entry]));
    if (presence) {
      view.seenAt = now;
      // Holders no longer subscribed here are forgotten; the heaps start again from what was just read.
      for (const holderId of view.entries.keys()) if (!view.holders.has(holderId)) forget(view, holderId);
      this.forgetKeys();
      view.turns.clear();
      view.expiries.clear();
    }
    if (holders.some((holderId) => !read.has(holderId))) view.missingReadAt = now;
    for (const holderId of holders) {
      const entry = read.get(holderId) ?? null;
      const known = view.entries.get(holderId);
      remember(view, holderId, entry);
      if (!entry || (known && !differs(known, entry))) continue;
      for (const connection of view.holders.get(holderId) ?? []) {
        if (connection.subscriptions.has(eventId)) connection.send({ type: 'queue_entry', eventId, entry });
      }
    }
  }

  /** Adds a subscriber's connection to its holder's, and indexes the holder's key (hashed once while they stay subscribed). */
  private addHolder(view: QueueView, holderId: string, connection: ClientConnection): void {
    let connections = view.holders.get(holderId);
    if (!connections) view.holders.set(holderId, (connections = new Set()));
    connections.add(connection);
    if (this.keys.has(holderId)) return;
    const key = holderKey(holderId);
    this.keys.set(holderId, key);
    let holders = this.byKey.get(key);
    if (!holders) this.byKey.set(key, (holders = new Set()));
    holders.add(holderId);
  }

  /** Drops the keys of holders no longer subscribed here to any queued event. */
  private forgetKeys(): void {
    const views = [...this.views.values()];
    for (const [holderId, key] of this.keys) {
      if (views.some((view) => view.holders.has(holderId))) continue;
      this.keys.delete(holderId);
      const holders = this.byKey.get(key)!;
      holders.delete(holderId);
      if (holders.size === 0) this.byKey.delete(key);
    }
  }

  /** Indexes the subscribers by holder (once per change of subscribers, not per tick); returns the holders with no entry read yet. */
  private rebuildHolders(view: QueueView, subscribers: ReadonlySet<ClientConnection>, now: number): string[] {
    view.holders.clear();
    view.subscriberCount = subscribers.size;
    view.indexedAt = now;
    for (const connection of subscribers) {
      const holderId = connection.principal.userId;
      if (holderId) this.addHolder(view, holderId, connection);
    }
    return [...view.holders.keys()].filter((holderId) => !view.entries.has(holderId));
  }
}

function newView(state: QueueLiveState): QueueView {
  return {
    live: state.live,
    body: JSON.stringify(state.live),
    abandonAfterSeconds: state.abandonAfterSeconds,
    seenAt: 0,
    missingReadAt: 0,
    entries: new Map(),
    holders: new Map(),
    subscriberCount: -1,
    indexedAt: 0,
    turns: new MinHeap(),
    expiries: new MinHeap(),
    prequeue: new Set(),
    missing: new Set(),
    touched: new Set(),
    // Nothing has been read for the subscribers yet.
    readAll: true,
    refreshing: false,
    sentAt: 0,
  };
}

/**
 * Keeps an entry as last sent, and when it may next change by what a frame
 * says: a waiting entry when servedUpTo reaches its position, an admitted one
 * when its pass runs out. Pre-queue entries change with the queue's status.
 */
function remember(view: QueueView, holderId: string, entry: QueueEntry | null): void {
  forget(view, holderId);
  view.entries.set(holderId, entry);
  // An entry that ended comes back (a join over HTTP) with no sign on this node: it is looked at again as a missing one.
  if (entry === null || entry.status === 'closed' || entry.status === 'expired') view.missing.add(holderId);
  if (entry?.status === 'prequeue') view.prequeue.add(holderId);
  if (entry?.status === 'waiting' && entry.position !== null) view.turns.push(entry.position, holderId);
  if (entry?.status === 'admitted' && entry.passExpiresAt !== null) view.expiries.push(Date.parse(entry.passExpiresAt), holderId);
}

/**
 * Whether every entry takes its status from the queue's (queue_entry_json():
 * closed, sold_out): only then does a change of the queue's status change
 * entries that are not in the pre-queue (those are watched in `prequeue`).
 */
function endsEveryEntry(status: QueueStatus): boolean {
  return status === 'closed' || status === 'sold_out';
}

/** Drops a holder's entry (its heap places are checked against `entries` when they come due). */
function forget(view: QueueView, holderId: string): void {
  view.entries.delete(holderId);
  view.prequeue.delete(holderId);
  view.missing.delete(holderId);
}

/** What a visitor is told of: a new status, position or pass (people ahead and wait they compute from the `queue` frame). */
function differs(a: QueueEntry, b: QueueEntry): boolean {
  return a.status !== b.status || a.position !== b.position || a.passExpiresAt !== b.passExpiresAt;
}
