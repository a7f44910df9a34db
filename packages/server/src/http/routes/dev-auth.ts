import { devToken } from '@ticketpulse/protocol/schemas';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { TokenVerifier } from '../../auth/token-verifier.ts';
import { devTokenRequest } from '../schemas.ts';

const DEFAULT_TTL_SECONDS = 24 * 3600;

/** Demo only (TICKETPULSE_DEV_AUTH=1): mints a token for a fresh user id in any role. */
export const devAuthRoutes: FastifyPluginAsyncZod<{ verifier: TokenVerifier }> = async (app, { verifier }) => {
  app.post(
    '/api/auth/dev-token',
    {
      schema: {
        tags: ['auth'],
        summary: 'Mint a development token (only when TICKETPULSE_DEV_AUTH=1)',
        body: devTokenRequest,
        response: { 201: devToken },
      },
    },
    async (request, reply) => {
      const minted = await verifier.signForNewUser(
        request.body?.role ?? 'authenticated',
        request.body?.ttlSeconds ?? DEFAULT_TTL_SECONDS,
      );
      return reply.code(201).send({ ...minted, expiresAt: minted.expiresAt.toISOString() });
    },
  );
};
