/**
 * The realtime protocol: JSON text frames over a WebSocket at /realtime.
 * docs/protocol.md describes it for people writing a client in another language.
 */
import type { AvailabilitySnapshot, DisplayPrecision, TicketAvailability } from './availability.ts';

// ---- client to server ----

/** First message when the token is not in the URL (`?token=`). */
export interface AuthMessage {
  type: 'auth';
  token: string;
}

export interface SubscribeMessage {
  type: 'subscribe';
  /** An event id or slug. */
  eventId: string;
  /** The version the client already has; if it is current the answer is `unchanged` instead of a snapshot. */
  sinceVersion?: number;
  /** Echoed in the answer, to match answers to requests. */
  ref?: string;
}

export interface UnsubscribeMessage {
  type: 'unsubscribe';
  eventId: string;
  ref?: string;
}

export interface PingMessage {
  type: 'ping';
  ref?: string;
}

/** A fresh token for the same user, before the current one expires. */
export interface RefreshTokenMessage {
  type: 'refresh_token';
  token: string;
  ref?: string;
}

export type ClientMessage = AuthMessage | SubscribeMessage | UnsubscribeMessage | PingMessage | RefreshTokenMessage;

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
  | 'internal_error';

/** Close codes. 1000-1015 are WebSocket's own; 4000-4999 are TicketPulse's. */
export const CloseCode = {
  /** The server is restarting or draining: reconnect (with backoff), possibly to another node. */
  serviceRestart: 1012,
  /** A frame was larger than `limits.maxFrameBytes`. */
  messageTooBig: 1009,
  /** No valid token: missing, malformed, badly signed or with bad claims. */
  unauthorized: 4001,
  /** The token expired and was not refreshed. */
  tokenExpired: 4002,
  /** No `auth` message in time. */
  authTimeout: 4003,
  /** Too many open connections for this user or this address. */
  tooManyConnections: 4008,
  /** The socket could not keep up: the server's send buffer passed its hard limit. */
  slowConsumer: 4010,
  /** Kept flooding after `rate_limited` errors. */
  rateLimited: 4029,
} as const;

export type CloseCodeValue = (typeof CloseCode)[keyof typeof CloseCode];
