import { randomUUID } from 'node:crypto';
import { cleanup } from '@testing-library/react';
import {
  HoldClient,
  ReservationExpiryManager,
  TicketAvailabilityManager,
  type TicketAvailabilityManagerOptions,
  type WebSocketConstructor,
} from '@ticketpulse/client';
import { afterAll, afterEach, beforeAll } from 'vitest';
import WebSocket from 'ws';
import { createTestDatabase, type TestDatabase } from '../../../server/test/support/database.ts';
import { startTestServer, type TestServer, type TestServerOptions } from '../../../server/test/support/server.ts';
import { eventually } from '../../../server/test/support/viewer.ts';

/** A frame the client sent, as far as these tests look at it. */
export interface SentFrame {
  type: string;
  eventId?: string;
}

/** `ws`, recording every frame the client sends: the wire shows how many subscribes really happened. */
function recordingWebSocket(sent: SentFrame[]): WebSocketConstructor {
  class RecordingWebSocket extends WebSocket {
    constructor(url: string) {
      super(url);
      const send = this.send.bind(this);
      this.send = ((data: string) => {
        sent.push(JSON.parse(data) as SentFrame);
        send(data);
      }) as WebSocket['send'];
    }
  }
  return RecordingWebSocket;
}

export interface LiveManager {
  manager: TicketAvailabilityManager;
  /** Every frame this manager sent, in order. */
  sent: SentFrame[];
  /** Holds of the same user, on the same clock. */
  reservations: ReservationExpiryManager;
  /** The same user's hold methods: new holds show on `manager` and count down on `reservations`. */
  holds: HoldClient;
}

export interface LiveServer {
  readonly server: TestServer;
  /** Real managers on the real server (Node's ws and fetch) for one user, closed after the test. */
  manager(options?: Partial<TicketAvailabilityManagerOptions>, userId?: string): LiveManager;
  /** A hold made on the server directly, as another buyer would. */
  hold(eventId: string, ticketTypeId: string, quantity?: number): ReturnType<TestServer['service']['holds']['reserve']>;
}

/**
 * One real server on PGlite for the test file. After each test the React
 * trees are unmounted first (so hooks let go as in an app), then the
 * managers are closed, and the server has dropped every connection before
 * the next test counts any.
 */
export function withLiveServer(options: TestServerOptions = {}): LiveServer {
  let database: TestDatabase;
  let server: TestServer;
  const managers: LiveManager[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('pglite');
    server = await startTestServer(database.db, options);
  });
  afterEach(async () => {
    cleanup();
    for (const { manager, reservations } of managers.splice(0)) {
      manager.cleanup();
      reservations.stopAll();
    }
    await eventually(() => server.service.gateway.stats.connections === 0, 'the server to see every client go');
  });
  afterAll(async () => {
    await server.close();
    await database.dispose();
  });

  return {
    get server() {
      return server;
    },
    manager(options = {}, userId = randomUUID()) {
      const sent: SentFrame[] = [];
      const getToken = () => server.token('authenticated', userId);
      const manager = new TicketAvailabilityManager({
        url: server.url,
        getToken,
        WebSocket: recordingWebSocket(sent),
        fetch,
        reconnect: { baseMs: 50, capMs: 200 },
        ...options,
      });
      const reservations = new ReservationExpiryManager({ url: server.url, getToken, fetch, clock: manager.clock });
      const holds = new HoldClient({ url: server.url, getToken, fetch, clock: manager.clock, availability: manager, reservations });
      const live = { manager, sent, reservations, holds };
      managers.push(live);
      return live;
    },
    hold(eventId, ticketTypeId, quantity = 1) {
      return server.service.holds.reserve({ eventId, holderId: randomUUID(), items: [{ ticketTypeId, quantity }] });
    },
  };
}

/** How many frames of this type went out. */
export function framesOf(sent: SentFrame[], type: string): number {
  return sent.filter((frame) => frame.type === type).length;
}
