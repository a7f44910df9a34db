import { byDisplayOrder } from '@ticketpulse/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, drivers, type TestDatabase } from './support/database.ts';
import { createEvent } from './support/fixtures.ts';
import { TestSocket } from './support/realtime-client.ts';
import { startTestServer, type TestServer } from './support/server.ts';
import { supabaseClient } from './support/supabase-client.ts';

/**
 * Ticket types with equal sort orders and equal names, listed by every
 * surface: all must agree with the one comparator (byDisplayOrder), whatever
 * the database's collation would do with these names.
 */
describe.each(drivers)('one display order for ticket types (%s)', (driver) => {
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

  it('the catalog, availability, realtime, the PostgREST subset, reservations, insights and the SDK list them alike', async () => {
    // Case, accents, characters past U+FFFF and duplicates: where collations and JavaScript's `<` disagree.
    const names = ['b', 'B', 'a', 'é', '～', '😀', 'a', 'Zeta', 'a'];
    const event = await createEvent(server.service.catalog, {
      ticketTypes: names.map((name, i) => ({ name, price: '1.00', totalCapacity: 100, maxPerOrder: 4, sortOrder: i === 8 ? 1 : 0 })),
    });
    const expected = event.ticketTypes
      .map((type) => ({ sortOrder: type.sortOrder, ticketTypeName: type.name, ticketTypeId: type.id }))
      .sort(byDisplayOrder)
      .map((type) => type.ticketTypeId);
    expect(new Set(expected).size).toBe(names.length);

    const token = await server.token();
    const organizer = await server.token('organizer');
    const surfaces: Record<string, string[]> = {};
    surfaces['GET /api/events/:id'] = (await server.request('GET', `/api/events/${event.id}`)).body.event.ticketTypes.map((x: { id: string }) => x.id);
    surfaces['GET availability'] = (await server.request('GET', `/api/events/${event.id}/availability`)).body.tickets.map((x: { ticketTypeId: string }) => x.ticketTypeId);
    const socket = await TestSocket.connect(server.url, token);
    try {
      const subscribed = (await socket.subscribe(event.id)) as { snapshot: { tickets: Array<{ ticketTypeId: string }> } };
      surfaces['realtime snapshot'] = subscribed.snapshot.tickets.map((x) => x.ticketTypeId);
    } finally {
      socket.close();
    }
    const supabase = supabaseClient(server.url, token);
    surfaces['/rest/v1/event_tickets'] = ((await supabase.from('event_tickets').select('*').eq('event_id', event.id)).data ?? []).map((r: { id: string }) => r.id);
    surfaces['/rest/v1/ticket_availability_view'] = ((await supabase.from('ticket_availability_view').select('*').eq('event_id', event.id)).data ?? []).map(
      (r: { ticket_type_id: string }) => r.ticket_type_id,
    );
    // One hold of every type, listed in a shuffled order.
    const items = [...event.ticketTypes].reverse().map((type) => ({ ticketTypeId: type.id, quantity: 1 }));
    const held = await server.request('POST', `/api/events/${event.id}/reservations`, { token, body: { items } });
    surfaces['hold response items'] = held.body.reservation.items.map((x: { ticketTypeId: string }) => x.ticketTypeId);
    surfaces['GET reservation items'] = (await server.request('GET', `/api/reservations/${held.body.reservation.id}`, { token })).body.reservation.items.map(
      (x: { ticketTypeId: string }) => x.ticketTypeId,
    );
    surfaces['organizer holds items'] = (await server.request('GET', `/api/events/${event.id}/holds?expiringWithinSeconds=86400`, { token: organizer })).body.holds[0].items.map(
      (x: { ticketTypeId: string }) => x.ticketTypeId,
    );
    const availability = (await server.request('GET', `/api/events/${event.id}/availability`)).body.tickets as Array<Parameters<typeof byDisplayOrder>[0]>;
    surfaces['byDisplayOrder (SDK, storefront)'] = [...availability].reverse().sort(byDisplayOrder).map((x) => x.ticketTypeId);

    for (const [surface, order] of Object.entries(surfaces)) expect(order, surface).toEqual(expected);
  });
});
