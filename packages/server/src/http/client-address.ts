import type { IncomingMessage } from 'node:http';

/**
 * The address per-IP limits count against, for the HTTP API and the realtime
 * gateway alike. With `trustProxy` (TICKETPULSE_TRUST_PROXY), the first
 * X-Forwarded-For entry; only behind a proxy that sets that header itself,
 * or any client could claim any address.
 */
export function clientAddress(request: IncomingMessage, trustProxy: boolean): string {
  const forwarded = request.headers['x-forwarded-for'];
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
  if (trustProxy && first) return first;
  return request.socket.remoteAddress ?? 'unknown';
}
