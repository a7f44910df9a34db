/** Web Push's wire shapes (docs/push.md, docs/api.md "Web Push"): what the API answers, and what a push carries. */
import { z } from 'zod';
import { isoTime } from './scalars.ts';

/** GET /api/push/vapid-public-key: the applicationServerKey browsers subscribe with. */
export const vapidPublicKey = z
  .object({ publicKey: z.string().describe('URL-safe base64, uncompressed P-256 point (PushManager.subscribe applicationServerKey)') })
  .meta({ id: 'VapidPublicKey' });
export type VapidPublicKey = z.infer<typeof vapidPublicKey>;

/** POST /api/push/subscriptions: stored (201) or already stored (200). */
export const pushSubscriptionStored = z.object({ subscription: z.object({ endpoint: z.string(), created: z.boolean() }) }).meta({ id: 'PushSubscriptionStored' });
export type PushSubscriptionStored = z.infer<typeof pushSubscriptionStored>;

/** A "notify me" watch on a sold-out ticket type. */
export const pushWatch = z.object({ ticketTypeId: z.string(), eventId: z.string(), createdAt: isoTime }).meta({ id: 'PushWatch' });
export type PushWatch = z.infer<typeof pushWatch>;
export const pushWatches = z.object({ watches: z.array(pushWatch) }).meta({ id: 'PushWatches' });
export type PushWatches = z.infer<typeof pushWatches>;
export const pushWatchStored = z.object({ watch: z.object({ ticketTypeId: z.string(), created: z.boolean() }) }).meta({ id: 'PushWatchStored' });

/**
 * The JSON a push carries (decrypted by the browser, read by the service
 * worker). Only the recipient's own things: their offer, their hold, a type
 * they watch. `id` is the same on every resend of one notification, so the
 * worker shows it once (its notification tag). `url`: the shop page to open.
 */
const pushCommon = { id: z.string(), eventId: z.string(), eventName: z.string(), url: z.string() };
export const pushMessage = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('offer'),
    ...pushCommon,
    ticketTypeId: z.string(),
    ticketTypeName: z.string(),
    reservationId: z.string(),
    quantity: z.number().int(),
    expiresAt: isoTime,
  }),
  z.object({ kind: z.literal('ticket_type_back'), ...pushCommon, ticketTypeId: z.string(), ticketTypeName: z.string() }),
  z.object({ kind: z.literal('hold_expiring'), ...pushCommon, reservationId: z.string(), expiresAt: isoTime }),
]);
export type PushMessage = z.infer<typeof pushMessage>;
