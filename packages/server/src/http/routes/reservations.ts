import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Catalog } from '../../inventory/catalog.ts';
import type { Holds } from '../../inventory/holds.ts';
import { actingHolder, bearerAuth, audienceOf, requireHolder } from '../auth.ts';
import { errorBody, holdRequest, idempotencyHeaders, idOrSlug, reservationEnvelope, uuid } from '../schemas.ts';

const reservationParams = z.object({ id: uuid });
const refusals = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 409: errorBody };

/** Holds: reserve seats, then confirm, extend or release them. */
export const reservationRoutes: FastifyPluginAsyncZod<{ catalog: Catalog; holds: Holds }> = async (app, { catalog, holds }) => {
  app.post(
    '/api/events/:idOrSlug/reservations',
    {
      schema: {
        tags: ['holds'],
        summary: 'Hold seats of one or more ticket types, all or nothing',
        security: bearerAuth,
        params: z.object({ idOrSlug }),
        headers: idempotencyHeaders,
        body: holdRequest,
        response: { 201: reservationEnvelope, ...refusals, 422: errorBody },
      },
    },
    async (request, reply) => {
      const holderId = requireHolder(request);
      const eventId = await catalog.resolveEventId(request.params.idOrSlug, audienceOf(request.principal));
      const idempotencyKey = request.headers['idempotency-key'];
      const { reservation, replayed } = await holds.reserve({
        eventId,
        holderId,
        items: request.body.items,
        ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
      });
      if (replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(201).send({ reservation });
    },
  );

  app.get(
    '/api/reservations/:id',
    {
      schema: {
        tags: ['holds'],
        summary: 'A reservation and its items',
        security: bearerAuth,
        params: reservationParams,
        response: { 200: reservationEnvelope, ...refusals },
      },
    },
    async (request) => ({ reservation: await holds.get(request.params.id, actingHolder(request)) }),
  );

  app.post(
    '/api/reservations/:id/confirm',
    {
      schema: {
        tags: ['holds'],
        summary: 'Complete the purchase: held seats become sold (409 hold_expired if too late)',
        security: bearerAuth,
        params: reservationParams,
        response: { 200: reservationEnvelope, ...refusals },
      },
    },
    async (request) => ({ reservation: await holds.confirm(request.params.id, actingHolder(request)) }),
  );

  app.post(
    '/api/reservations/:id/extend',
    {
      schema: {
        tags: ['holds'],
        summary: 'Push the deadline out by one step, a bounded number of times',
        security: bearerAuth,
        params: reservationParams,
        response: { 200: reservationEnvelope, ...refusals },
      },
    },
    async (request) => ({ reservation: await holds.extend(request.params.id, actingHolder(request)) }),
  );

  app.delete(
    '/api/reservations/:id',
    {
      schema: {
        tags: ['holds'],
        summary: 'Release the hold; its seats return at once',
        security: bearerAuth,
        params: reservationParams,
        response: { 200: reservationEnvelope, ...refusals },
      },
    },
    async (request) => ({ reservation: await holds.release(request.params.id, actingHolder(request)) }),
  );
};
