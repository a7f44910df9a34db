import { errorBody, realtimeStats } from '@ticketpulse/protocol/schemas';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { RealtimeStats } from '@ticketpulse/protocol';
import { bearerAuth, requireOrganizer } from '../auth.ts';

/** How many are watching, on the node that answers (each node counts its own connections; the workers of `start --workers` count as one node). */
export const realtimeStatsRoutes: FastifyPluginAsyncZod<{ stats: () => RealtimeStats | Promise<RealtimeStats> }> = async (app, { stats }) => {
  app.get(
    '/api/realtime/stats',
    {
      onRequest: requireOrganizer,
      schema: {
        tags: ['organizer'],
        summary: "This node's WebSocket connections, watched events and viewers per event (with --workers, every worker's)",
        security: bearerAuth,
        response: { 200: realtimeStats, 401: errorBody, 403: errorBody },
      },
    },
    async () => stats(),
  );
};
