import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../db/database.ts';

const status = z.object({ status: z.enum(['ok', 'unavailable']), reason: z.string().optional() });

/** Liveness (the process answers) and readiness (it can serve: database reachable, not shutting down). */
export const healthRoutes: FastifyPluginAsyncZod<{ db: Database; isShuttingDown: () => boolean }> = async (
  app,
  { db, isShuttingDown },
) => {
  app.get('/healthz', { schema: { tags: ['health'], response: { 200: status } } }, async () => ({ status: 'ok' as const }));

  app.get('/readyz', { schema: { tags: ['health'], response: { 200: status, 503: status } } }, async (_request, reply) => {
    if (isShuttingDown()) return reply.code(503).send({ status: 'unavailable', reason: 'shutting down' });
    try {
      await db.query('SELECT 1');
      return { status: 'ok' as const };
    } catch {
      return reply.code(503).send({ status: 'unavailable', reason: 'database unreachable' });
    }
  });
};
