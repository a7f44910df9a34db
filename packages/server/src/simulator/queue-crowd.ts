import type { QueueEntry, QueueStatus } from '@ticketpulse/protocol';
import { queueEntryEnvelope } from '@ticketpulse/protocol/schemas';
import type { WaitingRoom } from '../waiting-room/waiting-room.ts';

/** A queued on-sale event as the simulator last saw it. */
export interface QueuedEvent {
  id: string;
  status: QueueStatus;
}

/** What the crowd needs of the buyer simulator: its request budget and its way of holding and deciding. */
export interface CrowdTraffic {
  /** False once the simulator's open requests reach its budget. */
  hasRoom(): boolean;
  /** A new visitor (a fresh `sub`) and their token. */
  newVisitor(): Promise<{ userId: string; token: string }>;
  /** One request through the simulator's own client (counted, refusals tallied). */
  call(method: string, path: string, token: string): Promise<{ status: number; body: unknown }>;
  /** An admitted visitor holds a few seats with their pass, and buys or releases them later. */
  holdSeats(eventId: string, token: string, pass: string | null): Promise<void>;
  /** Counts a visitor who joined a queue. */
  joined(): void;
}

export interface CrowdSize {
  /** Visitors sent into each queued event's line, at most, per simulator run. */
  perEvent: number;
  /** Joins per step while the pre-queue runs, and after opening ([min, max]). */
  prequeueJoins: readonly [number, number];
  openJoins: readonly [number, number];
}

// About two joins a second before opening and one after, against the demo's 30 admissions a minute: the line grows, then drains.
export const DEFAULT_CROWD: CrowdSize = { perEvent: 400, prequeueJoins: [1, 3], openJoins: [0, 2] };
/** Share of visitors who silently give up (close the tab) some time after joining: the "abandoned" figure. */
const ABANDON_SHARE = 0.15;
const ABANDON_AFTER_MS: readonly [number, number] = [5_000, 90_000];
/** Share of admitted visitors who look and leave without holding. */
const WALK_AWAY_SHARE = 0.1;
/** How often the crowd tells the waiting room it is still there: well inside any abandonAfterSeconds worth setting. */
const PRESENCE_EVERY_MS = 5_000;

interface Visitor {
  token: string;
  /** When they silently stop being there; undefined: they stay until served. */
  leavesAt: number | undefined;
}

interface Line {
  visitors: Map<string, Visitor>;
  sent: number;
  seenAt: number;
}

const between = ([min, max]: readonly [number, number]): number => min + Math.floor(Math.random() * (max - min + 1));

/**
 * The demo's crowd in front of queued events (docs/waiting-room.md, "The
 * demo"): visitors join through the public API during the pre-queue and
 * after, stay present (or some silently give up), and the admitted ones hold
 * and buy or release. Presence and admissions are read in-process, for the
 * whole crowd of an event in one statement (WaitingRoom.entriesOf, as the
 * realtime gateway does for its connected visitors), not a poll per visitor.
 */
export class QueueCrowd {
  private readonly lines = new Map<string, Line>();

  constructor(
    private readonly waitingRoom: Pick<WaitingRoom, 'entriesOf'>,
    private readonly traffic: CrowdTraffic,
    private readonly size: CrowdSize = DEFAULT_CROWD,
  ) {}

  /** One round: new visitors join the lines still open, and everyone in line is seen and, once admitted, buys. */
  async step(events: readonly QueuedEvent[]): Promise<void> {
    for (const event of events) {
      if (event.status === 'sold_out' || event.status === 'closed') continue;
      await this.join(event);
    }
    for (const [eventId, line] of this.lines) await this.follow(eventId, line);
  }

  /** Forgets the crowd: a new run of the simulator sends a new one (the old entries are skipped as abandoned). */
  clear(): void {
    this.lines.clear();
  }

  private async join(event: QueuedEvent): Promise<void> {
    let line = this.lines.get(event.id);
    if (!line) this.lines.set(event.id, (line = { visitors: new Map(), sent: 0, seenAt: 0 }));
    const joins = Math.min(between(event.status === 'prequeue' ? this.size.prequeueJoins : this.size.openJoins), this.size.perEvent - line.sent);
    for (let i = 0; i < joins && this.traffic.hasRoom(); i += 1) {
      const visitor = await this.traffic.newVisitor();
      line.sent += 1;
      const answer = await this.traffic.call('POST', `/api/events/${event.id}/queue/entries`, visitor.token);
      if (answer.status !== 201) continue;
      queueEntryEnvelope.parse(answer.body);
      this.traffic.joined();
      const leaves = Math.random() < ABANDON_SHARE;
      line.visitors.set(visitor.userId, { token: visitor.token, leavesAt: leaves ? Date.now() + between(ABANDON_AFTER_MS) : undefined });
    }
  }

  /** Reads the crowd's entries (marking them seen now and then); the admitted buy, the finished go home. */
  private async follow(eventId: string, line: Line): Promise<void> {
    const now = Date.now();
    for (const [holderId, visitor] of line.visitors) if (visitor.leavesAt !== undefined && visitor.leavesAt <= now) line.visitors.delete(holderId);
    if (line.visitors.size === 0) return;
    const seen = now - line.seenAt >= PRESENCE_EVERY_MS;
    if (seen) line.seenAt = now;
    const entries = await this.waitingRoom.entriesOf(eventId, [...line.visitors.keys()], seen);
    for (const { holderId, entry } of entries) {
      const visitor = line.visitors.get(holderId);
      if (!visitor) continue;
      if (entry.status === 'admitted') {
        if (!this.traffic.hasRoom()) continue; // their turn stays theirs: try again next round
        line.visitors.delete(holderId);
        if (Math.random() >= WALK_AWAY_SHARE) await this.traffic.holdSeats(eventId, visitor.token, entry.pass);
      } else if (isOver(entry)) {
        line.visitors.delete(holderId);
      }
    }
  }
}

const isOver = (entry: QueueEntry): boolean => entry.status === 'sold_out' || entry.status === 'closed' || entry.status === 'expired';
