/** Kept apart from the message schemas: clients import these values, and must not bundle zod with them. */

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
