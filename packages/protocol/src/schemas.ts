/**
 * Validation of client messages, for the server (and anything else that
 * receives them). Kept out of the main entry so clients that only need the
 * types do not bundle zod.
 */
import { z } from 'zod';
import type { ClientMessage } from './realtime.ts';

const ref = z.string().max(64).optional();
const token = z.string().min(1).max(4096);
const eventId = z.string().min(1).max(100).regex(/^[A-Za-z0-9-]+$/, 'an event id or slug');

export const clientMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('auth'), token }),
  z.strictObject({
    type: z.literal('subscribe'),
    eventId,
    sinceVersion: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    ref,
  }),
  z.strictObject({ type: z.literal('unsubscribe'), eventId, ref }),
  z.strictObject({ type: z.literal('ping'), ref }),
  z.strictObject({ type: z.literal('refresh_token'), token, ref }),
]);

export const clientMessageTypes: ReadonlyArray<ClientMessage['type']> = ['auth', 'subscribe', 'unsubscribe', 'ping', 'refresh_token'];

/** `true` when A and B are the same type, `never` otherwise: pins a zod schema to its wire type. */
export type SameType<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;

// Fails to compile if the schema and the types drift apart.
const _check: SameType<z.infer<typeof clientMessageSchema>, ClientMessage> = true;
void _check;
