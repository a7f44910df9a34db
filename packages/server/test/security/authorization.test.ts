import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.ts';
import type { EventWithTicketTypes } from '../../src/inventory/catalog.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { createEvent, typeId } from '../support/fixtures.ts';
import { PhoenixSocket } from '../support/phoenix-socket.ts';
import { TestSocket } from '../support/realtime-client.ts';
import { recordReliability } from '../support/reliability-report.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

describe('authorization', () => {
  let t: TestDatabase;
  let server: TestServer;

  /** The statements that touch reservations, in order: what one request asked of the database. */
  let reservationQueries: string[] = [];

  beforeAll(async () => {
    t = await createTestDatabase('pglite');
    // The service's queries go through here, so a test can compare what two requests cost the database.
    const recorded: Database = Object.create(t.db, {
      query: {
        value: (sql: string, params?: readonly unknown[]) => {
          if (/reservation/i.test(sql)) reservationQueries.push(sql);
          return t.db.query(sql, params);
        },
      },
    });
    server = await startTestServer(recorded);
  });
  afterAll(async () => {
    await server.close();
    await t.dispose();
  });

  it("no other caller can see, confirm, extend or release a user's reservation, even with its id", async () => {
    const event = await createEvent(server.service.catalog);
    const owner = randomUUID();
    const held = await server.request('POST', `/api/events/${event.id}/reservations`, {
      token: await server.token('authenticated', owner),
      body: { items: [{ ticketTypeId: typeId(event, 'General'), quantity: 2 }] },
    });
    const id: string = held.body.reservation.id;
    const before = await server.service.holds.get(id, owner);
    // Other buyers, a guest with a user id, an organizer (not the service role), and the owner's id under another role.
    const strangers = await Promise.all([
      server.token('authenticated'),
      server.token('anon'),
      server.token('organizer'),
      server.token('anon', owner.toUpperCase()),
    ]);
    const actions: Array<[string, string]> = [
      ['GET', `/api/reservations/${id}`],
      ['HEAD', `/api/reservations/${id}`],
      ['POST', `/api/reservations/${id}/confirm`],
      ['POST', `/api/reservations/${id}/extend`],
      ['DELETE', `/api/reservations/${id}`],
    ];
    /** The answer a caller gets, and the reservation statements the database ran for it. */
    const attempt = async (method: string, path: string, token: string) => {
      reservationQueries = [];
      const response = await server.request(method, path, { token });
      return { status: response.status, body: response.body as unknown, headers: { type: response.headers.get('content-type'), length: response.headers.get('content-length') }, queries: reservationQueries };
    };
    let attempts = 0;
    for (const token of strangers) {
      for (const [method, path] of actions) {
        const foreign = await attempt(method, path, token);
        // The same action on an id nobody holds: it must be indistinguishable.
        const unknown = await attempt(method, path.replace(id, randomUUID()), token);
        attempts += 1;
        expect(foreign.status, `${method} ${path}`).toBe(404);
        if (method !== 'HEAD') expect(foreign.body).toEqual({ error: { code: 'reservation_not_found', message: 'Reservation not found' } });
        expect(foreign.queries.length, `${method} ${path}: queries`).toBeGreaterThan(0);
        expect(foreign, `${method} ${path}: foreign and unknown ids answer alike`).toEqual(unknown);
      }
    }
    expect(await server.service.holds.get(id, owner)).toEqual(before);
    await recordReliability({
      fault: "security/authorization: another user's reservation by id (GET, HEAD, confirm, extend, DELETE)",
      injected: attempts,
      checked: [
        '404 reservation_not_found for other buyers, guests, organizers and the same id under another case',
        'the same status, body, headers and database statements as an id that does not exist',
        'the reservation is unchanged',
      ],
      figures: { callers: strangers.length, actions: actions.length, attempts, succeeded: 0 },
    });
  });

  it('non-public events are invisible to unauthorized tokens over HTTP and both WebSocket endpoints', async () => {
    const shown = await createEvent(server.service.catalog);
    const hidden: EventWithTicketTypes[] = [await createEvent(server.service.catalog, { isPublic: false }), await createEvent(server.service.catalog, { status: 'draft' })];
    // A user granted access to a different private event only.
    const elsewhere = await createEvent(server.service.catalog, { isPublic: false });
    const grantee = randomUUID();
    const organizer = await server.token('organizer');
    expect((await server.request('PUT', `/api/events/${elsewhere.id}/access/${grantee}`, { token: organizer })).status).toBe(204);
    const callers: Array<[string, string | undefined]> = [
      ['no token', undefined],
      ['anon', await server.token('anon')],
      ['authenticated', await server.token('authenticated')],
      ['granted elsewhere', await server.token('authenticated', grantee)],
    ];
    let attempts = 0;
    for (const [who, token] of callers) {
      const listed = (await server.request('GET', '/api/events', { token })).body.events.map((e: { id: string }) => e.id);
      expect(listed, who).toContain(shown.id);
      const restAll = JSON.stringify((await server.request('GET', '/rest/v1/event_tickets?select=*', { token })).body);
      const restView = JSON.stringify((await server.request('GET', '/rest/v1/ticket_availability_view?select=*', { token })).body);
      attempts += 3;
      for (const event of hidden) {
        expect(listed, who).not.toContain(event.id);
        for (const path of [`/api/events/${event.id}`, `/api/events/${event.slug}`, `/api/events/${event.id}/availability`]) {
          const response = await server.request('GET', path, { token });
          expect([response.status, response.body.error.code], `${who} ${path}`).toEqual([404, 'event_not_found']);
          attempts += 1;
        }
        expect(restAll).not.toContain(event.id);
        expect(restView).not.toContain(event.id);
        const filtered = await server.request('GET', `/rest/v1/event_tickets?select=*&event_id=eq.${event.id}`, { token });
        expect(filtered.body, who).toEqual([]);
        attempts += 1;
        if (token) {
          const hold = await server.request('POST', `/api/events/${event.id}/reservations`, {
            token,
            body: { items: [{ ticketTypeId: typeId(event, 'General'), quantity: 1 }] },
          });
          expect(hold.status, `${who} holds in ${event.slug}`).toBe(404);
          attempts += 1;
        }
      }
    }

    // Realtime: subscribing is refused as if the event did not exist; a Supabase channel gets no rows of it.
    const sockets: TestSocket[] = [];
    const phoenixes: PhoenixSocket[] = [];
    for (const [who, token] of callers) {
      const apikey = token ?? (await server.token('anon'));
      const socket = await TestSocket.connect(server.url, apikey);
      sockets.push(socket);
      for (const event of hidden) {
        expect(await socket.subscribe(event.id), who).toMatchObject({ type: 'error', code: 'event_not_found' });
        expect(await socket.subscribe(event.slug), who).toMatchObject({ type: 'error', code: 'event_not_found' });
        attempts += 2;
      }
      const phoenix = await PhoenixSocket.open(server.url, apikey);
      phoenixes.push(phoenix);
      expect((await phoenix.join('everything', [{ table: 'event_tickets' }, { table: 'tickets' }])).status).toBe('ok');
      for (const event of hidden) {
        expect((await phoenix.join(`only-${event.slug}`, [{ table: 'event_tickets', filter: `event_id=eq.${event.id}` }])).status).toBe('ok');
        attempts += 1;
      }
    }
    const control = await PhoenixSocket.open(server.url, organizer);
    expect((await control.join('control', [{ table: 'event_tickets' }])).status).toBe('ok');
    // A capacity change, which drafts allow too (they take no holds).
    for (const event of [...hidden, shown]) {
      const changed = await server.request('PATCH', `/api/event-tickets/${typeId(event, 'General')}`, { token: organizer, body: { totalCapacity: 11 } });
      expect(changed.status).toBe(200);
    }
    // The public sale arrives everywhere: after it, anything about the hidden events would have too.
    for (const p of [control, ...phoenixes]) await p.next((f) => f[3] === 'postgres_changes' && JSON.stringify(f).includes(shown.id));
    for (const event of hidden) await control.next((f) => f[3] === 'postgres_changes' && JSON.stringify(f).includes(event.id));
    for (const [i, p] of phoenixes.entries()) {
      // Join replies echo the filters the client itself sent; the server's own frames are the changes.
      const changes = JSON.stringify(p.frames.filter((f) => f[3] !== 'phx_reply'));
      for (const event of hidden) expect(changes, callers[i]![0]).not.toContain(event.id);
    }
    for (const s of sockets) s.close();
    for (const p of [control, ...phoenixes]) p.close();
    await recordReliability({
      fault: 'security/authorization: private and draft events read by unauthorized callers (no token, anon, buyer, buyer granted another event)',
      injected: attempts,
      checked: [
        'HTTP: not listed; detail and availability 404 by id and slug; PostgREST subset returns no rows; holds 404',
        'realtime: subscribe by id and slug refused event_not_found',
        'Supabase: channels (unfiltered and filtered on the event) receive no frame naming the event while an organizer’s does',
      ],
      figures: { callers: callers.length, hiddenEvents: hidden.length, attempts, leaked: 0 },
    });
  });

  it('removing a grant from event_access ends that access on HTTP and both WebSocket endpoints', async () => {
    const event = await createEvent(server.service.catalog, { isPublic: false });
    const guest = randomUUID();
    const token = await server.token('authenticated', guest);
    const organizer = await server.token('organizer');
    expect((await server.request('PUT', `/api/events/${event.id}/access/${guest}`, { token: organizer })).status).toBe(204);
    expect((await server.request('GET', `/api/events/${event.id}`, { token })).status).toBe(200);
    const socket = await TestSocket.connect(server.url, token);
    expect(await socket.subscribe(event.id)).toMatchObject({ type: 'subscribed' });
    const phoenix = await PhoenixSocket.open(server.url, token);
    expect((await phoenix.join('guest', [{ table: 'event_tickets', filter: `event_id=eq.${event.id}` }])).status).toBe('ok');
    const hold = () => server.service.holds.reserve({ eventId: event.id, holderId: randomUUID(), items: [{ ticketTypeId: typeId(event, 'General'), quantity: 1 }] });
    await hold();
    await phoenix.next((f) => f[3] === 'postgres_changes');
    const seen = phoenix.raw.length;

    expect((await server.request('DELETE', `/api/events/${event.id}/access/${guest}`, { token: organizer })).status).toBe(204);
    expect(await socket.next((m) => m.type === 'error')).toMatchObject({ code: 'forbidden', eventId: event.id });
    expect((await server.request('GET', `/api/events/${event.id}`, { token })).status).toBe(404);
    const control = await PhoenixSocket.open(server.url, organizer);
    expect((await control.join('control', [{ table: 'event_tickets', filter: `event_id=eq.${event.id}` }])).status).toBe('ok');
    await hold();
    await control.next((f) => f[3] === 'postgres_changes');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(phoenix.raw.slice(seen).filter((text) => text.includes('postgres_changes'))).toEqual([]);
    expect(await socket.subscribe(event.id)).toMatchObject({ type: 'error', code: 'event_not_found' });
    socket.close();
    phoenix.close();
    control.close();
    await recordReliability({
      fault: 'security/authorization: a per-event grant removed from event_access while the user watches',
      injected: 1,
      checked: ['HTTP 404 after removal', 'realtime: error forbidden for the subscription, resubscribe event_not_found', 'Supabase: no further rows while an organizer channel gets them'],
      figures: { grantsRemoved: 1, framesAfterRemoval: 0 },
    });
  });
});
