import { randomUUID } from 'node:crypto';
import type { SupabaseClient } from '@supabase/supabase-js';
import type { AvailabilitySnapshot } from '@ticketpulse/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../server/src/auth/principal.ts';
import { Holds } from '../../server/src/inventory/holds.ts';
import { createTestDatabase, drivers, type TestDatabase } from '../../server/test/support/database.ts';
import { createEvent, holdSettings, typeId } from '../../server/test/support/fixtures.ts';
import { startTestServer, type TestServer } from '../../server/test/support/server.ts';
import { supabaseClient } from '../../server/test/support/supabase-client.ts';
import { eventually } from '../../server/test/support/viewer.ts';
import { TicketAvailabilityManager, type ConnectionStatus } from '../src/index.ts';
import { NO_SALES_VELOCITY } from '../src/supabase/availability-rows.ts';
import { SupabaseTransport } from '../src/supabase/index.ts';

/**
 * The official supabase-js pointed at a TicketPulse server, which is what a
 * Supabase project looks like to it (docs/supabase.md): its
 * /realtime/v1/websocket endpoint and its PostgREST subset.
 */
function supabaseFor(server: TestServer, apikey: string): SupabaseClient {
  // Quick reconnects keep the restart test short.
  return supabaseClient(server.url, apikey, { realtime: { reconnectAfterMs: () => 200 } });
}

describe.each(drivers)('SupabaseTransport against a TicketPulse server (%s)', (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  const managers: TicketAvailabilityManager[] = [];
  const clients: SupabaseClient[] = [];

  async function manager(on: TestServer = server, role: Role = 'anon'): Promise<TicketAvailabilityManager> {
    const supabase = supabaseFor(on, await on.token(role));
    clients.push(supabase);
    const m = new TicketAvailabilityManager({ transport: new SupabaseTransport(supabase), debounceMs: 10 });
    managers.push(m);
    return m;
  }
  /** TicketPulse's own answer for the event: what the transport must show, but the sales velocity, which rows do not carry. */
  const served = async (eventId: string, on: TestServer = server) =>
    (await on.request<AvailabilitySnapshot>('GET', `/api/events/${eventId}/availability`, { token: await on.token('anon') })).body.tickets.map((ticket) => ({
      ...ticket,
      ...NO_SALES_VELOCITY,
    }));
  const shown = (m: TicketAvailabilityManager, eventId: string) => [...(m.getCurrentAvailability(eventId)?.values() ?? [])];

  beforeAll(async () => {
    t = await createTestDatabase(driver);
    server = await startTestServer(t.db);
  });
  afterEach(async () => {
    for (const m of managers.splice(0)) m.cleanup();
    await Promise.all(clients.splice(0).map((c) => c.removeAllChannels()));
  });
  afterAll(async () => {
    await server.close();
    await t.dispose();
  });

  it('loads the view, then follows a hold over HTTP: each type exactly as TicketPulse serves it', async () => {
    const event = await createEvent(server.service.catalog, {
      ticketTypes: [
        { name: 'Seat', price: '12.50', totalCapacity: 12, maxPerOrder: 10 },
        { name: 'Standing', price: '8.00', totalCapacity: null, maxPerOrder: 10 },
      ],
    });
    const seat = typeId(event, 'Seat');
    const m = await manager();
    const statuses: ConnectionStatus[] = [];
    m.onStatusChange((status) => statuses.push(status));
    m.subscribeToEvent(event.id, () => {});

    await eventually(() => m.getConnectionStatus(event.id) === 'connected', 'connected');
    expect(m.getTicketAvailability(event.id, seat)).toMatchObject({ availableCount: 12, status: 'available', price: '12.50', percentageSold: 0 });
    expect(shown(m, event.id)).toEqual(await served(event.id));

    // 2 left of 12: low stock by the view's default threshold, ceil(12 * 0.1).
    const buyer = await server.token('authenticated', randomUUID());
    const hold = await server.request('POST', `/api/events/${event.id}/reservations`, { token: buyer, body: { items: [{ ticketTypeId: seat, quantity: 10 }] } });
    expect(hold.status).toBe(201);
    await eventually(() => m.getTicketAvailability(event.id, seat)?.availableCount === 2, 'the hold');
    expect(m.getTicketAvailability(event.id, seat)).toMatchObject({ reservedCount: 10, status: 'low_stock' });
    expect(shown(m, event.id)).toEqual(await served(event.id));
    expect(m.getStats()).toMatchObject({ updatesApplied: 2 });
    expect(m.getStats().latencyMs.samples).toBe(1);

    // Sold: percentage_sold as the view rounds it.
    await server.request('POST', `/api/reservations/${hold.body.reservation.id}/confirm`, { token: buyer });
    await eventually(() => m.getTicketAvailability(event.id, seat)?.soldCount === 10, 'the sale');
    expect(m.getTicketAvailability(event.id, seat)?.percentageSold).toBe(83.3);
    expect(shown(m, event.id)).toEqual(await served(event.id));
    expect(statuses).toEqual(['connecting', 'connected']);
  });

  it('removes a type that is hidden and brings it back, for an organizer (who receives that change)', async () => {
    const event = await createEvent(server.service.catalog);
    const [general, vip] = [typeId(event, 'General'), typeId(event, 'VIP')];
    // An organizer: only they receive the change that hides a type (to others the row just stops being visible).
    const m = await manager(server, 'organizer');
    m.subscribeToEvent(event.id, () => {});
    await eventually(() => m.getConnectionStatus(event.id) === 'connected', 'connected');

    await server.service.catalog.updateTicketType(vip, { status: 'hidden' });
    await eventually(() => m.getTicketAvailability(event.id, vip) === undefined, 'VIP hidden');
    await server.service.catalog.updateTicketType(vip, { status: 'on_sale' });
    await eventually(() => m.getTicketAvailability(event.id, vip) !== undefined, 'VIP back');
    expect(shown(m, event.id)).toEqual(await served(event.id));

    expect(m.getStats().updatesApplied).toBe(3);
  });

  it("re-reads the view for a change when the last read could not tell the event's own status", async () => {
    const event = await createEvent(server.service.catalog);
    const general = typeId(event, 'General');
    // The event itself paused: every row of the view says paused, as it would if each type were.
    await server.service.catalog.updateEvent(event.id, { status: 'paused' });
    const m = await manager();
    m.subscribeToEvent(event.id, () => {});
    await eventually(() => m.getConnectionStatus(event.id) === 'connected', 'connected');
    expect(shown(m, event.id).map((ticket) => ticket.status)).toEqual(['paused', 'paused']);

    await server.service.catalog.updateTicketType(general, { totalCapacity: 20 });
    await eventually(() => m.getTicketAvailability(event.id, general)?.totalCapacity === 20, 'the new capacity');
    // From the row alone this would be "available"; the view says paused.
    expect(m.getTicketAvailability(event.id, general)?.status).toBe('paused');
    expect(shown(m, event.id)).toEqual(await served(event.id));
  });

  it('when the server closes the channel as its token runs out: reconnecting, then a new channel once the app has a fresh token', async () => {
    const event = await createEvent(server.service.catalog);
    const general = typeId(event, 'General');
    let token = (await server.service.verifier.sign({ userId: randomUUID(), role: 'anon' }, 2)).token;
    // supabase-js's third-party auth hook: joins and PostgREST reads use its token, as with a session.
    const supabase = supabaseClient(server.url, await server.token('anon'), { accessToken: async () => token });
    clients.push(supabase);
    await supabase.realtime.setAuth(); // as an app does once its session is loaded
    const m = new TicketAvailabilityManager({ transport: new SupabaseTransport(supabase), debounceMs: 10 });
    managers.push(m);
    const statuses: ConnectionStatus[] = [];
    m.onStatusChange((status) => statuses.push(status));
    m.subscribeToEvent(event.id, () => {});
    await eventually(() => m.getConnectionStatus(event.id) === 'connected', 'connected');
    const [closing] = supabase.getChannels().map((channel) => channel.topic);
    expect(closing?.startsWith(`realtime:ticketpulse-${event.id}-`)).toBe(true);

    await eventually(() => m.getConnectionStatus(event.id) === 'reconnecting', 'the channel closed at expiry', 5000);
    token = await server.token('anon');
    await supabase.realtime.setAuth(); // the session refreshed
    await eventually(() => m.getConnectionStatus(event.id) === 'connected', 'a new channel', 10_000);
    await server.service.holds.reserve({ eventId: event.id, holderId: randomUUID(), items: [{ ticketTypeId: general, quantity: 3 }] });
    await eventually(() => m.getTicketAvailability(event.id, general)?.availableCount === 7, 'a change on the new channel');
    expect(statuses).toEqual(['connecting', 'connected', 'reconnecting', 'connected']);
    // supabase-js never rejoins a closed channel: this is another one.
    expect(supabase.getChannels().map((channel) => channel.topic)).toEqual([expect.not.stringMatching(`^${closing}$`)]);
  });

  it('after the server drops the socket: reconnecting, then connected with what changed meanwhile', async () => {
    const t2 = await createTestDatabase(driver);
    const first = await startTestServer(t2.db);
    const port = Number(new URL(first.url).port);
    const event = await createEvent(first.service.catalog);
    const vip = typeId(event, 'VIP');
    const m = await manager(first);
    const statuses: ConnectionStatus[] = [];
    m.onStatusChange((status) => statuses.push(status));
    m.subscribeToEvent(event.id, () => {});
    await eventually(() => m.getConnectionStatus(event.id) === 'connected', 'connected');

    await first.close();
    await eventually(() => m.getConnectionStatus(event.id) === 'reconnecting', 'reconnecting');
    // Sold while the server is down: no change message will ever carry it.
    await new Holds(t2.db, holdSettings).reserve({ eventId: event.id, holderId: 'gap', items: [{ ticketTypeId: vip, quantity: 2 }] });
    const restarted = await startTestServer(t2.db, { port });
    try {
      await eventually(() => m.getTicketAvailability(event.id, vip)?.availableCount === 0, 'the missed hold after the reconnect', 10_000);
      await eventually(() => m.getConnectionStatus(event.id) === 'connected', 'connected again');
      expect(m.getTicketAvailability(event.id, vip)).toMatchObject({ status: 'sold_out', isSoldOut: true });
      expect(shown(m, event.id)).toEqual(await served(event.id, restarted));
      expect(statuses).toEqual(['connecting', 'connected', 'reconnecting', 'connected']);
    } finally {
      m.cleanup();
      await restarted.close();
      await t2.dispose();
    }
  });
});
