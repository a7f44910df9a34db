import { errorBody, pushSubscriptionStored, pushWatches, pushWatchStored, vapidPublicKey } from '@ticketpulse/protocol/schemas';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiError } from '../../api-error.ts';
import { audienceOf } from '../../auth/principal.ts';
import type { PushSubscriptions } from '../../push/push-subscriptions.ts';
import { bearerAuth, requireHolder } from '../auth.ts';
import { pushEndpointRef, pushSubscriptionBody, uuid } from '../schemas.ts';

const refusals = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 409: errorBody };

/** Web Push (docs/push.md): the key browsers subscribe with, their subscriptions, and "notify me" watches. */
export const pushRoutes: FastifyPluginAsyncZod<{ subscriptions: PushSubscriptions; publicKey: string }> = async (app, { subscriptions, publicKey }) => {
  app.get(
    '/api/push/vapid-public-key',
    { schema: { tags: ['push'], summary: "The service's VAPID public key: PushManager.subscribe's applicationServerKey", response: { 200: vapidPublicKey } } },
    async () => ({ publicKey }),
  );
  app.post(
    '/api/push/subscriptions',
    {
      schema: {
        tags: ['push'],
        summary: "Store this browser's PushSubscription for your pushes (201), or update it (200)",
        security: bearerAuth,
        body: pushSubscriptionBody,
        response: { 200: pushSubscriptionStored, 201: pushSubscriptionStored, ...refusals },
      },
    },
    async (request, reply) => {
      const holderId = requireHolder(request);
      const { created } = await subscriptions.subscribe(holderId, request.body);
      return reply.code(created ? 201 : 200).send({ subscription: { endpoint: request.body.endpoint, created } });
    },
  );
  app.delete(
    '/api/push/subscriptions',
    {
      schema: {
        tags: ['push'],
        summary: 'Forget one of your browsers: its endpoint as ?endpoint= or in a JSON body {endpoint}',
        security: bearerAuth,
        querystring: pushEndpointRef.partial(),
        body: pushEndpointRef.nullish(),
        response: { 204: z.null(), ...refusals },
      },
    },
    async (request, reply) => {
      const holderId = requireHolder(request);
      const endpoint = request.body?.endpoint ?? request.query.endpoint;
      if (endpoint === undefined) throw new ApiError(400, 'invalid_request', 'Name the endpoint: ?endpoint= or a JSON body {endpoint}');
      await subscriptions.unsubscribe(holderId, endpoint);
      return reply.code(204).send(null);
    },
  );
  app.get(
    '/api/push/watches',
    { schema: { tags: ['push'], summary: 'The sold-out ticket types you asked to be told about', security: bearerAuth, response: { 200: pushWatches, ...refusals } } },
    async (request) => ({ watches: await subscriptions.watchesOf(requireHolder(request)) }),
  );
  app.post(
    '/api/event-tickets/:id/notify',
    {
      schema: {
        tags: ['push'],
        summary: 'Notify me: a push when this sold-out ticket type has seats again (201; 200 if already watching)',
        security: bearerAuth,
        params: z.object({ id: uuid }),
        response: { 200: pushWatchStored, 201: pushWatchStored, ...refusals },
      },
    },
    async (request, reply) => {
      const watch = await subscriptions.watch(request.params.id, requireHolder(request), audienceOf(request.principal));
      return reply.code(watch.created ? 201 : 200).send({ watch });
    },
  );
  app.delete(
    '/api/event-tickets/:id/notify',
    {
      schema: { tags: ['push'], summary: 'Stop watching this ticket type', security: bearerAuth, params: z.object({ id: uuid }), response: { 204: z.null(), ...refusals } },
    },
    async (request, reply) => {
      await subscriptions.unwatch(request.params.id, requireHolder(request));
      return reply.code(204).send(null);
    },
  );
};
