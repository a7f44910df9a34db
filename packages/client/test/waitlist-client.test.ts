import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, drivers, type TestDatabase } from '../../server/test/support/database.ts';
import { createEvent, typeId } from '../../server/test/support/fixtures.ts';
import { startTestServer, type TestServer } from '../../server/test/support/server.ts';
import { ApiError, HoldClient, runningOffers, waitlistClient } from '../src/index.ts';

describe.each(drivers)('the waiting list in the SDK, against a real server (%s)', (driver) => {
  let t: TestDatabase;
  let server: TestServer;

  beforeAll(async () => {
    t = await createTestDatabase(driver);
    server = await startTestServer(t.db);
  });
  afterAll(async () => {
    await server.close();
    await t.dispose();
  });

  /** A buyer of their own (`sub`): the waiting-list client and the hold client on the same token. */
  const buyer = () => {
    const userId = randomUUID();
    const options = { url: server.url, getToken: () => server.token('authenticated', userId), retry: { maxRetries: 0 } };
    return { waitlist: waitlistClient(options), holds: new HoldClient(options) };
  };

  it('joins a sold-out type, shows the place, gets the offer when a hold is released, and buys it', async () => {
    const event = await createEvent(server.service.catalog);
    const vip = typeId(event, 'VIP');
    const [first, a, b] = [buyer(), buyer(), buyer()];
    const taken = await first.holds.createHold(event.id, [{ ticketTypeId: vip, quantity: 2 }]);

    const entryA = await a.waitlist.join(vip, 2);
    expect(entryA).toMatchObject({ ticketTypeId: vip, ticketTypeName: 'VIP', quantity: 2, status: 'waiting', place: 1, offer: null });
    // Joining again is safe: the same entry, the same place.
    expect((await a.waitlist.join(vip, 1)).id).toBe(entryA.id);
    const entryB = await b.waitlist.join(vip, 1);
    expect((await b.waitlist.entries()).map((e) => [e.id, e.place])).toEqual([[entryB.id, 2]]);
    expect(runningOffers(await a.waitlist.entries())).toEqual([]);

    await first.holds.releaseHold(taken.id);
    const [offered] = runningOffers(await a.waitlist.entries());
    expect(offered).toMatchObject({ id: entryA.id, status: 'offered', place: null, offer: { quantity: 2 } });
    expect(Date.parse(offered!.offer.expiresAt)).toBeGreaterThan(Date.now());
    // B moved up; the offer is a hold in A's name, bought with the hold client.
    expect((await b.waitlist.entries())[0]!.place).toBe(1);
    const bought = await a.holds.confirmHold(offered!.offer.reservationId);
    expect(bought.status).toBe('confirmed');
    expect((await a.waitlist.entries())[0]!.status).toBe('purchased');
    expect(await t.countMismatches()).toEqual([]);
  });

  it('leaves, gives a running offer back, and fails with the documented codes', async () => {
    const event = await createEvent(server.service.catalog);
    const vip = typeId(event, 'VIP');
    const [first, a, b] = [buyer(), buyer(), buyer()];
    const refused = await a.waitlist.join(vip, 1).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ApiError);
    expect([(refused as ApiError).status, (refused as ApiError).code]).toEqual([409, 'waitlist_seats_available']);

    const taken = await first.holds.createHold(event.id, [{ ticketTypeId: vip, quantity: 2 }]);
    const entryA = await a.waitlist.join(vip, 2);
    const entryB = await b.waitlist.join(vip, 2);
    // Another buyer's entry is not found, exactly as one that does not exist.
    for (const id of [entryA.id, randomUUID()]) {
      const failure = (await b.waitlist.leave(id).catch((error: unknown) => error)) as ApiError;
      expect([failure.status, failure.code]).toEqual([404, 'waitlist_entry_not_found']);
    }
    await first.holds.releaseHold(taken.id);
    expect((await a.waitlist.entries())[0]!.status).toBe('offered');
    // Leaving with an offer gives it back: the next in line gets it.
    expect((await a.waitlist.leave(entryA.id)).status).toBe('declined');
    const [offerB] = runningOffers(await b.waitlist.entries());
    expect(offerB?.id).toBe(entryB.id);
    expect((await b.waitlist.leave(entryB.id)).status).toBe('declined');
    expect(runningOffers(await b.waitlist.entries())).toEqual([]);
    expect(await t.countMismatches()).toEqual([]);
  });
});
