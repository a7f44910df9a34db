import type { AvailabilitySnapshot, AvailabilityUpdate, ClientMessage, QueueEntry, QueueLive, SubscribedMessage, TicketAvailability } from '@ticketpulse/protocol';
import type { Backoff } from '../backoff.ts';
import type { ConnectionStatus, TransportSink } from '../types.ts';

/** What a channel needs from the connection it lives on. */
export interface ChannelContext {
  /** False when the socket is not connected: the next welcome rejoins every channel. */
  send(message: ClientMessage): boolean;
  /** How long a subscribe may go unanswered. */
  replyTimeoutMs: number;
  /** Spaces out the subscribes sent again after timeouts: one per channel. */
  backoff(): Backoff;
  /** A subscribe went unanswered (counted as the `join_timeout` error). */
  timedOut(): void;
}

/**
 * One event on TicketPulse's socket: joins with `subscribe` (and the version
 * it has, so the server may answer "unchanged"), rejoins after every
 * reconnect and on a gap in the versions, and keeps the versioned state that
 * updates apply to (docs/protocol.md, section 3). A subscribe unanswered
 * within the reply timeout is sent again after a backoff, for as long as it
 * takes; an answer that comes late is still taken.
 */
export class EventChannel {
  /** The server's id for the event, once `subscribed` told it (the app may use a slug). */
  serverId: string | undefined;
  private version = 0;
  private tickets = new Map<string, TicketAvailability>();
  /** The server refused the event (not found, forbidden); cleared by the next `subscribed`. */
  private failed = false;
  private replyTimer: ReturnType<typeof setTimeout> | undefined;
  private rejoinTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly backoff: Backoff;

  constructor(
    readonly key: string,
    private readonly sink: TransportSink,
    private readonly context: ChannelContext,
  ) {
    this.backoff = context.backoff();
  }

  /** Whether a message naming `eventId` (an id or the slug subscribed with) is about this event. */
  is(eventId: string): boolean {
    return eventId === this.serverId || eventId === this.key;
  }

  /** What polling asks for: the event and the version we have. */
  get pollTarget(): { key: string; version: number } {
    return { key: this.serverId ?? this.key, version: this.version };
  }

  /** A subscribe went out on the socket (answered or not). */
  private subscribed = false;

  join(): void {
    this.stopTimers();
    const sent = this.context.send({
      type: 'subscribe',
      eventId: this.serverId ?? this.key,
      ref: this.key,
      ...(this.version > 0 ? { sinceVersion: this.version } : {}),
    });
    if (sent) {
      this.subscribed = true;
      this.replyTimer = setTimeout(() => this.unanswered(), this.context.replyTimeoutMs);
    }
  }

  /** The answer to a subscribe: a snapshot, or "unchanged" (what we have is current). */
  joined(message: SubscribedMessage): void {
    this.stopTimers();
    this.backoff.reset();
    this.serverId = message.eventId;
    this.failed = false;
    this.sink.status('connected');
    // Every answer says whether the event has a waiting room: after a reconnect too, so nothing missed meanwhile stays wrong.
    this.sink.queue?.(message.queue ?? null);
    // Taken as it comes, even at a lower version: the server's word (protocol rule 1).
    if (message.snapshot) this.replace(message.snapshot);
    else this.send();
  }

  /** Applies an update on exactly its base version; drops older ones; rejoins on a gap. */
  apply(update: AvailabilityUpdate): void {
    if (update.version <= this.version) return;
    if (update.snapshot) return this.replace(update, update.committedAt);
    if (update.previousVersion !== this.version) return this.join();
    // A new map, never an edit: unchanged types stay the same objects, changed ones are new.
    const tickets = new Map(this.tickets);
    for (const ticket of update.tickets) tickets.set(ticket.ticketTypeId, ticket);
    for (const id of update.removedTicketTypeIds) tickets.delete(id);
    this.tickets = tickets;
    this.version = update.version;
    this.send(update.committedAt);
  }

  /** A `queue` frame: the waiting room as a whole. */
  queue(live: QueueLive): void {
    this.sink.queue?.(live);
  }

  /** A `queue_entry` frame: the user's own entry. */
  queueEntry(entry: QueueEntry): void {
    this.sink.queueEntry?.(entry);
  }

  /** A poll's answer: a snapshot, or undefined for 304 (unchanged). */
  polled(snapshot: AvailabilitySnapshot | undefined): void {
    if (!snapshot) return this.send();
    if (snapshot.version >= this.version) this.replace(snapshot);
  }

  /** The server refused the event; it is asked again at the next reconnect. */
  fail(code: string, message: string): void {
    this.stopTimers();
    this.failed = true;
    this.sink.error(code, message);
  }

  /** The socket is not connected (or polling stands in): no answer can come until the next welcome. */
  connection(status: ConnectionStatus): void {
    this.stopTimers();
    // A lost socket took its subscriptions with it.
    this.subscribed = false;
    if (!this.failed) this.sink.status(status);
  }

  leave(): void {
    this.stopTimers();
    // Also when the answer has not come yet: the server may already count this viewer.
    if (this.subscribed) this.context.send({ type: 'unsubscribe', eventId: this.serverId ?? this.key });
  }

  private unanswered(): void {
    this.context.timedOut();
    if (!this.failed) this.sink.status('reconnecting');
    this.rejoinTimer = setTimeout(() => this.join(), this.backoff.next());
  }

  private replace(snapshot: Pick<AvailabilitySnapshot, 'eventId' | 'version' | 'tickets'>, committedAt?: string): void {
    this.serverId = snapshot.eventId;
    this.version = snapshot.version;
    this.tickets = new Map(snapshot.tickets.map((t) => [t.ticketTypeId, t]));
    this.send(committedAt);
  }

  /** Hands the event's whole state to the manager: the same version again confirms it. */
  private send(committedAt?: string): void {
    if (this.version === 0) return;
    this.sink.snapshot({ eventId: this.serverId ?? this.key, version: this.version, tickets: [...this.tickets.values()] }, committedAt);
  }

  private stopTimers(): void {
    clearTimeout(this.replyTimer);
    clearTimeout(this.rejoinTimer);
  }
}
