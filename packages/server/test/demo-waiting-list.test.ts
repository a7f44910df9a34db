import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../src/inventory/catalog.ts';
import { seedDemoEvents, WAITLIST_DEMO_TYPE } from '../src/seed/demo-events.ts';
import { NEARLY_SOLD_OUT_SLUG } from '../src/simulator/buyer-simulator.ts';
import { createTestDatabase, drivers, type TestDatabase } from './support/database.ts';
import { startTestServer, type TestServer } from './support/server.ts';
import { eventually } from './support/viewer.ts';

interface TypeFigures {
  ticketTypeName: string;
  enabled: boolean;
  waiting: number;
  offersMade: number;
  offersOpen: number;
}

describe.each(drivers)('the demo waiting list (%s)', (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  let organizer: string;

  beforeAll(async () => {
    t = await createTestDatabase(driver);
    await seedDemoEvents(t.db, new Catalog(t.db));
    server = await startTestServer(t.db, { demo: true, simulatorPace: { holdEveryMs: [50, 150], decideAfterMs: [200, 600] } });
    organizer = await server.token('organizer');
  }, 60_000);
  afterAll(async () => {
    await server.close();
    await t.dispose();
  });

  const figures = async (): Promise<{ offerSeconds: number; type: TypeFigures }> => {
    const { waitlist } = (await server.request('GET', `/api/events/${NEARLY_SOLD_OUT_SLUG}/waitlist`, { token: organizer })).body;
    return { offerSeconds: waitlist.offerSeconds, type: waitlist.ticketTypes.find((x: TypeFigures) => x.ticketTypeName === WAITLIST_DEMO_TYPE) };
  };

  it('has a sold-out type whose waiting list is on, with offers held for a minute', async () => {
    const { tickets } = (await server.request('GET', `/api/events/${NEARLY_SOLD_OUT_SLUG}/availability`)).body;
    expect(tickets.find((x: { ticketTypeName: string }) => x.ticketTypeName === WAITLIST_DEMO_TYPE)).toMatchObject({ isSoldOut: true, status: 'sold_out' });
    const seeded = await figures();
    expect(seeded.offerSeconds).toBe(60);
    expect(seeded.type).toMatchObject({ enabled: true, waiting: 0, offersMade: 0 });
    // A buyer can join it at once (and leaves, so the simulator's buyers are first in line below).
    const { event } = (await server.request('GET', `/api/events/${NEARLY_SOLD_OUT_SLUG}`)).body;
    const type = event.ticketTypes.find((x: { name: string }) => x.name === WAITLIST_DEMO_TYPE);
    const buyer = await server.token();
    const entry = await server.request('POST', `/api/event-tickets/${type.id}/waitlist`, { token: buyer, body: { quantity: 1 } });
    expect([entry.status, entry.body.entry.place]).toEqual([201, 1]);
    expect((await server.request('DELETE', `/api/waitlist/${entry.body.entry.id}`, { token: buyer })).body.entry.status).toBe('left');
  });

  it("with the simulator running, buyers join the sold-out type's list and offers are made; stopping leaves nobody of its own waiting", async () => {
    const start = await server.request('PUT', '/api/simulator', { token: organizer, body: { running: true } });
    expect(start.status).toBe(200);
    // Alone this takes seconds; beside the whole suite on 2 cores the simulator's buyers (and so its first restock) can take a minute.
    await eventually(async () => (await figures()).type.offersMade > 0, 'an offer on the demo waiting list', 120_000);
    const stopped = await server.request('PUT', '/api/simulator', { token: organizer, body: { running: false } });
    expect(stopped.body.stats.restocks).toBeGreaterThan(0);
    // Its buyers left the lists when it stopped, giving back offers they had not looked at yet.
    expect((await figures()).type.waiting).toBe(0);
    const { rows } = await t.db.query<{ n: number }>(`SELECT count(*)::integer AS n FROM reservations WHERE status = 'active'`);
    expect(rows[0]!.n).toBe(stopped.body.stats.expiries);
    expect(await t.countMismatches()).toEqual([]);
  }, 150_000);
});
