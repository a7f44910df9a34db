import { errorBody, simulatorStatus } from '@ticketpulse/protocol/schemas';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { SimulatorStatus } from '@ticketpulse/protocol';
import { bearerAuth, requireOrganizer } from '../auth.ts';
import { simulatorChange } from '../schemas.ts';

/** The buyer simulator, here or in another worker (cluster/simulator.ts). */
export interface SimulatorControl {
  status(): SimulatorStatus | Promise<SimulatorStatus>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

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
        response: { 200: simulatorStatus, 401: errorBody, 403: errorBody, 503: errorBody },
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
        response: { 200: simulatorStatus, 400: errorBody, 401: errorBody, 403: errorBody, 503: errorBody },
      },
    },
    async (request) => {
      await (request.body.running ? simulator.start() : simulator.stop());
      return simulator.status();
    },
  );
};
