import swagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Database } from '../db/database.ts';
import type { Catalog } from '../inventory/catalog.ts';
import type { Holds } from '../inventory/holds.ts';
import { authPlugin } from './auth.ts';
import { type TokenVerifier } from '../auth/token-verifier.ts';
import { ApiError } from '../api-error.ts';
import { installErrorHandling, replyWithError } from './errors.ts';
import { POSTGREST_PREFIX } from './postgrest-errors.ts';
import { internalTraffic } from './internal-traffic.ts';
import { installRateLimit, type RateLimitOptions } from './rate-limit.ts';
import { RequestLogging } from './request-logging.ts';
import { devAuthRoutes } from './routes/dev-auth.ts';
import { eventRoutes } from './routes/events.ts';
import { healthRoutes } from './routes/health.ts';
import { insightRoutes } from './routes/insights.ts';
import { metricsRoutes, type MetricsSource } from './routes/metrics.ts';
import { realtimeStatsRoutes } from './routes/realtime-stats.ts';
import type { RealtimeStats } from '@ticketpulse/protocol';
import { queueRoutes } from './routes/queue.ts';
import { reservationRoutes } from './routes/reservations.ts';
import type { WaitingRoom } from '../waiting-room/waiting-room.ts';
import type { WaitingList } from '../inventory/waiting-list.ts';
import { simulatorRoutes, type SimulatorControl } from './routes/simulator.ts';
import { supabaseRestRoutes } from './routes/supabase-rest.ts';
import { ticketTypeRoutes } from './routes/ticket-types.ts';
import { waitlistRoutes } from './routes/waitlist.ts';
import { pushRoutes } from './routes/push.ts';
import type { PushSubscriptions } from '../push/push-subscriptions.ts';
import { installSecurityHeaders } from './security-headers.ts';
import { hasStorefront, serveStorefront } from './storefront.ts';

export interface AppDeps {
  db: Database;
  catalog: Catalog;
  holds: Holds;
  waitingRoom: WaitingRoom;
  waitingList: WaitingList;
  /** Web Push: browsers' subscriptions and watches, and the VAPID public key they subscribe with. */
  push: { subscriptions: PushSubscriptions; publicKey: string };
  verifier: TokenVerifier;
  devAuth: boolean;
  logger: FastifyBaseLogger;
  metrics: MetricsSource;
  /** This node's realtime connections and viewers (with `start --workers`, every worker's). */
  realtimeStats: () => RealtimeStats | Promise<RealtimeStats>;
  /** Demo mode only: without it, /api/simulator does not exist. */
  simulator?: SimulatorControl;
  /** The built storefront (index.html and assets/); served when it exists. */
  storefrontDir: string | undefined;
  /** Origins allowed cross-origin (CORS); none (the default): same origin only. */
  corsOrigins?: readonly string[];
  isShuttingDown: () => boolean;
  rateLimit: Omit<RateLimitOptions, 'isInternal'>;
  /** Demo mode only: the key the service's own buyer simulator sends; its requests are not limited and log at debug. */
  internalKey?: string;
  /** Shorter in tests; the defaults below otherwise. */
  timeouts?: Partial<HttpTimeouts>;
}

/** Largest JSON body accepted; a hold or a new event is far smaller. */
const BODY_LIMIT_BYTES = 64 * 1024;

/**
 * How long a client may take to send a request. Without these, a slowloris
 * client dribbling its headers (a WebSocket upgrade included) holds a socket
 * for Node's 60 s, and one dribbling a body forever: Fastify turns Node's
 * request timeout off. Timed-out requests get 408 and are closed.
 */
export interface HttpTimeouts {
  /** From the connection (or the previous request) to the end of the headers. */
  headersMs: number;
  /** The whole request, body included; at least headersMs. */
  requestMs: number;
  /** How often Node looks for requests past those limits. */
  checkEveryMs: number;
}

const DEFAULT_TIMEOUTS: HttpTimeouts = { headersMs: 10_000, requestMs: 30_000, checkEveryMs: 1000 };

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const timeouts = { ...DEFAULT_TIMEOUTS, ...deps.timeouts };
  const isInternal = internalTraffic(deps.internalKey);
  const app = Fastify({
    loggerInstance: deps.logger,
    logController: new RequestLogging(isInternal),
    bodyLimit: BODY_LIMIT_BYTES,
    requestTimeout: timeouts.requestMs,
    http: { headersTimeout: timeouts.headersMs, connectionsCheckingInterval: timeouts.checkEveryMs },
    // Errors raised before routing (bad URLs, over-long params) get the same {error: {code}} body.
    frameworkErrors: replyWithError,
    // Requests that arrive while the node drains get the onRequest hook's 503 shutting_down (below), in the usual error format, not Fastify's own 503.
    return503OnClosing: false,
  });
  // JSON only: anything else is 415, not a string handed to a JSON schema.
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandling(app);
  // First, so refusals (rate limits, auth) carry the headers too.
  await installSecurityHeaders(app, deps.corsOrigins ?? []);
  // Before any route: the limits attach to each route as it is added.
  await installRateLimit(app, { ...deps.rateLimit, isInternal });

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'TicketPulse API',
        version: '1.0.0',
        description: 'Live ticket availability and holds. Errors are {error: {code, message}}; codes are listed in docs/api.md.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  // While draining, new requests are told to go elsewhere, in the usual error format.
  app.addHook('onRequest', async () => {
    if (deps.isShuttingDown()) throw new ApiError(503, 'shutting_down', 'This node is shutting down; retry', { retryAfterSeconds: 1 });
  });
  await app.register(authPlugin, { verifier: deps.verifier });

  const typed = app.withTypeProvider<ZodTypeProvider>();
  await typed.register(healthRoutes, { db: deps.db });
  await typed.register(eventRoutes, { db: deps.db, catalog: deps.catalog });
  await typed.register(reservationRoutes, { holds: deps.holds, waitingRoom: deps.waitingRoom });
  await typed.register(queueRoutes, { waitingRoom: deps.waitingRoom });
  await typed.register(ticketTypeRoutes, { catalog: deps.catalog });
  await typed.register(waitlistRoutes, { waitingList: deps.waitingList });
  await typed.register(pushRoutes, deps.push);
  await typed.register(insightRoutes, { db: deps.db, catalog: deps.catalog });
  await typed.register(realtimeStatsRoutes, { stats: deps.realtimeStats });
  if (deps.simulator) await typed.register(simulatorRoutes, { simulator: deps.simulator });
  await typed.register(supabaseRestRoutes, { db: deps.db, prefix: POSTGREST_PREFIX });
  if (deps.devAuth) await typed.register(devAuthRoutes, { verifier: deps.verifier });
  await app.register(metricsRoutes, deps.metrics);

  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  if (hasStorefront(deps.storefrontDir)) {
    await serveStorefront(app, deps.storefrontDir);
  } else {
    // Without a built storefront, / says where to look.
    app.get('/', { schema: { hide: true } }, async () => ({
      service: 'TicketPulse',
      events: '/api/events',
      openapi: '/api/openapi.json',
      health: '/healthz',
    }));
  }
  return app;
}
