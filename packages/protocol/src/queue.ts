/** The virtual waiting room's wire shapes (docs/waiting-room.md, docs/api.md "Waiting room"). */
import { z } from 'zod';
import { isoTime } from './scalars.ts';

/**
 * The queue as a whole: `prequeue` before opensAt, `open` while admitting,
 * `paused` (by the organizer, or the event is not on sale), `held_out` (every
 * seat left is held: admission waits for seats to come back), `sold_out`
 * (nothing left and nothing held), `closed` (waiting room off or event over).
 */
export const queueStatus = z.enum(['prequeue', 'open', 'paused', 'held_out', 'sold_out', 'closed']);
export type QueueStatus = z.infer<typeof queueStatus>;

/** One visitor's entry: `prequeue`, `waiting`, `admitted` (pass valid), `expired` (pass ran out), `sold_out`, `closed` (left, or the room closed). */
export const queueEntryStatus = z.enum(['prequeue', 'waiting', 'admitted', 'expired', 'sold_out', 'closed']);
export type QueueEntryStatus = z.infer<typeof queueEntryStatus>;

/** The event's average seats per order, for the "enough tickets for the people ahead?" line. */
const seatsPerOrder = z.number().nullable().describe("the event's average seats per confirmed order, to 0.1; null before its first order");

export const queueSettings = z.object({
  enabled: z.boolean(),
  opensAt: isoTime,
  prequeueMinutes: z.number().int(),
  admitPerMinute: z.number().int(),
  maxActiveShoppers: z.number().int().nullable().describe('null = no cap'),
  passSeconds: z.number().int(),
  abandonAfterSeconds: z.number().int(),
  paused: z.boolean(),
});
export type QueueSettings = z.infer<typeof queueSettings>;

export const queue = queueSettings
  .extend({
    eventId: z.string(),
    status: queueStatus,
    length: z.number().int().describe('visitors still in line (pre-queue included); falls as they leave or are served'),
    admitted: z.number().int().describe('visitors admitted so far (skipped ones not counted)'),
    activeShoppers: z.number().int().describe('admitted visitors whose pass is still running'),
    servedUpTo: z.number().int().describe('every position up to this one has had its turn'),
    lastPosition: z.number().int().describe('the highest position handed out'),
    measuredAdmitPerMinute: z.number().nullable().describe('admissions over the last minute; null in the first second'),
    abandoned: z.number().int().describe('visitors skipped because they were not seen for abandonAfterSeconds'),
    estimatedWaitSeconds: z.number().int().nullable().describe('for the last in line; null when sold out or closed'),
    seatsPerOrder: seatsPerOrder,
  })
  .meta({ id: 'Queue' });
export type Queue = z.infer<typeof queue>;

export const queueEnvelope = z.object({ queue });

export const queueEntry = z
  .object({
    id: z.string(),
    eventId: z.string(),
    status: queueEntryStatus,
    position: z.number().int().nullable().describe('exact; null in the pre-queue until opensAt'),
    peopleAhead: z.number().int().nullable().describe('places between the served-up-to mark and this one; null unless waiting'),
    estimatedWaitSeconds: z.number().int().nullable().describe('from the measured pace of the line (places per minute); in the pre-queue, the time until opensAt'),
    opensAt: isoTime,
    pass: z.string().nullable().describe('while admitted: a signed pass (JWT) bound to this event and user'),
    passExpiresAt: isoTime.nullable(),
  })
  .meta({ id: 'QueueEntry' });
export type QueueEntry = z.infer<typeof queueEntry>;

export const queueEntryEnvelope = z.object({ entry: queueEntry });


/**
 * A queue's live state as every subscriber of the event is sent it over the
 * realtime gateway (the `queue` frame, docs/protocol.md): the same for
 * everyone. A visitor computes their own figures from it and their entry's
 * position: peopleAhead = position - servedUpTo - 1 (admitted once it is
 * below 0), wait = max(0, opensAt - now) + (position - servedUpTo) * 60 / rate seconds.
 */
export const queueLive = z
  .object({
    eventId: z.string(),
    status: queueStatus,
    opensAt: isoTime,
    servedUpTo: z.number().int().describe('every position up to this one has had its turn'),
    length: z.number().int().describe('visitors still in line (pre-queue included)'),
    rate: z.number().describe('the pace waits are estimated with: places the line moves past per minute, measured up to the last admission tick, starting from the configured rate'),
    ticketsLeft: z.number().int().nullable().describe('seats left to buy; null when unlimited or when the event shows bands only'),
    seatsPerOrder: seatsPerOrder,
  })
  .meta({ id: 'QueueLive' });
export type QueueLive = z.infer<typeof queueLive>;

/** GET .../queue/entries/me, the polling fallback: the entry, the room as the `queue` frame would show it, and when to ask again. */
export const queueEntryPoll = queueEntryEnvelope.extend({
  queue: queueLive.nullable().describe("the room's live state, as the realtime `queue` frame carries it (at most a second old); null when the event has no waiting room any more"),
  pollAfterMs: z.number().int().describe('ask again after this long (with If-None-Match): often enough to stay present and see your turn come'),
});
export type QueueEntryPoll = z.infer<typeof queueEntryPoll>;
