import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../src/inventory/catalog.ts';
import { createTestDatabase, drivers, type TestDatabase } from './support/database.ts';
import { createEvent, typeId } from './support/fixtures.ts';
import { startTestServer, type TestServer } from './support/server.ts';

describe.each(drivers)('expiry sweeper (%s)', (driver) => {
  let t: TestDatabase;
  let server: TestServer;

  beforeAll(async () => {
    t = await createTestDatabase(driver);
    server = await startTestServer(t.db, { sweepIntervalMs: 200 });
  });
  afterAll(async () => {
    await server.close();
    await t.dispose();
  });

  it('publishes expired holds as available again without anyone asking', async () => {
    const event = await createEvent(new Catalog(t.db), { holdSeconds: 1 });
    const vip = typeId(event, 'VIP');
    const token = await server.token();
    const held = await server.request('POST', `/api/events/${event.id}/reservations`, {
      token,
      body: { items: [{ ticketTypeId: vip, quantity: 2 }] },
    });
    expect(held.status).toBe(201);
    const vipNow = async () =>
      (await server.request('GET', `/api/events/${event.id}/availability`)).body.tickets.find(
        (x: { ticketTypeId: string }) => x.ticketTypeId === vip,
      );
    expect(await vipNow()).toMatchObject({ availableCount: 0, isSoldOut: true });

    // Only reads from here on: the sweeper alone must bring the seats back.
    const deadline = Date.now() + 10_000;
    let seen = await vipNow();
    while (seen.availableCount !== 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      seen = await vipNow();
    }
    expect(seen).toMatchObject({ availableCount: 2, reservedCount: 0, isSoldOut: false });
    const reservation = await server.request('GET', `/api/reservations/${held.body.reservation.id}`, { token });
    expect(reservation.body.reservation.status).toBe('expired');
    expect(await t.countMismatches()).toEqual([]);
  });
});
