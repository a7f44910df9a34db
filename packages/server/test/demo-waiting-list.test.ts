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

  const figures = async (): Promise<{ offerSeconds: number; types: TypeFigures[]; type: TypeFigures }> => {
    const { waitlist } = (await server.request('GET', `/api/events/${NEARLY_SOLD_OUT_SLUG}/waitlist`, { token: organizer })).body;
    const types: TypeFigures[] = waitlist.ticketTypes;
    return { offerSeconds: waitlist.offerSeconds, types, type: types.find((x) => x.ticketTypeName === WAITLIST_DEMO_TYPE)! };
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

  it("with the simulator running, buyers join the sold-out types' lists and offers are made; stopping leaves nobody of its own waiting", async () => {
    const start = await server.request('PUT', '/api/simulator', { token: organizer, body: { running: true } });
    expect(start.status).toBe(200);
    // Its buyers join the list of whichever type is sold out when they look (the bar stools, and the others once their
    // last seats go). Seats released, and the organizer's restocks of a type sold for good, are offered to that type's
    // list: which list sees the first offer is chance.
    // Alone this takes seconds; beside the whole suite on 2 cores the simulator's buyers (and so its first restock) can take a minute.
    const restocks = async () => (await server.request('GET', '/api/simulator', { token: organizer })).body.stats.restocks as number;
    await eventually(async () => (await figures()).types.some((x) => x.offersMade > 0) && (await restocks()) > 0, "an offer on the demo event's waiting lists, and a restock", 120_000);
    const stopped = await server.request('PUT', '/api/simulator', { token: organizer, body: { running: false } });
    expect(stopped.body.stats.restocks).toBeGreaterThan(0);
    // Its buyers left the lists when it stopped, giving back offers they had not looked at yet.
    const after = await figures();
    expect(after.types.map((x) => [x.ticketTypeName, x.waiting])).toEqual(after.types.map((x) => [x.ticketTypeName, 0]));
    const { rows } = await t.db.query<{ n: number }>(`SELECT count(*)::integer AS n FROM reservations WHERE status = 'active'`);
    expect(rows[0]!.n).toBe(stopped.body.stats.expiries);
    expect(await t.countMismatches()).toEqual([]);
  }, 150_000);
});
