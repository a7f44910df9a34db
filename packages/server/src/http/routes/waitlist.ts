import { errorBody, idOrSlug, waitlistEntries, waitlistEntryEnvelope, waitlistEnvelope } from '@ticketpulse/protocol/schemas';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { audienceOf } from '../../auth/principal.ts';
import type { WaitingList } from '../../inventory/waiting-list.ts';
import { bearerAuth, requireHolder, requireOrganizer } from '../auth.ts';
import { uuid, waitlistChange, waitlistJoin, waitlistTicketTypeChange } from '../schemas.ts';

const refusals = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 409: errorBody };

/** The waiting lists of sold-out ticket types (docs/waiting-list.md): buyers join and leave; organizers switch them and watch them. */
export const waitlistRoutes: FastifyPluginAsyncZod<{ waitingList: WaitingList }> = async (app, { waitingList }) => {
  app.post(
    '/api/event-tickets/:id/waitlist',
    {
      schema: {
        tags: ['waiting list'],
        summary: 'Join the waiting list of a sold-out ticket type (201), or get your live entry there as it is (200)',
        security: bearerAuth,
        params: z.object({ id: uuid }),
        body: waitlistJoin,
        response: { 200: waitlistEntryEnvelope, 201: waitlistEntryEnvelope, ...refusals, 422: errorBody },
      },
    },
    async (request, reply) => {
      const holderId = requireHolder(request);
      const { entry, created } = await waitingList.join(request.params.id, holderId, audienceOf(request.principal), request.body.quantity);
      return reply.code(created ? 201 : 200).send({ entry });
    },
  );
  app.get(
    '/api/waitlist/me',
    {
      schema: {
        tags: ['waiting list'],
        summary: 'Your waiting-list entries, newest first: place in line, offers and what became of them',
        security: bearerAuth,
        response: { 200: waitlistEntries, ...refusals },
      },
    },
    async (request) => ({ entries: await waitingList.entriesOf(requireHolder(request)) }),
  );
  app.delete(
    '/api/waitlist/:entryId',
    {
      schema: {
        tags: ['waiting list'],
        summary: 'Leave a waiting list; a live offer is given back to the next in line',
        security: bearerAuth,
        params: z.object({ entryId: uuid }),
        response: { 200: waitlistEntryEnvelope, ...refusals },
      },
    },
    async (request) => ({ entry: await waitingList.leave(request.params.entryId, requireHolder(request)) }),
  );

  const organizerSchema = { tags: ['organizer'], security: bearerAuth, response: { 200: waitlistEnvelope, ...refusals } };
  const eventParams = z.object({ idOrSlug });
  app.get(
    '/api/events/:idOrSlug/waitlist',
    { onRequest: requireOrganizer, schema: { ...organizerSchema, summary: "The event's waiting lists: settings, length and offers per ticket type", params: eventParams } },
    async (request) => ({ waitlist: await waitingList.read(request.params.idOrSlug) }),
  );
  app.patch(
    '/api/events/:idOrSlug/waitlist',
    {
      onRequest: requireOrganizer,
      schema: { ...organizerSchema, summary: 'Switch the event’s waiting lists on or off (off closes them), or change offerSeconds', params: eventParams, body: waitlistChange },
    },
    async (request) => ({ waitlist: await waitingList.configure(request.params.idOrSlug, request.body) }),
  );
  app.patch(
    '/api/event-tickets/:id/waitlist',
    {
      onRequest: requireOrganizer,
      schema: { ...organizerSchema, summary: "Switch one ticket type's waiting list on or off (off closes it)", params: z.object({ id: uuid }), body: waitlistTicketTypeChange },
    },
    async (request) => ({ waitlist: await waitingList.configureTicketType(request.params.id, request.body.enabled) }),
  );
};
