import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

/**
 * Security headers on every response, and CORS for the listed origins only.
 *
 * The Content-Security-Policy is what the built storefront needs and no more:
 * its own scripts, styles and API (WebSocket included: 'self' covers ws: and
 * wss: on the same host), and its inline SVG favicon (data:). No inline
 * scripts, no framing. Requests are not upgraded to https: a node may be
 * served over plain HTTP behind a TLS proxy or on a private network.
 */
export async function installSecurityHeaders(app: FastifyInstance, corsOrigins: readonly string[]): Promise<void> {
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        baseUri: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
      },
    },
  });
  // No list: no CORS headers at all, so browsers allow same-origin callers only.
  if (corsOrigins.length === 0) return;
  await app.register(cors, {
    // An exact allow-list, never a wildcard: browsers send the bearer token along.
    origin: [...corsOrigins],
    credentials: true,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    exposedHeaders: ['ETag', 'Retry-After', 'Idempotent-Replayed', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'],
    maxAge: 600,
  });
}
