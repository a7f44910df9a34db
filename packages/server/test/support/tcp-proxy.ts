import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy a test controls, to put network faults between two real parts:
 * drop every connection, go half-open (keep sockets open but forward nothing,
 * as a dead NAT or a pulled cable does), delay every chunk, or stop listening
 * altogether (the target looks unreachable) and come back on the same port.
 */
export class TcpProxy {
  /** Milliseconds each chunk waits before it is forwarded, both ways. */
  delayMs = 0;
  /** While true, bytes are swallowed in both directions and no socket is closed. */
  blackhole = false;
  /** Chunks swallowed by the blackhole so far: a client's first bytes have arrived and gone nowhere. */
  swallowed = 0;
  /**
   * Answers still to lose: while above 0, the next chunk the target sends is
   * not forwarded; its connection is reset on both sides instead, and the
   * count goes down. Set it before a request: the request was served, the
   * client never hears how.
   */
  dropAnswers = 0;
  private server: Server | undefined;
  private port = 0;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  static forUrl(url: string): TcpProxy {
    const parsed = new URL(url);
    return new TcpProxy(parsed.hostname, Number(parsed.port));
  }

  /** Listens on 127.0.0.1 (the same port as before after a stop); returns the port. */
  async start(): Promise<number> {
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this.port;
  }

  /** Stops listening and resets every open connection: the target is unreachable until start(). */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.dropAll();
    if (server) await new Promise((resolve) => server.close(resolve));
  }

  /** Resets every open connection (both sides see it closed); new ones are still accepted. */
  dropAll(): number {
    const count = this.sockets.size;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    return count;
  }

  get connections(): number {
    return this.sockets.size;
  }

  /** The target's URL with its host and port swapped for this proxy's. */
  urlFor(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.port);
    return parsed.toString();
  }

  private accept(client: Socket): void {
    const upstream = connect(this.targetPort, this.targetHost);
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.sockets.add(from);
      from.on('data', (chunk) => {
        if (from === upstream && this.dropAnswers > 0) {
          this.dropAnswers -= 1;
          client.destroy();
          upstream.destroy();
          return;
        }
        this.forward(to, chunk);
      });
      from.on('error', () => to.destroy());
      from.on('close', () => {
        this.sockets.delete(from);
        // A half-open proxy closes nothing: the other side must find out by itself.
        if (!this.blackhole) to.destroy();
      });
    }
  }

  private forward(to: Socket, chunk: Buffer): void {
    if (this.blackhole) {
      this.swallowed += 1;
      return;
    }
    if (this.delayMs === 0) {
      to.write(chunk);
      return;
    }
    // Chunks keep their order: every one waits the same delay, and timers of equal delay fire in order.
    setTimeout(() => {
      if (!to.destroyed && !this.blackhole) to.write(chunk);
    }, this.delayMs);
  }
}
