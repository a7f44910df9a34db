/** The waiting list's wire shapes (docs/waiting-list.md, docs/api.md "Waiting list"). */
import { z } from 'zod';
import { isoTime } from './scalars.ts';

/**
 * `waiting` in line; `offered`: seats are held for you until the offer's
 * expiresAt (confirm them as any reservation); then what became of it:
 * `purchased`, `declined` (released, or you left), `expired` (not taken in
 * time); `left` (you left before an offer); `closed` (the organizer switched
 * the list off).
 */
export const waitlistEntryStatus = z.enum(['waiting', 'offered', 'purchased', 'declined', 'expired', 'left', 'closed']);
export type WaitlistEntryStatus = z.infer<typeof waitlistEntryStatus>;

/** An offer: a hold in your name (GET/confirm/extend/DELETE /api/reservations/:reservationId). */
export const waitlistOffer = z
  .object({
    reservationId: z.string(),
    quantity: z.number().int().describe("seats held: the entry's quantity, or fewer when fewer came back"),
    offeredAt: isoTime,
    expiresAt: isoTime.describe("the hold's deadline (it moves if the hold is extended)"),
  })
  .meta({ id: 'WaitlistOffer' });
export type WaitlistOffer = z.infer<typeof waitlistOffer>;

export const waitlistEntry = z
  .object({
    id: z.string(),
    eventId: z.string(),
    ticketTypeId: z.string(),
    ticketTypeName: z.string(),
    quantity: z.number().int().describe('seats wanted (at most)'),
    status: waitlistEntryStatus,
    place: z.number().int().nullable().describe('your place in line while waiting, 1 = next; null otherwise'),
    joinedAt: isoTime,
    offer: waitlistOffer.nullable(),
  })
  .meta({ id: 'WaitlistEntry' });
export type WaitlistEntry = z.infer<typeof waitlistEntry>;

export const waitlistEntryEnvelope = z.object({ entry: waitlistEntry });
export const waitlistEntries = z.object({ entries: z.array(waitlistEntry) }).meta({ id: 'WaitlistEntries' });
export type WaitlistEntries = z.infer<typeof waitlistEntries>;

/** One ticket type's list, for its organizers. */
export const waitlistTicketType = z
  .object({
    ticketTypeId: z.string(),
    ticketTypeName: z.string(),
    enabled: z.boolean(),
    waiting: z.number().int().describe('entries in line now'),
    offersMade: z.number().int(),
    offersOpen: z.number().int().describe('offers whose hold is still running'),
    offersTaken: z.number().int().describe('offers bought'),
    offersExpired: z.number().int().describe('offers not taken in time'),
    offersDeclined: z.number().int().describe('offers released by their buyer'),
  })
  .meta({ id: 'WaitlistTicketType' });
export type WaitlistTicketType = z.infer<typeof waitlistTicketType>;

/** An event's waiting lists for its organizers: settings and figures per ticket type (display order). */
export const waitlist = z
  .object({
    eventId: z.string(),
    enabled: z.boolean().describe('off: no list for any type of the event'),
    offerSeconds: z.number().int().describe('how long an offer is held for'),
    ticketTypes: z.array(waitlistTicketType),
  })
  .meta({ id: 'Waitlist' });
export type Waitlist = z.infer<typeof waitlist>;

export const waitlistEnvelope = z.object({ waitlist });
