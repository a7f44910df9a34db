import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTestDatabase, type TestDatabase } from '../../server/test/support/database.ts';
import { createEvent, typeId } from '../../server/test/support/fixtures.ts';
import { startTestServer, type TestServer } from '../../server/test/support/server.ts';
import { waitingBuyer } from '../../server/test/support/waiting-buyer.ts';
import { eventually } from '../../server/test/support/viewer.ts';
import { ReservationExpiryManager, type FetchLike, type HoldState, type Offer } from '../src/index.ts';

/** The SDK's own holds and offers over the personal feed, against a real server. */
describe('ReservationExpiryManager over the personal feed', () => {
  let database: TestDatabase;
  let server: TestServer;
  const managers: ReservationExpiryManager[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('pglite');
    server = await startTestServer(database.db);
  });
  afterEach(async () => {
    for (const manager of managers.splice(0)) manager.stopAll();
    await eventually(() => server.service.gateway.stats.connections === 0, 'every feed closed');
  });
  afterAll(async () => {
    await server.close();
    await database.dispose();
  });

  /** A manager for one user; its HTTP requests are counted, so the test sees it does not poll. */
  function managerFor(userId: string) {
    const gets: string[] = [];
    const counting: FetchLike = (input, init) => {
      if ((init?.method ?? 'GET') === 'GET') gets.push(input);
      return fetch(input, init);
    };
    // Re-checks every 200 ms if it had to poll: with the feed it must not.
    const manager = new ReservationExpiryManager({ url: server.url, getToken: () => server.token('authenticated', userId), fetch: counting, WebSocket, recheckMs: 200 });
    managers.push(manager);
    return { manager, gets };
  }

  it('follows a monitored hold through the feed: released in another tab, without polling', async () => {
    const userId = randomUUID();
    const event = await createEvent(server.service.catalog);
    const { reservation } = await server.service.holds.reserve({ eventId: event.id, holderId: userId, items: [{ ticketTypeId: typeId(event, 'General'), quantity: 1 }] });
    const { manager, gets } = managerFor(userId);
    const states: HoldState[] = [];
    manager.subscribe(reservation.id, (state) => states.push(state));
    await manager.startMonitoring(reservation);
    await eventually(() => server.service.gateway.stats.connections === 1, 'the feed connected');
    await new Promise((resolve) => setTimeout(resolve, 600));
    const polled = gets.length;

    // Released elsewhere (another tab, the server): the feed says so.
    await server.service.holds.release(reservation.id, userId);
    await eventually(() => manager.getState(reservation.id)?.status === 'released', 'the release over the feed', 3000);
    // Nothing polled once the feed was live, with re-checks due every 200 ms.
    expect(gets.length).toBe(polled);
  });

  it('onOffer fires once when an offer arrives, with its reservation, ticket type, quantity and deadline; getOffers follows it', async () => {
    const { event, vip, userId, token, entryId, makeOffer } = await waitingBuyer(server, 2);
    const { manager } = managerFor(userId);
    const offers: Offer[] = [];
    const lists: Array<readonly Offer[]> = [];
    manager.onOffer((offer) => offers.push(offer));
    manager.subscribeOffers((list) => lists.push(list));
    await eventually(() => server.service.gateway.stats.connections === 1, 'the feed connected');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(offers).toEqual([]);

    await makeOffer();
    await eventually(() => offers.length === 1, 'the offer', 3000);
    const offer = offers[0]!;
    const entry = (await server.request('GET', '/api/waitlist/me', { token })).body.entries[0];
    expect(offer).toEqual({
      reservationId: entry.offer.reservationId,
      eventId: event.id,
      waitlistEntryId: entryId,
      ticketTypeId: vip,
      ticketTypeName: 'VIP',
      quantity: 2,
      expiresAt: entry.offer.expiresAt,
    });
    expect(manager.getOffers()).toEqual([offer]);

    // Taken: it leaves the open offers, and onOffer does not fire again.
    await server.request('POST', `/api/reservations/${offer.reservationId}/confirm`, { token });
    await eventually(() => manager.getOffers().length === 0, 'the taken offer to leave');
    expect(lists.at(-1)).toEqual([]);
    expect(offers).toHaveLength(1);
  });

  it('announces an offer already open when the feed first connects', async () => {
    const { vip, userId, makeOffer } = await waitingBuyer(server, 1);
    await makeOffer();

    const { manager } = managerFor(userId);
    const offers: Offer[] = [];
    manager.onOffer((offer) => offers.push(offer));
    await eventually(() => offers.length === 1, 'the open offer', 3000);
    expect(offers[0]).toMatchObject({ ticketTypeId: vip, quantity: 1 });
  });

  it('without a WebSocket, keeps re-checking over HTTP as before', async () => {
    const userId = randomUUID();
    const event = await createEvent(server.service.catalog);
    const { reservation } = await server.service.holds.reserve({ eventId: event.id, holderId: userId, items: [{ ticketTypeId: typeId(event, 'General'), quantity: 1 }] });
    const gets: string[] = [];
    const manager = new ReservationExpiryManager({
      url: server.url,
      getToken: () => server.token('authenticated', userId),
      fetch: (input, init) => (gets.push(input), fetch(input, init)),
      feed: false,
      recheckMs: 100,
    });
    managers.push(manager);
    await manager.startMonitoring(reservation);
    await server.service.holds.release(reservation.id, userId);
    await eventually(() => manager.getState(reservation.id)?.status === 'released', 'the release, polled', 3000);
    expect(gets.length).toBeGreaterThan(0);
    expect(server.service.gateway.stats.connections).toBe(0);
  });
});
