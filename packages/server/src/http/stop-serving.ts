import type { Server } from 'node:http';

/**
 * The HTTP server's requests in flight, counted from when it starts serving,
 * so that a node about to exit can stop listening and wait for those alone:
 * Fastify's close (and Node's server.close) also waits for every other
 * connection to end, WebSocket ones included, which an exiting node leaves
 * to the kernel.
 */
export class RequestsInFlight {
  private count = 0;
  private waiting: Array<() => void> = [];

  constructor(server: Server) {
    server.on('request', (_request, response) => {
      this.count += 1;
      // 'close' follows 'finish' (the response handed to the kernel), or ends a response whose connection died.
      response.once('close', () => this.done());
    });
  }

  private done(): void {
    this.count -= 1;
    if (this.count === 0) for (const resolve of this.waiting.splice(0)) resolve();
  }

  /** Stops listening, closes idle keep-alive connections and resolves once every request in flight has been answered. */
  stop(server: Server): Promise<void> {
    // Node closes idle connections itself here; its callback (all connections gone) is not waited for.
    server.close();
    return this.count === 0 ? Promise.resolve() : new Promise((resolve) => this.waiting.push(resolve));
  }
}
