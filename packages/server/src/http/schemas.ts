/**
 * Wire shapes of the HTTP API. Route schemas are built from these, so request
 * validation, response serialization and /api/openapi.json share one source.
 */
import type { AvailabilitySnapshot, EventSummary, EventWithTicketTypes, Reservation, TicketAvailability, TicketType } from '@ticketpulse/protocol';
import type { SameType } from '@ticketpulse/protocol/schemas';
import { z } from 'zod';
import { role } from '../auth/principal.ts';

// Any 8-4-4-4-12 hex id, as PostgreSQL's uuid type accepts.
export const uuid = z.guid();
export const slug = z
  .string()
  .max(100)
  .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'lowercase letters, digits and single dashes');
export const idOrSlug = z.string().min(1).max(100).regex(/^[A-Za-z0-9-]+$/, 'an event id or slug');
const isoTime = z.string().describe('ISO 8601 timestamp');
const decimal = z.string().regex(/^\d{1,10}(\.\d{1,2})?$/, 'a decimal amount such as "45.00"');
// A sum of prices: more digits than one price may have, always two decimals.
const amount = z.string().regex(/^\d+\.\d{2}$/, 'an exact decimal amount such as "139.93"');


export const errorBody = z
  .object({
    error: z.looseObject({
      code: z.string().describe('Stable, documented error code (docs/api.md)'),
      message: z.string(),
    }),
  })
  .meta({ id: 'Error' });

export const eventStatus = z.enum(['draft', 'on_sale', 'paused', 'ended', 'cancelled']);
export const ticketTypeStatus = z.enum(['on_sale', 'paused', 'hidden']);

export const ticketType = z
  .object({
    id: z.string(),
    eventId: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    price: decimal,
    currency: z.string(),
    totalCapacity: z.number().int().nullable().describe('null = unlimited; counts are null for buyers when the event shows bands only'),
    soldCount: z.number().int().nullable(),
    reservedCount: z.number().int().nullable(),
    availableCount: z.number().int().nullable(),
    status: ticketTypeStatus,
    maxPerOrder: z.number().int(),
    lowStockThreshold: z.number().int().nullable(),
    sortOrder: z.number().int(),
    version: z.number().int(),
  })
  .meta({ id: 'TicketType' });

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
    soldCount: z.number().int().nullable().describe('null for buyers when the event shows bands only'),
    reservedCount: z.number().int().nullable(),
    availabilityVersion: z.number().int(),
    displayPrecision: z.enum(['exact', 'bands']),
    holdSeconds: z.number().int().nullable().describe('null = the service default'),
  })
  .meta({ id: 'Event' });

export const eventWithTicketTypes = event.extend({ ticketTypes: z.array(ticketType) }).meta({ id: 'EventWithTicketTypes' });

export const ticketAvailability = z
  .object({
    ticketTypeId: z.string(),
    eventId: z.string(),
    ticketTypeName: z.string(),
    description: z.string().nullable(),
    price: decimal,
    currency: z.string(),
    totalCapacity: z.number().int().nullable().describe('null when unlimited; all counts are null when the event shows bands only'),
    soldCount: z.number().int().nullable(),
    reservedCount: z.number().int().nullable(),
    availableCount: z.number().int().nullable().describe('capacity - sold - reserved; null when unlimited'),
    actualAvailable: z.number().int().nullable().describe('same as availableCount (design name)'),
    percentageSold: z.number().nullable(),
    isSoldOut: z.boolean(),
    isUnlimited: z.boolean(),
    status: z.enum(['available', 'low_stock', 'sold_out', 'paused', 'off_sale']),
    maxPerOrder: z.number().int(),
    sortOrder: z.number().int(),
    version: z.number().int().describe('0 when the event shows bands only'),
    lastUpdated: isoTime.nullable().describe('null when the event shows bands only'),
  })
  .meta({ id: 'TicketAvailability' });

export const availabilitySnapshot = z
  .object({
    eventId: z.string(),
    version: z.number().int().describe('availability_version; rises with every change'),
    precision: z.enum(['exact', 'bands']).describe('bands: only the status of each ticket type is disclosed'),
    serverTime: isoTime,
    tickets: z.array(ticketAvailability),
  })
  .meta({ id: 'AvailabilitySnapshot' });

export const reservation = z
  .object({
    id: z.string(),
    eventId: z.string(),
    holderId: z.string(),
    status: z.enum(['active', 'confirmed', 'released', 'expired']),
    expiresAt: isoTime,
    extensionsUsed: z.number().int(),
    createdAt: isoTime,
    confirmedAt: isoTime.nullable(),
    releasedAt: isoTime.nullable(),
    items: z.array(
      z.object({
        ticketTypeId: z.string(),
        ticketTypeName: z.string(),
        quantity: z.number().int(),
        unitPrice: decimal,
        currency: z.string(),
        total: amount.describe('unitPrice × quantity, computed exactly by the database (numeric)'),
      }),
    ),
    totals: z
      .array(z.object({ currency: z.string(), total: amount.describe("the sum of this currency's item totals, computed exactly by the database") }))
      .describe('one per currency among the items, ordered by currency code'),
  })
  .meta({ id: 'Reservation' });

export const reservationEnvelope = z.object({ reservation });

export const holdRequest = z
  .strictObject({
    items: z
      .array(
        z.strictObject({
          ticketTypeId: uuid,
          quantity: z.number().int().min(1).max(100),
        }),
      )
      .min(1)
      .max(20)
      .refine((items) => new Set(items.map((i) => i.ticketTypeId)).size === items.length, {
        message: 'each ticket type may appear only once',
      }),
  })
  .meta({ id: 'HoldRequest' });

export const idempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
    .optional()
    .describe('Same key from the same holder returns the same reservation'),
});

const newTicketType = z.strictObject({
  name: z.string().min(1).max(200),
  description: z.string().max(2000).nullable().optional(),
  price: decimal.optional(),
  currency: z.string().regex(/^[A-Z]{3}$/).optional(),
  totalCapacity: z.number().int().min(0).max(10_000_000).nullable().describe('null = unlimited'),
  maxPerOrder: z.number().int().min(1).max(100).optional(),
  lowStockThreshold: z.number().int().min(0).max(10_000_000).nullable().optional(),
  status: ticketTypeStatus.optional(),
  sortOrder: z.number().int().min(-1_000_000).max(1_000_000).optional(),
});

const seconds = z.number().int().min(1).max(86_400);

export const newEvent = z
  .strictObject({
    slug,
    name: z.string().min(1).max(200),
    description: z.string().max(5000).nullable().optional(),
    venue: z.string().max(200).nullable().optional(),
    startsAt: z.iso.datetime({ offset: true }),
    isPublic: z.boolean().optional(),
    status: eventStatus.optional(),
    holdSeconds: seconds.nullable().optional(),
    holdExtensionSeconds: seconds.nullable().optional(),
    maxHoldExtensions: z.number().int().min(0).max(100).nullable().optional(),
    ticketTypes: z
      .array(newTicketType)
      .min(1)
      .max(50)
      .refine((types) => new Set(types.map((t) => t.name)).size === types.length, {
        message: 'ticket type names must be distinct',
      }),
  })
  .meta({ id: 'NewEvent' });

export const userId = z.string().min(1).max(200).regex(/^[A-Za-z0-9._:@-]+$/, 'a user id (the token `sub`)');

export const eventChange = z
  .strictObject({
    status: eventStatus.optional(),
    isPublic: z.boolean().optional(),
    displayPrecision: z.enum(['exact', 'bands']).optional(),
  })
  .refine((c) => Object.keys(c).length > 0, { message: 'nothing to change' })
  .meta({ id: 'EventChange' });

export const ticketTypeChange = z
  .strictObject({
    totalCapacity: z.number().int().min(0).max(10_000_000).nullable().optional(),
    status: ticketTypeStatus.optional(),
    maxPerOrder: z.number().int().min(1).max(100).optional(),
  })
  .refine((c) => Object.keys(c).length > 0, { message: 'nothing to change' })
  .meta({ id: 'TicketTypeChange' });

export const devTokenRequest = z
  .strictObject({
    role: role.optional(),
    ttlSeconds: z.number().int().min(60).max(7 * 86_400).optional(),
  })
  .nullish(); // no body at all is fine: an authenticated user for a day

export const devToken = z.object({
  token: z.string(),
  userId: z.string(),
  role,
  expiresAt: isoTime,
});

// Query strings arrive as text: coerce, then hold them to the same bounds as everything else.
export const expiringHoldsQuery = z.object({
  expiringWithinSeconds: z.coerce.number().int().min(1).max(86_400).default(300),
});

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

export const salesQuery = z.object({
  minutes: z.coerce.number().int().min(1).max(1440).default(60),
});

export const salesPerMinute = z
  .object({
    serverTime: isoTime,
    buckets: z
      .array(z.object({ minute: isoTime.describe('start of the minute'), sold: z.number().int() }))
      .describe('oldest first; every minute present, zeros included'),
  })
  .meta({ id: 'SalesPerMinute' });

export const realtimeStats = z
  .object({
    connections: z.number().int(),
    watchedEvents: z.number().int(),
    viewers: z.record(z.string(), z.number().int()).describe('subscribed connections per event id, on this node'),
  })
  .meta({ id: 'RealtimeStats' });

export const simulatorStatus = z
  .object({
    running: z.boolean(),
    stats: z.object({
      holds: z.number().int(),
      purchases: z.number().int(),
      releases: z.number().int(),
      restocks: z.number().int().describe('times it released more seats, as an organizer, on an event at its floor'),
      expiries: z.number().int().describe('holds it left to expire'),
      refusals: z.number().int().describe('4xx answers it got'),
    }),
  })
  .meta({ id: 'SimulatorStatus' });

export const simulatorChange = z.strictObject({ running: z.boolean() }).meta({ id: 'SimulatorChange' });

// The HTTP shapes are the protocol's types: this fails to compile if either side drifts.
const _wireTypes: [
  SameType<z.infer<typeof ticketAvailability>, TicketAvailability>,
  SameType<z.infer<typeof availabilitySnapshot>, AvailabilitySnapshot>,
  SameType<z.infer<typeof ticketType>, TicketType>,
  SameType<z.infer<typeof event>, EventSummary>,
  SameType<z.infer<typeof eventWithTicketTypes>, EventWithTicketTypes>,
  SameType<z.infer<typeof reservation>, Reservation>,
] = [true, true, true, true, true, true];
void _wireTypes;
