import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../src/inventory/catalog.ts';
import { seedDemoEvents, WAITING_ROOM_DEMO_SLUG } from '../src/seed/demo-events.ts';
import { FLOOR_SHARE, NEARLY_SOLD_OUT_SLUG } from '../src/simulator/buyer-simulator.ts';
import { createTestDatabase, drivers, type TestDatabase } from './support/database.ts';
import { createEvent } from './support/fixtures.ts';
import { startTestServer, type TestServer } from './support/server.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(drivers)('buyer simulator (%s)', (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  let organizer: string;

  beforeAll(async () => {
    t = await createTestDatabase(driver);
    const catalog = new Catalog(t.db);
    await seedDemoEvents(t.db, catalog);
    // An ordinary event close to its floor: 3 of 10 left, so at most 2 more may go.
    const tight = await createEvent(catalog, { ticketTypes: [{ name: 'Last Rows', totalCapacity: 10, maxPerOrder: 4 }] });
    await t.db.query(
      `INSERT INTO tickets (event_id, event_ticket_id, status, holder_id, purchased_at)
       SELECT $1, $2, 'sold', 'past-buyer', now() FROM generate_series(1, 7)`,
      [tight.id, tight.ticketTypes[0]!.id],
    );
    // Brisker than the demo's pace, so three seconds on a loaded machine still see plenty of holds and decisions.
    server = await startTestServer(t.db, { demo: true, simulatorPace: { holdEveryMs: [50, 150], decideAfterMs: [200, 1000] } });
    organizer = await server.token('organizer');
  });
  afterAll(async () => {
    await server.close();
    await t.dispose();
  });

  /** Ordinary ticket types (capacity known, not the nearly-sold-out event nor the queued one, which may sell out) with their available seats. */
  const ordinaryTypes = async () =>
    (
      await t.db.query<{ slug: string; name: string; total_capacity: number; available_count: number }>(
        `SELECT e.slug, et.name, et.total_capacity, et.available_count FROM event_tickets et JOIN events e ON e.id = et.event_id
         WHERE et.total_capacity IS NOT NULL AND e.slug <> ALL ($1::text[])`,
        [[NEARLY_SOLD_OUT_SLUG, WAITING_ROOM_DEMO_SLUG]],
      )
    ).rows;

  it('is only for organizers and validates its body', async () => {
    expect((await server.request('GET', '/api/simulator')).status).toBe(401);
    const buyer = await server.request('PUT', '/api/simulator', { token: await server.token(), body: { running: true } });
    expect([buyer.status, buyer.body.error.code]).toEqual([403, 'forbidden']);
    for (const body of [{}, { running: 'yes' }, { running: true, speed: 2 }]) {
      const bad = await server.request('PUT', '/api/simulator', { token: organizer, body });
      expect([bad.status, bad.body.error.code]).toEqual([400, 'invalid_request']);
    }
    const idle = await server.request('GET', '/api/simulator', { token: organizer });
    expect(idle.body).toEqual({ running: false, stats: { holds: 0, purchases: 0, releases: 0, restocks: 0, expiries: 0, refusals: 0, queueJoins: 0 } });
  });

  it('makes holds and purchases for ~3 s, keeps every counter exact and ordinary events above 10%, and stops cleanly', async () => {
    const started = await server.request('PUT', '/api/simulator', { token: organizer, body: { running: true } });
    expect([started.status, started.body.running]).toEqual([200, true]);
    const until = Date.now() + 3000;
    while (Date.now() < until) {
      expect(await t.countMismatches()).toEqual([]);
      for (const type of await ordinaryTypes()) {
        expect(type.available_count, `${type.slug} / ${type.name}`).toBeGreaterThanOrEqual(Math.ceil(type.total_capacity * FLOOR_SHARE));
      }
      await sleep(250);
    }
    const running = await server.request('GET', '/api/simulator', { token: organizer });
    expect(running.body.running).toBe(true);
    expect(running.body.stats.holds).toBeGreaterThan(0);
    expect(running.body.stats.purchases).toBeGreaterThan(0);

    const stopped = await server.request('PUT', '/api/simulator', { token: organizer, body: { running: false } });
    expect([stopped.status, stopped.body.running]).toEqual([200, false]);
    const { stats } = stopped.body;
    expect(stats.purchases + stats.releases + stats.expiries).toBeLessThanOrEqual(stats.holds);
    // Nothing moves once stopped: no request is still on its way, no decision still pending.
    const before = await t.db.query('SELECT sum(sold_count + reserved_count)::integer AS n FROM event_tickets');
    await sleep(1200);
    expect((await server.request('GET', '/api/simulator', { token: organizer })).body.stats).toEqual(stats);
    expect((await t.db.query('SELECT sum(sold_count + reserved_count)::integer AS n FROM event_tickets')).rows).toEqual(before.rows);
    // Holds it left to expire are the only ones it leaves behind.
    const { rows } = await t.db.query<{ n: number }>(`SELECT count(*)::integer AS n FROM reservations WHERE status = 'active'`);
    expect(rows[0]!.n).toBe(stats.expiries);
    expect(await t.countMismatches()).toEqual([]);
  });

  it('stops by itself when the service closes', async () => {
    const other = await startTestServer(t.db, { demo: true });
    const simulator = other.service.simulator!;
    await simulator.start();
    expect(simulator.status().running).toBe(true);
    await other.close();
    expect(simulator.status().running).toBe(false);
    expect(await t.countMismatches()).toEqual([]);
  });

  it('adds capacity, as an organizer would, when an event has reached its floor, so the demo keeps moving', async () => {
    const quiet = await createTestDatabase(driver);
    const catalog = new Catalog(quiet.db);
    const event = await createEvent(catalog, { ticketTypes: [{ name: 'Balcony', totalCapacity: 20, maxPerOrder: 4 }] });
    const balcony = event.ticketTypes[0]!.id;
    await quiet.db.query(
      `INSERT INTO tickets (event_id, event_ticket_id, status, holder_id, purchased_at) SELECT $1, $2, 'sold', 'past', now() FROM generate_series(1, 18)`,
      [event.id, balcony],
    );
    const own = await startTestServer(quiet.db, { demo: true, simulatorPace: { holdEveryMs: [50, 100], decideAfterMs: [200, 400] } });
    try {
      await own.request('PUT', '/api/simulator', { token: await own.token('organizer'), body: { running: true } });
      const capacity = async () => (await catalog.getEvent(event.id, { privileged: true })).ticketTypes[0]!.totalCapacity;
      const deadline = Date.now() + 10_000;
      while ((await capacity()) === 20 && Date.now() < deadline) await sleep(100);
      expect(await capacity()).toBeGreaterThan(20);
      const status = await own.request('PUT', '/api/simulator', { token: await own.token('organizer'), body: { running: false } });
      expect(status.body.stats.restocks).toBeGreaterThan(0);
      expect(await quiet.countMismatches()).toEqual([]);
    } finally {
      await own.close();
      await quiet.dispose();
    }
  });
});

describe.each(drivers)('buyer simulator outside demo mode (%s)', (driver) => {
  it('does not exist: /api/simulator is 404 not_found for organizers and services, and no hold is ever made', async () => {
    const t = await createTestDatabase(driver);
    await seedDemoEvents(t.db, new Catalog(t.db));
    const server = await startTestServer(t.db);
    try {
      expect(server.service.simulator).toBeUndefined();
      const organizer = await server.token('organizer');
      const service = (await server.service.verifier.sign({ role: 'service' }, 60)).token;
      for (const token of [organizer, service]) {
        for (const [method, body] of [['GET', undefined], ['PUT', { running: true }]] as const) {
          const response = await server.request(method, '/api/simulator', { token, ...(body && { body }) });
          expect([response.status, response.body.error.code], `${method} /api/simulator`).toEqual([404, 'not_found']);
        }
      }
      expect((await server.request('GET', '/api/openapi.json')).body.paths['/api/simulator']).toBeUndefined();
      // Had anything started it, its first holds come within a few hundred milliseconds.
      await sleep(1500);
      const { rows } = await t.db.query<{ n: number }>('SELECT count(*)::integer AS n FROM reservations');
      expect(rows[0]!.n).toBe(0);
    } finally {
      await server.close();
      await t.dispose();
    }
  });
});
