import { randomUUID } from 'node:crypto';
import { CloseCode, type ServerMessage } from '@ticketpulse/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RealtimeSettings } from '../../src/realtime/gateway.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { createEvent, typeId } from '../support/fixtures.ts';
import { TestSocket } from '../support/realtime-client.ts';
import { recordReliability } from '../support/reliability-report.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { eventually, watch, type EventView } from '../support/viewer.ts';

/** The legitimate client comes from another loopback address, so per-address limits do not count it with the flood. */
const LEGIT_ADDRESS = '127.0.0.2';
/** Generous: a loopback round trip takes milliseconds; this only catches a gateway stuck behind the flood. */
const LEGIT_LATENCY_BOUND_MS = 2000;

/** What a flooding connection ended with: refused before the handshake (HTTP status), or its close code. */
type Outcome = { refused: number } | { welcomed: boolean; closed: Promise<number>; ws: WebSocket; messages: ServerMessage[] };

function attempt(url: string, token: string): Promise<Outcome> {
  const target = new URL('/realtime', url.replace(/^http/, 'ws'));
  target.searchParams.set('token', token);
  const ws = new WebSocket(target);
  const messages: ServerMessage[] = [];
  ws.on('message', (data) => messages.push(JSON.parse(data.toString()) as ServerMessage));
  ws.on('error', () => {});
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  return new Promise((resolve) => {
    ws.once('unexpected-response', (_req, res) => {
      const retryAfter = res.headers['retry-after'];
      res.resume();
      resolve({ refused: retryAfter ? res.statusCode ?? 0 : -1 });
    });
    ws.once('open', () => resolve({ welcomed: true, closed, ws, messages }));
  });
}

const count = (items: Array<string | number>) => items.reduce<Record<string, number>>((acc, item) => ((acc[item] = (acc[item] ?? 0) + 1), acc), {});

describe('realtime floods', () => {
  let t: TestDatabase;
  const servers: TestServer[] = [];
  const sockets: WebSocket[] = [];
  const serve = async (realtime: Partial<RealtimeSettings>) => {
    const server = await startTestServer(t.db, { realtime });
    servers.push(server);
    return server;
  };

  /** A legitimate viewer on another address, watching an event, and its ping round trips. */
  const legitimate = async (server: TestServer) => {
    const event = await createEvent(server.service.catalog);
    const socket = await TestSocket.open(server.url, { token: await server.token() }, { localAddress: LEGIT_ADDRESS });
    sockets.push(socket.ws);
    await socket.next((m) => m.type === 'welcome');
    const view: EventView = await watch(socket, event.id);
    const latencies: number[] = [];
    let n = 0;
    return {
      event,
      view,
      latencies,
      async roundTrip() {
        const ref = `legit-${++n}`;
        const started = Date.now();
        socket.send({ type: 'ping', ref });
        await socket.next((m) => m.type === 'pong' && m.ref === ref, 10_000);
        latencies.push(Date.now() - started);
      },
      /** A hold the viewer must see. */
      async change(expected: number) {
        const general = typeId(event, 'General');
        await server.service.holds.reserve({ eventId: event.id, holderId: randomUUID(), items: [{ ticketTypeId: general, quantity: 1 }] });
        await eventually(() => view.ticket(general)?.reservedCount === expected, 'the legitimate viewer to see the hold', 10_000);
      },
    };
  };

  beforeAll(async () => {
    t = await createTestDatabase('pglite');
  });
  afterEach(async () => {
    for (const ws of sockets.splice(0)) ws.terminate();
    for (const server of servers.splice(0)) await server.close();
  });
  afterAll(() => t.dispose());

  it('refuses a connection flood from one address with 429 + Retry-After, then 4008 past the open-connection cap; another address is unaffected', async () => {
    // Defaults: 50 attempts a second per address. A small cap on open connections, to reach it too.
    // One user for the whole flood: the per-user cap is not what this exercises.
    const server = await serve({ maxConnectionsPerIp: 60, maxConnectionsPerUser: 100_000 });
    const legit = await legitimate(server);
    const token = await server.token('anon');
    const outcomes: Outcome[] = [];
    // Five bursts of 200 attempts, a second apart: each second's budget is spent, the rest refused.
    for (let burst = 0; burst < 5; burst++) {
      outcomes.push(...(await Promise.all(Array.from({ length: 200 }, () => attempt(server.url, token)))));
      for (const o of outcomes) if ('ws' in o) sockets.push(o.ws);
      await legit.roundTrip();
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    await legit.change(1);
    const opened = outcomes.filter((o): o is Extract<Outcome, { ws: WebSocket }> => 'ws' in o);
    // Opened ones either got their welcome or were closed 4008 for the cap; give the closes time to arrive.
    await eventually(() => opened.every((o) => o.messages.some((m) => m.type === 'welcome') || o.ws.readyState === o.ws.CLOSED), 'every opened one to be welcomed or closed', 10_000);
    const closeCodes = await Promise.all(opened.filter((o) => o.ws.readyState === o.ws.CLOSED).map((o) => o.closed));
    const refused = outcomes.filter((o): o is { refused: number } => 'refused' in o).map((o) => o.refused);
    const welcomed = opened.filter((o) => o.messages.some((m) => m.type === 'welcome')).length;

    await recordReliability({
      fault: 'WebSocket connection flood: 5 bursts of 200 attempts from one address (50 attempts/s allowed, 60 open connections allowed); a legitimate viewer on 127.0.0.2',
      injected: outcomes.length,
      checked: ['attempts past the rate refused with HTTP 429 and Retry-After before the handshake', 'connections past the cap closed 4008', 'the legitimate viewer keeps its round trips and gets updates'],
      figures: {
        attempts: outcomes.length,
        refused429: refused.filter((s) => s === 429).length,
        welcomed,
        ...Object.fromEntries(Object.entries(count(closeCodes)).map(([code, n]) => [`closed_${code}`, n])),
        legitMaxRoundTripMs: Math.max(...legit.latencies),
      },
    });
    expect(count(refused)).toEqual({ 429: refused.length });
    // Most of each burst is over the budget; a slow machine refills more of it while a burst is handled.
    expect(refused.length).toBeGreaterThan(outcomes.length / 4);
    expect(welcomed).toBe(60);
    expect(count(closeCodes)).toEqual({ [CloseCode.tooManyConnections]: opened.length - 60 });
    expect(Math.max(...legit.latencies)).toBeLessThan(LEGIT_LATENCY_BOUND_MS);
  });

  it('answers message and subscribe floods with rate_limited, then closes them 4029; too_many_channels past ten events; others keep their latency', async () => {
    // Defaults: 20 messages a second per connection (bursts of 40), 10 events per connection.
    const server = await serve({});
    const legit = await legitimate(server);
    const events = await Promise.all(Array.from({ length: 12 }, () => createEvent(server.service.catalog)));
    const tokens = await Promise.all(Array.from({ length: 30 }, () => server.token('anon')));
    const flooders = await Promise.all(tokens.map((token) => attempt(server.url, token)));
    const open = flooders.filter((o): o is Extract<Outcome, { ws: WebSocket }> => 'ws' in o);
    sockets.push(...open.map((o) => o.ws));
    expect(open.length).toBe(30);
    await eventually(() => open.every((o) => o.messages.some((m) => m.type === 'welcome')), 'every flooder to be welcomed');

    // Ten ping floods, ten subscribe floods over many (mostly unknown) events, ten subscribing slowly to twelve events.
    let sent = 0;
    open.forEach((o, i) => {
      if (i >= 20) return;
      for (let k = 0; k < 2000; k++) {
        o.ws.send(JSON.stringify(i < 10 ? { type: 'ping', ref: `f${k}` } : { type: 'subscribe', eventId: k % 3 === 0 ? events[k % 12]!.id : randomUUID(), ref: `s${k}` }));
        sent += 1;
      }
    });
    const polite = open.slice(20);
    for (const event of events) {
      for (const o of polite) o.ws.send(JSON.stringify({ type: 'subscribe', eventId: event.id, ref: event.id }));
      sent += polite.length;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    for (let i = 0; i < 5; i++) await legit.roundTrip();
    await legit.change(1);

    const flooding = open.slice(0, 20);
    const codes = await Promise.all(flooding.map((o) => Promise.race([o.closed, new Promise<number>((resolve) => setTimeout(() => resolve(0), 15_000))])));
    const errors = (o: (typeof open)[number]) => o.messages.flatMap((m) => (m.type === 'error' ? [m.code] : []));
    const politeAnswers = polite.map((o) => count(o.messages.flatMap((m) => (m.type === 'subscribed' ? ['subscribed'] : m.type === 'error' ? [m.code] : []))));

    await recordReliability({
      fault: 'WebSocket message floods: 10 connections x 2000 pings, 10 x 2000 subscribes (two thirds to unknown events), 10 subscribing to 12 events at 10/s (limits: 20 msg/s, bursts of 40, 10 events per connection); a legitimate viewer on 127.0.0.2',
      injected: sent,
      checked: ['each flooder gets rate_limited (at most one notice a second), then is closed 4029', 'the 11th and 12th subscriptions answered too_many_channels, the first ten subscribed', 'the legitimate viewer keeps its round trips and gets updates'],
      figures: {
        messages: sent,
        ...Object.fromEntries(Object.entries(count(codes)).map(([code, n]) => [`flooders_closed_${code}`, n])),
        rateLimitedNotices: flooding.reduce((n, o) => n + errors(o).filter((c) => c === 'rate_limited').length, 0),
        politeAnswers: JSON.stringify(politeAnswers[0]),
        legitMaxRoundTripMs: Math.max(...legit.latencies),
      },
    });
    expect(count(codes)).toEqual({ [CloseCode.rateLimited]: 20 });
    for (const o of flooding) expect(errors(o)).toContain('rate_limited');
    for (const answers of politeAnswers) expect(answers).toEqual({ subscribed: 10, too_many_channels: 2 });
    expect(Math.max(...legit.latencies)).toBeLessThan(LEGIT_LATENCY_BOUND_MS);
  });
});
