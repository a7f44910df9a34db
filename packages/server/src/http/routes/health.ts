import { errorBody } from '@ticketpulse/protocol/schemas';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../db/database.ts';
import { ApiError } from '../../api-error.ts';

const ok = z.object({ status: z.literal('ok') });

/**
 * Liveness (the process answers) and readiness (the database is reachable).
 * Not ready is 503 in the usual error format: database_unavailable, or
 * shutting_down from a draining node before it reaches these routes.
 */
export const healthRoutes: FastifyPluginAsyncZod<{ db: Database }> = async (app, { db }) => {
  app.get('/healthz', { schema: { tags: ['health'], response: { 200: ok } } }, async () => ({ status: 'ok' as const }));

  app.get('/readyz', { schema: { tags: ['health'], response: { 200: ok, 503: errorBody } } }, async () => {
    try {
      await db.query('SELECT 1');
    } catch {
      throw new ApiError(503, 'database_unavailable', 'The database is unreachable', { retryAfterSeconds: 1 });
    }
    return { status: 'ok' as const };
  });
};
