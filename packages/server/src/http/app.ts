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
import type { GatewayStats } from '../realtime/gateway.ts';
import { authPlugin, type TokenVerifier } from './auth.ts';
import { ApiError, installErrorHandling, replyWithError } from './errors.ts';
import { installRateLimit, type RateLimitOptions } from './rate-limit.ts';
import { devAuthRoutes } from './routes/dev-auth.ts';
import { eventRoutes } from './routes/events.ts';
import { healthRoutes } from './routes/health.ts';
import { insightRoutes } from './routes/insights.ts';
import { metricsRoutes, type MetricsSource } from './routes/metrics.ts';
import { realtimeStatsRoutes } from './routes/realtime-stats.ts';
import { reservationRoutes } from './routes/reservations.ts';
import { simulatorRoutes, type SimulatorControl } from './routes/simulator.ts';
import { supabaseRestRoutes } from './routes/supabase-rest.ts';
import { ticketTypeRoutes } from './routes/ticket-types.ts';
import { hasStorefront, serveStorefront } from './storefront.ts';

export interface AppDeps {
  db: Database;
  catalog: Catalog;
  holds: Holds;
  verifier: TokenVerifier;
  devAuth: boolean;
  logger: FastifyBaseLogger;
  metrics: MetricsSource;
  /** This node's realtime connections and viewers. */
  realtimeStats: () => GatewayStats;
  simulator: SimulatorControl;
  /** The built storefront (index.html and assets/); served when it exists. */
  storefrontDir: string | undefined;
  isShuttingDown: () => boolean;
  rateLimit: RateLimitOptions;
}

/** Largest JSON body accepted; a hold or a new event is far smaller. */
const BODY_LIMIT_BYTES = 64 * 1024;

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: BODY_LIMIT_BYTES,
    // Errors raised before routing (bad URLs, over-long params) get the same {error: {code}} body.
    frameworkErrors: replyWithError,
  });
  // JSON only: anything else is 415, not a string handed to a JSON schema.
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandling(app);
  // Before any route: the limits attach to each route as it is added.
  await installRateLimit(app, deps.rateLimit);

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
  await typed.register(reservationRoutes, { holds: deps.holds });
  await typed.register(ticketTypeRoutes, { catalog: deps.catalog });
  await typed.register(insightRoutes, { db: deps.db, catalog: deps.catalog });
  await typed.register(realtimeStatsRoutes, { stats: deps.realtimeStats });
  await typed.register(simulatorRoutes, { simulator: deps.simulator });
  await typed.register(supabaseRestRoutes, { db: deps.db });
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
