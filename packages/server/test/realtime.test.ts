import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { SubscribedMessage, UpdatesMessage } from '@ticketpulse/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../src/config.ts';
import { Holds } from '../src/inventory/holds.ts';
import { createTestDatabase, drivers, type TestDatabase } from './support/database.ts';
import { createEvent, holdSettings, typeId } from './support/fixtures.ts';
import { TestSocket } from './support/realtime-client.ts';
import { startTestServer, type TestServer } from './support/server.ts';
import { eventually, watch } from './support/viewer.ts';

describe.each(drivers)('realtime gateway (%s)', (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  const sockets: TestSocket[] = [];
  const connect = async (role: Parameters<TestServer['token']>[0] = 'anon', userId?: string) => {
    const socket = await TestSocket.connect(server.url, await server.token(role, userId));
    sockets.push(socket);
    return socket;
  };
  const hold = (eventId: string, ticketTypeId: string, quantity = 1) =>
    server.service.holds.reserve({ eventId, holderId: randomUUID(), items: [{ ticketTypeId, quantity }] });

  beforeAll(async () => {
    t = await createTestDatabase(driver);
    server = await startTestServer(t.db);
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
  });
  afterAll(async () => {
    await server.close();
    await t.dispose();
  });

  it('welcomes an authenticated client and answers subscribe with the same snapshot the HTTP API gives', async () => {
    const event = await createEvent(server.service.catalog);
    const socket = await connect();
    const welcome = socket.received[0]!;
    expect(welcome).toMatchObject({ type: 'welcome', limits: { maxSubscriptions: 10, maxFrameBytes: 16384 } });
    const answer = await socket.subscribe(event.slug);
    const http = await server.request('GET', `/api/events/${event.id}/availability`);
    expect(answer).toMatchObject({ type: 'subscribed', eventId: event.id, version: http.body.version, unchanged: false });
    const { serverTime: _a, ...snapshot } = (answer as SubscribedMessage).snapshot!;
    const { serverTime: _b, ...expected } = http.body;
    expect(snapshot).toEqual(expected);
  });

  it('sends an update within a second of a hold, with the version raised', async () => {
    const event = await createEvent(server.service.catalog);
    const general = typeId(event, 'General');
    const socket = await connect();
    const view = await watch(socket, event.id);
    const before = view.version;
    await server.request('POST', `/api/events/${event.id}/reservations`, {
      token: await server.token(),
      body: { items: [{ ticketTypeId: general, quantity: 3 }] },
    });
    const frame = await socket.next<UpdatesMessage>((m) => m.type === 'updates', 1000);
    const update = frame.updates[0]!;
    expect(update).toMatchObject({ eventId: event.id, previousVersion: before, snapshot: false });
    expect(update.version).toBeGreaterThan(before);
    expect(update.tickets).toEqual([expect.objectContaining({ ticketTypeId: general, reservedCount: 3, availableCount: 7 })]);
    expect(Date.parse(update.committedAt)).not.toBeNaN();
  });

  it('coalesces: 100 holds committed at once reach viewers as at most 2 updates, with exact final counts', async () => {
    const event = await createEvent(server.service.catalog, {
      ticketTypes: [{ name: 'Floor', totalCapacity: 1000, maxPerOrder: 4 }],
    });
    const floor = typeId(event, 'Floor');
    const socket = await connect();
    const view = await watch(socket, event.id);
    await t.db.transaction(async (tx) => {
      const holds = new Holds(tx, holdSettings);
      for (let i = 0; i < 100; i++) await holds.reserve({ eventId: event.id, holderId: `storm-${i}`, items: [{ ticketTypeId: floor, quantity: 2 }] });
    });
    server.service.gateway.touch(event.id);
    await eventually(() => view.ticket(floor)?.reservedCount === 200, 'the final counts');
    await new Promise((resolve) => setTimeout(resolve, 300)); // anything late would show up now
    const frames = socket.received.filter((m) => m.type === 'updates');
    expect(frames.length).toBeLessThanOrEqual(2);
    expect(view.ticket(floor)).toMatchObject({ reservedCount: 200, availableCount: 800 });
    expect(view.gaps).toBe(0);
  });

  it('keeps up with a sale storm at the tick rate and ends exact', async () => {
    const event = await createEvent(server.service.catalog, { ticketTypes: [{ name: 'Floor', totalCapacity: 10_000, maxPerOrder: 4 }] });
    const floor = typeId(event, 'Floor');
    const socket = await connect();
    const view = await watch(socket, event.id);
    const started = Date.now();
    for (let i = 0; i < 150; i++) await hold(event.id, floor, 1);
    const elapsed = Date.now() - started;
    await eventually(() => view.ticket(floor)?.reservedCount === 150, 'the final counts');
    // At most one update per 100 ms tick, plus the ticks at either end.
    expect(view.updates).toBeLessThanOrEqual(Math.ceil(elapsed / 100) + 2);
    expect(view.gaps).toBe(0);
  });

  it('resyncs by version: an old version gets a snapshot, the current one "unchanged"', async () => {
    const event = await createEvent(server.service.catalog);
    const first = await connect();
    const answer = (await first.subscribe(event.id)) as SubscribedMessage;
    const second = await connect();
    const current = await second.subscribe(event.id, answer.version);
    expect(current).toMatchObject({ type: 'subscribed', unchanged: true, version: answer.version });
    expect('snapshot' in current).toBe(false);

    await hold(event.id, typeId(event, 'VIP'));
    await first.next((m) => m.type === 'updates');
    const third = await connect();
    const stale = (await third.subscribe(event.id, answer.version)) as SubscribedMessage;
    expect(stale.unchanged).toBe(false);
    expect(stale.version).toBeGreaterThan(answer.version);
    expect(stale.snapshot!.tickets.find((x) => x.ticketTypeName === 'VIP')).toMatchObject({ reservedCount: 1 });
  });

  it('puts several events in one frame per connection and tick', async () => {
    const a = await createEvent(server.service.catalog);
    const b = await createEvent(server.service.catalog);
    const socket = await connect();
    await watch(socket, a.id);
    await watch(socket, b.id);
    // Past the first-watch re-checks, which read each event: an event read less than a tick ago waits for
    // the tick while the other goes out on the leading edge, and that would be two frames by design.
    await new Promise((resolve) => setTimeout(resolve, 3 * loadConfig({}).realtime.tickMs));
    await t.db.transaction(async (tx) => {
      const holds = new Holds(tx, holdSettings);
      await holds.reserve({ eventId: a.id, holderId: 'x', items: [{ ticketTypeId: typeId(a, 'General'), quantity: 1 }] });
      await holds.reserve({ eventId: b.id, holderId: 'x', items: [{ ticketTypeId: typeId(b, 'General'), quantity: 1 }] });
    });
    server.service.gateway.touch(a.id);
    server.service.gateway.touch(b.id);
    const frame = await socket.next<UpdatesMessage>((m) => m.type === 'updates');
    expect(frame.updates.map((u) => u.eventId).sort()).toEqual([a.id, b.id].sort());
  });

  it('never broadcasts holder ids, reservation ids or anything personal', async () => {
    const event = await createEvent(server.service.catalog);
    const socket = await connect();
    await watch(socket, event.id);
    const holder = randomUUID();
    const { reservation } = await server.service.holds.reserve({
      eventId: event.id,
      holderId: holder,
      items: [{ ticketTypeId: typeId(event, 'General'), quantity: 1 }],
    });
    await socket.next((m) => m.type === 'updates');
    const everything = JSON.stringify(socket.received);
    expect(everything).not.toContain(holder);
    expect(everything).not.toContain(reservation.id);
    expect(everything).not.toMatch(/holder|reservationId/i);
  });

  it('shows bands only, to buyers, for an event that hides its numbers; organizers still see counts', async () => {
    const event = await createEvent(server.service.catalog, {
      ticketTypes: [{ name: 'Seat', totalCapacity: 10, maxPerOrder: 10, lowStockThreshold: 2 }],
    });
    await server.service.catalog.updateEvent(event.id, { displayPrecision: 'bands' });
    const seat = typeId(event, 'Seat');
    const buyer = await connect('anon');
    const organizer = await connect('organizer');
    const buyerView = await watch(buyer, event.id);
    const organizerView = await watch(organizer, event.id);
    expect(buyerView.ticket(seat)).toMatchObject({ status: 'available', availableCount: null, soldCount: null, percentageSold: null });

    await hold(event.id, seat, 3); // 7 left: still "available" for buyers
    await eventually(() => organizerView.ticket(seat)?.availableCount === 7, 'the organizer sees the count');
    await hold(event.id, seat, 6); // 1 left: low stock
    await eventually(() => buyerView.ticket(seat)?.status === 'low_stock', 'buyers see the band change');
    expect(buyerView.ticket(seat)).toMatchObject({ availableCount: null, reservedCount: null });
    // Buyers got one update (the band change), not one per sale.
    expect(buyerView.updates).toBe(1);
    const http = await server.request('GET', `/api/events/${event.id}/availability`);
    expect(http.body.precision).toBe('bands');
    expect(http.body.tickets[0]).toMatchObject({ availableCount: null, status: 'low_stock' });
    // Nor does the event itself give the numbers away.
    const asBuyer = (await server.request('GET', `/api/events/${event.id}`)).body.event;
    expect(asBuyer).toMatchObject({ soldCount: null, reservedCount: null });
    expect(asBuyer.ticketTypes[0]).toMatchObject({ totalCapacity: null, soldCount: null, reservedCount: null, availableCount: null });
    const listed = (await server.request('GET', '/api/events')).body.events.find((e: { id: string }) => e.id === event.id);
    expect(listed).toMatchObject({ soldCount: null, reservedCount: null });
    const asOrganizer = (await server.request('GET', `/api/events/${event.id}`, { token: await server.token('organizer') })).body.event;
    expect(asOrganizer.ticketTypes[0]).toMatchObject({ totalCapacity: 10, reservedCount: 9 });
  });

  it('opens private events only to organizers and granted users, and ends a revoked user’s subscription', async () => {
    const event = await createEvent(server.service.catalog, { isPublic: false });
    const guest = randomUUID();
    const stranger = await connect('authenticated');
    expect(await stranger.subscribe(event.id)).toMatchObject({ type: 'error', code: 'event_not_found' });
    const organizer = await connect('organizer');
    expect(await organizer.subscribe(event.id)).toMatchObject({ type: 'subscribed' });

    const granted = await connect('authenticated', guest);
    expect(await granted.subscribe(event.id)).toMatchObject({ type: 'error', code: 'event_not_found' });
    const organizerToken = await server.token('organizer');
    expect((await server.request('PUT', `/api/events/${event.id}/access/${guest}`, { token: organizerToken })).status).toBe(204);
    expect(await granted.subscribe(event.id)).toMatchObject({ type: 'subscribed' });

    expect((await server.request('DELETE', `/api/events/${event.id}/access/${guest}`, { token: organizerToken })).status).toBe(204);
    expect(await granted.next((m) => m.type === 'error')).toMatchObject({ code: 'forbidden', eventId: event.id });
    await hold(event.id, typeId(event, 'General'));
    await organizer.next((m) => m.type === 'updates');
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(granted.received.filter((m) => m.type === 'updates')).toEqual([]);
  });

  it('unsubscribes, and sends nothing more for that event', async () => {
    const event = await createEvent(server.service.catalog);
    const socket = await connect();
    await watch(socket, event.id);
    socket.send({ type: 'unsubscribe', eventId: event.id, ref: 'u1' });
    expect(await socket.next((m) => m.type === 'unsubscribed')).toMatchObject({ eventId: event.id, ref: 'u1' });
    await hold(event.id, typeId(event, 'General'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(socket.received.filter((m) => m.type === 'updates')).toEqual([]);
  });

  it('unsubscribes by the slug it subscribed with', async () => {
    const event = await createEvent(server.service.catalog);
    const socket = await connect();
    await socket.subscribe(event.slug);
    socket.send({ type: 'unsubscribe', eventId: event.slug });
    await socket.next((m) => m.type === 'unsubscribed');
    await hold(event.id, typeId(event, 'General'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(socket.received.filter((m) => m.type === 'updates')).toEqual([]);
  });

  it('keeps exact viewers on the same version as the HTTP ETag, even after changes they cannot see', async () => {
    const event = await createEvent(server.service.catalog, {
      ticketTypes: [
        { name: 'Public', totalCapacity: 10, maxPerOrder: 4 },
        { name: 'Backstage', totalCapacity: 10, maxPerOrder: 4, status: 'hidden' },
      ],
    });
    const socket = await connect();
    const view = await watch(socket, event.id);
    await server.service.catalog.updateTicketType(typeId(event, 'Backstage'), { totalCapacity: 20 });
    const http = await server.request('GET', `/api/events/${event.id}/availability`);
    await eventually(() => view.version === http.body.version, 'the viewer to reach the HTTP version');
    const again = await connect();
    expect(await again.subscribe(event.id, http.body.version)).toMatchObject({ unchanged: true });
  });

  it('answers ping with pong and the database clock', async () => {
    const socket = await connect();
    socket.send({ type: 'ping', ref: 'p1' });
    const pong = await socket.next((m) => m.type === 'pong');
    expect(pong).toMatchObject({ ref: 'p1' });
    expect(Math.abs(Date.parse((pong as { serverTime: string }).serverTime) - Date.now())).toBeLessThan(60_000);
  });

  it('tells viewers when expired holds come back, within 2 s of the deadline', async () => {
    const swept = await startTestServer(t.db, { sweepIntervalMs: 200 });
    try {
      const event = await createEvent(swept.service.catalog, { holdSeconds: 1 });
      const vip = typeId(event, 'VIP');
      const socket = await TestSocket.connect(swept.url, await swept.token());
      sockets.push(socket);
      const view = await watch(socket, event.id);
      const { reservation } = await swept.service.holds.reserve({ eventId: event.id, holderId: 'h', items: [{ ticketTypeId: vip, quantity: 2 }] });
      await eventually(() => view.ticket(vip)?.availableCount === 0, 'the hold to show');
      await eventually(() => view.ticket(vip)?.availableCount === 2, 'the seats to come back', 5000);
      expect(Date.now() - Date.parse(reservation.expiresAt)).toBeLessThan(2000);
    } finally {
      await swept.close();
    }
  });

  it('exposes the design’s metrics at /metrics', async () => {
    const event = await createEvent(server.service.catalog);
    const socket = await connect();
    await watch(socket, event.id);
    await hold(event.id, typeId(event, 'General'));
    await socket.next((m) => m.type === 'updates');
    socket.send('not json');
    await socket.next((m) => m.type === 'error');
    const response = await fetch(`${server.url}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await response.text();
    for (const metric of [
      'ticketpulse_ws_connections ',
      'ticketpulse_ws_connection_attempts_total{result="accepted"}',
      'ticketpulse_ws_subscriptions_per_connection_bucket',
      'ticketpulse_ws_subscriptions_per_user_bucket',
      'ticketpulse_ws_messages_sent_total',
      'ticketpulse_ws_bytes_sent_total',
      'ticketpulse_commit_to_send_seconds_count',
      'ticketpulse_ws_errors_total{code="invalid_message"}',
      'ticketpulse_ws_reconnect_gap_seconds',
    ]) {
      expect(text).toContain(metric);
    }
    expect(Number(/ticketpulse_commit_to_send_seconds_count (\d+)/.exec(text)![1])).toBeGreaterThan(0);

    // The shipped alerting rules parse, and only use metrics that exist.
    const rules = parseYaml(await readFile(new URL('../../../deploy/prometheus/ticketpulse-alerts.yml', import.meta.url), 'utf8')) as {
      groups: Array<{ rules: Array<{ alert: string; expr: string }> }>;
    };
    const expressions = rules.groups.flatMap((g) => g.rules.map((r) => r.expr));
    expect(expressions.length).toBeGreaterThan(0);
    for (const name of expressions.flatMap((e) => e.match(/ticketpulse_[a-z_]+/g) ?? [])) expect(text).toContain(name);
  });
});
