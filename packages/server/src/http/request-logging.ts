import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import type { InternalTraffic } from './internal-traffic.ts';

/**
 * Fastify's per-request log lines ("incoming request", "request completed"),
 * at info as usual, except for the service's own demo traffic: the buyer
 * simulator's requests log at debug, so a demo's log is not a line per
 * simulated request. Their errors keep Fastify's levels.
 */
export class RequestLogging extends LogController {
  constructor(private readonly isInternal: InternalTraffic) {
    super();
  }

  override incomingRequest(request: FastifyRequest, reply: FastifyReply, metadata?: Record<string, unknown>): void {
    if (this.isInternal(request)) request.log.debug({ req: request }, 'incoming request');
    else super.incomingRequest(request, reply, metadata);
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply, metadata?: Record<string, unknown>): void {
    if (!error && this.isInternal(request)) reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
    else super.requestCompleted(error, request, reply, metadata);
  }
}
