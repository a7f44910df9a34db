import { randomUUID } from 'node:crypto';
import {
  type RealtimeChannel,
  type RealtimePostgresChangesPayload,
  type RealtimePostgresInsertPayload,
  type RealtimePostgresUpdatePayload,
  type SupabaseClient,
  type WebSocketLikeConstructor,
} from '@supabase/supabase-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Role } from '../src/auth/principal.ts';
import { createTestDatabase, drivers, postgresUrl, type TestDatabase } from './support/database.ts';
import { createEvent, typeId } from './support/fixtures.ts';
import { PhoenixSocket, upgradeWebSocket, type PhoenixFrame } from './support/phoenix-socket.ts';
import { startTestServer, type TestServer } from './support/server.ts';
import { subscribeStatus, supabaseClient } from './support/supabase-client.ts';
import { eventually } from './support/viewer.ts';

type Row = Record<string, unknown>;

/** `ws`, counting the connections the client opens (Node 20 has no global WebSocket). */
let opened = 0;
class CountingWebSocket extends WebSocket {
  constructor(...args: ConstructorParameters<typeof WebSocket>) {
    super(...args);
    opened += 1;
  }
}
// ws accepts more than the client's WebSocketLike passes it; the client's type is stricter than it needs to be.
const transport = CountingWebSocket as unknown as WebSocketLikeConstructor;

interface ClientOptions {
  vsn?: string;
  heartbeatIntervalMs?: number;
  heartbeatCallback?: (status: string) => void;
  /** supabase-js's third-party auth hook: its token goes in the join payload instead of the apikey. */
  accessToken?: () => Promise<string>;
}

/** The official client, pointed at a TicketPulse server, counting the connections it opens. */
function supabaseFor(server: TestServer, apikey: string, options: ClientOptions = {}): SupabaseClient {
  const { vsn, heartbeatIntervalMs, heartbeatCallback, accessToken } = options;
  return supabaseClient(server.url, apikey, {
    realtime: {
      transport,
      ...(vsn && { vsn }),
      ...(heartbeatIntervalMs && { heartbeatIntervalMs }),
      ...(heartbeatCallback && { heartbeatCallback }),
    },
    ...(accessToken && { accessToken }),
  });
}

/** What the upgrade of a raw WebSocket to `path` is answered with: open, or an HTTP status and body. */
const upgrade = (server: TestServer, path: string) => upgradeWebSocket(server.url.replace(/^http/, 'ws') + path);

describe.each(drivers)('Supabase Realtime-compatible endpoint (%s)', (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  const clients: SupabaseClient[] = [];
  const connect = (apikey: string, options?: ClientOptions) => {
    const client = supabaseFor(server, apikey, options);
    clients.push(client);
    return client;
  };
  const tokenFor = (role: Role, userId = randomUUID()) => server.token(role, userId);

  beforeAll(async () => {
    t = await createTestDatabase(driver);
    server = await startTestServer(t.db);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.removeAllChannels()));
  });
  afterAll(async () => {
    await server.close();
    await t.dispose();
  });

  describe.each(['1.0.0', '2.0.0'])('vsn %s', (vsn) => {
    it("runs the design's two subscriptions verbatim: a hold over HTTP reaches them within a second, personal columns only for the holder", async () => {
      const event = await createEvent(server.service.catalog);
      const eventId = event.id;
      const general = typeId(event, 'General');
      const buyerId = randomUUID();

      // The design's snippets (../shared/seeds/), as written, for the buyer and for another viewer.
      const watchers = [
        { supabase: connect(await tokenFor('authenticated', buyerId), { vsn }), updates: [] as Row[], inserts: [] as Row[] },
        { supabase: connect(await tokenFor('anon'), { vsn }), updates: [] as Row[], inserts: [] as Row[] },
      ];
      const channels: RealtimeChannel[] = [];
      for (const watcher of watchers) {
        const { supabase } = watcher;
        const handleTicketUpdate = (payload: RealtimePostgresUpdatePayload<Row>) => watcher.updates.push({ ...payload, receivedAt: Date.now() });
        const handleNewReservation = (payload: RealtimePostgresInsertPayload<Row>) => watcher.inserts.push({ ...payload, receivedAt: Date.now() });

        // Subscribe to specific event tickets
        const ticketsChannel = supabase
          .channel(`event-${eventId}-tickets`)
          .on('postgres_changes', {
            event: 'UPDATE',
            schema: 'public',
            table: 'event_tickets',
            filter: `event_id=eq.${eventId}`
          }, handleTicketUpdate)
          .subscribe()

        // Monitor ticket status changes
        const reservationsChannel = supabase
          .channel(`event-${eventId}-reservations`)
          .on('postgres_changes', {
            event: 'INSERT',
            schema: 'public',
            table: 'tickets',
            filter: `event_id=eq.${eventId}`
          }, handleNewReservation)
          .subscribe()

        channels.push(ticketsChannel, reservationsChannel);
      }
      await eventually(() => channels.every((c) => c.state === 'joined'), 'all four channels joined');

      const hold = await server.request('POST', `/api/events/${eventId}/reservations`, {
        token: await tokenFor('authenticated', buyerId),
        body: { items: [{ ticketTypeId: general, quantity: 2 }] },
      });
      expect(hold.status).toBe(201);
      const committedAt = Date.now();
      await eventually(() => watchers.every((w) => w.updates.length >= 1 && w.inserts.length >= 2), 'the UPDATE and both INSERTs', 1000);

      for (const [i, watcher] of watchers.entries()) {
        const update = watcher.updates[0] as RealtimePostgresUpdatePayload<Row> & { receivedAt: number };
        expect(update).toMatchObject({ schema: 'public', table: 'event_tickets', eventType: 'UPDATE', errors: null });
        expect(update.new).toMatchObject({ id: general, event_id: eventId, name: 'General', total_capacity: 10, reserved_count: 2, sold_count: 0, available_count: 8, price: 20, is_active: true });
        expect(update.new.version).toBeGreaterThan(update.old.version as number);
        expect(update.old).toMatchObject({ id: general, reserved_count: 0, available_count: 10 });
        expect(Date.parse(update.commit_timestamp)).not.toBeNaN();
        expect(update.receivedAt - committedAt).toBeLessThan(1000);

        const inserts = watcher.inserts as Array<RealtimePostgresInsertPayload<Row> & { receivedAt: number }>;
        expect(inserts).toHaveLength(2);
        for (const insert of inserts) {
          expect(insert).toMatchObject({ schema: 'public', table: 'tickets', eventType: 'INSERT', old: {}, errors: null });
          expect(insert.new).toMatchObject({ event_id: eventId, event_ticket_id: general, status: 'reserved', purchased_at: null });
          expect(Date.parse(insert.new.reservation_expires_at as string)).toBeGreaterThan(Date.now());
          if (i === 0) expect(insert.new).toMatchObject({ holder_id: buyerId, reservation_id: hold.body.reservation.id });
          else {
            expect(insert.new).not.toHaveProperty('holder_id');
            expect(insert.new).not.toHaveProperty('reservation_id');
          }
        }
        expect(new Set(inserts.map((p) => p.new.id)).size).toBe(2);
      }
    });
  });

  it('also serves /socket/websocket, and refuses other paths', async () => {
    const apikey = await tokenFor('anon');
    const opened = await upgrade(server, `/socket/websocket?apikey=${apikey}&vsn=2.0.0`);
    expect(opened).toHaveProperty('opened');
    if ('opened' in opened) opened.opened.close();
    expect(await upgrade(server, `/realtime/v2/websocket?apikey=${apikey}`)).toMatchObject({ status: 404 });
  });

  it('sends INSERT, UPDATE and DELETE to * bindings, every matching binding id in one message', async () => {
    const event = await createEvent(server.service.catalog);
    const vip = typeId(event, 'VIP');
    const supabase = connect(await tokenFor('organizer'));
    const changes: Array<RealtimePostgresChangesPayload<Row>> = [];
    const vipOnly: Array<RealtimePostgresChangesPayload<Row>> = [];
    const channel = supabase
      .channel('organizer-desk')
      .on('postgres_changes', { event: '*', schema: 'public', table: 'event_tickets', filter: `event_id=eq.${event.id}` }, (p) => changes.push(p))
      .on('postgres_changes', { event: 'UPDATE', schema: 'public', table: 'event_tickets', filter: `id=in.(${vip},${randomUUID()})` }, (p) => vipOnly.push(p));
    expect((await subscribeStatus(channel)).status).toBe('SUBSCRIBED');

    // The API has no route that adds a ticket type: as psql would, then the signal the service's writers send.
    const { rows } = await t.db.query<{ id: string }>(
      `INSERT INTO event_tickets (event_id, name, price, total_capacity) VALUES ($1, 'Balcony', 35, 5) RETURNING id`,
      [event.id],
    );
    const added = rows[0]!;
    server.service.gateway.touch(event.id);
    await eventually(() => changes.some((c) => c.eventType === 'INSERT'), 'the INSERT');
    expect(changes.find((c) => c.eventType === 'INSERT')!.new).toMatchObject({ name: 'Balcony', total_capacity: 5, price: 35 });

    await server.request('PATCH', `/api/event-tickets/${vip}`, { token: await tokenFor('organizer'), body: { totalCapacity: 4 } });
    await eventually(() => vipOnly.length === 1 && changes.some((c) => c.eventType === 'UPDATE'), 'the UPDATE on both bindings');
    expect(vipOnly[0]!.new).toMatchObject({ id: vip, total_capacity: 4 });

    await t.db.query('DELETE FROM event_tickets WHERE id = $1', [added.id]);
    server.service.gateway.touch(event.id);
    await eventually(() => changes.some((c) => c.eventType === 'DELETE'), 'the DELETE');
    expect(changes.find((c) => c.eventType === 'DELETE')!.old).toMatchObject({ id: added.id, name: 'Balcony' });
  });

  it('a bad filter gets CHANNEL_ERROR with the reason', async () => {
    const supabase = connect(await tokenFor('anon'));
    const cases = [
      { filter: 'event_id=like.abc%', reason: 'operator "like" is not supported' },
      { filter: 'no_such_column=eq.1', reason: 'no column "no_such_column"' },
      { filter: 'event_id=eq.not-a-uuid', reason: '"not-a-uuid" is not a valid uuid' },
    ];
    for (const [i, { filter, reason }] of cases.entries()) {
      const channel = supabase.channel(`bad-${i}`).on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'tickets', filter }, () => {});
      const { status, err } = await subscribeStatus(channel);
      expect(status).toBe('CHANNEL_ERROR');
      expect(err?.message).toContain(reason);
      await supabase.removeChannel(channel);
    }
    const other = supabase.channel('elsewhere').on('postgres_changes', { event: '*', schema: 'public', table: 'reservations' }, () => {});
    expect((await subscribeStatus(other)).err?.message).toContain('TicketPulse streams event_tickets and tickets');
  });

  it('refuses an expired token: as the apikey before the handshake, in a join, and closes a channel when its token runs out', async () => {
    const expired = (await server.service.verifier.sign({ userId: randomUUID(), role: 'anon' }, -60)).token;
    expect(await upgrade(server, `/realtime/v1/websocket?apikey=${expired}&vsn=2.0.0`)).toMatchObject({
      status: 401,
      body: expect.stringContaining('token_expired'),
    });
    expect(await upgrade(server, `/realtime/v1/websocket?apikey=not-a-jwt`)).toMatchObject({ status: 401 });
    const refused = connect(expired).channel('refused').on('postgres_changes', { event: '*', schema: 'public', table: 'tickets' }, () => {});
    expect((await subscribeStatus(refused)).status).toBe('CHANNEL_ERROR');

    const withExpiredAccessToken = connect(await tokenFor('anon'), { accessToken: async () => expired });
    await withExpiredAccessToken.realtime.setAuth(); // as an app does once its session is loaded
    const join = withExpiredAccessToken.channel('join').on('postgres_changes', { event: '*', schema: 'public', table: 'tickets' }, () => {});
    const { status, err } = await subscribeStatus(join);
    expect(status).toBe('CHANNEL_ERROR');
    expect(err?.message).toContain('Token has expired');

    const shortLived = (await server.service.verifier.sign({ userId: randomUUID(), role: 'anon' }, 2)).token;
    const statuses: string[] = [];
    const system: Row[] = [];
    const brief = connect(shortLived)
      .channel('brief')
      .on('postgres_changes', { event: '*', schema: 'public', table: 'tickets' }, () => {})
      .on('system', {}, (payload: Row) => system.push(payload))
      .subscribe((s) => statuses.push(s));
    await eventually(() => statuses.includes('SUBSCRIBED'), 'SUBSCRIBED');
    await eventually(() => statuses.includes('CLOSED'), 'the channel closed at expiry', 4000);
    expect(system).toContainEqual(expect.objectContaining({ status: 'error', message: 'Token has expired' }));
    expect(brief.state).toBe('closed');
  });

  it("handles a connection's messages one at a time, in order, as Phoenix does", async () => {
    const socket = await PhoenixSocket.open(server.url, await tokenFor('anon'));
    const token = await tokenFor('anon');
    const binding = { postgres_changes: [{ event: '*', schema: 'public', table: 'event_tickets' }] };
    // Sent back to back, each join with a token to check before it registers: the limit (10) still holds.
    const sent: PhoenixFrame[] = Array.from({ length: 12 }, (_, i) => [`${i}`, `join-${i}`, `realtime:line-${i}`, 'phx_join', { config: binding, access_token: token }]);
    // Right behind their joins: a leave, and an access_token that is not a JWT.
    sent.push(['0', 'leave-0', 'realtime:line-0', 'phx_leave', {}], ['1', 'token-1', 'realtime:line-1', 'access_token', { access_token: 'not-a-jwt' }]);
    for (const frame of sent) socket.send(frame);
    const replies = await Promise.all(sent.map(([, ref]) => socket.next((f) => f[3] === 'phx_reply' && f[1] === ref)));
    expect(replies.map((f) => [f[1], (f[4] as { status: string }).status])).toEqual(sent.map(([, ref], i) => [ref, i === 10 || i === 11 || i === 13 ? 'error' : 'ok']));
    expect(replies[10]![4]).toEqual({ status: 'error', response: { reason: 'Too many channels: at most 10 per connection' } });
    expect(replies[13]![4]).toEqual({ status: 'error', response: { reason: 'Invalid token' } });
    // Answered in the order they were sent; the bad token also ends its channel, as an expired one does.
    const positions = sent.map(([, ref]) => socket.frames.findIndex((f) => f[3] === 'phx_reply' && f[1] === ref));
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    await socket.next((f) => f[2] === 'realtime:line-1' && f[3] === 'phx_close');
    expect(socket.frames).toContainEqual(['1', null, 'realtime:line-1', 'system', expect.objectContaining({ status: 'error', message: 'Invalid token' })]);
    socket.close();
  });

  it('opens no channel on an apikey that has expired since the handshake', async () => {
    // exp is in whole seconds: a 2 s token lives at least 1 s, time enough for the handshake; then wait past its exp.
    const { token: brief, expiresAt } = await server.service.verifier.sign({ userId: randomUUID(), role: 'anon' }, 2);
    const socket = await PhoenixSocket.open(server.url, brief);
    await new Promise((resolve) => setTimeout(resolve, Math.floor(expiresAt.getTime() / 1000) * 1000 + 100 - Date.now()));
    expect(await socket.join('late', [{ table: 'event_tickets' }])).toEqual({ status: 'error', response: { reason: 'Token has expired' } });
    // A join's own access_token still opens one.
    expect((await socket.join('fresh', [{ table: 'event_tickets' }], await tokenFor('anon'))).status).toBe('ok');
    socket.close();
  });
});

describe('Supabase endpoint heartbeats', () => {
  let t: TestDatabase;
  let server: TestServer;

  beforeAll(async () => {
    t = await createTestDatabase(drivers.at(-1)!);
    // Gateway heartbeat 250 ms: a Supabase client that is silent for 4 of them (1 s) is closed.
    server = await startTestServer(t.db, { realtime: { heartbeatMs: 250 } });
  });
  afterAll(async () => {
    await server.close();
    await t.dispose();
  });

  it('keeps a channel open past many heartbeat intervals while the client heartbeats, and closes a silent one', async () => {
    const event = await createEvent(server.service.catalog);
    const beats: string[] = [];
    const supabase = supabaseFor(server, await server.token('anon'), { heartbeatIntervalMs: 200, heartbeatCallback: (s) => beats.push(s) });
    const updates: Row[] = [];
    const channel = supabase
      .channel(`event-${event.id}-tickets`)
      .on('postgres_changes', { event: 'UPDATE', schema: 'public', table: 'event_tickets', filter: `event_id=eq.${event.id}` }, (p) => updates.push(p));
    expect((await subscribeStatus(channel)).status).toBe('SUBSCRIBED');
    const connections = opened;

    const silent = await upgrade(server, `/realtime/v1/websocket?apikey=${await server.token('anon')}&vsn=2.0.0`);
    if (!('opened' in silent)) throw new Error('silent client refused');
    const silentClosed = new Promise<number>((resolve) => silent.opened.once('close', (code) => resolve(code)));

    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(await silentClosed).toBe(1001);
    expect(beats.filter((s) => s === 'ok').length).toBeGreaterThanOrEqual(8);
    expect(beats).not.toContain('timeout');
    expect(opened).toBe(connections); // never reconnected
    expect(channel.state).toBe('joined');

    await server.request('POST', `/api/events/${event.id}/reservations`, {
      token: await server.token(),
      body: { items: [{ ticketTypeId: typeId(event, 'VIP'), quantity: 1 }] },
    });
    await eventually(() => updates.length === 1, 'an UPDATE after 3 s of heartbeats', 1000);
    await supabase.removeAllChannels();
  });
});

describe.skipIf(!postgresUrl)('Supabase endpoint on two nodes', () => {
  let t: TestDatabase;
  const servers: TestServer[] = [];

  beforeAll(async () => {
    t = await createTestDatabase('postgres');
    // Only the bus (and, for tickets, the outbox in the database) may carry a change from one node to the other.
    const options = { bus: { kind: 'postgres' as const }, realtime: { reconcileMs: 600_000 } };
    servers.push(await startTestServer(t.db, options), await startTestServer(await t.connectAgain(), options));
  });
  afterAll(async () => {
    for (const server of servers) await server.close();
    await t.dispose();
  });

  it('a hold made through node A reaches a supabase-js subscriber on node B', async () => {
    const [a, b] = servers as [TestServer, TestServer];
    const event = await createEvent(a.service.catalog);
    const supabase = supabaseFor(b, await b.token('organizer'));
    const changes: Array<RealtimePostgresChangesPayload<Row>> = [];
    const channel = supabase
      .channel('desk')
      .on('postgres_changes', { event: 'UPDATE', schema: 'public', table: 'event_tickets', filter: `event_id=eq.${event.id}` }, (p) => changes.push(p))
      .on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'tickets', filter: `event_id=eq.${event.id}` }, (p) => changes.push(p));
    expect((await subscribeStatus(channel)).status).toBe('SUBSCRIBED');

    const holderId = randomUUID();
    await a.request('POST', `/api/events/${event.id}/reservations`, {
      token: await a.token('authenticated', holderId),
      body: { items: [{ ticketTypeId: typeId(event, 'General'), quantity: 3 }] },
    });
    await eventually(() => changes.length === 4, 'the UPDATE and three INSERTs on node B', 2000);
    expect(changes.filter((c) => c.table === 'tickets').map((c) => c.new)).toEqual(Array(3).fill(expect.objectContaining({ holder_id: holderId })));
    expect(changes.find((c) => c.table === 'event_tickets')!.new).toMatchObject({ reserved_count: 3 });
    await supabase.removeAllChannels();
  });
});

describe('Supabase endpoint change capture', () => {
  let t: TestDatabase;
  let server: TestServer;

  beforeAll(async () => {
    t = await createTestDatabase(drivers.at(-1)!);
    // Ticks a second apart, so a join can land between a commit and the tick that sends it.
    server = await startTestServer(t.db, { realtime: { tickMs: 1000 } });
  });
  afterAll(async () => {
    await server.close();
    await t.dispose();
  });

  it("a change is not lost when another client starts watching every event before it is sent", async () => {
    const event = await createEvent(server.service.catalog);
    const watcher = await PhoenixSocket.open(server.url, await server.token('anon'));
    expect((await watcher.join('one-event', [{ table: 'event_tickets', filter: `event_id=eq.${event.id}` }])).status).toBe('ok');
    await server.service.holds.reserve({ eventId: event.id, holderId: randomUUID(), items: [{ ticketTypeId: typeId(event, 'General'), quantity: 1 }] });
    // Joined before the next tick: its baseline must not absorb the change the first watcher is owed.
    const everyEvent = await PhoenixSocket.open(server.url, await server.token('anon'));
    expect((await everyEvent.join('all-events', [{ table: 'event_tickets' }])).status).toBe('ok');
    const change = await watcher.next((f) => f[3] === 'postgres_changes', 3000);
    expect(change[4]).toMatchObject({ data: { type: 'UPDATE', record: { event_id: event.id, reserved_count: 1 } } });
    watcher.close();
    everyEvent.close();
  });

  it('a tick that reads more row changes than a call can take as arguments (150,000 seats in one transaction, as a mass expiry can) loses none of them', async () => {
    const event = await createEvent(server.service.catalog, {
      ticketTypes: [
        { name: 'Bulk', price: '10.00', totalCapacity: 200_000, maxPerOrder: 100 },
        { name: 'Watched', price: '10.00', totalCapacity: 10, maxPerOrder: 4 },
      ],
    });
    const watcher = await PhoenixSocket.open(server.url, await server.token('organizer'));
    expect((await watcher.join('watched', [{ table: 'tickets', filter: `event_ticket_id=eq.${typeId(event, 'Watched')}` }])).status).toBe('ok');
    // One transaction, so one tick reads all of it: 150,000 seats of one type (past V8's ~120,000 spread arguments), one of the other.
    await t.db.transaction(async (tx) => {
      const seats = (type: string, n: number) =>
        tx.query(
          `INSERT INTO tickets (event_id, event_ticket_id, status, holder_id, reservation_expires_at)
           SELECT $1, $2, 'reserved', 'bulk', now() + interval '1 hour' FROM generate_series(1, $3::integer)`,
          [event.id, typeId(event, type), n],
        );
      await seats('Bulk', 150_000);
      await seats('Watched', 1);
    });
    const change = await watcher.next((f) => f[3] === 'postgres_changes', 20_000);
    expect(change[4]).toMatchObject({ data: { type: 'INSERT', record: { event_ticket_id: typeId(event, 'Watched'), status: 'reserved' } } });
    watcher.close();
  });
});
