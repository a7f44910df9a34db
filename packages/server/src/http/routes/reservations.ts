import { QUEUE_PASS_HEADER } from '@ticketpulse/protocol';
import { errorBody, idOrSlug, reservationEnvelope } from '@ticketpulse/protocol/schemas';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Holds } from '../../inventory/holds.ts';
import type { WaitingRoom } from '../../waiting-room/waiting-room.ts';
import { ApiError } from '../../api-error.ts';
import { actingHolder, bearerAuth, requireHolder } from '../auth.ts';
import { audienceOf } from '../../auth/principal.ts';
import { holdRequest, idempotencyHeaders, queuePassHeader, uuid } from '../schemas.ts';

const reservationParams = z.object({ id: uuid });
const refusals = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 409: errorBody };

/** Holds: reserve seats, then confirm, extend or release them. */
export const reservationRoutes: FastifyPluginAsyncZod<{ holds: Holds; waitingRoom: WaitingRoom }> = async (app, { holds, waitingRoom }) => {
  app.post(
    '/api/events/:idOrSlug/reservations',
    {
      schema: {
        tags: ['holds'],
        summary: 'Hold seats of one or more ticket types, all or nothing',
        security: bearerAuth,
        params: z.object({ idOrSlug }),
        headers: idempotencyHeaders.extend(queuePassHeader),
        body: holdRequest,
        response: { 201: reservationEnvelope, ...refusals, 422: errorBody },
      },
    },
    async (request, reply) => {
      const holderId = requireHolder(request);
      const idempotencyKey = request.headers['idempotency-key'];
      // Who may hold on a queued event is decided in the hold itself, by the token's sub; a pass sent along must be genuine too.
      const pass = request.headers[QUEUE_PASS_HEADER];
      if (pass !== undefined) {
        const check = await waitingRoom.checkPass(pass, request.params.idOrSlug, holderId);
        if (!check.valid) throw new ApiError(403, check.reason, check.reason === 'queue_pass_expired' ? 'The queue pass has expired' : 'The queue pass is not valid for this event and user');
      }
      const { reservation, replayed } = await holds.reserve({
        eventId: request.params.idOrSlug,
        audience: audienceOf(request.principal),
        holderId,
        items: request.body.items,
        ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
      });
      if (replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(201).send({ reservation });
    },
  );

  // Acting on an existing hold: the same parameters, refusals and answer for each action.
  const actions: Array<[method: 'GET' | 'POST' | 'DELETE', url: string, summary: string, act: typeof holds.get]> = [
    ['GET', '/api/reservations/:id', 'A reservation and its items', (id, holder) => holds.get(id, holder)],
    [
      'POST',
      '/api/reservations/:id/confirm',
      'Complete the purchase: held seats become sold (409 hold_expired if too late)',
      (id, holder) => holds.confirm(id, holder),
    ],
    ['POST', '/api/reservations/:id/extend', 'Push the deadline out by one step, a bounded number of times', (id, holder) => holds.extend(id, holder)],
    ['DELETE', '/api/reservations/:id', 'Release the hold; its seats return at once', (id, holder) => holds.release(id, holder)],
  ];
  for (const [method, url, summary, act] of actions) {
    app.route({
      method,
      url,
      schema: { tags: ['holds'], summary, security: bearerAuth, params: reservationParams, response: { 200: reservationEnvelope, ...refusals } },
      handler: async (request) => ({ reservation: await act(request.params.id, actingHolder(request)) }),
    });
  }
};
