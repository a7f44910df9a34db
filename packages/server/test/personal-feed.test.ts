import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PersonalMessage } from '@ticketpulse/protocol';
import { TokenVerifier } from '../src/auth/token-verifier.ts';
import { Catalog, type EventWithTicketTypes } from '../src/inventory/catalog.ts';
import { createTestDatabase, drivers, type TestDatabase } from './support/database.ts';
import { createEvent, typeId } from './support/fixtures.ts';
import { PersonalView } from './support/personal-view.ts';
import { TestSocket } from './support/realtime-client.ts';
import { startTestServer, TEST_JWT_SECRET, type TestServer } from './support/server.ts';
import { eventually } from './support/viewer.ts';

describe.each(drivers)('the personal feed (%s)', (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    t = await createTestDatabase(driver);
    server = await startTestServer(t.db, { sweepIntervalMs: 200 });
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await server.close();
    await t.dispose();
  });

  /** A buyer with a token and their feed, subscribed. */
  async function buyer() {
    const userId = `buyer-${Math.random().toString(36).slice(2)}`;
    const token = await server.token('authenticated', userId);
    const socket = await TestSocket.connect(server.url, token);
    sockets.push(socket);
    const view = new PersonalView(socket);
    const subscribed = await view.subscribe();
    return { userId, token, socket, view, subscribed };
  }
  const hold = (event: EventWithTicketTypes, type: string, quantity: number, token: string) =>
    server.request('POST', `/api/events/${event.id}/reservations`, { token, body: { items: [{ ticketTypeId: typeId(event, type), quantity }] } });

  it('starts with the whole state, then tells of each hold created, extended, confirmed and released', async () => {
    const event = await createEvent(server.service.catalog);
    const me = await buyer();
    expect(me.subscribed).toMatchObject({ unchanged: false, state: { holds: [], waitlist: [] } });
    const first = (await hold(event, 'General', 2, me.token)).body.reservation;
    await eventually(() => me.view.holds.has(first.id), 'the new hold in the feed');
    expect(me.view.of('hold_created')[0]).toMatchObject({
      hold: { reservationId: first.id, eventId: event.id, status: 'active', expiringSoon: false, offer: null, items: [{ ticketTypeId: typeId(event, 'General'), ticketTypeName: 'General', quantity: 2 }] },
    });
    const extended = (await server.request('POST', `/api/reservations/${first.id}/extend`, { token: me.token })).body.reservation;
    await eventually(() => me.view.holds.get(first.id)?.expiresAt === extended.expiresAt, 'the extension in the feed');
    expect(me.view.of('hold_extended')).toHaveLength(1);

    const second = (await hold(event, 'VIP', 1, me.token)).body.reservation;
    await eventually(() => me.view.holds.size === 2, 'the second hold');
    expect((await server.request('POST', `/api/reservations/${first.id}/confirm`, { token: me.token })).status).toBe(200);
    expect((await server.request('DELETE', `/api/reservations/${second.id}`, { token: me.token })).status).toBe(200);
    await eventually(() => me.view.holds.size === 0, 'both holds gone from the feed');
    expect(me.view.of('hold_confirmed').map((c) => 'hold' in c && c.hold.reservationId)).toEqual([first.id]);
    expect(me.view.of('hold_released').map((c) => 'hold' in c && c.hold.reservationId)).toEqual([second.id]);
    expect(me.view.gaps).toBe(0);
  });

  it('tells "expiring soon" before the deadline and "expired" once it passed, which the sweeper confirms', async () => {
    // 121 s: one second before it counts as expiring soon (EXPIRING_SOON_SECONDS = 120).
    const soon = await createEvent(new Catalog(t.db), { holdSeconds: 121 });
    const me = await buyer();
    const held = (await hold(soon, 'General', 1, me.token)).body.reservation;
    await eventually(() => me.view.holds.get(held.id)?.expiringSoon === true, 'the hold to turn expiring soon', 5000);
    expect(me.view.of('hold_expiring')).toHaveLength(1);

    const short = await createEvent(new Catalog(t.db), { holdSeconds: 1 });
    const gone = (await hold(short, 'VIP', 2, me.token)).body.reservation;
    await eventually(() => me.view.of('hold_expired').length === 1, 'the short hold to expire', 5000);
    expect(me.view.of('hold_expired')[0]).toMatchObject({ hold: { reservationId: gone.id, status: 'expired' } });
    // The sweeper's release changes nothing the feed has not said: no second frame.
    await eventually(
      async () => (await server.request('GET', `/api/reservations/${gone.id}`, { token: me.token })).body.reservation.status === 'expired',
      'the sweeper to release it',
    );
    const frames = me.socket.received.filter((m) => m.type === 'personal').length;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(me.socket.received.filter((m) => m.type === 'personal').length).toBe(frames);
    expect(me.view.holds.has(gone.id)).toBe(false);
    expect(me.view.gaps).toBe(0);
  });

  it("tells of joining a waiting list, and of the offer made when someone else's hold expires", async () => {
    const event = await createEvent(new Catalog(t.db), { holdSeconds: 2 });
    const other = await buyer();
    expect((await hold(event, 'VIP', 2, other.token)).status).toBe(201);
    const me = await buyer();
    const joined = await server.request('POST', `/api/event-tickets/${typeId(event, 'VIP')}/waitlist`, { token: me.token, body: { quantity: 2 } });
    expect(joined.status).toBe(201);
    await eventually(() => me.view.entries.has(joined.body.entry.id), 'the entry in the feed');
    expect(me.view.of('waitlist_joined')[0]).toMatchObject({ entry: { id: joined.body.entry.id, status: 'waiting', quantity: 2, offer: null } });

    // The other buyer's hold runs out: the sweeper releases it, the database offers the seats to me.
    await eventually(() => me.view.of('waitlist_offered').length === 1, 'the offer in the feed', 8000);
    const offered = me.view.of('waitlist_offered')[0]!;
    const offer = 'entry' in offered ? offered.entry.offer! : undefined;
    expect(offer).toMatchObject({ quantity: 2 });
    const offerHold = me.view.holds.get(offer!.reservationId);
    expect(offerHold).toMatchObject({ status: 'active', offer: { waitlistEntryId: joined.body.entry.id }, items: [{ ticketTypeName: 'VIP', quantity: 2 }] });
    expect(offerHold!.expiresAt).toBe(offer!.expiresAt);

    // Taking it: the hold is confirmed and the entry leaves the feed as purchased.
    expect((await server.request('POST', `/api/reservations/${offer!.reservationId}/confirm`, { token: me.token })).status).toBe(200);
    await eventually(() => me.view.entries.size === 0 && me.view.holds.size === 0, 'the taken offer to leave the feed');
    expect(me.view.of('waitlist_offer_ended')[0]).toMatchObject({ entry: { status: 'purchased' } });
    expect(me.view.gaps).toBe(0);
    expect(await t.countMismatches()).toEqual([]);
  });

  it('tells of leaving a waiting list', async () => {
    const event = await createEvent(server.service.catalog);
    const other = await buyer();
    expect((await hold(event, 'VIP', 2, other.token)).status).toBe(201);
    const me = await buyer();
    const joined = await server.request('POST', `/api/event-tickets/${typeId(event, 'VIP')}/waitlist`, { token: me.token, body: { quantity: 1 } });
    await eventually(() => me.view.entries.size === 1, 'the entry');
    expect((await server.request('DELETE', `/api/waitlist/${joined.body.entry.id}`, { token: me.token })).status).toBe(200);
    await eventually(() => me.view.entries.size === 0, 'the entry gone');
    expect(me.view.of('waitlist_left')[0]).toMatchObject({ entry: { id: joined.body.entry.id, status: 'left' } });
  });

  it('resyncs by version after a reconnect: unchanged when nothing happened, the whole state when something did', async () => {
    const event = await createEvent(server.service.catalog);
    const me = await buyer();
    const kept = (await hold(event, 'General', 1, me.token)).body.reservation;
    await eventually(() => me.view.holds.has(kept.id), 'the hold');
    const version = me.view.version;

    me.socket.close();
    const again = await TestSocket.connect(server.url, me.token);
    sockets.push(again);
    again.send({ type: 'subscribe_personal', sinceVersion: version, ref: 'r1' });
    expect(await again.next((m) => m.type === 'personal_subscribed')).toMatchObject({ unchanged: true, version, ref: 'r1' });
    again.close();

    // Missed while away: a second hold, and the first released.
    const missed = (await hold(event, 'General', 3, me.token)).body.reservation;
    expect((await server.request('DELETE', `/api/reservations/${kept.id}`, { token: me.token })).status).toBe(200);
    const back = await TestSocket.connect(server.url, me.token);
    sockets.push(back);
    back.send({ type: 'subscribe_personal', sinceVersion: version, ref: 'r2' });
    const answer = await back.next((m) => m.type === 'personal_subscribed');
    expect(answer).toMatchObject({ unchanged: false });
    expect('state' in answer && answer.state!.holds.map((h) => h.reservationId)).toEqual([missed.id]);
    expect('version' in answer && answer.version).toBeGreaterThan(version);
  });

  it("sends each of a user's connections the same frames, and an anonymous token none", async () => {
    const event = await createEvent(server.service.catalog);
    const me = await buyer();
    const tab = await TestSocket.connect(server.url, me.token);
    sockets.push(tab);
    const second = new PersonalView(tab);
    await second.subscribe();
    const held = (await hold(event, 'General', 1, me.token)).body.reservation;
    await eventually(() => me.view.holds.has(held.id) && second.holds.has(held.id), 'both tabs to hear of the hold');
    expect(second.version).toBe(me.view.version);

    // A token with no user (no `sub`) has no feed.
    const noUser = (await new TokenVerifier(TEST_JWT_SECRET).sign({ role: 'anon' }, 600)).token;
    const anonymous = await TestSocket.connect(server.url, noUser);
    sockets.push(anonymous);
    anonymous.send({ type: 'subscribe_personal', ref: 'a' });
    expect(await anonymous.next((m) => m.type === 'error')).toMatchObject({ code: 'subject_required', ref: 'a' });
  });

  it('stops after unsubscribe_personal', async () => {
    const event = await createEvent(server.service.catalog);
    const me = await buyer();
    me.socket.send({ type: 'unsubscribe_personal', ref: 'u' });
    await me.socket.next((m) => m.type === 'personal_unsubscribed');
    const heard = me.socket.received.filter((m): m is PersonalMessage => m.type === 'personal').length;
    expect((await hold(event, 'General', 1, me.token)).status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(me.socket.received.filter((m) => m.type === 'personal').length).toBe(heard);
  });
});
