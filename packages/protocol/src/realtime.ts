/**
 * The realtime protocol: JSON text frames over a WebSocket at /realtime.
 * docs/protocol.md describes it for people writing a client in another language.
 */
import { z } from 'zod';
import type { AvailabilitySnapshot, DisplayPrecision, TicketAvailability } from './availability.ts';
import type { PersonalChange, PersonalState } from './personal.ts';
import type { QueueEntry, QueueLive } from './queue.ts';
import { idOrSlug } from './scalars.ts';

// ---- client to server: validated by the server, so defined as schemas ----

/** Echoed in the answer, to match answers to requests. */
const ref = z.string().max(64).optional();
const token = z.string().min(1).max(4096);

/** First message when the token is not in the URL (`?token=`). */
export const authMessage = z.strictObject({ type: z.literal('auth'), token });
export type AuthMessage = z.infer<typeof authMessage>;

export const subscribeMessage = z.strictObject({
  type: z.literal('subscribe'),
  /** An event id or slug. */
  eventId: idOrSlug,
  /** The version the client already has; if it is current the answer is `unchanged` instead of a snapshot. */
  sinceVersion: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  ref,
});
export type SubscribeMessage = z.infer<typeof subscribeMessage>;

export const unsubscribeMessage = z.strictObject({ type: z.literal('unsubscribe'), eventId: idOrSlug, ref });
export type UnsubscribeMessage = z.infer<typeof unsubscribeMessage>;

export const pingMessage = z.strictObject({ type: z.literal('ping'), ref });
export type PingMessage = z.infer<typeof pingMessage>;

/** A fresh token for the same user, before the current one expires. */
export const refreshTokenMessage = z.strictObject({ type: z.literal('refresh_token'), token, ref });
export type RefreshTokenMessage = z.infer<typeof refreshTokenMessage>;

/**
 * Subscribes to the personal feed of the token's user (its `sub`). Nothing in
 * it names a user: the feed is always the connection's own.
 */
export const subscribePersonalMessage = z.strictObject({
  type: z.literal('subscribe_personal'),
  /** The feed version the client already has; if it is current the answer is `unchanged` instead of the state. */
  sinceVersion: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  ref,
});
export type SubscribePersonalMessage = z.infer<typeof subscribePersonalMessage>;

export const unsubscribePersonalMessage = z.strictObject({ type: z.literal('unsubscribe_personal'), ref });
export type UnsubscribePersonalMessage = z.infer<typeof unsubscribePersonalMessage>;

export const clientMessageSchema = z.discriminatedUnion('type', [
  authMessage,
  subscribeMessage,
  unsubscribeMessage,
  pingMessage,
  refreshTokenMessage,
  subscribePersonalMessage,
  unsubscribePersonalMessage,
]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;

/** Every client message type, to tell an unknown type from a malformed message. */
export const clientMessageTypes: ReadonlyArray<ClientMessage['type']> = clientMessageSchema.options.map((option) => option.shape.type.value);

// ---- server to client ----

export interface WelcomeMessage {
  type: 'welcome';
  connectionId: string;
  serverTime: string;
  /** The server pings at this interval; a connection silent for two intervals is closed. */
  heartbeatMs: number;
  limits: { maxSubscriptions: number; maxMessagesPerSecond: number; maxFrameBytes: number };
}

export interface SubscribedMessage {
  type: 'subscribed';
  ref?: string;
  eventId: string;
  version: number;
  serverTime: string;
  /** True when `sinceVersion` was current: keep what you have, no snapshot is sent. */
  unchanged: boolean;
  snapshot?: AvailabilitySnapshot;
  /** The event's waiting room as it stands, when it has one; `queue` frames follow as it changes. */
  queue?: QueueLive;
}

export interface UnsubscribedMessage {
  type: 'unsubscribed';
  ref?: string;
  eventId: string;
}

/**
 * What changed in one event since `previousVersion`. Apply it only on top of
 * exactly `previousVersion`; drop it if you already have `version` or newer;
 * resubscribe with `sinceVersion` if you have something older (a gap).
 * With `snapshot: true`, `tickets` is the complete list and replaces what you have.
 */
export interface AvailabilityUpdate {
  eventId: string;
  version: number;
  previousVersion: number;
  precision: DisplayPrecision;
  /** When the change happened, by the database clock. */
  committedAt: string;
  snapshot: boolean;
  tickets: TicketAvailability[];
  /** Ticket types that are gone from view (hidden or deleted). */
  removedTicketTypeIds: string[];
}

/** All updates for one connection in one tick, in one frame. */
export interface UpdatesMessage {
  type: 'updates';
  serverTime: string;
  updates: AvailabilityUpdate[];
}

/**
 * A queued event's live state: sent to every subscriber of the event, the
 * same bytes for all, once per tick while anything in it changed. Computing
 * one's own place from it: docs/protocol.md ("Waiting room").
 */
export interface QueueMessage extends QueueLive {
  type: 'queue';
  serverTime: string;
}

/**
 * The receiving user's own entry in a queued event they subscribed to: sent
 * only to that user's connections, on subscribing and whenever its status,
 * position or pass changes (admitted, pass expired, sold out, closed, left).
 */
export interface QueueEntryMessage {
  type: 'queue_entry';
  eventId: string;
  entry: QueueEntry;
}

/** The answer to `subscribe_personal`: the feed's version and, unless `unchanged`, the whole state. */
export interface PersonalSubscribedMessage {
  type: 'personal_subscribed';
  ref?: string;
  version: number;
  serverTime: string;
  unchanged: boolean;
  state?: PersonalState;
}

export interface PersonalUnsubscribedMessage {
  type: 'personal_unsubscribed';
  ref?: string;
}

/**
 * Changes to the user's own holds and entries since `previousVersion`, to
 * that user's subscribed connections alone. Apply on exactly
 * `previousVersion`; on a gap, send `subscribe_personal` with `sinceVersion`.
 */
export interface PersonalMessage {
  type: 'personal';
  version: number;
  previousVersion: number;
  serverTime: string;
  changes: PersonalChange[];
}

export interface ErrorMessage {
  type: 'error';
  code: RealtimeErrorCode;
  message: string;
  ref?: string;
  eventId?: string;
}

export interface PongMessage {
  type: 'pong';
  ref?: string;
  serverTime: string;
}

export interface TokenRefreshedMessage {
  type: 'token_refreshed';
  ref?: string;
  expiresAt: string;
}

export type ServerMessage =
  | WelcomeMessage
  | SubscribedMessage
  | UnsubscribedMessage
  | UpdatesMessage
  | QueueMessage
  | QueueEntryMessage
  | PersonalSubscribedMessage
  | PersonalUnsubscribedMessage
  | PersonalMessage
  | ErrorMessage
  | PongMessage
  | TokenRefreshedMessage;

/** Errors sent as messages; the connection stays open. */
export type RealtimeErrorCode =
  | 'invalid_message'
  | 'unknown_message_type'
  | 'already_authenticated'
  | 'event_not_found'
  | 'forbidden'
  | 'too_many_channels'
  | 'rate_limited'
  | 'invalid_token'
  | 'token_subject_mismatch'
  | 'subject_required'
  | 'internal_error';
