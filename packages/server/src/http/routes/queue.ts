import { createHash } from 'node:crypto';
import { errorBody, idOrSlug, queueEntryEnvelope, queueEntryPoll, queueEnvelope } from '@ticketpulse/protocol/schemas';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { audienceOf } from '../../auth/principal.ts';
import { pollAfterMs, type Visitor, type WaitingRoom } from '../../waiting-room/waiting-room.ts';
import { notModified } from '../etag.ts';
import { bearerAuth, requireHolder, requireOrganizer } from '../auth.ts';
import { queueChange, queueSetup } from '../schemas.ts';

const params = z.object({ idOrSlug });
const refusals = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 409: errorBody };

const visitor = (request: FastifyRequest): Visitor => ({ holderId: requireHolder(request), audience: audienceOf(request.principal) });

/** The virtual waiting room (docs/waiting-room.md): organizers set it up and watch it; visitors join, read and leave their entry. */
export const queueRoutes: FastifyPluginAsyncZod<{ waitingRoom: WaitingRoom }> = async (app, { waitingRoom }) => {
  const organizerRoute = (summary: string) => ({
    onRequest: requireOrganizer,
    schema: { tags: ['waiting room'], summary, security: bearerAuth, params, response: { 200: queueEnvelope, ...refusals } },
  });
  const setup = organizerRoute('Put a waiting room in front of the event, or replace its settings (live state is kept)');
  app.put('/api/events/:idOrSlug/queue', { ...setup, schema: { ...setup.schema, body: queueSetup } }, async (request) => ({
    queue: await waitingRoom.configure(request.params.idOrSlug, request.body),
  }));
  const change = organizerRoute('Change some settings of the waiting room, live; pause or resume admission');
  app.patch('/api/events/:idOrSlug/queue', { ...change, schema: { ...change.schema, body: queueChange } }, async (request) => ({
    queue: await waitingRoom.configure(request.params.idOrSlug, request.body),
  }));
  app.get('/api/events/:idOrSlug/queue', organizerRoute('The waiting room: settings and live figures'), async (request) => ({
    queue: await waitingRoom.read(request.params.idOrSlug),
  }));

  app.post(
    '/api/events/:idOrSlug/queue/entries',
    {
      schema: {
        tags: ['waiting room'],
        summary: 'Join the waiting room (201), or get your entry as it is (200): never a better place',
        security: bearerAuth,
        params,
        response: { 200: queueEntryEnvelope, 201: queueEntryEnvelope, ...refusals },
      },
    },
    async (request, reply) => {
      const { entry, created } = await waitingRoom.join(request.params.idOrSlug, visitor(request));
      return reply.code(created ? 201 : 200).send({ entry });
    },
  );
  const entryRoute = (summary: string) => ({
    schema: { tags: ['waiting room'], summary, security: bearerAuth, params, response: { 200: queueEntryEnvelope, ...refusals } },
  });
  app.get(
    '/api/events/:idOrSlug/queue/entries/me',
    {
      schema: {
        tags: ['waiting room'],
        summary: "Your entry (status, position, wait, pass), the room's live state, and when to ask again; reading it counts as being here",
        description: 'The polling fallback of the realtime `queue` frames. Send the ETag back in If-None-Match: 304 while nothing changed (still counts as being here).',
        security: bearerAuth,
        params,
        headers: z.object({ 'if-none-match': z.string().max(200).optional() }),
        response: { 200: queueEntryPoll, 304: z.undefined(), ...refusals },
      },
    },
    async (request, reply) => {
      const entry = await waitingRoom.entry(request.params.idOrSlug, visitor(request));
      const queue = await waitingRoom.liveOf(entry.eventId);
      // The answer's version: while it is the same, the client keeps what it has (its pollAfterMs included).
      const etag = `"${createHash('sha256').update(JSON.stringify([entry, queue])).digest('base64url').slice(0, 22)}"`;
      if (notModified(request, reply, etag, 'private, no-cache')) return reply.code(304).send();
      return { entry, queue, pollAfterMs: pollAfterMs(entry) };
    },
  );
  app.delete('/api/events/:idOrSlug/queue/entries/me', entryRoute('Leave the waiting room'), async (request) => ({
    entry: await waitingRoom.leave(request.params.idOrSlug, visitor(request)),
  }));
};
