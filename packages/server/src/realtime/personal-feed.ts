import { EXPIRING_SOON_SECONDS, type PersonalHold, type PersonalWaitlistEntry, type SubscribePersonalMessage, type UnsubscribePersonalMessage } from '@ticketpulse/protocol';
import type { Logger } from 'pino';
import type { Database } from '../db/database.ts';
import { readPersonalFeeds, readPersonalFeedVersions, type PersonalFeedRead } from '../inventory/personal-feeds.ts';
import type { EventAvailabilityWithRows } from '../inventory/availability.ts';
import type { ChangeFeed, HolderChanges } from './change-feed.ts';
import type { TickConsumer, TickRun } from './change-tick.ts';
import type { ClientConnection } from './connection.ts';
import type { DatabaseClock } from './database-clock.ts';
import { holderKey } from './holder-key.ts';
import { MinHeap } from './min-heap.ts';
import { isLiveEntry, isLiveHold, personalChanges } from './personal-changes.ts';

const SOON_MS = EXPIRING_SOON_SECONDS * 1000;
/** A holder read a little before the database's clock reached their due moment is read again this much later. */
const DUE_RETRY_MS = 250;

/** One user subscribed on this node: what their connections were last told. */
interface PersonalView {
  holderId: string;
  key: string;
  connections: Set<ClientConnection>;
  /** Subscribes under way (their first read): the view stays while they run. */
  pending: number;
  /** -1 before the first read. */
  version: number;
  holds: Map<string, PersonalHold>;
  entries: Map<string, PersonalWaitlistEntry>;
  /** Events where one of their entries waits: a change there may be an offer, or the list closed. */
  waitingOn: Set<string>;
  /** When (epoch ms, database clock) the feed next changes by time alone: a hold's "expiring soon" moment or deadline. */
  dueAt: number;
}

/**
 * The personal feed (docs/protocol.md, "The personal feed"): each
 * subscribed user's own holds, offers and waiting-list entries, to that
 * user's connections alone. The connection's token decides whose feed it is.
 *
 * Nothing is written for it anywhere: every node reads the users subscribed
 * on it (personal_feeds(), one statement for all of a tick's), and only when
 * their feed may have changed:
 *   - their own actions (a hold made, extended, confirmed, released; joining
 *     or leaving a list) touch their holder id after commit, on whichever
 *     node, and the tick's one bus message carries a hash of it (holderKey());
 *   - offers and lists closed are made by the database in other people's
 *     statements, but change the event the entry waits on: its changes come
 *     through the tick like any watched event's;
 *   - the "expiring soon" moment and the deadline come off a heap by time
 *     (an expiry needs no sweep to be told: past its deadline, a hold is expired);
 *   - every reconcile (and after lost signals) the versions of all are checked in one query.
 * The version is the database's (a sum of per-row revisions), the same on
 * every node, so a client resyncs on any node with `sinceVersion`.
 * Reads run beside the tick, one at a time, so they never hold a frame back.
 */
export class PersonalFeed implements TickConsumer {
  private readonly views = new Map<string, PersonalView>();
  private readonly byKey = new Map<string, Set<string>>();
  private readonly byEvent = new Map<string, Set<string>>();
  private readonly eventVersions = new Map<string, number>();
  private readonly due = new MinHeap<string>();
  private readonly dirty = new Set<string>();
  private checkAll = false;
  private reading: Promise<void> | undefined;
  private readonly takeHolders: () => HolderChanges;

  constructor(
    private readonly db: Database,
    private readonly changes: Pick<ChangeFeed, 'holderChanges' | 'markDirty'>,
    private readonly clock: DatabaseClock,
    private readonly logger: Pick<Logger, 'warn'>,
  ) {
    this.takeHolders = changes.holderChanges();
  }

  /** The events its users wait on: the tick reads those that change. */
  watched(): Iterable<string> {
    return this.byEvent.keys();
  }

  versionOf(eventId: string): number | undefined {
    return this.eventVersions.get(eventId);
  }

  /** Personal frames go out on the tick only (each user at most one a tick). */
  sendsNow(): boolean {
    return false;
  }

  /** Users subscribed on this node (the node's stats). */
  get users(): number {
    return this.views.size;
  }

  async consume(events: readonly EventAvailabilityWithRows[], run: TickRun): Promise<void> {
    for (const event of events) {
      const holders = this.byEvent.get(event.eventId);
      if (!holders) continue;
      this.eventVersions.set(event.eventId, event.version);
      for (const holderId of holders) this.dirty.add(holderId);
    }
    // Reads on the tick only: each user gets at most one frame a tick.
    if (run !== 'tick') return;
    const { holderIds, holderKeys, all } = this.takeHolders();
    for (const holderId of holderIds) if (this.views.has(holderId)) this.dirty.add(holderId);
    for (const key of holderKeys) for (const holderId of this.byKey.get(key) ?? []) this.dirty.add(holderId);
    this.checkAll ||= all;
    const now = Date.parse(this.clock.now());
    for (const holderId of this.due.popUpTo(now)) {
      const view = this.views.get(holderId);
      if (view && view.dueAt <= now) this.dirty.add(holderId);
    }
    if (this.reading || (this.dirty.size === 0 && !this.checkAll)) return;
    this.reading = this.refresh()
      .catch((error: unknown) => this.logger.warn({ err: error }, 'personal feed read failed; retrying next tick'))
      .finally(() => (this.reading = undefined));
  }

  async subscribe(connection: ClientConnection, message: SubscribePersonalMessage): Promise<void> {
    const ref = message.ref ? { ref: message.ref } : {};
    // The token's user, and nobody else: the message names no user.
    const holderId = connection.principal.userId;
    if (!holderId) {
      return connection.send({ type: 'error', code: 'subject_required', message: 'The personal feed needs a token with a user (sub)', ...ref });
    }
    const view = this.viewOf(holderId);
    view.pending += 1;
    let open = false;
    try {
      // Fresh from the database: other connections of this user hear the difference first.
      await this.read([holderId]);
      open = connection.socket.readyState === connection.socket.OPEN;
    } finally {
      view.pending -= 1;
      if (!open) this.forgetIfUnused(view);
    }
    if (!open) return;
    // Synchronous from here: the next frame this connection gets follows exactly this version.
    view.connections.add(connection);
    const { version } = view;
    const serverTime = this.clock.now();
    if (message.sinceVersion === version) return connection.send({ type: 'personal_subscribed', version, serverTime, unchanged: true, ...ref });
    connection.send({
      type: 'personal_subscribed',
      version,
      serverTime,
      unchanged: false,
      state: { holds: [...view.holds.values()], waitlist: [...view.entries.values()] },
      ...ref,
    });
  }

  unsubscribe(connection: ClientConnection, message: UnsubscribePersonalMessage): void {
    this.drop(connection);
    connection.send({ type: 'personal_unsubscribed', ...(message.ref && { ref: message.ref }) });
  }

  /** A closed connection (or one that unsubscribed) leaves its user's feed. */
  drop(connection: ClientConnection): void {
    const holderId = connection.principal.userId;
    const view = holderId === undefined ? undefined : this.views.get(holderId);
    if (!view?.connections.delete(connection)) return;
    this.forgetIfUnused(view);
  }

  private viewOf(holderId: string): PersonalView {
    let view = this.views.get(holderId);
    if (view) return view;
    view = { holderId, key: holderKey(holderId), connections: new Set(), pending: 0, version: -1, holds: new Map(), entries: new Map(), waitingOn: new Set(), dueAt: Infinity };
    this.views.set(holderId, view);
    let holders = this.byKey.get(view.key);
    if (!holders) this.byKey.set(view.key, (holders = new Set()));
    holders.add(holderId);
    return view;
  }

  private forgetIfUnused(view: PersonalView): void {
    if (view.connections.size > 0 || view.pending > 0 || this.views.get(view.holderId) !== view) return;
    this.views.delete(view.holderId);
    this.dirty.delete(view.holderId);
    const holders = this.byKey.get(view.key);
    holders?.delete(view.holderId);
    if (holders?.size === 0) this.byKey.delete(view.key);
    this.watch(view, new Set());
  }

  /** This tick's holders to read; with checkAll, first the versions of everyone else, to read only those that moved. */
  private async refresh(): Promise<void> {
    const holders = new Set(this.dirty);
    this.dirty.clear();
    const checkAll = this.checkAll;
    this.checkAll = false;
    try {
      const others = checkAll ? [...this.views.keys()].filter((holderId) => !holders.has(holderId)) : [];
      if (others.length > 0) {
        for (const [holderId, version] of await readPersonalFeedVersions(this.db, others, EXPIRING_SOON_SECONDS)) {
          if (version > (this.views.get(holderId)?.version ?? Infinity)) holders.add(holderId);
        }
      }
      if (holders.size > 0) await this.read([...holders]);
    } catch (error) {
      for (const holderId of holders) this.dirty.add(holderId);
      this.checkAll ||= checkAll;
      throw error;
    }
  }

  private async read(holderIds: string[]): Promise<void> {
    const known = holderIds.flatMap((holderId) => {
      const view = this.views.get(holderId);
      return view ? [...view.holds.keys(), ...view.entries.keys()] : [];
    });
    const feeds = await readPersonalFeeds(this.db, holderIds, known, EXPIRING_SOON_SECONDS);
    const serverTime = this.clock.now();
    const now = Date.parse(serverTime);
    for (const feed of feeds) this.apply(feed, serverTime);
    for (const holderId of holderIds) {
      const view = this.views.get(holderId);
      // Read just before the database's clock got there: again shortly.
      if (view && view.dueAt <= now) this.schedule(view, now + DUE_RETRY_MS);
    }
  }

  /** A read newer than what the user's connections have: tell them what changed, keep it. */
  private apply(feed: PersonalFeedRead, serverTime: string): void {
    const view = this.views.get(feed.holderId);
    if (!view || feed.version <= view.version) return;
    const changes = personalChanges(view, feed.holds, feed.waitlist);
    if (!changes) {
      this.dirty.add(view.holderId);
      return;
    }
    const previousVersion = view.version;
    view.version = feed.version;
    view.holds = new Map(feed.holds.filter(isLiveHold).map((hold) => [hold.reservationId, hold]));
    view.entries = new Map(feed.waitlist.filter(isLiveEntry).map((entry) => [entry.id, entry]));
    this.watch(view, new Set([...view.entries.values()].filter((entry) => entry.status === 'waiting').map((entry) => entry.eventId)));
    let dueAt = Infinity;
    for (const hold of view.holds.values()) dueAt = Math.min(dueAt, Date.parse(hold.expiresAt) - (hold.expiringSoon ? 0 : SOON_MS));
    this.schedule(view, dueAt);
    if (previousVersion < 0) return;
    for (const connection of view.connections) connection.send({ type: 'personal', version: view.version, previousVersion, serverTime, changes });
  }

  private schedule(view: PersonalView, dueAt: number): void {
    if (dueAt === view.dueAt) return;
    view.dueAt = dueAt;
    if (Number.isFinite(dueAt)) this.due.push(dueAt, view.holderId);
  }

  /** Indexes the events the user waits on; an event newly watched is read next tick (it may have changed while theirs was read). */
  private watch(view: PersonalView, eventIds: Set<string>): void {
    for (const eventId of view.waitingOn) {
      if (eventIds.has(eventId)) continue;
      const holders = this.byEvent.get(eventId);
      holders?.delete(view.holderId);
      if (holders?.size === 0) {
        this.byEvent.delete(eventId);
        this.eventVersions.delete(eventId);
      }
    }
    for (const eventId of eventIds) {
      if (view.waitingOn.has(eventId)) continue;
      let holders = this.byEvent.get(eventId);
      if (!holders) {
        this.byEvent.set(eventId, (holders = new Set()));
        this.changes.markDirty(eventId);
      }
      holders.add(view.holderId);
    }
    view.waitingOn = eventIds;
  }
}
