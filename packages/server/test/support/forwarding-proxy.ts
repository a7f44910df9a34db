import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

/**
 * A reverse proxy as nginx's `$proxy_add_x_forwarded_for` and most cloud load
 * balancers behave: it appends the address of whoever connected to it to the
 * X-Forwarded-For the client sent, and forwards HTTP requests and WebSocket
 * upgrades to its target. Chain two for two hops.
 */
export class ForwardingProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly target: URL) {}

  /** The target's host as sockets take it: IPv6 without its URL brackets. */
  private get host(): string {
    return this.target.hostname.replace(/^\[|\]$/g, '');
  }

  /** Listens on `host` (127.0.0.1 or ::1) and forwards to `targetUrl`; returns the proxy's own URL. */
  static async start(targetUrl: string, host = '127.0.0.1'): Promise<{ proxy: ForwardingProxy; url: string }> {
    const proxy = new ForwardingProxy(new URL(targetUrl));
    const server = createServer((req, res) => {
      const upstream = httpRequest(
        { host: proxy.host, port: proxy.target.port, method: req.method, path: req.url, headers: proxy.forwardedHeaders(req) },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    server.on('connection', (socket) => {
      proxy.sockets.add(socket);
      socket.once('close', () => proxy.sockets.delete(socket));
    });
    server.on('upgrade', (req, client: Socket, head: Buffer) => proxy.upgrade(req, client, head));
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    proxy.server = server;
    const { port } = server.address() as AddressInfo;
    return { proxy, url: `http://${host.includes(':') ? `[${host}]` : host}:${port}` };
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private forwardedHeaders(req: IncomingMessage): Record<string, string | string[]> {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = value;
    const sent = req.headers['x-forwarded-for'];
    const peer = req.socket.remoteAddress!.replace(/^::ffff:/, '');
    headers['x-forwarded-for'] = sent ? `${Array.isArray(sent) ? sent.join(', ') : sent}, ${peer}` : peer;
    return headers;
  }

  /** Replays the upgrade request upstream with the appended header, then joins the two sockets. */
  private upgrade(req: IncomingMessage, client: Socket, head: Buffer): void {
    const upstream = connect({ host: this.host, port: Number(this.target.port) });
    this.sockets.add(upstream);
    upstream.once('close', () => this.sockets.delete(upstream));
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (const [name, value] of Object.entries(this.forwardedHeaders(req))) {
      for (const one of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${one}`);
    }
    upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length > 0) upstream.write(head);
    upstream.pipe(client).pipe(upstream);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    upstream.on('error', close);
    client.on('error', close);
    upstream.once('close', close);
    client.once('close', close);
  }
}
