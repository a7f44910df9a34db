import { errorBody, expiringHolds, idOrSlug, salesPerMinute } from '@ticketpulse/protocol/schemas';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../db/database.ts';
import { asRequester } from '../../db/requester.ts';
import type { Catalog } from '../../inventory/catalog.ts';
import { readExpiringHolds, readSalesPerMinute } from '../../inventory/insights.ts';
import { bearerAuth, requireOrganizer } from '../auth.ts';
import { expiringHoldsQuery, salesQuery } from '../schemas.ts';

const refusals = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody };
const ORGANIZERS = { privileged: true };

/** An organizer's read about one event: role checked first, then the query string. */
const organizerRead = <Query extends z.ZodType, Answer extends z.ZodType>(summary: string, querystring: Query, answer: Answer) => ({
  onRequest: requireOrganizer,
  schema: {
    tags: ['organizer'],
    summary,
    security: bearerAuth,
    params: z.object({ idOrSlug }),
    querystring,
    response: { 200: answer, ...refusals },
  },
});

/** What an organizer's dashboard reads about one event: holds about to lapse, sales per minute. */
export const insightRoutes: FastifyPluginAsyncZod<{ db: Database; catalog: Catalog }> = async (app, { db, catalog }) => {
  const eventIdOf = (idOrSlug: string) => catalog.resolveEventId(idOrSlug, ORGANIZERS);
  app.get(
    '/api/events/:idOrSlug/holds',
    organizerRead('Active holds whose deadline is within the given seconds, soonest first (at most 50, no holder ids)', expiringHoldsQuery, expiringHolds),
    async (request) => {
      const eventId = await eventIdOf(request.params.idOrSlug);
      return asRequester(db, request.principal!, (tx) => readExpiringHolds(tx, eventId, request.query.expiringWithinSeconds));
    },
  );

  app.get(
    '/api/events/:idOrSlug/sales',
    organizerRead('Seats sold per minute over the last N minutes, oldest first, every minute present', salesQuery, salesPerMinute),
    async (request) => {
      const eventId = await eventIdOf(request.params.idOrSlug);
      return asRequester(db, request.principal!, (tx) => readSalesPerMinute(tx, eventId, request.query.minutes));
    },
  );
};
