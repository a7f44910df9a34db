/** The HTTP API's resources (docs/api.md), shared by the server and its clients. */
import { z } from 'zod';
import { displayPrecision } from './availability.ts';
import { amount, decimal, isoTime } from './scalars.ts';

// ---- events and ticket types ----

export const eventStatus = z.enum(['draft', 'on_sale', 'paused', 'ended', 'cancelled']);
export type EventStatus = z.infer<typeof eventStatus>;
export const ticketTypeStatus = z.enum(['on_sale', 'paused', 'hidden']);
export type TicketTypeStatus = z.infer<typeof ticketTypeStatus>;

export const ticketType = z
  .object({
    id: z.string(),
    eventId: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    price: decimal,
    currency: z.string(),
    /** Counts are null for buyers when the event shows bands only (see Audience). */
    totalCapacity: z.number().int().nullable().describe('null = unlimited; counts are null for buyers when the event shows bands only'),
    soldCount: z.number().int().nullable(),
    reservedCount: z.number().int().nullable(),
    availableCount: z.number().int().nullable(),
    status: ticketTypeStatus,
    maxPerOrder: z.number().int(),
    lowStockThreshold: z.number().int().nullable(),
    sortOrder: z.number().int(),
    version: z.number().int(),
    waitlistEnabled: z.boolean().describe("this type's waiting list is switched on; a buyer may join it when sold out and the event's is on too (docs/waiting-list.md)"),
  })
  .meta({ id: 'TicketType' });
export type TicketType = z.infer<typeof ticketType>;

export const event = z
  .object({
    id: z.string(),
    slug: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    venue: z.string().nullable(),
    startsAt: isoTime,
    isPublic: z.boolean(),
    status: eventStatus,
    /** null for buyers when the event shows bands only. */
    soldCount: z.number().int().nullable().describe('null for buyers when the event shows bands only'),
    reservedCount: z.number().int().nullable(),
    availabilityVersion: z.number().int(),
    displayPrecision,
    holdSeconds: z.number().int().nullable().describe('null = the service default'),
    waitlistEnabled: z.boolean().describe("the event's waiting lists are switched on (each type has its own switch too)"),
  })
  .meta({ id: 'Event' });
export type EventSummary = z.infer<typeof event>;

export const eventWithTicketTypes = event.extend({ ticketTypes: z.array(ticketType) }).meta({ id: 'EventWithTicketTypes' });
export type EventWithTicketTypes = z.infer<typeof eventWithTicketTypes>;

// ---- reservations ----

export const reservationStatus = z.enum(['active', 'confirmed', 'released', 'expired']);
export type ReservationStatus = z.infer<typeof reservationStatus>;

export const reservationItem = z.object({
  ticketTypeId: z.string(),
  ticketTypeName: z.string(),
  quantity: z.number().int(),
  /** Decimal string, e.g. "45.00": money is never a float. */
  unitPrice: decimal,
  currency: z.string(),
  /**
   * unitPrice × quantity, in `currency`: an exact decimal string (e.g.
   * "139.93") computed by the database in numeric. Show it as it is; never
   * multiply prices in JavaScript, where 0.10 × 3 is 0.30000000000000004.
   */
  total: amount.describe('unitPrice × quantity, computed exactly by the database (numeric)'),
});
export type ReservationItem = z.infer<typeof reservationItem>;

/** What a reservation comes to in one currency. */
export const reservationTotal = z.object({
  currency: z.string(),
  /** The sum of the items' totals in `currency`: an exact decimal string (e.g. "140.23") computed by the database. */
  total: amount.describe("the sum of this currency's item totals, computed exactly by the database"),
});
export type ReservationTotal = z.infer<typeof reservationTotal>;

export const reservation = z
  .object({
    id: z.string(),
    eventId: z.string(),
    holderId: z.string(),
    status: reservationStatus,
    expiresAt: isoTime,
    extensionsUsed: z.number().int(),
    createdAt: isoTime,
    confirmedAt: isoTime.nullable(),
    releasedAt: isoTime.nullable(),
    items: z.array(reservationItem),
    /** One per currency among the items, ordered by currency code: a reservation may mix currencies, and amounts in two are never added. */
    totals: z.array(reservationTotal).describe('one per currency among the items, ordered by currency code'),
    /**
     * Hold responses only: the event's availability version that includes this
     * hold. A client showing the hold optimistically drops its own count exactly
     * when it has applied this version (docs/protocol.md).
     */
    availabilityVersion: z
      .number()
      .int()
      .optional()
      .describe("hold responses only: the event's availability version that includes this hold"),
  })
  .meta({ id: 'Reservation' });
export type Reservation = z.infer<typeof reservation>;

/** How every reservation endpoint answers. */
export const reservationEnvelope = z.object({ reservation });

// ---- errors ----

/** Every error's body (docs/api.md, Errors); some codes add fields next to `code` and `message`. */
export const errorBody = z
  .object({
    error: z.looseObject({
      code: z.string().describe('Stable, documented error code (docs/api.md)'),
      message: z.string(),
    }),
  })
  .meta({ id: 'Error' });
export type ErrorBody = z.infer<typeof errorBody>;

// ---- organizer dashboard ----

export const expiringHolds = z
  .object({
    serverTime: isoTime,
    holds: z
      .array(
        z.object({
          id: z.string(),
          expiresAt: isoTime,
          extensionsUsed: z.number().int(),
          items: z.array(z.object({ ticketTypeId: z.string(), ticketTypeName: z.string(), quantity: z.number().int() })),
        }),
      )
      .describe('soonest deadline first, at most 50; holder ids are never included'),
  })
  .meta({ id: 'ExpiringHolds' });
export type ExpiringHolds = z.infer<typeof expiringHolds>;

export const salesPerMinute = z
  .object({
    serverTime: isoTime,
    buckets: z
      .array(z.object({ minute: isoTime.describe('start of the minute'), sold: z.number().int() }))
      .describe('oldest first; every minute present, zeros included'),
  })
  .meta({ id: 'SalesPerMinute' });
export type SalesPerMinute = z.infer<typeof salesPerMinute>;

export const realtimeStats = z
  .object({
    connections: z.number().int(),
    watchedEvents: z.number().int(),
    viewers: z.record(z.string(), z.number().int()).describe('subscribed connections per event id, on this node (with --workers, all its workers)'),
  })
  .meta({ id: 'RealtimeStats' });
export type RealtimeStats = z.infer<typeof realtimeStats>;

export const simulatorStats = z.object({
  holds: z.number().int(),
  purchases: z.number().int(),
  releases: z.number().int(),
  /** Times it released more seats, as an organizer would, on an event at its floor. */
  restocks: z.number().int().describe('times it released more seats, as an organizer, on an event at its floor'),
  /** Holds it left to expire. */
  expiries: z.number().int().describe('holds it left to expire'),
  /** 4xx answers it got (sold out meanwhile, hold already expired, ...). */
  refusals: z.number().int().describe('4xx answers it got'),
  /** Simulated visitors it sent into waiting rooms. */
  queueJoins: z.number().int().describe('simulated visitors it sent into waiting rooms'),
});
export type SimulatorStats = z.infer<typeof simulatorStats>;

export const simulatorStatus = z.object({ running: z.boolean(), stats: simulatorStats }).meta({ id: 'SimulatorStatus' });
export type SimulatorStatus = z.infer<typeof simulatorStatus>;

// ---- dev tokens (demo mode) ----

/** The roles a token's `role` claim may name (docs/api.md, Authentication). */
export const role = z.enum(['anon', 'authenticated', 'organizer', 'service']);

export const devToken = z.object({
  token: z.string(),
  userId: z.string(),
  role,
  expiresAt: isoTime,
});
export type DevToken = z.infer<typeof devToken>;
