import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventWithTicketTypes } from '../src/inventory/catalog.ts';
import { createTestDatabase, drivers, type TestDatabase } from './support/database.ts';
import { createEvent, typeId } from './support/fixtures.ts';
import { startTestServer, type TestServer } from './support/server.ts';

describe.each(drivers)('waiting list over HTTP (%s)', (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  let organizer: string;

  beforeAll(async () => {
    t = await createTestDatabase(driver);
    server = await startTestServer(t.db);
    organizer = await server.token('organizer');
  });
  afterAll(async () => {
    await server.close();
    await t.dispose();
  });

  const hold = (event: EventWithTicketTypes, ticketTypeId: string, quantity: number, token: string) =>
    server.request('POST', `/api/events/${event.id}/reservations`, { token, body: { items: [{ ticketTypeId, quantity }] } });
  const join = (ticketTypeId: string, quantity: number, token: string) =>
    server.request('POST', `/api/event-tickets/${ticketTypeId}/waitlist`, { token, body: { quantity } });
  const mine = async (token: string) => (await server.request('GET', '/api/waitlist/me', { token })).body.entries;
  const available = async (event: EventWithTicketTypes, name: string) => {
    const { body } = await server.request('GET', `/api/events/${event.id}/availability`);
    return body.tickets.find((type: { ticketTypeName: string }) => type.ticketTypeName === name).availableCount as number;
  };
  const figures = async (event: EventWithTicketTypes, name: string) => {
    const { body } = await server.request('GET', `/api/events/${event.id}/waitlist`, { token: organizer });
    return body.waitlist.ticketTypes.find((type: { ticketTypeName: string }) => type.ticketTypeName === name);
  };
  /** An event whose VIP type (capacity 2, max 2 per order) is sold out by one hold, returned with its reservation id. */
  async function soldOutVip(settings: { offerSeconds?: number } = {}) {
    const event = await createEvent(server.service.catalog);
    if (settings.offerSeconds) {
      expect((await server.request('PATCH', `/api/events/${event.id}/waitlist`, { token: organizer, body: settings })).status).toBe(200);
    }
    const buyer = await server.token();
    const held = await hold(event, typeId(event, 'VIP'), 2, buyer);
    expect(held.status).toBe(201);
    return { event, vip: typeId(event, 'VIP'), buyer, reservationId: held.body.reservation.id as string };
  }

  it('joins only a sold-out type, once per buyer, and shows each buyer their place', async () => {
    const event = await createEvent(server.service.catalog);
    const early = await server.token();
    const refused = await join(typeId(event, 'VIP'), 1, early);
    expect([refused.status, refused.body.error.code, refused.body.error.available]).toEqual([409, 'waitlist_seats_available', 2]);

    expect((await hold(event, typeId(event, 'VIP'), 2, await server.token())).status).toBe(201);
    const [a, b] = [await server.token(), await server.token()];
    const first = await join(typeId(event, 'VIP'), 2, a);
    expect(first.status).toBe(201);
    expect(first.body.entry).toMatchObject({ eventId: event.id, ticketTypeId: typeId(event, 'VIP'), ticketTypeName: 'VIP', quantity: 2, status: 'waiting', place: 1, offer: null });
    expect((await join(typeId(event, 'VIP'), 1, b)).body.entry.place).toBe(2);
    // Joining again answers the entry as it is (200), whatever quantity is sent.
    const again = await join(typeId(event, 'VIP'), 1, a);
    expect([again.status, again.body.entry.id, again.body.entry.quantity]).toEqual([200, first.body.entry.id, 2]);

    const entries = await mine(b);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ status: 'waiting', place: 2 });
    // The first leaves: the second moves up.
    const left = await server.request('DELETE', `/api/waitlist/${first.body.entry.id}`, { token: a });
    expect([left.status, left.body.entry.status, left.body.entry.place]).toEqual([200, 'left', null]);
    expect((await mine(b))[0].place).toBe(1);
    expect((await figures(event, 'VIP')).waiting).toBe(1);
  });

  it('refuses bad input and other buyers with documented codes, never revealing their entries', async () => {
    const { event, vip } = await soldOutVip();
    const buyer = await server.token();
    for (const body of [{}, { quantity: 0 }, { quantity: 101 }, { quantity: 1.5 }, { quantity: '1' }, { quantity: 1, extra: true }]) {
      const response = await server.request('POST', `/api/event-tickets/${vip}/waitlist`, { token: buyer, body });
      expect([response.status, response.body.error.code]).toEqual([400, 'invalid_request']);
    }
    expect((await server.request('POST', `/api/event-tickets/not-a-uuid/waitlist`, { token: buyer, body: { quantity: 1 } })).status).toBe(400);
    const above = await join(vip, 3, buyer);
    expect([above.status, above.body.error.code, above.body.error.maxPerOrder]).toEqual([422, 'quantity_above_max_per_order', 2]);
    const unknown = await join('00000000-0000-4000-8000-000000000000', 1, buyer);
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'ticket_type_not_found']);
    expect((await server.request('POST', `/api/event-tickets/${vip}/waitlist`, { body: { quantity: 1 } })).status).toBe(401);
    const noSub = await join(vip, 1, (await server.service.verifier.sign({ role: 'service' }, 60)).token);
    expect(noSub.status).toBe(403);

    const entry = (await join(vip, 1, buyer)).body.entry;
    const stranger = await server.token();
    const theirs = await server.request('DELETE', `/api/waitlist/${entry.id}`, { token: stranger });
    const nobodys = await server.request('DELETE', '/api/waitlist/00000000-0000-4000-8000-000000000000', { token: stranger });
    expect([theirs.status, theirs.body.error]).toEqual([nobodys.status, nobodys.body.error]);
    expect(theirs.body.error.code).toBe('waitlist_entry_not_found');
    expect(await mine(stranger)).toEqual([]);
    expect((await mine(buyer))[0].status).toBe('waiting');

    // A hidden type is not found for buyers; a paused one is not on sale.
    await server.service.catalog.updateTicketType(typeId(event, 'General'), { status: 'paused' });
    expect((await join(typeId(event, 'General'), 1, buyer)).body.error.code).toBe('ticket_type_not_on_sale');
    await server.service.catalog.updateTicketType(typeId(event, 'General'), { status: 'hidden' });
    expect((await join(typeId(event, 'General'), 1, buyer)).body.error.code).toBe('ticket_type_not_found');
  });

  it('offers freed seats in order before they return to sale, as holds the buyers confirm', async () => {
    const { event, vip, buyer, reservationId } = await soldOutVip();
    const [a, b, c] = [await server.token(), await server.token(), await server.token()];
    await join(vip, 1, a);
    await join(vip, 2, b);
    await join(vip, 2, c);
    // Two seats come back: the first in line gets the 1 they asked for, the second the 1 that is left.
    expect((await server.request('DELETE', `/api/reservations/${reservationId}`, { token: buyer })).status).toBe(200);
    const [offerA] = await mine(a);
    const [offerB] = await mine(b);
    expect(offerA).toMatchObject({ status: 'offered', place: null, offer: { quantity: 1 } });
    expect(offerB).toMatchObject({ status: 'offered', offer: { quantity: 1 } });
    expect((await mine(c))[0]).toMatchObject({ status: 'waiting', place: 1 });
    expect(await available(event, 'VIP')).toBe(0);

    // The offer is an ordinary hold in the buyer's name, for offerSeconds (900 by default).
    const reservation = await server.request('GET', `/api/reservations/${offerA.offer.reservationId}`, { token: a });
    expect(reservation.body.reservation).toMatchObject({ status: 'active', items: [{ ticketTypeId: vip, quantity: 1 }] });
    const seconds = (Date.parse(offerA.offer.expiresAt) - Date.parse(offerA.offer.offeredAt)) / 1000;
    expect(seconds).toBe(900);
    expect((await server.request('GET', `/api/reservations/${offerA.offer.reservationId}`, { token: b })).status).toBe(404);
    const confirmed = await server.request('POST', `/api/reservations/${offerA.offer.reservationId}/confirm`, { token: a });
    expect(confirmed.body.reservation.status).toBe('confirmed');
    expect((await mine(a))[0].status).toBe('purchased');

    // Declining (leaving with an offer) gives it to the next in line.
    const declined = await server.request('DELETE', `/api/waitlist/${offerB.id}`, { token: b });
    expect(declined.body.entry.status).toBe('declined');
    expect((await mine(c))[0]).toMatchObject({ status: 'offered', offer: { quantity: 1 } });
    expect(await figures(event, 'VIP')).toMatchObject({ waiting: 0, offersMade: 3, offersOpen: 1, offersTaken: 1, offersDeclined: 1, offersExpired: 0 });
    expect((await t.db.query('SELECT * FROM verify_ticket_counts()')).rows).toEqual([]);
  });

  it('gives an offer not taken in time to the next in line, and marks it expired', async () => {
    const { event, vip, buyer, reservationId } = await soldOutVip({ offerSeconds: 1 });
    const [a, b] = [await server.token(), await server.token()];
    await join(vip, 2, a);
    await join(vip, 2, b);
    await server.request('DELETE', `/api/reservations/${reservationId}`, { token: buyer });
    const [offered] = await mine(a);
    expect(offered.status).toBe('offered');
    // Once its deadline has passed, the sweep releases it: its seats go to the next, not back to sale.
    await new Promise((resolve) => setTimeout(resolve, Date.parse(offered.offer.expiresAt) - Date.now() + 50));
    // Past its deadline it is expired, even before the sweep, and leaving does not turn it into a decline.
    expect((await server.request('DELETE', `/api/waitlist/${offered.id}`, { token: a })).body.entry.status).toBe('expired');
    expect(await server.service.holds.expireDue()).toBe(2);
    expect((await mine(a))[0].status).toBe('expired');
    expect((await mine(b))[0]).toMatchObject({ status: 'offered', offer: { quantity: 2 } });
    expect(await available(event, 'VIP')).toBe(0);
    // An expired offer is never offered again: the last offer expiring returns its seats to sale.
    const [second] = await mine(b);
    await new Promise((resolve) => setTimeout(resolve, Date.parse(second.offer.expiresAt) - Date.now() + 50));
    await server.service.holds.expireDue();
    expect((await mine(a))[0].status).toBe('expired');
    expect(await available(event, 'VIP')).toBe(2);
    expect(await figures(event, 'VIP')).toMatchObject({ offersMade: 2, offersExpired: 2, offersOpen: 0 });
  });

  it('offers seats that more capacity or a resumed sale makes free', async () => {
    const { event, vip } = await soldOutVip();
    const [a, b] = [await server.token(), await server.token()];
    await join(vip, 2, a);
    await join(vip, 1, b);
    const more = await server.request('PATCH', `/api/event-tickets/${vip}`, { token: organizer, body: { totalCapacity: 3 } });
    // The seat went to the line in the same statement: the answer shows it held, not on sale.
    expect([more.status, more.body.ticketType.availableCount, more.body.ticketType.reservedCount]).toEqual([200, 0, 3]);
    expect((await mine(a))[0]).toMatchObject({ status: 'offered', offer: { quantity: 1 } });
    expect((await mine(b))[0].status).toBe('waiting');

    // While the sale is paused nothing is offered; when it resumes, the freed seats go to the line first.
    expect((await server.request('PATCH', `/api/events/${event.id}`, { token: organizer, body: { status: 'paused' } })).status).toBe(200);
    await server.request('PATCH', `/api/event-tickets/${vip}`, { token: organizer, body: { totalCapacity: 4 } });
    expect((await mine(b))[0].status).toBe('waiting');
    expect((await server.request('PATCH', `/api/events/${event.id}`, { token: organizer, body: { status: 'on_sale' } })).status).toBe(200);
    expect((await mine(b))[0]).toMatchObject({ status: 'offered', offer: { quantity: 1 } });
    expect(await available(event, 'VIP')).toBe(0);
  });

  it('lets organizers switch lists off (closing them) and set offerSeconds; buyers may not', async () => {
    const { event, vip } = await soldOutVip();
    const buyer = await server.token();
    await join(vip, 1, buyer);
    const off = await server.request('PATCH', `/api/event-tickets/${vip}/waitlist`, { token: organizer, body: { enabled: false } });
    expect(off.status).toBe(200);
    expect(off.body.waitlist.ticketTypes.find((type: { ticketTypeId: string }) => type.ticketTypeId === vip)).toMatchObject({ enabled: false, waiting: 0 });
    expect((await mine(buyer))[0].status).toBe('closed');
    expect((await join(vip, 1, buyer)).body.error.code).toBe('waitlist_closed');
    // Buyers see the switches with the event, so a shop offers to join only where a list is on.
    const switches = async () => {
      const { body } = await server.request('GET', `/api/events/${event.id}`, { token: buyer });
      return [body.event.waitlistEnabled, ...body.event.ticketTypes.map((type: { name: string; waitlistEnabled: boolean }) => `${type.name}:${type.waitlistEnabled}`)];
    };
    expect(await switches()).toEqual([true, 'General:true', 'VIP:false']);
    await server.request('PATCH', `/api/event-tickets/${vip}/waitlist`, { token: organizer, body: { enabled: true } });
    expect((await join(vip, 1, buyer)).status).toBe(201);

    const changed = await server.request('PATCH', `/api/events/${event.slug}/waitlist`, { token: organizer, body: { enabled: false, offerSeconds: 120 } });
    expect(changed.body.waitlist).toMatchObject({ eventId: event.id, enabled: false, offerSeconds: 120 });
    expect(await switches()).toEqual([false, 'General:true', 'VIP:true']);
    expect((await join(vip, 1, await server.token())).body.error.code).toBe('waitlist_closed');

    for (const body of [{}, { offerSeconds: 0 }, { offerSeconds: 86_401 }, { enabled: 'no' }, { surprise: 1 }]) {
      const response = await server.request('PATCH', `/api/events/${event.id}/waitlist`, { token: organizer, body });
      expect([response.status, response.body.error.code]).toEqual([400, 'invalid_request']);
    }
    expect((await server.request('GET', `/api/events/no-such-event/waitlist`, { token: organizer })).body.error.code).toBe('event_not_found');
    expect((await server.request('PATCH', `/api/event-tickets/00000000-0000-4000-8000-000000000000/waitlist`, { token: organizer, body: { enabled: true } })).status).toBe(404);
    expect((await server.request('GET', `/api/events/${event.id}/waitlist`, { token: buyer })).status).toBe(403);
    expect((await server.request('PATCH', `/api/event-tickets/${vip}/waitlist`, { token: buyer, body: { enabled: true } })).status).toBe(403);
  });

  it('lets an offer be confirmed, extended or released on a queued event without a queue pass', async () => {
    const { event, vip, buyer, reservationId } = await soldOutVip();
    const queued = await server.request('PUT', `/api/events/${event.id}/queue`, {
      token: organizer,
      body: { opensAt: new Date(Date.now() - 1000).toISOString(), admitPerMinute: 1 },
    });
    expect(queued.status).toBe(200);
    const [a, b] = [await server.token(), await server.token()];
    await join(vip, 1, a);
    await join(vip, 1, b);
    // Nobody in line holds a pass; a hold would be refused, an offer is not.
    expect((await hold(event, typeId(event, 'General'), 1, a)).body.error.code).toBe('queue_pass_required');
    await server.request('DELETE', `/api/reservations/${reservationId}`, { token: buyer });
    const [offerA] = await mine(a);
    const [offerB] = await mine(b);
    const extended = await server.request('POST', `/api/reservations/${offerA.offer.reservationId}/extend`, { token: a });
    expect(extended.body.reservation.extensionsUsed).toBe(1);
    expect((await server.request('POST', `/api/reservations/${offerA.offer.reservationId}/confirm`, { token: a })).body.reservation.status).toBe('confirmed');
    expect((await server.request('DELETE', `/api/reservations/${offerB.offer.reservationId}`, { token: b })).body.reservation.status).toBe('released');
    expect((await mine(b))[0].status).toBe('declined');
  });
});
