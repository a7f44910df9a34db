/** Availability as every buyer sees it: aggregate numbers per ticket type, never who holds or bought what. */
import { z } from 'zod';
import { decimal, isoTime } from './scalars.ts';

/** `paused`: the ticket type or event is paused; `off_sale`: the event is a draft, ended or cancelled. */
export const availabilityStatus = z.enum(['available', 'low_stock', 'sold_out', 'paused', 'off_sale']);
export type AvailabilityStatus = z.infer<typeof availabilityStatus>;

/**
 * `exact`: counts are shown. `bands`: the organizer shows only the status
 * band (available, low stock, sold out), so every count is null.
 */
export const displayPrecision = z.enum(['exact', 'bands']);
export type DisplayPrecision = z.infer<typeof displayPrecision>;

/** One ticket type. Field names follow the design's TicketAvailability record. */
export const ticketAvailability = z
  .object({
    ticketTypeId: z.string(),
    eventId: z.string(),
    ticketTypeName: z.string(),
    description: z.string().nullable(),
    /** Decimal string, e.g. "45.00": money is never a float. */
    price: decimal,
    currency: z.string(),
    /** null when unlimited, or when the event shows bands only. */
    totalCapacity: z.number().int().nullable().describe('null when unlimited; all counts are null when the event shows bands only'),
    soldCount: z.number().int().nullable(),
    reservedCount: z.number().int().nullable(),
    /** Seats a buyer can take now (capacity - sold - reserved); null when unlimited or banded. */
    availableCount: z.number().int().nullable().describe('capacity - sold - reserved; null when unlimited'),
    /** Same as availableCount; kept because code written against the design reads it. */
    actualAvailable: z.number().int().nullable().describe('same as availableCount (design name)'),
    percentageSold: z.number().nullable(),
    isSoldOut: z.boolean(),
    isUnlimited: z.boolean(),
    status: availabilityStatus,
    maxPerOrder: z.number().int(),
    sortOrder: z.number().int(),
    /** Rises with every change to this ticket type; 0 when the event shows bands only. */
    version: z.number().int().describe('0 when the event shows bands only'),
    /** null when the event shows bands only: when a type last changed would tell when it sold. */
    lastUpdated: isoTime.nullable().describe('null when the event shows bands only'),
    /** Seats sold per minute over the last 5 minutes, to 0.1 (docs/protocol.md, "Sales velocity"); null when banded. */
    soldPerMinute5m: z.number().nullable().describe('seats sold per minute over the last 5 minutes; null when the event shows bands only'),
    /** The same over the last 15 minutes; null when banded. */
    soldPerMinute15m: z.number().nullable().describe('seats sold per minute over the last 15 minutes; null when the event shows bands only'),
    /** When the seats left would be gone at the 5-minute pace, to the minute; null when no projection is meaningful, or banded. */
    projectedSellOutAt: isoTime.nullable().describe('projected sell-out at the 5-minute pace, when within the hour; null otherwise and when the event shows bands only'),
    /** On sale and selling at least 2 seats a minute over the last 5 minutes; shown at both precisions. */
    sellingFast: z.boolean(),
    /** A sell-out is projected (within the hour); shown at both precisions, where the time itself is withheld. */
    likelyToSellOut: z.boolean(),
  })
  .meta({ id: 'TicketAvailability' });
export type TicketAvailability = z.infer<typeof ticketAvailability>;

/** An event's availability at one version: the unit clients cache and resync by. */
export const availabilitySnapshot = z
  .object({
    eventId: z.string(),
    /** The event's availability_version; rises with every change to any of its ticket types. */
    version: z.number().int().describe('availability_version; rises with every change'),
    precision: displayPrecision.describe('bands: only the status of each ticket type is disclosed'),
    /** Database clock when this snapshot was read, so clients can correct their own clock's offset. */
    serverTime: isoTime,
    tickets: z.array(ticketAvailability),
  })
  .meta({ id: 'AvailabilitySnapshot' });
export type AvailabilitySnapshot = z.infer<typeof availabilitySnapshot>;
