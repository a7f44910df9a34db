import { errorBody, simulatorStatus } from '@ticketpulse/protocol/schemas';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { BuyerSimulator } from '../../simulator/buyer-simulator.ts';
import { bearerAuth, requireOrganizer } from '../auth.ts';
import { simulatorChange } from '../schemas.ts';

export type SimulatorControl = Pick<BuyerSimulator, 'status' | 'start' | 'stop'>;

/** Organizers switch the demo's buyer simulator on and off and read its counters. */
export const simulatorRoutes: FastifyPluginAsyncZod<{ simulator: SimulatorControl }> = async (app, { simulator }) => {
  app.get(
    '/api/simulator',
    {
      onRequest: requireOrganizer,
      schema: {
        tags: ['organizer'],
        summary: 'Whether the buyer simulator runs, and what it has done',
        security: bearerAuth,
        response: { 200: simulatorStatus, 401: errorBody, 403: errorBody },
      },
    },
    async () => simulator.status(),
  );

  app.put(
    '/api/simulator',
    {
      onRequest: requireOrganizer,
      schema: {
        tags: ['organizer'],
        summary: 'Start or stop the buyer simulator (simulated holds, purchases and releases on public on-sale events)',
        security: bearerAuth,
        body: simulatorChange,
        response: { 200: simulatorStatus, 400: errorBody, 401: errorBody, 403: errorBody },
      },
    },
    async (request) => {
      await (request.body.running ? simulator.start() : simulator.stop());
      return simulator.status();
    },
  );
};
