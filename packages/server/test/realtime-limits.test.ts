import { randomUUID } from 'node:crypto';
import { CloseCode } from '@ticketpulse/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RealtimeSettings } from '../src/realtime/gateway.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { createEvent, typeId } from './support/fixtures.ts';
import { TestSocket } from './support/realtime-client.ts';
import { startTestServer, TEST_JWT_SECRET, type TestServer } from './support/server.ts';
import { eventually, watch } from './support/viewer.ts';

/** Limits and abuse need only one database: PGlite. The same code runs on PostgreSQL in the other suites. */
describe('realtime limits and robustness', () => {
  let t: TestDatabase;
  const servers: TestServer[] = [];
  const sockets: TestSocket[] = [];

  const serve = async (realtime: Partial<RealtimeSettings> = {}) => {
    const server = await startTestServer(t.db, { realtime });
    servers.push(server);
    return server;
  };
  const connect = async (server: TestServer, token?: string, query: Record<string, string> = {}) => {
    const socket = await TestSocket.connect(server.url, token ?? (await server.token()), query);
    sockets.push(socket);
    return socket;
  };
  const open = async (server: TestServer, query: Record<string, string>) => {
    const socket = await TestSocket.open(server.url, query);
    sockets.push(socket);
    return socket;
  };

  beforeAll(async () => {
    t = await createTestDatabase('pglite');
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.close();
    for (const s of servers.splice(0)) await s.close();
  });
  afterAll(() => t.dispose());

  it('refuses an 11th subscription with too_many_channels and keeps the first ten', async () => {
    const server = await serve();
    const events = await Promise.all(Array.from({ length: 11 }, () => createEvent(server.service.catalog)));
    const socket = await connect(server);
    for (const event of events.slice(0, 10)) expect(await socket.subscribe(event.id)).toMatchObject({ type: 'subscribed' });
    expect(await socket.subscribe(events[10]!.id)).toMatchObject({ type: 'error', code: 'too_many_channels' });
    // Subscribing again to one it has costs nothing.
    expect(await socket.subscribe(events[0]!.id)).toMatchObject({ type: 'subscribed' });
    socket.send({ type: 'unsubscribe', eventId: events[0]!.id });
    expect(await socket.subscribe(events[10]!.id)).toMatchObject({ type: 'subscribed' });
  });

  it('limits connections per user and per address with close code 4008', async () => {
    const server = await serve({ maxConnectionsPerUser: 2, maxConnectionsPerIp: 3 });
    const user = randomUUID();
    const token = await server.token('authenticated', user);
    await connect(server, token);
    await connect(server, token);
    const third = await open(server, { token });
    expect(await third.closed).toEqual({ code: CloseCode.tooManyConnections, reason: 'too many connections' });
    await connect(server); // another user, same address: the third from 127.0.0.1
    const fourth = await open(server, { token: await server.token() });
    expect((await fourth.closed).code).toBe(CloseCode.tooManyConnections);
  });

  it('refuses connection floods from one address with HTTP 429 before the handshake', async () => {
    const server = await serve({ connectAttemptsPerIpPerSecond: 5 });
    const token = await server.token();
    const results = await Promise.all(
      Array.from({ length: 12 }, () => TestSocket.open(server.url, { token }).then((s) => (sockets.push(s), 'open'), (e: Error) => e.message)),
    );
    expect(results.filter((r) => r === 'open').length).toBeLessThanOrEqual(5);
    expect(results).toContain('HTTP 429');
  });

  it('answers a message flood with rate_limited, then closes with 4029 if it goes on', async () => {
    const server = await serve({ messagesPerSecond: 5 });
    const socket = await connect(server);
    for (let i = 0; i < 12; i++) socket.send({ type: 'ping' });
    expect(await socket.next((m) => m.type === 'error')).toMatchObject({ code: 'rate_limited' });
    for (let i = 0; i < 50; i++) socket.send({ type: 'ping' });
    expect((await socket.closed).code).toBe(CloseCode.rateLimited);
  });

  it('closes on a frame over the size limit (1009) and keeps serving others', async () => {
    const server = await serve({ maxFrameBytes: 1024 });
    const event = await createEvent(server.service.catalog);
    const control = await connect(server);
    const view = await watch(control, event.id);
    const big = await connect(server);
    big.send({ type: 'ping', ref: 'x'.repeat(2000) });
    expect((await big.closed).code).toBe(CloseCode.messageTooBig);
    await server.service.holds.reserve({ eventId: event.id, holderId: 'h', items: [{ ticketTypeId: typeId(event, 'General'), quantity: 1 }] });
    await eventually(() => view.ticket(typeId(event, 'General'))?.reservedCount === 1, 'the control client to get the update');
  });

  it('answers each kind of bad message with an error and keeps the connection and others working', async () => {
    const server = await serve({ messagesPerSecond: 1000 });
    const event = await createEvent(server.service.catalog);
    const control = await connect(server);
    const view = await watch(control, event.id);
    const socket = await connect(server);
    const cases: Array<[string | Buffer, string]> = [
      ['not json at all', 'invalid_message'],
      ['{"type":"subscribe","eventId":', 'invalid_message'],
      ['null', 'invalid_message'],
      ['[1,2,3]', 'invalid_message'],
      ['42', 'invalid_message'],
      ['{"no":"type"}', 'invalid_message'],
      ['{"type":"buy_everything"}', 'unknown_message_type'],
      ['{"type":"subscribe"}', 'invalid_message'],
      ['{"type":"subscribe","eventId":42}', 'invalid_message'],
      ['{"type":"subscribe","eventId":"x\'; DROP TABLE events;--"}', 'invalid_message'],
      [`{"type":"subscribe","eventId":"${'a'.repeat(500)}"}`, 'invalid_message'],
      [`{"type":"subscribe","eventId":"${event.id}","sinceVersion":1e308}`, 'invalid_message'],
      [`{"type":"subscribe","eventId":"${event.id}","sinceVersion":-1}`, 'invalid_message'],
      [`{"type":"subscribe","eventId":"${event.id}","extra":true}`, 'invalid_message'],
      [`{"type":"subscribe","eventId":"${randomUUID()}"}`, 'event_not_found'],
      ['{"type":"ping","ref":{"deep":{"deeper":[1,[2,[3]]]}}}', 'invalid_message'],
      ['{"type":"auth","token":"again"}', 'already_authenticated'],
      [Buffer.from([0xde, 0xad, 0xbe, 0xef]), 'invalid_message'],
    ];
    for (const [frame, code] of cases) {
      if (Buffer.isBuffer(frame)) socket.ws.send(frame, { binary: true });
      else socket.send(frame);
      const error = await socket.next((m) => m.type === 'error');
      expect([String(frame).slice(0, 60), error.type === 'error' && error.code]).toEqual([String(frame).slice(0, 60), code]);
    }
    // Still connected, still useful.
    socket.send({ type: 'ping', ref: 'alive' });
    expect(await socket.next((m) => m.type === 'pong')).toMatchObject({ ref: 'alive' });
    await server.service.holds.reserve({ eventId: event.id, holderId: 'h', items: [{ ticketTypeId: typeId(event, 'VIP'), quantity: 1 }] });
    await eventually(() => view.ticket(typeId(event, 'VIP'))?.reservedCount === 1, 'the control client to get the update');
  });

  it('closes connections with missing, invalid or expired tokens with documented codes', async () => {
    const server = await serve({ authTimeoutMs: 300 });
    const expired = (await server.service.verifier.sign({ userId: 'x', role: 'anon' }, -5)).token;
    const { TokenVerifier } = await import('../src/auth/token-verifier.ts');
    const forged = (await new TokenVerifier(`${TEST_JWT_SECRET}-but-not-ours`).sign({ userId: 'x', role: 'anon' }, 60)).token;
    expect((await (await open(server, { token: 'garbage' })).closed).code).toBe(CloseCode.unauthorized);
    expect((await (await open(server, { token: forged })).closed).code).toBe(CloseCode.unauthorized);
    expect(await (await open(server, { token: expired })).closed).toEqual({ code: CloseCode.tokenExpired, reason: 'token expired' });
    expect((await (await open(server, {})).closed).code).toBe(CloseCode.authTimeout);
    const wrongFirst = await open(server, {});
    wrongFirst.send({ type: 'subscribe', eventId: randomUUID() });
    expect((await wrongFirst.closed).code).toBe(CloseCode.unauthorized);
  });

  it('accepts the token as the first message, with a subscribe right behind it', async () => {
    const server = await serve();
    const event = await createEvent(server.service.catalog);
    const socket = await open(server, {});
    socket.send({ type: 'auth', token: await server.token() });
    socket.send({ type: 'subscribe', eventId: event.id, ref: 'first' });
    expect(await socket.next((m) => m.type === 'welcome')).toBeDefined();
    expect(await socket.next((m) => m.type === 'subscribed')).toMatchObject({ ref: 'first', eventId: event.id });
  });

  it('refreshes a token without reconnecting, refuses another user’s, and closes when a token runs out', async () => {
    // A heartbeat far away: expiry must not wait for it.
    const server = await serve({ heartbeatMs: 60_000 });
    const user = randomUUID();
    const short = (await server.service.verifier.sign({ userId: user, role: 'authenticated' }, 2)).token;
    const socket = await connect(server, short);
    const fresh = (await server.service.verifier.sign({ userId: user, role: 'authenticated' }, 3600)).token;
    socket.send({ type: 'refresh_token', token: fresh, ref: 'r1' });
    expect(await socket.next((m) => m.type === 'token_refreshed')).toMatchObject({ ref: 'r1' });
    socket.send({ type: 'refresh_token', token: await server.token('authenticated', randomUUID()), ref: 'r2' });
    expect(await socket.next((m) => m.type === 'error')).toMatchObject({ code: 'token_subject_mismatch', ref: 'r2' });
    socket.send({ type: 'refresh_token', token: 'nonsense', ref: 'r3' });
    expect(await socket.next((m) => m.type === 'error')).toMatchObject({ code: 'invalid_token', ref: 'r3' });

    // exp is in whole seconds: a 2 s token lives at least 1 s, time enough to connect.
    const lapsing = await connect(server, (await server.service.verifier.sign({ userId: randomUUID(), role: 'anon' }, 2)).token);
    expect((await lapsing.closed).code).toBe(CloseCode.tokenExpired);
    // The refreshed one outlived its first token.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    socket.send({ type: 'ping', ref: 'still' });
    expect(await socket.next((m) => m.type === 'pong')).toMatchObject({ ref: 'still' });
  });

  it('reaps a connection that stops answering heartbeats within two intervals', async () => {
    const server = await serve({ heartbeatMs: 150 });
    const url = new URL('/realtime', server.url.replace('http', 'ws'));
    url.searchParams.set('token', await server.token());
    const silent = new WebSocket(url, { autoPong: false });
    const opened = new Promise((resolve) => silent.once('open', resolve));
    const closedAt = new Promise<number>((resolve) => silent.once('close', () => resolve(Date.now())));
    await opened;
    const openedAt = Date.now();
    expect((await closedAt) - openedAt).toBeLessThan(150 * 2 + 300);
    await eventually(() => server.service.gateway.stats.connections === 0, 'the server to forget it');
  });

  it('pings every heartbeat with an empty ping frame; a client that answers stays connected and its messages are still understood', async () => {
    const server = await serve({ heartbeatMs: 100 });
    const url = new URL('/realtime', server.url.replace('http', 'ws'));
    url.searchParams.set('token', await server.token());
    const ws = new WebSocket(url);
    const pings: Buffer[] = [];
    ws.on('ping', (data: Buffer) => pings.push(data));
    const replies: unknown[] = [];
    ws.on('message', (data: Buffer) => replies.push(JSON.parse(data.toString())));
    await new Promise((resolve) => ws.once('open', resolve));
    await eventually(() => pings.length >= 3, 'three heartbeats');
    expect(pings.every((data) => data.length === 0)).toBe(true);
    ws.send(JSON.stringify({ type: 'ping', ref: 'after-heartbeats' }));
    await eventually(() => replies.some((m) => (m as { ref?: string }).ref === 'after-heartbeats'), 'the pong');
    expect(ws.readyState).toBe(WebSocket.OPEN);
    expect(server.service.gateway.stats.connections).toBe(1);
    ws.close();
  });

  it('isolates a slow consumer: it skips to the latest snapshot, then is closed past the hard limit; others are unaffected', async () => {
    // Frames of ~140 KB: a reading client stays far below the soft limit; a paused one fills the
    // kernel's socket buffers (a few MB on loopback) and then passes it within the storm.
    const server = await serve({ tickMs: 20, softBufferBytes: 512 * 1024, hardBufferBytes: 256 * 1024 * 1024, messagesPerSecond: 1000 });
    const description = 'A long description so that every update frame is large. '.repeat(60);
    const event = await createEvent(server.service.catalog, {
      ticketTypes: Array.from({ length: 40 }, (_, i) => ({ name: `Zone ${i}`, description, totalCapacity: 1000, maxPerOrder: 100 })),
    });
    const control = await connect(server);
    const controlView = await watch(control, event.id);
    const slow = await connect(server);
    const slowView = await watch(slow, event.id);
    (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();

    // Every type changes every tick: large frames, fast.
    let round = 0;
    const storm = async (ms: number) => {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        round += 1;
        await t.db.query('UPDATE event_tickets SET max_per_order = $2 WHERE event_id = $1', [event.id, (round % 99) + 1]);
        server.service.gateway.touch(event.id);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    };
    // Until the paused client is past the soft limit (a loaded machine sends fewer ticks in the same time), bounded.
    const slowIsBehind = async () => {
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      return Number(/^ticketpulse_ws_max_buffered_bytes (\S+)$/m.exec(metrics)?.[1] ?? 0) > 512 * 1024;
    };
    await storm(4000);
    for (let i = 0; i < 40 && !(await slowIsBehind()); i++) await storm(500);
    expect(await slowIsBehind()).toBe(true);
    // Past the limit, it skips the next update it is sent: when it passed with the storm's last one, there was none.
    await storm(500);
    const expected = (round % 99) + 1;
    await eventually(() => controlView.ticket(typeId(event, 'Zone 0'))?.maxPerOrder === expected, 'the control client to keep up');
    expect(controlView.gaps).toBe(0);

    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await eventually(() => slowView.ticket(typeId(event, 'Zone 0'))?.maxPerOrder === expected, 'the slow client to catch up', 10_000);
    expect(slow.received.some((m) => m.type === 'updates' && m.updates.some((u) => u.snapshot))).toBe(true);

    // Past the hard limit the connection is closed, and only that one.
    const tight = await serve({ tickMs: 20, softBufferBytes: 1024, hardBufferBytes: 64 * 1024, messagesPerSecond: 1000 });
    const stuck = await connect(tight);
    (stuck.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const bystander = await connect(tight);
    for (let i = 0; i < 400; i++) stuck.send({ type: 'subscribe', eventId: event.id, ref: `s${i}` });
    // The stuck client reads nothing, not even the close: watch the server drop it.
    await eventually(() => tight.service.gateway.stats.connections === 1, 'the server to close the stuck connection');
    expect(await (await fetch(`${tight.url}/metrics`)).text()).toContain('ticketpulse_ws_errors_total{code="closed_slow_consumer"} 1');
    (stuck.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    expect([CloseCode.slowConsumer, 1006]).toContain((await stuck.closed).code);
    bystander.send({ type: 'ping', ref: 'fine' });
    expect(await bystander.next((m) => m.type === 'pong')).toMatchObject({ ref: 'fine' });
  });

  it('tells every client to reconnect elsewhere (1012) on shutdown and refuses new ones meanwhile', async () => {
    const server = await startTestServer(t.db);
    const socket = await connect(server);
    await server.close();
    expect(await socket.closed).toEqual({ code: CloseCode.serviceRestart, reason: 'server restart' });
  });

  it('counts reconnections of the same client session', async () => {
    const server = await serve();
    const token = await server.token();
    const first = await connect(server, token, { session: 'tab-1' });
    first.close();
    await first.closed;
    await eventually(() => server.service.gateway.stats.connections === 0, 'the server to see the close');
    await connect(server, token, { session: 'tab-1' });
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/ticketpulse_ws_reconnections_total 1/);
    expect(text).toMatch(/ticketpulse_ws_reconnect_gap_seconds_count 1/);
  });

  it('ignores other paths: no WebSocket is served outside /realtime', async () => {
    const server = await serve();
    const url = server.url.replace('http', 'ws') + '/elsewhere';
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(url);
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('error', () => {});
    });
    expect(status).toBe(404);
  });
});

