import rateLimit, { normalizeIP, type FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ClientAddressOf } from '../limits/client-address.ts';
import type { InternalTraffic } from './internal-traffic.ts';
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
  /** The window counts are kept in: one minute, unless a test shortens it to see a window end (the limits then apply per window). */
  windowMs?: number;
}

export interface RateLimitOptions {
  limits: HttpRateLimits;
  /** The address limits count, the same function as the realtime gateway's. */
  clientAddress: ClientAddressOf;
  /** Where counts live: shared through Redis (TICKETPULSE_REDIS_URL); this node's memory by default. */
  store?: FastifyRateLimitStoreCtor;
  /** The service's own demo traffic (the buyer simulator's requests), never limited: demo traffic is not abuse. */
  isInternal: InternalTraffic;
}

type RouteClass = 'holds' | 'queueJoins' | 'writes' | 'reads';

/** Probes and scrapers poll on a schedule: never limited. */
const UNLIMITED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

function routeClass(request: FastifyRequest): RouteClass {
  if (request.method === 'POST' && request.routeOptions.url === '/api/events/:idOrSlug/reservations') return 'holds';
  if (request.method === 'POST' && request.routeOptions.url === '/api/events/:idOrSlug/queue/entries') return 'queueJoins';
  return request.method === 'GET' || request.method === 'HEAD' ? 'reads' : 'writes';
}

/**
 * Per-address request limits (@fastify/rate-limit, one fixed minute window
 * per address and route class). Past a limit: 429 `rate_limited` in the API's
 * error format, with Retry-After. IPv6 clients are counted by /56, as one
 * host usually holds a whole prefix. One hook for the whole app, installed
 * before authentication's: requests with bad tokens and unknown paths count too.
 */
export async function installRateLimit(app: FastifyInstance, { limits, clientAddress, store, isInternal }: RateLimitOptions): Promise<void> {
  const perMinute: Record<RouteClass, number> = {
    holds: limits.holdsPerMinute,
    queueJoins: limits.queueJoinsPerMinute,
    writes: limits.writesPerMinute,
    reads: limits.readsPerMinute,
  };
  await app.register(rateLimit, {
    // Not per route: route hooks run after the app's own (authentication), which would refuse a bad-token flood unlimited.
    global: false,
    timeWindow: limits.windowMs ?? 60_000,
    ...(store && { store }),
    keyGenerator: (request) => `${routeClass(request)}:${normalizeIP(clientAddress(request.raw), 56)}`,
    max: (_request, key) => perMinute[key.slice(0, key.indexOf(':')) as RouteClass],
    allowList: (request) => UNLIMITED_PATHS.has(request.routeOptions.url ?? '') || isInternal(request),
    errorResponseBuilder: (_request, context) => {
      const retryAfterSeconds = Math.max(1, Math.ceil(context.ttl / 1000));
      return new ApiError(429, 'rate_limited', `Too many requests from this address; retry in ${retryAfterSeconds} s`, { retryAfterSeconds });
    },
  });
  app.addHook('onRequest', app.rateLimit());
}
