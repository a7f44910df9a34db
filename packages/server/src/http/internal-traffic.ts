import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';

/** Sent by the service's own buyer simulator (demo mode only) with a key known to whoever holds the JWT secret. */
export const INTERNAL_KEY_HEADER = 'x-ticketpulse-internal';

/**
 * The internal key, derived from the JWT secret: the same in every worker of
 * `start --workers` (the simulator's requests land on any of them), and
 * known only to what could sign tokens anyway.
 */
export function internalTrafficKey(jwtSecret: string): string {
  return createHmac('sha256', jwtSecret).update('ticketpulse internal traffic').digest('hex');
}

/** Whether a request is the service's own demo traffic. */
export type InternalTraffic = (request: FastifyRequest) => boolean;

/**
 * Recognises the service's own demo traffic: requests carrying the
 * internal key (compared in constant time). Without a key (not a
 * demo), no request is internal, whatever it sends.
 */
export function internalTraffic(internalKey: string | undefined): InternalTraffic {
  if (internalKey === undefined) return () => false;
  const key = Buffer.from(internalKey);
  return (request) => {
    const sent = request.headers[INTERNAL_KEY_HEADER];
    if (typeof sent !== 'string') return false;
    const bytes = Buffer.from(sent);
    return bytes.length === key.length && timingSafeEqual(bytes, key);
  };
}
