import type { AddressInfo } from 'node:net';
import type { ClientMessage, ServerMessage } from '@ticketpulse/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { eventually } from '../../server/test/support/viewer.ts';
import { TicketAvailabilityManager } from '../src/index.ts';
import { ticketAvailability } from './support/ticket.ts';

const EVENT = '33333333-3333-4333-8333-333333333333';

const ticket = ticketAvailability(EVENT, '44444444-4444-4444-8444-444444444444', 100, 1);

/**
 * A real WebSocket server speaking the protocol's welcome, that answers the
 * n-th subscribe after `replyAfterMs(n)` ms, or never when that is undefined:
 * a server whose replies are lost or held up.
 */
class WithholdingServer {
  readonly subscribes: ClientMessage[] = [];
  connections = 0;
  replyAfterMs: (subscribeNumber: number) => number | undefined = () => undefined;
  private readonly wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/realtime' });

  static async start(): Promise<WithholdingServer> {
    const server = new WithholdingServer();
    await new Promise((resolve) => server.wss.once('listening', resolve));
    return server;
  }

  private constructor() {
    this.wss.on('connection', (socket) => {
      this.connections += 1;
      const send = (message: ServerMessage) => socket.send(JSON.stringify(message));
      send({ type: 'welcome', connectionId: 'c1', serverTime: new Date().toISOString(), heartbeatMs: 15_000, limits: { maxSubscriptions: 10, maxMessagesPerSecond: 20, maxFrameBytes: 16384 } });
      socket.on('message', (data) => {
        const message = JSON.parse(String(data)) as ClientMessage;
        if (message.type !== 'subscribe') return;
        this.subscribes.push(message);
        const delay = this.replyAfterMs(this.subscribes.length);
        if (delay === undefined) return;
        const serverTime = new Date().toISOString();
        const reply = () => send({ type: 'subscribed', ref: message.ref, eventId: EVENT, version: 1, serverTime, unchanged: false, snapshot: { eventId: EVENT, version: 1, precision: 'exact', serverTime, tickets: [ticket] } });
        setTimeout(reply, delay);
      });
    });
  }

  get url(): string {
    return `http://127.0.0.1:${(this.wss.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}

describe('a subscribe whose reply does not come', () => {
  let server: WithholdingServer;
  let manager: TicketAvailabilityManager;
  const open = async () => {
    server = await WithholdingServer.start();
    manager = new TicketAvailabilityManager({ url: server.url, getToken: () => 'token', WebSocket, debounceMs: 5, reconnect: { baseMs: 100, capMs: 400, connectTimeoutMs: 300 } });
    return manager;
  };
  afterEach(async () => {
    manager.cleanup();
    await server.close();
  });

  it('is sent again after the reply timeout and a backoff, on the same connection, until one is answered', async () => {
    const m = await open();
    server.replyAfterMs = (n) => (n >= 3 ? 0 : undefined);
    m.subscribeToEvent(EVENT, () => {});
    await eventually(() => m.getConnectionStatus(EVENT) === 'reconnecting', 'reconnecting after the first timeout', 2000);
    // The socket itself is fine: only the event waits.
    expect(m.getConnectionStatus()).toBe('connected');
    await eventually(() => m.getConnectionStatus(EVENT) === 'connected', 'connected once the third subscribe is answered', 5000);
    expect(m.getTicketAvailability(EVENT, ticket.ticketTypeId)?.availableCount).toBe(100);
    expect(server.subscribes).toHaveLength(3);
    expect(server.connections).toBe(1);
    expect(m.getStats().errorsByType).toMatchObject({ join_timeout: 2 });
    expect(m.getEventState(EVENT).error).toBeNull();
  });

  it('keeps trying while nothing answers, spaced out by the backoff', async () => {
    const m = await open();
    m.subscribeToEvent(EVENT, () => {});
    await new Promise((resolve) => setTimeout(resolve, 2500));
    // Each try waits 300 ms for its reply, then up to 100, 200, 400, 400… ms: between 4 and 9 in 2.5 s.
    expect(server.subscribes.length).toBeGreaterThanOrEqual(4);
    expect(server.subscribes.length).toBeLessThanOrEqual(9);
    expect(m.getConnectionStatus(EVENT)).toBe('reconnecting');
    expect(server.subscribes.every((s) => s.type === 'subscribe' && s.eventId === EVENT && s.ref === EVENT)).toBe(true);

    server.replyAfterMs = () => 0;
    await eventually(() => m.getConnectionStatus(EVENT) === 'connected', 'connected', 3000);
    const answered = server.subscribes.length;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(server.subscribes).toHaveLength(answered); // no more tries once joined
  });

  it('takes a reply that comes after the timeout, and stops trying', async () => {
    const m = await open();
    // The first reply comes at 450 ms: after the 300 ms timeout and the second try (at most 100 ms later), which is never answered.
    server.replyAfterMs = (n) => (n === 1 ? 450 : undefined);
    m.subscribeToEvent(EVENT, () => {});
    await eventually(() => m.getConnectionStatus(EVENT) === 'connected', 'connected by the late reply', 3000);
    // At least the retry went out (a loaded machine may fit in more); once answered, no more.
    const sent = server.subscribes.length;
    expect(sent).toBeGreaterThanOrEqual(2);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(server.subscribes).toHaveLength(sent);
    expect(m.getTicketAvailability(EVENT, ticket.ticketTypeId)?.availableCount).toBe(100);
  });
});
