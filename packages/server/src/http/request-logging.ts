import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import type { InternalTraffic } from './internal-traffic.ts';

/**
 * The service's per-request log lines. At info, one line per request, when
 * it is answered ("request completed": method, URL, address, status and
 * time), as an access log has it: Fastify's default is a second line when
 * the request arrives, which cost as much again (a JSON line and a write to
 * standard output each, about 30 µs of a request's CPU time) and said
 * nothing the first does not. That "incoming request" line is at debug, for
 * following a request that never finishes. Requests that fail are logged at
 * error (method and URL included). The service's own demo traffic (the buyer
 * simulator's requests) completes at debug, so a demo's log is not a line
 * per simulated request. LOG_LEVEL: warn for no line per request, debug for both.
 */
export class RequestLogging extends LogController {
  constructor(private readonly isInternal: InternalTraffic) {
    super();
  }

  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const line = { req: request, res: reply, responseTime: reply.elapsedTime };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else if (this.isInternal(request)) reply.log.debug(line, 'request completed');
    else reply.log.info(line, 'request completed');
  }
}
