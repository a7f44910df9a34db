/**
 * What the server checks beyond the wire shapes: request bodies with their
 * bounds and refinements, route parameters, headers and queries. The
 * response shapes are @ticketpulse/protocol's, so validation, serialization
 * and /api/openapi.json share one source with the clients' types.
 */
import { QUEUE_PASS_HEADER } from '@ticketpulse/protocol';
import { decimal, displayPrecision, eventStatus, role, ticketTypeStatus } from '@ticketpulse/protocol/schemas';
import { z } from 'zod';
import { isStorableText, NOT_STORABLE_MESSAGE } from '../storable-text.ts';

/** Free text a client sends to be stored: NUL or a lone surrogate would fail the statement (a 500) or change it. */
const text = (max: number, min = 0) => z.string().min(min).max(max).refine(isStorableText, NOT_STORABLE_MESSAGE);

// Any 8-4-4-4-12 hex id, as PostgreSQL's uuid type accepts.
export const uuid = z.guid();
export const slug = z
  .string()
  .max(100)
  .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'lowercase letters, digits and single dashes');

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

export const queuePassHeader = {
  [QUEUE_PASS_HEADER]: z
    .string()
    .min(1)
    .max(2000)
    .optional()
    .describe("A queue pass (the entry's `pass`): optional, checked when sent; the hold is decided by the token's sub either way"),
};

const newTicketType = z.strictObject({
  name: text(200, 1),
  description: text(2000).nullable().optional(),
  price: decimal.optional(),
  currency: z.string().regex(/^[A-Z]{3}$/).optional(),
  totalCapacity: z.number().int().min(0).max(10_000_000).nullable().describe('null = unlimited'),
  maxPerOrder: z.number().int().min(1).max(100).optional(),
  lowStockThreshold: z.number().int().min(0).max(10_000_000).nullable().optional(),
  status: ticketTypeStatus.optional(),
  sortOrder: z.number().int().min(-1_000_000).max(1_000_000).optional(),
});

const seconds = z.number().int().min(1).max(86_400);

/**
 * When an event starts: stored as its UTC instant (catalog), so any offset
 * ISO 8601 allows is fine, PostgreSQL's ±15:59 limit notwithstanding. From
 * 1970 to 9999 in UTC: a year-1 time with an offset is a BC one, and a year
 * 10000 one has no ISO form either side reads, so every read of the event
 * (the public event list included) failed once it was stored.
 */
const STARTS_AT_FROM = Date.parse('1970-01-01T00:00:00Z');
const STARTS_AT_UNTIL = Date.parse('+010000-01-01T00:00:00Z');
const startsAt = z.iso
  .datetime({ offset: true, abort: true })
  .refine((value) => Date.parse(value) >= STARTS_AT_FROM && Date.parse(value) < STARTS_AT_UNTIL, {
    message: 'startsAt must be from 1970 to 9999 (in UTC)',
  });

export const newEvent = z
  .strictObject({
    slug,
    name: text(200, 1),
    description: text(5000).nullable().optional(),
    venue: text(200).nullable().optional(),
    startsAt,
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
    displayPrecision: displayPrecision.optional(),
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

/**
 * How far from now a waiting room may open, either way: waits are counted in
 * whole seconds, and an on-sale a decade away is a typo. Long ago is a typo
 * too (admission starts at once either way), and one the database cannot
 * give back: a year-1 time with an offset is a BC one, which no reader of the
 * queue (the organizer's, the admission tick, the realtime gateway) could parse.
 */
const OPENS_AT_MAX_YEARS_AWAY = 10;
const OPENS_AT_MAX_MS_AWAY = OPENS_AT_MAX_YEARS_AWAY * 366 * 86_400_000;

const queueSettingFields = {
  enabled: z.boolean(),
  // In the past is fine (admission starts at once); too far ahead would overflow the waits the database counts.
  // `abort`: a value that is no time at all is not also said to be too far ahead.
  opensAt: z.iso
    .datetime({ offset: true, abort: true })
    .refine((value) => Date.parse(value) <= Date.now() + OPENS_AT_MAX_MS_AWAY, {
      message: `opensAt must be at most ${OPENS_AT_MAX_YEARS_AWAY} years from now`,
    })
    .refine((value) => Date.parse(value) >= Date.now() - OPENS_AT_MAX_MS_AWAY, {
      message: `opensAt must be at most ${OPENS_AT_MAX_YEARS_AWAY} years ago`,
    })
    .describe(
      `when admission starts: at most ${OPENS_AT_MAX_YEARS_AWAY} years ahead or ago; in the past, at once; moved into the future after opening, a new pre-queue`,
    ),
  prequeueMinutes: z.number().int().min(0).max(10_080),
  admitPerMinute: z.number().int().min(1).max(1_000_000),
  maxActiveShoppers: z.number().int().min(1).max(10_000_000).nullable(),
  passSeconds: z.number().int().min(1).max(86_400),
  abandonAfterSeconds: z.number().int().min(1).max(86_400),
};

/** PUT .../queue: every setting; the optional ones take their defaults (docs/waiting-room.md, Settings). */
export const queueSetup = z
  .strictObject({
    ...queueSettingFields,
    enabled: queueSettingFields.enabled.default(true),
    prequeueMinutes: queueSettingFields.prequeueMinutes.default(30),
    maxActiveShoppers: queueSettingFields.maxActiveShoppers.default(null),
    passSeconds: queueSettingFields.passSeconds.default(600),
    abandonAfterSeconds: queueSettingFields.abandonAfterSeconds.default(120),
  })
  .meta({ id: 'QueueSetup' });

/** PATCH .../queue: any subset, `paused` included. */
export const queueChange = z
  .strictObject({ ...queueSettingFields, paused: z.boolean() })
  .partial()
  .refine((c) => Object.keys(c).length > 0, { message: 'nothing to change' })
  .meta({ id: 'QueueChange' });

export const devTokenRequest = z
  .strictObject({
    role: role.optional(),
    ttlSeconds: z.number().int().min(60).max(7 * 86_400).optional(),
  })
  .nullish(); // no body at all is fine: an authenticated user for a day

// Query strings arrive as text: coerce, then hold them to the same bounds as everything else.
export const expiringHoldsQuery = z.object({
  expiringWithinSeconds: z.coerce.number().int().min(1).max(86_400).default(300),
});

export const salesQuery = z.object({
  minutes: z.coerce.number().int().min(1).max(1440).default(60),
});

export const simulatorChange = z.strictObject({ running: z.boolean() }).meta({ id: 'SimulatorChange' });


/** POST /api/event-tickets/:id/waitlist: how many seats you want (at most the type's max per order, checked by the database). */
export const waitlistJoin = z.strictObject({ quantity: z.number().int().min(1).max(100) }).meta({ id: 'WaitlistJoin' });

/** PATCH /api/events/:idOrSlug/waitlist: any subset. */
export const waitlistChange = z
  .strictObject({ enabled: z.boolean(), offerSeconds: seconds })
  .partial()
  .refine((c) => Object.keys(c).length > 0, { message: 'nothing to change' })
  .meta({ id: 'WaitlistChange' });

/** PATCH /api/event-tickets/:id/waitlist. */
export const waitlistTicketTypeChange = z.strictObject({ enabled: z.boolean() }).meta({ id: 'WaitlistTicketTypeChange' });

/** URL-safe base64 (padding tolerated) that decodes to exactly `bytes` bytes. */
const base64urlBytes = (bytes: number, what: string) =>
  z
    .string()
    .regex(/^[A-Za-z0-9_-]+={0,2}$/, `${what} must be URL-safe base64`)
    .refine((value) => Buffer.from(value, 'base64url').length === bytes, `${what} must be ${bytes} bytes`);

/**
 * POST /api/push/subscriptions: the browser's PushSubscription.toJSON(). The
 * endpoint's host is checked against TICKETPULSE_PUSH_ENDPOINT_HOSTS by the route.
 */
export const pushSubscriptionBody = z
  .object({
    endpoint: text(2048),
    expirationTime: z.number().int().nonnegative().nullable().optional(),
    keys: z.object({
      // An uncompressed P-256 point: 0x04, then x and y.
      p256dh: base64urlBytes(65, 'keys.p256dh').refine((value) => Buffer.from(value, 'base64url')[0] === 4, 'keys.p256dh must be an uncompressed P-256 point'),
      auth: base64urlBytes(16, 'keys.auth'),
    }),
  })
  .meta({ id: 'PushSubscriptionJson' });

/** DELETE /api/push/subscriptions: which of your browsers to forget, in the body or as ?endpoint=. */
export const pushEndpointRef = z.object({ endpoint: text(2048, 1) });
