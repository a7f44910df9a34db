import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { ApiError, errorBody } from '../api-error.ts';
import type { ClientAddressOf } from '../limits/client-address.ts';
import type { Admission } from './admission.ts';
import type { RealtimeMetrics } from './metrics.ts';

/** Completes the WebSocket handshake of an upgrade an endpoint has accepted. */
export type Handshake = (onOpen: (ws: WebSocket) => void) => void;

/** A WebSocket protocol served on paths of its own (the native gateway, the Supabase-compatible endpoint). */
export interface WebSocketEndpoint {
  readonly paths: readonly string[];
  /** An upgrade past the shared checks: the endpoint's own checks, then `handshake`, or a refusal (refuseUpgrade). */
  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer, ip: string, handshake: Handshake): void;
}

export interface UpgradeRouterOptions {
  admission: Admission;
  /** The address per-address limits count, the same function as the HTTP API's. */
  clientAddress: ClientAddressOf;
  metrics: RealtimeMetrics;
  endpoints: readonly WebSocketEndpoint[];
}

/**
 * Every WebSocket upgrade on the server passes here once: the path picks the
 * endpoint (404 for none), a draining node refuses (503), and the connection
 * attempt is counted per address (429), all before the handshake, so a flood
 * costs an HTTP response, not a WebSocket. One handshake server for every
 * endpoint, with the one frame size limit.
 */
export class UpgradeRouter {
  private readonly wss: WebSocketServer;
  private readonly byPath = new Map<string, WebSocketEndpoint>();
  private draining = false;

  constructor(private readonly options: UpgradeRouterOptions) {
    // No compression: shared frames are framed once and written to the socket as is (text-frame.ts),
    // which needs ws's sender never to hold a frame back (it does only while compressing).
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.admission.maxFrameBytes, perMessageDeflate: false });
    for (const endpoint of options.endpoints) for (const path of endpoint.paths) this.byPath.set(path, endpoint);
  }

  attach(server: Server): void {
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => void this.route(request, socket, head));
  }

  /** From now on, upgrades are refused with 503: the node is shutting down. */
  drain(): void {
    this.draining = true;
  }

  close(): void {
    this.draining = true;
    this.wss.close();
  }

  private async route(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const { pathname } = new URL(request.url ?? '/', 'http://localhost');
    const endpoint = this.byPath.get(pathname);
    if (!endpoint) return refuseUpgrade(socket, new ApiError(404, 'not_found', `No WebSocket endpoint at ${pathname}`));
    if (this.draining) return refuseUpgrade(socket, shuttingDown());
    const ip = this.options.clientAddress(request);
    const allowed = await this.options.admission.attempt(ip);
    // Gone while a shared count was taken: nothing left to answer.
    if (socket.destroyed) return;
    // Began draining meanwhile: the endpoints are closing their connections.
    if (this.draining) return refuseUpgrade(socket, shuttingDown());
    if (!allowed) {
      this.options.metrics.connectionAttempts.inc({ result: 'rate_limited' });
      return refuseUpgrade(socket, new ApiError(429, 'rate_limited', 'Too many connection attempts; slow down', { retryAfterSeconds: 1 }));
    }
    endpoint.upgrade(request, socket, head, ip, (onOpen) => this.wss.handleUpgrade(request, socket, head, onOpen));
  }
}

const shuttingDown = () => new ApiError(503, 'shutting_down', 'This node is shutting down; retry', { retryAfterSeconds: 1 });

/** Answers a refused upgrade with a plain HTTP error in the API's format. */
export function refuseUpgrade(socket: Duplex, error: ApiError): void {
  const body = JSON.stringify(errorBody(error));
  const retry = error.details.retryAfterSeconds ? `Retry-After: ${error.details.retryAfterSeconds}\r\n` : '';
  socket.end(
    `HTTP/1.1 ${error.statusCode} ${error.code}\r\nContent-Type: application/json\r\n${retry}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
