import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../src/inventory/catalog.ts';
import { createTestDatabase, drivers, type TestDatabase } from './support/database.ts';
import { createEvent, typeId } from './support/fixtures.ts';
import { TestSocket } from './support/realtime-client.ts';
import { startTestServer, type TestServer } from './support/server.ts';
import { eventually } from './support/viewer.ts';

const startOfMinute = (iso: string) => new Date(Math.floor(Date.parse(iso) / 60_000) * 60_000).toISOString();

describe.each(drivers)('organizer insights: holds, sales, realtime stats (%s)', (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  let catalog: Catalog;
  let organizer: string;

  beforeAll(async () => {
    t = await createTestDatabase(driver);
    server = await startTestServer(t.db);
    catalog = new Catalog(t.db);
    organizer = await server.token('organizer');
  });
  afterEach(async () => {
    expect(await t.countMismatches()).toEqual([]);
  });
  afterAll(async () => {
    await server.close();
    await t.dispose();
  });

  const hold = async (eventId: string, items: Array<{ ticketTypeId: string; quantity: number }>, token?: string) => {
    const response = await server.request('POST', `/api/events/${eventId}/reservations`, { token: token ?? (await server.token()), body: { items } });
    expect(response.status).toBe(201);
    return response.body.reservation as { id: string; holderId: string; expiresAt: string; confirmedAt: string | null };
  };

  it.each([
    ['holds', '/holds'],
    ['sales', '/sales'],
  ])('refuses %s to callers who are not organizers, and unknown events', async (_name, suffix) => {
    const event = await createEvent(catalog);
    const path = `/api/events/${event.slug}${suffix}`;
    expect((await server.request('GET', path)).body.error.code).toBe('unauthorized');
    const buyer = await server.request('GET', path, { token: await server.token('authenticated') });
    expect([buyer.status, buyer.body.error.code]).toEqual([403, 'forbidden']);
    const unknown = await server.request('GET', `/api/events/no-such-event${suffix}`, { token: organizer });
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'event_not_found']);
    const service = await server.request('GET', path, { token: await server.token('service') });
    expect(service.status).toBe(200);
  });

  it.each([
    '/holds?expiringWithinSeconds=0',
    '/holds?expiringWithinSeconds=86401',
    '/holds?expiringWithinSeconds=soon',
    '/holds?expiringWithinSeconds=1.5',
    '/sales?minutes=0',
    '/sales?minutes=1441',
    '/sales?minutes=',
  ])('answers 400 invalid_request to %s', async (query) => {
    const event = await createEvent(catalog);
    const response = await server.request('GET', `/api/events/${event.slug}${query}`, { token: organizer });
    expect([response.status, response.body.error.code]).toEqual([400, 'invalid_request']);
  });

  it('lists live holds due within the window, soonest first, without holder ids', async () => {
    const event = await createEvent(catalog);
    const general = typeId(event, 'General');
    const vip = typeId(event, 'VIP');
    const buyer = await server.token();
    const later = await hold(event.id, [{ ticketTypeId: general, quantity: 1 }], buyer);
    expect((await server.request('POST', `/api/reservations/${later.id}/extend`, { token: buyer })).status).toBe(200);
    const sooner = await hold(event.id, [
      { ticketTypeId: vip, quantity: 1 },
      { ticketTypeId: general, quantity: 2 },
    ]);
    const confirmed = await hold(event.id, [{ ticketTypeId: general, quantity: 1 }], buyer);
    await server.request('POST', `/api/reservations/${confirmed.id}/confirm`, { token: buyer });
    const released = await hold(event.id, [{ ticketTypeId: general, quantity: 1 }], buyer);
    await server.request('DELETE', `/api/reservations/${released.id}`, { token: buyer });
    // Past its deadline but not swept yet (the test sweeper runs once a minute): already not a live hold.
    const lapsed = await hold(event.id, [{ ticketTypeId: vip, quantity: 1 }]);
    await t.db.query(`UPDATE reservations SET expires_at = now() - interval '1 second' WHERE id = $1`, [lapsed.id]);
    await t.db.query(`UPDATE tickets SET reservation_expires_at = now() - interval '1 second' WHERE reservation_id = $1`, [lapsed.id]);

    const all = await server.request('GET', `/api/events/${event.slug}/holds?expiringWithinSeconds=86400`, { token: organizer });
    expect(all.status).toBe(200);
    expect(Date.parse(all.body.serverTime)).not.toBeNaN();
    expect(all.body.holds).toEqual([
      {
        id: sooner.id,
        expiresAt: sooner.expiresAt,
        extensionsUsed: 0,
        items: [
          { ticketTypeId: general, ticketTypeName: 'General', quantity: 2 },
          { ticketTypeId: vip, ticketTypeName: 'VIP', quantity: 1 },
        ],
      },
      { id: later.id, expiresAt: expect.any(String), extensionsUsed: 1, items: [{ ticketTypeId: general, ticketTypeName: 'General', quantity: 1 }] },
    ]);
    expect(JSON.stringify(all.body)).not.toContain(later.holderId);

    // Holds last 900 s here: none is due within the default 300 s, nor within 60.
    const due = await server.request('GET', `/api/events/${event.id}/holds`, { token: organizer });
    expect(due.body.holds).toEqual([]);
    const window = await server.request('GET', `/api/events/${event.id}/holds?expiringWithinSeconds=1000`, { token: organizer });
    expect(window.body.holds.map((h: { id: string }) => h.id)).toEqual([sooner.id]);
  });

  it('counts seats sold per minute, every minute present, in the minute they were bought', async () => {
    const event = await createEvent(catalog);
    const general = typeId(event, 'General');
    const buyer = await server.token();
    const bought = await hold(event.id, [{ ticketTypeId: general, quantity: 3 }], buyer);
    const confirmed = await server.request('POST', `/api/reservations/${bought.id}/confirm`, { token: buyer });
    // An earlier sale, as a past checkout would have left it: 10 seconds into the minute five minutes ago.
    const { rows } = await t.db.query<{ purchased_at: Date }>(
      `INSERT INTO tickets (event_id, event_ticket_id, status, holder_id, purchased_at)
       SELECT $1, $2, 'sold', 'past-buyer', date_trunc('minute', now()) - interval '5 minutes' + interval '10 seconds'
       FROM generate_series(1, 2) RETURNING purchased_at`,
      [event.id, general],
    );
    // Another event's sales are not this one's.
    const other = await createEvent(catalog);
    await hold(other.id, [{ ticketTypeId: typeId(other, 'General'), quantity: 1 }]);

    const sales = await server.request('GET', `/api/events/${event.slug}/sales?minutes=10`, { token: organizer });
    expect(sales.status).toBe(200);
    const buckets = sales.body.buckets as Array<{ minute: string; sold: number }>;
    expect(buckets).toHaveLength(10);
    buckets.forEach((bucket, i) => {
      if (i > 0) expect(Date.parse(bucket.minute) - Date.parse(buckets[i - 1]!.minute)).toBe(60_000);
    });
    expect(buckets.at(-1)!.minute).toBe(startOfMinute(sales.body.serverTime));
    const soldIn = (minute: string) => buckets.find((b) => b.minute === minute)?.sold;
    expect(soldIn(startOfMinute(confirmed.body.reservation.confirmedAt))).toBe(3);
    expect(soldIn(startOfMinute(rows[0]!.purchased_at.toISOString()))).toBe(2);
    expect(buckets.reduce((sum, b) => sum + b.sold, 0)).toBe(5);

    const byDefault = await server.request('GET', `/api/events/${event.id}/sales`, { token: organizer });
    expect(byDefault.body.buckets).toHaveLength(60);
    const oneMinute = await server.request('GET', `/api/events/${event.id}/sales?minutes=1`, { token: organizer });
    expect(oneMinute.body.buckets).toHaveLength(1);
  });

  it('reports realtime connections and viewers per event on this node', async () => {
    const event = await createEvent(catalog);
    expect((await server.request('GET', '/api/realtime/stats')).status).toBe(401);
    expect((await server.request('GET', '/api/realtime/stats', { token: await server.token() })).status).toBe(403);

    const socket = await TestSocket.connect(server.url, await server.token());
    try {
      await socket.subscribe(event.slug);
      const stats = await server.request('GET', '/api/realtime/stats', { token: organizer });
      expect(stats.status).toBe(200);
      expect(stats.body.viewers[event.id]).toBe(1);
      expect(stats.body.connections).toBeGreaterThanOrEqual(1);
      expect(stats.body.watchedEvents).toBeGreaterThanOrEqual(1);
    } finally {
      socket.close();
    }
    await eventually(async () => {
      const after = await server.request('GET', '/api/realtime/stats', { token: await server.token('service') });
      return after.body.viewers[event.id] === undefined;
    }, 'the viewer to be gone');
  });
});
