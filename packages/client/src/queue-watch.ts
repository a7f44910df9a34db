import { queueFigures, type QueueEntry, type QueueLive } from '@ticketpulse/protocol';
import type { ServerClock } from './server-clock.ts';
import type { QueueEntryPoll } from './queue-api.ts';
import type { ConnectionStatus, QueueListener, QueueState } from './types.ts';

/** Countdowns (opening, pass) tick this often while someone listens. */
const TICK_MS = 1000;

const secondsUntil = (iso: string, now: number) => Math.max(0, Math.ceil((Date.parse(iso) - now) / 1000));

/**
 * One event's waiting room as the user sees it: the latest `queue` frame and
 * their entry (from `queue_entry` frames or HTTP answers), the state built
 * from them, and, while the transport polls instead of its socket, the
 * entry read over HTTP at the pace the server asks for.
 */
export class QueueWatch {
  readonly listeners = new Set<QueueListener>();
  private live: QueueLive | null = null;
  private entry: QueueEntry | null = null;
  /** Whether the event has a waiting room; undefined until the server said. */
  private room: boolean | undefined;
  private polling = false;
  private pending = false;
  private error: Error | null = null;
  private etag: string | undefined;
  private pollAfterMs: number;
  private tickTimer: ReturnType<typeof setInterval> | undefined;
  private pollTimer: ReturnType<typeof setTimeout> | undefined;
  private current: QueueState;

  constructor(
    readonly key: string,
    private readonly clock: ServerClock,
    private readonly poll: QueueEntryPoll | undefined,
    private readonly pollIntervalMs: number,
  ) {
    this.pollAfterMs = pollIntervalMs;
    this.current = this.build();
  }

  get state(): QueueState {
    return this.current;
  }

  /** Whether `eventId` (an id or the slug watched with) names this event. */
  is(eventId: string): boolean {
    return eventId === this.key || eventId === this.current.eventId;
  }

  /** The pass while it runs. */
  get pass(): string | null {
    return this.build().pass;
  }

  listen(listener: QueueListener): () => void {
    this.listeners.add(listener);
    this.tickTimer ??= setInterval(() => this.tick(), TICK_MS);
    this.schedulePoll(0);
    return () => {
      if (this.listeners.delete(listener) && this.listeners.size === 0) this.stop();
    };
  }

  /** The subscribe answer's `queue` (null: no waiting room), or a `queue` frame. */
  setLive(live: QueueLive | null): void {
    this.room = live !== null;
    this.live = live;
    this.changed();
  }

  /** A `queue_entry` frame, or the entry an HTTP call answered (join, leave, poll). */
  setEntry(entry: QueueEntry | null): void {
    if (entry) this.room = true;
    this.entry = entry;
    this.changed();
  }

  /** A join or leave: shown as pending, its answer taken as the entry, its failure kept as `error` (and rethrown). */
  async run(request: () => Promise<QueueEntry>): Promise<QueueEntry> {
    this.pending = true;
    this.error = null;
    this.changed();
    try {
      const entry = await request();
      this.entry = entry;
      this.room = true;
      return entry;
    } catch (error) {
      this.error = error as Error;
      throw error;
    } finally {
      this.pending = false;
      this.changed();
    }
  }

  /** The event's connection status: while the transport polls, so does the entry. */
  connection(status: ConnectionStatus): void {
    const polling = status === 'polling';
    if (polling === this.polling) return;
    this.polling = polling;
    if (polling) this.schedulePoll(0);
    else clearTimeout(this.pollTimer);
  }

  /** Nobody listens: the countdown and the polling rest (polling resumes with the next listener). */
  stop(): void {
    clearInterval(this.tickTimer);
    this.tickTimer = undefined;
    clearTimeout(this.pollTimer);
  }

  private schedulePoll(delayMs: number): void {
    if (!this.polling || !this.poll || this.listeners.size === 0) return;
    clearTimeout(this.pollTimer);
    this.pollTimer = setTimeout(() => void this.pollOnce(), delayMs);
  }

  private async pollOnce(): Promise<void> {
    const answer = await this.poll!(this.key, this.etag);
    if (!this.polling) return;
    if (answer.kind === 'entry') {
      this.etag = answer.etag;
      this.pollAfterMs = answer.pollAfterMs;
      const { entry, queue } = answer;
      // The frames stopped: the answer carries the room as they would (an older server only the entry, whose count says where the line is).
      if (queue !== undefined) this.live = queue;
      else if (this.live && entry.position !== null && entry.peopleAhead !== null) this.live = { ...this.live, servedUpTo: entry.position - entry.peopleAhead - 1 };
      this.setEntry(entry);
    } else if (answer.kind === 'none') {
      this.room = answer.room;
      this.setEntry(null);
    }
    this.schedulePoll(answer.kind === 'entry' || answer.kind === 'unchanged' ? this.pollAfterMs : this.pollIntervalMs);
  }

  private changed(): void {
    this.current = this.build();
    for (const listener of this.listeners) listener(this.current);
  }

  /** Each second: tells listeners only when a countdown moved. */
  private tick(): void {
    if (JSON.stringify(this.build()) !== JSON.stringify(this.current)) this.changed();
  }

  private build(): QueueState {
    const { live, entry } = this;
    const now = this.clock.now();
    const figures = live
      ? queueFigures(live, entry, now)
      : {
          peopleAhead: entry?.peopleAhead ?? null,
          // In the pre-queue the wait is the countdown to opening (the frame's rule), not the last poll's reading of it.
          estimatedWaitSeconds: entry?.status === 'prequeue' ? secondsUntil(entry.opensAt, now) : (entry?.estimatedWaitSeconds ?? null),
          secondsUntilOpen: entry && secondsUntil(entry.opensAt, now),
          ticketsLikelyEnough: 'unknown' as const,
        };
    const passSecondsLeft = entry?.status === 'admitted' && entry.passExpiresAt ? secondsUntil(entry.passExpiresAt, now) : null;
    const isYourTurn = passSecondsLeft !== null && passSecondsLeft > 0;
    // A closed room (turned off, or the event over) has nothing to join: as good as none, for those not in it.
    return {
      eventId: entry?.eventId ?? live?.eventId ?? this.key,
      queue: live,
      entry,
      status: this.room === undefined ? 'unknown' : !this.room || (!entry && live?.status === 'closed') ? 'none' : (entry?.status ?? 'not_joined'),
      position: entry?.position ?? null,
      ...figures,
      isYourTurn,
      pass: isYourTurn ? entry!.pass : null,
      passExpiresAt: isYourTurn ? entry!.passExpiresAt : null,
      passSecondsLeft,
      pending: this.pending,
      error: this.error,
    };
  }
}
