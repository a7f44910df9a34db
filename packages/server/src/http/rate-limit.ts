import { timingSafeEqual } from 'node:crypto';
import rateLimit, { normalizeIP, type FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ClientAddressOf } from '../limits/client-address.ts';
import { ApiError } from '../api-error.ts';

/** Requests per minute per client address, by route class (TICKETPULSE_HTTP_*_PER_MINUTE). */
export interface HttpRateLimits {
  /** POST /api/events/:idOrSlug/reservations: each one takes seats off sale for minutes. */
  holdsPerMinute: number;
  /** POST /api/events/:idOrSlug/queue/entries: joining a waiting room. */
  queueJoinsPerMinute: number;
  /** Every other POST, PUT, PATCH and DELETE. */
  writesPerMinute: number;
  /** GET and HEAD. */
  readsPerMinute: number;
}

export interface RateLimitOptions {
  limits: HttpRateLimits;
  /** The address limits count, the same function as the realtime gateway's. */
  clientAddress: ClientAddressOf;
  /** Where counts live: shared through Redis (TICKETPULSE_REDIS_URL); this node's memory by default. */
  store?: FastifyRateLimitStoreCtor;
  /** Demo mode only: sent by the service's own buyer simulator (X-TicketPulse-Internal), as demo traffic is not abuse. */
  internalKey?: string;
}

export const INTERNAL_KEY_HEADER = 'x-ticketpulse-internal';

type RouteClass = 'holds' | 'queueJoins' | 'writes' | 'reads';

/** Probes and scrapers poll on a schedule: never limited. */
const UNLIMITED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

function routeClass(request: FastifyRequest): RouteClass {
  if (request.method === 'POST' && request.routeOptions.url === '/api/events/:idOrSlug/reservations') return 'holds';
  if (request.method === 'POST' && request.routeOptions.url === '/api/events/:idOrSlug/queue/entries') return 'queueJoins';
  return request.method === 'GET' || request.method === 'HEAD' ? 'reads' : 'writes';
}

function sameKey(sent: string | string[] | undefined, key: Buffer | undefined): boolean {
  return key !== undefined && typeof sent === 'string' && sent.length === key.length && timingSafeEqual(Buffer.from(sent), key);
}

/**
 * Per-address request limits (@fastify/rate-limit, one fixed minute window
 * per address and route class). Past a limit: 429 `rate_limited` in the API's
 * error format, with Retry-After. IPv6 clients are counted by /56, as one
 * host usually holds a whole prefix. One hook for the whole app, installed
 * before authentication's: requests with bad tokens and unknown paths count too.
 */
export async function installRateLimit(app: FastifyInstance, { limits, clientAddress, store, internalKey }: RateLimitOptions): Promise<void> {
  const internal = internalKey === undefined ? undefined : Buffer.from(internalKey);
  const perMinute: Record<RouteClass, number> = {
    holds: limits.holdsPerMinute,
    queueJoins: limits.queueJoinsPerMinute,
    writes: limits.writesPerMinute,
    reads: limits.readsPerMinute,
  };
  await app.register(rateLimit, {
    // Not per route: route hooks run after the app's own (authentication), which would refuse a bad-token flood unlimited.
    global: false,
    timeWindow: 60_000,
    ...(store && { store }),
    keyGenerator: (request) => `${routeClass(request)}:${normalizeIP(clientAddress(request.raw), 56)}`,
    max: (_request, key) => perMinute[key.slice(0, key.indexOf(':')) as RouteClass],
    allowList: (request) => UNLIMITED_PATHS.has(request.routeOptions.url ?? '') || sameKey(request.headers[INTERNAL_KEY_HEADER], internal),
    errorResponseBuilder: (_request, context) => {
      const retryAfterSeconds = Math.max(1, Math.ceil(context.ttl / 1000));
      return new ApiError(429, 'rate_limited', `Too many requests from this address; retry in ${retryAfterSeconds} s`, { retryAfterSeconds });
    },
  });
  app.addHook('onRequest', app.rateLimit());
}
