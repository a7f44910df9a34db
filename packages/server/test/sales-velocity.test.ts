import type { AvailabilitySnapshot, SubscribedMessage, TicketAvailability } from '@ticketpulse/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, drivers, type TestDatabase } from './support/database.ts';
import { createEvent, typeId } from './support/fixtures.ts';
import { TestSocket } from './support/realtime-client.ts';
import { startTestServer, type TestServer } from './support/server.ts';
import { eventually, watch } from './support/viewer.ts';

/** Short, so a test sees several refreshes; the service's default is 5 s. */
const REFRESH_MS = 500;
const VELOCITY_FIELDS = ['soldPerMinute5m', 'soldPerMinute15m', 'projectedSellOutAt', 'sellingFast', 'likelyToSellOut'] as const;
const velocityOf = (t: TicketAvailability | undefined) => JSON.stringify(VELOCITY_FIELDS.map((f) => t?.[f]));

describe.each(drivers)('sales velocity published with availability (%s)', (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    t = await createTestDatabase(driver);
    server = await startTestServer(t.db, { velocityRefreshMs: REFRESH_MS });
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.close();
    expect(await t.countMismatches()).toEqual([]);
  });
  afterAll(async () => {
    await server.close();
    await t.dispose();
  });

  const connect = async (role: 'anon' | 'organizer') => {
    const socket = await TestSocket.connect(server.url, await server.token(role));
    sockets.push(socket);
    return socket;
  };
  /** Seats bought through the API: a hold, then its confirmation. */
  const buy = async (eventId: string, ticketTypeId: string, quantity: number) => {
    const token = await server.token();
    const held = await server.request('POST', `/api/events/${eventId}/reservations`, { token, body: { items: [{ ticketTypeId, quantity }] } });
    expect(held.status).toBe(201);
    expect((await server.request('POST', `/api/reservations/${held.body.reservation.id}/confirm`, { token })).status).toBe(200);
  };
  /** Past sales as earlier checkouts left them, `minutesAgo` whole minutes before this one (10 s into that minute). */
  const soldBefore = (eventId: string, ticketTypeId: string, seats: number, minutesAgo: number) =>
    t.db.query(
      `INSERT INTO tickets (event_id, event_ticket_id, status, holder_id, purchased_at)
       SELECT $1, $2, 'sold', 'past-buyer', date_trunc('minute', now()) - make_interval(mins => $4) + interval '10 seconds'
       FROM generate_series(1, $3::integer)`,
      [eventId, ticketTypeId, seats, minutesAgo],
    );
  const availability = async (eventId: string, role?: 'organizer') =>
    (await server.request<AvailabilitySnapshot>('GET', `/api/events/${eventId}/availability`, role && { token: await server.token(role) })).body;
  const ticketOf = (snapshot: AvailabilitySnapshot, ticketTypeId: string) => snapshot.tickets.find((x) => x.ticketTypeId === ticketTypeId)!;

  it('publishes seats sold per minute over 5 and 15 minutes and a projected sell-out from the per-minute sales, the same over HTTP and WebSocket', async () => {
    const event = await createEvent(server.service.catalog, {
      ticketTypes: [
        { name: 'Seat', price: '20.00', totalCapacity: 200, maxPerOrder: 10 },
        { name: 'Quiet', price: '20.00', totalCapacity: 1000, maxPerOrder: 10 },
        { name: 'Standing', price: '10.00', totalCapacity: null, maxPerOrder: 10 },
        { name: 'Gone', price: '90.00', totalCapacity: 10, maxPerOrder: 10 },
        { name: 'Unsold', price: '5.00', totalCapacity: 50, maxPerOrder: 10 },
      ],
    });
    const seat = typeId(event, 'Seat');
    const quiet = typeId(event, 'Quiet');
    const standing = typeId(event, 'Standing');
    const gone = typeId(event, 'Gone');
    const unsold = typeId(event, 'Unsold');
    // Seat: 20 seats two minutes ago (inside both windows whole), 30 ten minutes ago (the 15-minute window only), 5 now.
    await soldBefore(event.id, seat, 20, 2);
    await soldBefore(event.id, seat, 30, 10);
    await buy(event.id, seat, 5);
    await buy(event.id, quiet, 1); // 0.2 a minute: 999 seats would take days, no projection
    await soldBefore(event.id, standing, 15, 1); // unlimited: rates, never a projection
    await buy(event.id, gone, 10); // sold out: no projection, not "selling fast"

    // The last sale's figures: that refresh came after every sale above.
    await eventually(async () => ticketOf(await availability(event.id), gone).soldPerMinute5m === 2, 'the figures published', 5000);
    const before = Date.now();
    const snapshot = await availability(event.id);
    expect(ticketOf(snapshot, seat)).toMatchObject({ soldPerMinute5m: 5, soldPerMinute15m: 3.7, sellingFast: true, likelyToSellOut: true });
    // 145 seats left at 5 a minute: 29 minutes from now, to the minute.
    const sellOut = Date.parse(ticketOf(snapshot, seat).projectedSellOutAt!);
    expect(sellOut).toBeGreaterThanOrEqual(Date.parse(snapshot.serverTime) + 28 * 60_000 - REFRESH_MS - 1000);
    expect(sellOut).toBeLessThanOrEqual(before + 30 * 60_000);
    expect(sellOut % 60_000).toBe(0);
    expect(ticketOf(snapshot, quiet)).toMatchObject({ soldPerMinute5m: 0.2, soldPerMinute15m: 0.1, projectedSellOutAt: null, sellingFast: false, likelyToSellOut: false });
    expect(ticketOf(snapshot, standing)).toMatchObject({ soldPerMinute5m: 3, soldPerMinute15m: 1, projectedSellOutAt: null, sellingFast: true, likelyToSellOut: false });
    expect(ticketOf(snapshot, gone)).toMatchObject({ status: 'sold_out', soldPerMinute5m: 2, projectedSellOutAt: null, sellingFast: false, likelyToSellOut: false });
    expect(ticketOf(snapshot, unsold)).toMatchObject({ soldPerMinute5m: 0, soldPerMinute15m: 0, projectedSellOutAt: null, sellingFast: false, likelyToSellOut: false });

    // A fresh viewer gets the same figures from its first snapshot.
    const socket = await connect('anon');
    const answer = (await socket.subscribe(event.id)) as SubscribedMessage;
    const http = await availability(event.id);
    expect(answer.version).toBe(http.version);
    expect(answer.snapshot!.tickets).toEqual(http.tickets);
  });

  it('changes an event at most once per refresh interval, never a frame per sale, and resyncs by version', async () => {
    // 5000 seats: at this pace no projection, which would move as the minutes pass.
    const event = await createEvent(server.service.catalog, { ticketTypes: [{ name: 'Seat', price: '20.00', totalCapacity: 5000, maxPerOrder: 10 }] });
    const seat = typeId(event, 'Seat');
    const organizer = await connect('organizer');
    const view = await watch(organizer, event.id);
    const versionBefore = view.version;
    const etagBefore = (await server.request('GET', `/api/events/${event.id}/availability`)).headers.get('etag')!;

    // Count what the viewer sees change: sales (soldCount) and the figures.
    let lastSold = view.ticket(seat)!.soldCount;
    let lastVelocity = velocityOf(view.ticket(seat));
    const velocityChanges: number[] = [];
    organizer.ws.on('message', () => {
      const ticket = view.ticket(seat);
      if (velocityOf(ticket) !== lastVelocity) velocityChanges.push(Date.now());
      lastVelocity = velocityOf(ticket);
      lastSold = ticket?.soldCount ?? lastSold;
    });

    const sales = 40;
    const started = Date.now();
    for (let i = 0; i < sales; i += 1) {
      await buy(event.id, seat, 1);
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    await eventually(() => view.ticket(seat)?.soldCount === sales && view.ticket(seat)?.soldPerMinute5m === sales / 5, 'the last sale and its figures', 5000);
    // Quiet for a few intervals: the figures settle and send nothing more.
    await new Promise((resolve) => setTimeout(resolve, 3 * REFRESH_MS));
    const elapsed = Date.now() - started;
    const settled = velocityChanges.length;
    await new Promise((resolve) => setTimeout(resolve, 3 * REFRESH_MS));

    expect(lastSold).toBe(sales);
    // The database lets one refresh through per interval; frames may bunch, counts cannot exceed it.
    expect(velocityChanges.length).toBeGreaterThan(0);
    expect(velocityChanges.length).toBeLessThanOrEqual(Math.floor(elapsed / REFRESH_MS) + 1);
    expect(velocityChanges.length).toBeLessThan(sales);
    expect(velocityChanges.length).toBe(settled);
    expect(view.gaps).toBe(0);

    // Every change of the figures is a new version: resyncing from before them gets them, and so does a conditional GET.
    const latecomer = await connect('organizer');
    const resync = (await latecomer.subscribe(event.id, versionBefore)) as SubscribedMessage;
    expect(resync).toMatchObject({ unchanged: false, version: view.version });
    expect(resync.snapshot!.tickets[0]).toMatchObject({ soldPerMinute5m: sales / 5, sellingFast: true });
    const conditional = await server.request('GET', `/api/events/${event.id}/availability`, { headers: { 'if-none-match': etagBefore } });
    expect(conditional.status).toBe(200);
    const current = await server.request('GET', `/api/events/${event.id}/availability`, { headers: { 'if-none-match': conditional.headers.get('etag')! } });
    expect(current.status).toBe(304);
  });

  it('withholds the rates and the time under display precision bands, showing only whether it sells fast and is likely to sell out', async () => {
    const event = await createEvent(server.service.catalog, { ticketTypes: [{ name: 'Seat', price: '20.00', totalCapacity: 100, maxPerOrder: 10 }] });
    await server.service.catalog.updateEvent(event.id, { displayPrecision: 'bands' });
    const seat = typeId(event, 'Seat');
    const buyer = await connect('anon');
    const buyerView = await watch(buyer, event.id);
    const organizer = await connect('organizer');
    const organizerView = await watch(organizer, event.id);

    for (let i = 0; i < 5; i += 1) await buy(event.id, seat, 2); // 10 seats now: 2 a minute, 90 left, 45 minutes
    await eventually(() => organizerView.ticket(seat)?.soldPerMinute5m === 2, 'the organizer sees the rate', 5000);
    expect(organizerView.ticket(seat)).toMatchObject({ sellingFast: true, likelyToSellOut: true, projectedSellOutAt: expect.any(String) });
    await eventually(() => buyerView.ticket(seat)?.sellingFast === true && buyerView.ticket(seat)?.likelyToSellOut === true, 'buyers see the flags', 5000);
    expect(buyerView.ticket(seat)).toMatchObject({ soldPerMinute5m: null, soldPerMinute15m: null, projectedSellOutAt: null, availableCount: null });
    // Ten sales, still "available": buyers heard only of the flags turning on (one refresh or two), not of sales or rates.
    expect(buyerView.updates).toBeGreaterThanOrEqual(1);
    expect(buyerView.updates).toBeLessThanOrEqual(2);

    const asBuyer = ticketOf(await availability(event.id), seat);
    expect(asBuyer).toMatchObject({ soldPerMinute5m: null, soldPerMinute15m: null, projectedSellOutAt: null, sellingFast: true, likelyToSellOut: true });
    const asOrganizer = ticketOf(await availability(event.id, 'organizer'), seat);
    expect(asOrganizer).toMatchObject({ soldPerMinute5m: 2, soldPerMinute15m: 0.7, sellingFast: true, likelyToSellOut: true });
  });
});
