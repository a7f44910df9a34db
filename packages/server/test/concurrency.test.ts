import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../src/inventory/catalog.ts';
import { createTestDatabase, postgresUrl, type TestDatabase } from './support/database.ts';
import { createEvent, typeId } from './support/fixtures.ts';
import { startTestServer, type TestServer } from './support/server.ts';

const REQUESTS = 1000;
const SEATS = 100;

describe.skipIf(!postgresUrl)('concurrent holds on real PostgreSQL', () => {
  let t: TestDatabase;
  let server: TestServer;

  beforeAll(async () => {
    t = await createTestDatabase('postgres', 20);
    server = await startTestServer(t.db);
  });
  afterAll(async () => {
    await server.close();
    await t.dispose();
  });

  it(`${REQUESTS} simultaneous hold requests for ${SEATS} seats hold exactly ${SEATS}, and every success is accounted for`, async () => {
    const event = await createEvent(new Catalog(t.db), {
      ticketTypes: [{ name: 'Floor', totalCapacity: SEATS, maxPerOrder: 4 }],
    });
    const floor = typeId(event, 'Floor');
    const tokens = await Promise.all(Array.from({ length: REQUESTS }, () => server.token()));

    const responses = await Promise.all(
      tokens.map((token, i) => {
        const quantity = (i % 4) + 1;
        return server
          .request('POST', `/api/events/${event.id}/reservations`, { token, body: { items: [{ ticketTypeId: floor, quantity }] } })
          .then((response) => ({ response, quantity }));
      }),
    );

    const outcomes = new Map<string, number>();
    for (const { response } of responses) {
      const key = `${response.status} ${response.body?.error?.code ?? ''}`.trim();
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    }
    // Only two outcomes: held, or refused for lack of seats. No 500s, no timeouts, no deadlocks.
    expect([...outcomes.keys()].sort()).toEqual(['201', '409 insufficient_availability']);

    const held = responses.filter(({ response }) => response.status === 201);
    const seatsHeld = held.reduce((sum, { response, quantity }) => {
      expect(response.body.reservation.items).toEqual([expect.objectContaining({ ticketTypeId: floor, quantity })]);
      return sum + quantity;
    }, 0);
    expect(seatsHeld).toBe(SEATS);

    const { rows } = await t.db.query<{ reserved_count: number; available_count: number; holds: number; seats: number }>(
      `SELECT et.reserved_count, et.available_count,
              (SELECT count(*)::integer FROM reservations WHERE event_id = et.event_id) AS holds,
              (SELECT count(*)::integer FROM tickets WHERE event_ticket_id = et.id AND status = 'reserved') AS seats
       FROM event_tickets et WHERE et.id = $1`,
      [floor],
    );
    expect(rows[0]).toEqual({ reserved_count: SEATS, available_count: 0, holds: held.length, seats: SEATS });
    const ids = new Set(held.map(({ response }) => response.body.reservation.id));
    expect(ids.size).toBe(held.length);
    expect(await t.countMismatches()).toEqual([]);
  });
});
