import { errorBody, ticketType } from '@ticketpulse/protocol/schemas';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Catalog } from '../../inventory/catalog.ts';
import { bearerAuth, requireOrganizer } from '../auth.ts';
import { ticketTypeChange, uuid } from '../schemas.ts';

/** Organizers change a ticket type's capacity, status or per-order limit. */
export const ticketTypeRoutes: FastifyPluginAsyncZod<{ catalog: Catalog }> = async (app, { catalog }) => {
  app.patch(
    '/api/event-tickets/:id',
    {
      // onRequest: the caller's role is checked before the body is even parsed.
      onRequest: requireOrganizer,
      schema: {
        tags: ['organizer'],
        summary: 'Change capacity (never below sold + held), status or max per order',
        security: bearerAuth,
        params: z.object({ id: uuid }),
        body: ticketTypeChange,
        response: { 200: z.object({ ticketType }), 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 409: errorBody },
      },
    },
    async (request) => ({ ticketType: await catalog.updateTicketType(request.params.id, request.body) }),
  );
};
