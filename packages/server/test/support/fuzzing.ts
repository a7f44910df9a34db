import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { randomUUID } from 'node:crypto';
import { request as httpRequest, type Agent } from 'node:http';
import type { EventWithTicketTypes } from '../../src/inventory/catalog.ts';
import type { Holds } from '../../src/inventory/holds.ts';
import type { RealtimeSettings } from '../../src/realtime/gateway.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { createEvent } from './fixtures.ts';
import { startTestServer, type TestServer } from './server.ts';

/** What the fuzzers share: a gc() to measure the heap with, a UTF-8 check, tallies, an event that keeps changing, raw HTTP requests. */

/** A gc() for this process, whatever flags it was started with (no special vitest flags needed). */
export function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** heapUsed once the collector has run `times`, after `settleMs` for sockets and timers (2 s close guards) to go. */
export async function settledHeap(gc: () => void, { settleMs = 0, times = 2 } = {}): Promise<number> {
  if (settleMs > 0) await new Promise((resolve) => setTimeout(resolve, settleMs));
  for (let i = 0; i < times; i++) gc();
  return process.memoryUsage().heapUsed;
}

export const megabytes = (bytes: number) => Math.round(bytes / 1e5) / 10;

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function isUtf8(bytes: Uint8Array): boolean {
  try {
    utf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Adds one to `map[key]`. */
export const count = (map: Record<string, number>, key: string | number) => (map[key] = (map[key] ?? 0) + 1);

/**
 * An event whose availability changes all along, as a control viewer watches
 * it: holds of 1-4 seats and releases, one every `pauseMs` (after `afterEach`,
 * which the caller uses to measure a round trip). At least three holds stay
 * open, so there is always something to release.
 */
export class EventChurn {
  changes = 0;
  private running = false;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly holds: Holds,
    private readonly eventId: string,
    private readonly ticketTypeId: string,
    private readonly afterEach: (change: number) => Promise<void> = async () => {},
    private readonly pauseMs = 50,
  ) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** Stops and waits for the change under way. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async run(): Promise<void> {
    const held: string[] = [];
    while (this.running) {
      if (held.length < 3 || this.changes % 2 === 0) {
        const { reservation } = await this.holds.reserve({
          eventId: this.eventId,
          holderId: 'control',
          items: [{ ticketTypeId: this.ticketTypeId, quantity: 1 + (this.changes % 4) }],
        });
        held.push(reservation.id);
      } else {
        await this.holds.release(held.shift()!, 'control');
      }
      this.changes += 1;
      await this.afterEach(this.changes);
      await new Promise((resolve) => setTimeout(resolve, this.pauseMs));
    }
  }
}

export interface FuzzTarget {
  t: TestDatabase;
  server: TestServer;
  /** Three on-sale events, one ticket type "General" each, too big to sell out during a run. */
  events: EventWithTicketTypes[];
  /** The fuzzing user's token, another user's, an organizer's, and the fuzzing user's expired one. */
  tokens: { mine: string; otherUser: string; organizer: string; expired: string };
}

/**
 * The server a WebSocket fuzzer runs in this process (PGlite, in memory, so
 * the heap measured is the server's). The fuzzer is one client sending as
 * fast as it can: rate limits are the flood tests' business.
 */
export async function startFuzzTarget(realtime: Partial<RealtimeSettings>): Promise<FuzzTarget> {
  const t = await createTestDatabase('pglite');
  const server = await startTestServer(t.db, {
    realtime: { messagesPerSecond: 100_000, connectAttemptsPerIpPerSecond: 100_000, maxConnectionsPerUser: 1000, ...realtime },
  });
  const events = await Promise.all([0, 1, 2].map(() => createEvent(server.service.catalog, { ticketTypes: [{ name: 'General', totalCapacity: 100_000, maxPerOrder: 4 }] })));
  const user = randomUUID();
  const tokens = {
    mine: await server.token('authenticated', user),
    otherUser: await server.token('authenticated'),
    organizer: await server.token('organizer'),
    expired: (await server.service.verifier.sign({ userId: user, role: 'authenticated' }, -10)).token,
  };
  return { t, server, events, tokens };
}

export interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/**
 * node:http rather than fetch: any method, any header, a path as written, a
 * body on any request. Status 0: the connection was cut before an answer.
 */
export function sendRaw(base: string, r: RawRequest, agent: Agent | false): Promise<{ status: number; body: string }> {
  const url = new URL(base);
  return new Promise((resolve) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path: r.path, method: r.method, headers: r.headers, agent }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', (error) => resolve({ status: 0, body: String(error) }));
    req.end(r.body);
  });
}
