import type { IncomingMessage, ServerResponse } from 'node:http';
import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * The Content-Security-Policy is what the built storefront needs and no more:
 * its own scripts, styles and API (WebSocket included: 'self' covers ws: and
 * wss: on the same host), and its inline SVG favicon (data:). No inline
 * scripts, no framing. Requests are not upgraded to https: a node may be
 * served over plain HTTP behind a TLS proxy or on a private network.
 */
const HELMET: HelmetOptions = {
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
};

/**
 * Helmet's headers for these options, worked out once. They depend on
 * nothing in the request (no nonces), and @fastify/helmet built Helmet
 * again, parsing every directive, for every request: a tenth of a join's
 * CPU time over HTTP.
 */
function helmetHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader: (name: string, value: string) => void (headers[name.toLowerCase()] = value),
    // X-Powered-By: Fastify never sends it.
    removeHeader: () => {},
  };
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error;
  });
  return headers;
}

/** Security headers on every response, and CORS for the listed origins only. */
export async function installSecurityHeaders(app: FastifyInstance, corsOrigins: readonly string[]): Promise<void> {
  const headers = helmetHeaders(HELMET);
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers);
    done();
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
