import { CloseCode, type ServerMessage } from '@ticketpulse/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, drivers, type TestDatabase } from '../support/database.ts';
import { createEvent, typeId } from '../support/fixtures.ts';
import { PersonalView } from '../support/personal-view.ts';
import { TestSocket } from '../support/realtime-client.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { eventually } from '../support/viewer.ts';

/** The personal feed carries one user's own things to that user alone, whoever asks how. */
describe.each(drivers)('the personal feed is the token holder’s alone (%s)', (driver) => {
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

  async function user(name: string) {
    const userId = `${name}-${Math.random().toString(36).slice(2)}`;
    const token = await server.token('authenticated', userId);
    const frames: string[] = [];
    const socket = await TestSocket.open(server.url, { token });
    sockets.push(socket);
    socket.ws.on('message', (data) => frames.push(data.toString()));
    await socket.next((m) => m.type === 'welcome');
    const view = new PersonalView(socket);
    await view.subscribe();
    return { userId, token, socket, view, frames, ids: new Set<string>([userId]) };
  }

  it("never puts one user's ids in another user's frames, with both busy at once", async () => {
    const event = await createEvent(server.service.catalog, {
      ticketTypes: [
        { name: 'General', price: '20.00', totalCapacity: 100, maxPerOrder: 4 },
        { name: 'VIP', price: '90.00', totalCapacity: 1, maxPerOrder: 1 },
      ],
    });
    const [ann, bob] = [await user('ann'), await user('bob')];
    // Both watch the event too: its frames are shared, and must stay free of either.
    await ann.socket.subscribe(event.id);
    await bob.socket.subscribe(event.id);
    const busy = async (me: typeof ann) => {
      for (let i = 0; i < 4; i++) {
        const held = await server.request('POST', `/api/events/${event.id}/reservations`, {
          token: me.token,
          body: { items: [{ ticketTypeId: typeId(event, 'General'), quantity: 1 }] },
        });
        me.ids.add(held.body.reservation.id);
        await server.request('POST', `/api/reservations/${held.body.reservation.id}/extend`, { token: me.token });
        const end = i % 2 === 0 ? 'confirm' : undefined;
        if (end) await server.request('POST', `/api/reservations/${held.body.reservation.id}/${end}`, { token: me.token });
        else await server.request('DELETE', `/api/reservations/${held.body.reservation.id}`, { token: me.token });
      }
    };
    // Ann takes the one VIP seat; Bob waits for it; Ann lets it go, so Bob gets an offer (a hold in his name, made in her statement).
    const vip = await server.request('POST', `/api/events/${event.id}/reservations`, {
      token: ann.token,
      body: { items: [{ ticketTypeId: typeId(event, 'VIP'), quantity: 1 }] },
    });
    ann.ids.add(vip.body.reservation.id);
    // Seen in her feed before it goes: each of her busy holds below may be made and ended within one tick, and then is never told.
    await eventually(() => ann.view.holds.has(vip.body.reservation.id), "Ann's VIP hold in her feed");
    const entry = await server.request('POST', `/api/event-tickets/${typeId(event, 'VIP')}/waitlist`, { token: bob.token, body: { quantity: 1 } });
    bob.ids.add(entry.body.entry.id);
    await Promise.all([busy(ann), busy(bob), server.request('DELETE', `/api/reservations/${vip.body.reservation.id}`, { token: ann.token })]);
    await eventually(() => bob.view.of('waitlist_offered').length === 1, "Bob's offer");
    const offer = bob.view.of('waitlist_offered')[0]!;
    if ('entry' in offer) bob.ids.add(offer.entry.offer!.reservationId);
    // Changes within one tick are told as one (a hold made and released in it not at all): wait for the end state.
    await eventually(() => ann.view.holds.size === 0 && bob.view.holds.size === 1, 'both feeds to settle');

    // Each was told of their own holds (how many frames depends on how the ticks coalesced them): the check below has something to look at.
    for (const me of [ann, bob]) {
      const own = me.frames.filter((frame) => frame.includes('"type":"personal"') && [...me.ids].some((id) => frame.includes(id)));
      expect(own.length, `${me.userId}'s own personal frames`).toBeGreaterThan(0);
    }
    for (const [me, them] of [
      [ann, bob],
      [bob, ann],
    ] as const) {
      for (const frame of me.frames) for (const id of them.ids) expect(frame.includes(id), `${me.userId} was sent ${id} of ${them.userId}`).toBe(false);
    }
  });

  it('is always the token’s sub: no message, field or URL can name another user', async () => {
    const event = await createEvent(server.service.catalog);
    const victim = await user('victim');
    const held = await server.request('POST', `/api/events/${event.id}/reservations`, {
      token: victim.token,
      body: { items: [{ ticketTypeId: typeId(event, 'General'), quantity: 1 }] },
    });
    await eventually(() => victim.view.holds.has(held.body.reservation.id), "the victim's hold");

    const attackerToken = await server.token('authenticated', `attacker-${Math.random().toString(36).slice(2)}`);
    // A user named in the URL is no part of the protocol: ignored.
    const attacker = await TestSocket.connect(server.url, attackerToken, { sub: victim.userId, userId: victim.userId, holderId: victim.userId });
    sockets.push(attacker);
    const received: string[] = [];
    attacker.ws.on('message', (data) => received.push(data.toString()));
    for (const field of ['userId', 'holderId', 'sub', 'user']) {
      attacker.send({ type: 'subscribe_personal', [field]: victim.userId });
      expect(await attacker.next((m) => m.type === 'error')).toMatchObject({ code: 'invalid_message' });
    }
    // Switching the connection to the victim's token is refused; the connection stays the attacker's.
    attacker.send({ type: 'refresh_token', token: victim.token, ref: 'r' });
    expect(await attacker.next((m) => m.type === 'error')).toMatchObject({ code: 'token_subject_mismatch' });
    const mine = new PersonalView(attacker);
    const subscribed = await mine.subscribe();
    expect(subscribed).toMatchObject({ unchanged: false, state: { holds: [], waitlist: [] } });
    // Guessing the victim's version shows nothing either: the answer is about the attacker's own feed.
    attacker.send({ type: 'subscribe_personal', sinceVersion: victim.view.version, ref: 'v' });
    const guessed = await attacker.next<Extract<ServerMessage, { type: 'personal_subscribed' }>>((m) => m.type === 'personal_subscribed' && m.ref === 'v');
    expect(guessed.version).toBe(subscribed.version);

    // The victim keeps busy; the attacker hears nothing of it.
    const more = await server.request('POST', `/api/events/${event.id}/reservations`, {
      token: victim.token,
      body: { items: [{ ticketTypeId: typeId(event, 'General'), quantity: 2 }] },
    });
    await eventually(() => victim.view.holds.has(more.body.reservation.id), "the victim's second hold");
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const frame of received) {
      for (const id of [victim.userId, held.body.reservation.id, more.body.reservation.id]) expect(frame.includes(id)).toBe(false);
    }
    expect(received.filter((frame) => frame.includes('"type":"personal"'))).toEqual([]);
  });

  it('ends when the token does: closed at its expiry (4002), and nothing after', async () => {
    const event = await createEvent(server.service.catalog);
    const userId = `short-${Math.random().toString(36).slice(2)}`;
    const { token } = await server.service.verifier.sign({ userId, role: 'authenticated' }, 2);
    const socket = await TestSocket.connect(server.url, token);
    sockets.push(socket);
    const view = new PersonalView(socket);
    await view.subscribe();
    const lasting = await server.token('authenticated', userId);
    const held = await server.request('POST', `/api/events/${event.id}/reservations`, {
      token: lasting,
      body: { items: [{ ticketTypeId: typeId(event, 'General'), quantity: 1 }] },
    });
    await eventually(() => view.holds.has(held.body.reservation.id), 'the hold, while the token lasts');
    // No other user's token keeps it alive: only a fresh token for the same user (which a revoked user no longer gets).
    socket.send({ type: 'refresh_token', token: await server.token('authenticated'), ref: 'keep' });
    expect(await socket.next((m) => m.type === 'error' && m.ref === 'keep')).toMatchObject({ code: 'token_subject_mismatch' });
    expect((await socket.closed).code).toBe(CloseCode.tokenExpired);
    const heard = socket.received.length;
    await server.request('POST', `/api/reservations/${held.body.reservation.id}/extend`, { token: lasting });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(socket.received.length).toBe(heard);
    // A new connection needs a valid token; the expired one is refused before any feed.
    const again = await TestSocket.open(server.url, { token });
    sockets.push(again);
    expect((await again.closed).code).toBe(CloseCode.tokenExpired);
    expect(again.received.some((m) => m.type === 'personal_subscribed')).toBe(false);
  });
});
