import { createServer, request, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP proxy in front of the service that can refuse WebSocket upgrades,
 * as a corporate proxy or a firewall does, while plain HTTP still passes.
 */
export class UpgradeProxy {
  refuseUpgrades = false;
  private server: Server | undefined;
  /** Upgraded connections are raw TCP tunnels the HTTP server no longer tracks. */
  private readonly tunnels = new Set<Socket>();

  constructor(private readonly target: string) {}

  async start(): Promise<string> {
    const target = new URL(this.target);
    this.server = createServer((req, res) => {
      const upstream = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (reply) => {
        res.writeHead(reply.statusCode ?? 502, reply.headers);
        // A connection reset mid-answer (the proxy stopping) ends this answer, not the test run.
        reply.on('error', () => res.destroy());
        reply.pipe(res);
      });
      upstream.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
      req.pipe(upstream);
    });
    this.server.on('upgrade', (req, socket, head) => {
      if (this.refuseUpgrades) {
        socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      const upstream = connect(Number(target.port), target.hostname, () => {
        upstream.write(`${req.method} ${req.url} HTTP/1.1\r\n${Object.entries(req.headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`);
        upstream.write(head);
        socket.pipe(upstream).pipe(socket);
      });
      this.tunnels.add(upstream);
      this.tunnels.add(socket as Socket);
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Drops every connection, open upgrades included. */
  async stop(): Promise<void> {
    for (const tunnel of this.tunnels) tunnel.destroy();
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}
