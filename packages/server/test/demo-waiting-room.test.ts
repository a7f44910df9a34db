import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../src/inventory/catalog.ts';
import { DEMO_QUEUE_OPENS_IN_MS, seedDemoEvents, WAITING_ROOM_DEMO_SLUG } from '../src/seed/demo-events.ts';
import { createTestDatabase, drivers, type TestDatabase } from './support/database.ts';
import { startTestServer, type TestServer } from './support/server.ts';
import { eventually } from './support/viewer.ts';

/** The first value read that passes the check (support/viewer.ts's eventually, keeping what was read). */
async function readUntil<T>(read: () => Promise<T>, check: (value: T) => boolean, what: string, timeoutMs = 30_000): Promise<T> {
  let value!: T;
  await eventually(async () => check((value = await read())), what, timeoutMs);
  return value;
}

const seed = (t: TestDatabase, queueOpensInMs?: number) => seedDemoEvents(t.db, new Catalog(t.db), queueOpensInMs === undefined ? {} : { queueOpensInMs });

describe.each(drivers)('the demo waiting room (%s)', (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  let organizer: string;

  beforeAll(async () => {
    t = await createTestDatabase(driver);
  });
  afterAll(async () => {
    await server?.close();
    await t.dispose();
  });

  const queue = async () => (await server.request('GET', `/api/events/${WAITING_ROOM_DEMO_SLUG}/queue`, { token: organizer })).body.queue;

  it('is seeded with its queue opening a minute later, its pre-queue running, and listed in the shop', async () => {
    const before = Date.now();
    const created = await seed(t);
    const after = Date.now();
    expect(created).toContain(WAITING_ROOM_DEMO_SLUG);
    server = await startTestServer(t.db, { demo: true, simulatorPace: { holdEveryMs: [50, 150], decideAfterMs: [200, 600], queueStepMs: [100, 200] } });
    organizer = await server.token('organizer');
    const seeded = await queue();
    expect(seeded).toMatchObject({ enabled: true, status: 'prequeue', admitPerMinute: 30, length: 0, admitted: 0, servedUpTo: 0 });
    expect(DEMO_QUEUE_OPENS_IN_MS).toBe(60_000);
    expect(Date.parse(seeded.opensAt)).toBeGreaterThanOrEqual(before + DEMO_QUEUE_OPENS_IN_MS);
    expect(Date.parse(seeded.opensAt)).toBeLessThanOrEqual(after + DEMO_QUEUE_OPENS_IN_MS);
    // Within the pre-queue (30 minutes by default): visitors may join at once.
    expect(Date.parse(seeded.opensAt) - seeded.prequeueMinutes * 60_000).toBeLessThan(before);
    const { events } = (await server.request('GET', '/api/events')).body as { events: Array<{ slug: string; status: string }> };
    expect(events.find((e) => e.slug === WAITING_ROOM_DEMO_SLUG)?.status).toBe('on_sale');
    // Seeding again adds nothing and leaves the waiting room as it is.
    expect(await seed(t)).toEqual([]);
    expect((await queue()).opensAt).toBe(seeded.opensAt);
  });

  it('with the simulator running, a crowd joins the pre-queue, gets positions at opening, is admitted and buys, until sold out', async () => {
    // The seeded event's queue opens in a minute: this test stages its own, opening in four seconds.
    await server.close();
    await t.dispose();
    t = await createTestDatabase(driver);
    await seed(t, 4000);
    server = await startTestServer(t.db, { demo: true, simulatorPace: { holdEveryMs: [50, 150], decideAfterMs: [200, 600], queueStepMs: [100, 200] } });
    organizer = await server.token('organizer');
    // Fewer seats than the demo's, so that the sell-out comes within seconds of speeding admission up.
    const { event } = (await server.request('GET', `/api/events/${WAITING_ROOM_DEMO_SLUG}`)).body as { event: { ticketTypes: Array<{ id: string }> } };
    for (const type of event.ticketTypes) {
      expect((await server.request('PATCH', `/api/event-tickets/${type.id}`, { token: organizer, body: { totalCapacity: 25 } })).status).toBe(200);
    }
    const started = await server.request('PUT', '/api/simulator', { token: organizer, body: { running: true } });
    expect(started.status).toBe(200);

    // The pre-queue: people wait in line without positions.
    const waiting = await readUntil(queue, (q) => q.length >= 5, 'visitors in the pre-queue', 10_000);
    expect([waiting.status, waiting.lastPosition, waiting.servedUpTo]).toEqual(['prequeue', 0, 0]);

    // Opening: every pre-queued visitor gets a position in one draw, and admission starts at the rate.
    const opened = await readUntil(queue, (q) => q.admitted > 0, 'an admission after opening');
    expect(opened.status).not.toBe('prequeue');
    expect(opened.lastPosition).toBeGreaterThanOrEqual(waiting.length);
    const { rows: unplaced } = await t.db.query<{ n: number }>(
      `SELECT count(*)::integer AS n FROM queue_entries q JOIN events e ON e.id = q.event_id WHERE e.slug = $1 AND q.position IS NULL`,
      [WAITING_ROOM_DEMO_SLUG],
    );
    expect(unplaced[0]!.n).toBe(0);

    // Admitted visitors hold and buy; only they can, on a queued event.
    const sold = async () =>
      (
        await t.db.query<{ sold: number; left: number; held: number }>(
          `SELECT sum(et.sold_count)::integer AS sold, sum(et.available_count)::integer AS left, sum(et.reserved_count)::integer AS held
           FROM event_tickets et JOIN events e ON e.id = et.event_id WHERE e.slug = $1`,
          [WAITING_ROOM_DEMO_SLUG],
        )
      ).rows[0]!;
    await readUntil(sold, (s) => s.sold > 0, 'a sale on the queued event');
    const { rows: holders } = await t.db.query<{ n: number }>(
      `SELECT count(*)::integer AS n FROM reservations r JOIN events e ON e.id = r.event_id
       WHERE e.slug = $1 AND NOT EXISTS (SELECT 1 FROM queue_entries q WHERE q.event_id = r.event_id AND q.holder_id = r.holder_id AND q.position IS NOT NULL)`,
      [WAITING_ROOM_DEMO_SLUG],
    );
    expect(holders[0]!.n).toBe(0);

    // The organizer speeds admission up (the demo's cap of active shoppers would hold it back), and the crowd buys every seat: the queue says sold out.
    const faster = await server.request('PATCH', `/api/events/${WAITING_ROOM_DEMO_SLUG}/queue`, {
      token: organizer,
      body: { admitPerMinute: 900, maxActiveShoppers: null },
    });
    expect([faster.status, faster.body.queue.admitPerMinute, faster.body.queue.maxActiveShoppers]).toEqual([200, 900, null]);
    const over = await readUntil(queue, (q) => q.status === 'sold_out', 'the queue sold out', 60_000);
    expect(over.estimatedWaitSeconds).toBeNull();
    expect(await sold()).toMatchObject({ left: 0, held: 0 });
    const { stats } = (await server.request('GET', '/api/simulator', { token: organizer })).body;
    expect(stats.queueJoins).toBeGreaterThanOrEqual(waiting.length);
    expect(stats.purchases).toBeGreaterThan(0);
    await server.request('PUT', '/api/simulator', { token: organizer, body: { running: false } });
    expect(await t.countMismatches()).toEqual([]);
  }, 90_000);
});
