import { availabilitySnapshot, errorBody, event, eventWithTicketTypes, idOrSlug } from '@ticketpulse/protocol/schemas';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../db/database.ts';
import { readAvailability } from '../../inventory/availability.ts';
import type { Catalog } from '../../inventory/catalog.ts';
import { bearerAuth, requireOrganizer } from '../auth.ts';
import { audienceOf } from '../../auth/principal.ts';
import { eventChange, newEvent, userId } from '../schemas.ts';
import { notModified } from '../etag.ts';

const params = z.object({ idOrSlug });

/** Events, their ticket types and live availability; organizers create events. */
export const eventRoutes: FastifyPluginAsyncZod<{ db: Database; catalog: Catalog }> = async (app, { db, catalog }) => {
  app.get(
    '/api/events',
    {
      schema: {
        tags: ['events'],
        summary: 'List events (public ones; organizers also see private and draft events)',
        response: { 200: z.object({ events: z.array(event) }) },
      },
    },
    async (request) => ({ events: await catalog.listEvents(audienceOf(request.principal)) }),
  );

  app.get(
    '/api/events/:idOrSlug',
    {
      schema: {
        tags: ['events'],
        summary: 'An event with its ticket types',
        params,
        response: { 200: z.object({ event: eventWithTicketTypes }), 404: errorBody },
      },
    },
    async (request) => ({
      event: await catalog.getEvent(request.params.idOrSlug, audienceOf(request.principal)),
    }),
  );

  app.get(
    '/api/events/:idOrSlug/availability',
    {
      schema: {
        tags: ['events'],
        summary: 'Live availability snapshot (also the polling fallback)',
        description:
          'ETag is the availability version: send it back in If-None-Match and get 304 until something changes.',
        params,
        headers: z.object({ 'if-none-match': z.string().max(200).optional() }),
        response: { 200: availabilitySnapshot, 304: z.undefined(), 404: errorBody },
      },
    },
    async (request, reply) => {
      const snapshot = await readAvailability(db, request.params.idOrSlug, audienceOf(request.principal));
      if (notModified(request, reply, `"${snapshot.version}"`)) return reply.code(304).send();
      return snapshot;
    },
  );

  app.post(
    '/api/events',
    {
      // onRequest: the caller's role is checked before the body is even parsed.
      onRequest: requireOrganizer,
      schema: {
        tags: ['organizer'],
        summary: 'Create an event with its ticket types',
        security: bearerAuth,
        body: newEvent,
        response: { 201: z.object({ event: eventWithTicketTypes }), 400: errorBody, 401: errorBody, 403: errorBody, 409: errorBody },
      },
    },
    async (request, reply) => reply.code(201).send({ event: await catalog.createEvent(request.body) }),
  );

  app.patch(
    '/api/events/:idOrSlug',
    {
      onRequest: requireOrganizer,
      schema: {
        tags: ['organizer'],
        summary: 'Open, pause or close the sale; change visibility or display precision',
        security: bearerAuth,
        params,
        body: eventChange,
        response: { 200: z.object({ event: eventWithTicketTypes }), 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody },
      },
    },
    async (request) => ({ event: await catalog.updateEvent(request.params.idOrSlug, request.body) }),
  );

  const accessRoute = (summary: string) => ({
    onRequest: requireOrganizer,
    schema: {
      tags: ['organizer'],
      summary,
      security: bearerAuth,
      params: z.object({ idOrSlug, userId }),
      response: { 204: z.undefined(), 401: errorBody, 403: errorBody, 404: errorBody },
    },
  });
  app.put('/api/events/:idOrSlug/access/:userId', accessRoute('Open a non-public event to one user'), async (request, reply) => {
    await catalog.grantAccess(request.params.idOrSlug, request.params.userId);
    return reply.code(204).send();
  });
  app.delete(
    '/api/events/:idOrSlug/access/:userId',
    accessRoute("Take a user's access back; their live subscriptions end within a tick"),
    async (request, reply) => {
      await catalog.revokeAccess(request.params.idOrSlug, request.params.userId);
      return reply.code(204).send();
    },
  );
};
