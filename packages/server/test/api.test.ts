import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../src/inventory/catalog.ts';
import { createTestDatabase, drivers, type TestDatabase } from './support/database.ts';
import { createEvent, typeId, uniqueSlug } from './support/fixtures.ts';
import { startTestServer, type TestServer } from './support/server.ts';

describe.each(drivers)('HTTP API (%s)', (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  let catalog: Catalog;

  beforeAll(async () => {
    t = await createTestDatabase(driver);
    server = await startTestServer(t.db, { devAuth: true });
    catalog = new Catalog(t.db);
  });
  afterEach(async () => {
    expect(await t.countMismatches()).toEqual([]);
  });
  afterAll(async () => {
    await server.close();
    await t.dispose();
  });

  it('walks a buyer through hold, extend and confirm', async () => {
    const event = await createEvent(catalog);
    const general = typeId(event, 'General');
    const token = await server.token('authenticated');

    const held = await server.request('POST', `/api/events/${event.slug}/reservations`, {
      token,
      body: { items: [{ ticketTypeId: general, quantity: 2 }] },
    });
    expect(held.status).toBe(201);
    const id = held.body.reservation.id;
    expect(held.body.reservation).toMatchObject({ status: 'active', eventId: event.id, items: [{ quantity: 2, unitPrice: '20.00' }] });

    const fetched = await server.request('GET', `/api/reservations/${id}`, { token });
    expect(fetched.body.reservation.id).toBe(id);

    const extended = await server.request('POST', `/api/reservations/${id}/extend`, { token });
    expect(extended.status).toBe(200);
    expect(extended.body.reservation.extensionsUsed).toBe(1);

    const confirmed = await server.request('POST', `/api/reservations/${id}/confirm`, { token });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.reservation.status).toBe('confirmed');

    const availability = await server.request('GET', `/api/events/${event.id}/availability`);
    expect(availability.body.tickets.find((x: { ticketTypeId: string }) => x.ticketTypeId === general)).toMatchObject({
      soldCount: 2,
      reservedCount: 0,
      availableCount: 8,
      actualAvailable: 8,
    });
  });

  it('answers a sold-out request with 409 insufficient_availability and what is left', async () => {
    const event = await createEvent(catalog);
    const vip = typeId(event, 'VIP');
    const token = await server.token();
    await server.request('POST', `/api/events/${event.id}/reservations`, { token, body: { items: [{ ticketTypeId: vip, quantity: 1 }] } });
    const refused = await server.request('POST', `/api/events/${event.id}/reservations`, {
      token,
      body: { items: [{ ticketTypeId: vip, quantity: 2 }] },
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'insufficient_availability', ticketTypeId: vip, available: 1 });
  });

  it('releases with DELETE, and a confirm after release is 409 hold_expired', async () => {
    const event = await createEvent(catalog);
    const token = await server.token();
    const held = await server.request('POST', `/api/events/${event.id}/reservations`, {
      token,
      body: { items: [{ ticketTypeId: typeId(event, 'General'), quantity: 4 }] },
    });
    const id = held.body.reservation.id;
    const released = await server.request('DELETE', `/api/reservations/${id}`, { token });
    expect(released.body.reservation.status).toBe('released');
    const late = await server.request('POST', `/api/reservations/${id}/confirm`, { token });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('hold_expired');
    const availability = await server.request('GET', `/api/events/${event.id}/availability`);
    expect(availability.body.tickets[0].availableCount).toBe(10);
  });

  it('replays an Idempotency-Key with the same reservation and a replay header', async () => {
    const event = await createEvent(catalog);
    const token = await server.token();
    const body = { items: [{ ticketTypeId: typeId(event, 'VIP'), quantity: 2 }] };
    const headers = { 'idempotency-key': `checkout-${randomUUID()}` };
    const first = await server.request('POST', `/api/events/${event.id}/reservations`, { token, body, headers });
    const second = await server.request('POST', `/api/events/${event.id}/reservations`, { token, body, headers });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body.reservation.id).toBe(first.body.reservation.id);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    const different = await server.request('POST', `/api/events/${event.id}/reservations`, {
      token,
      headers,
      body: { items: [{ ticketTypeId: typeId(event, 'General'), quantity: 1 }] },
    });
    expect(different.status).toBe(422);
    expect(different.body.error.code).toBe('idempotency_key_reused');
  });

  it('totals every reservation exactly, per item and per currency, in every answer', async () => {
    // In binary floating point 0.10 × 3 is 0.30000000000000004, 19.99 × 7 is 139.92999999999998 and 0.70 × 3 is 2.0999999999999996.
    const event = await createEvent(catalog, {
      ticketTypes: [
        { name: 'Coffee', price: '0.10', totalCapacity: 100, maxPerOrder: 10 },
        { name: 'Dinner', price: '19.99', totalCapacity: 100, maxPerOrder: 10 },
        { name: 'Parking', price: '0.70', currency: 'USD', totalCapacity: 100, maxPerOrder: 10 },
      ],
    });
    const token = await server.token();
    const hold = (items: Array<[name: string, quantity: number]>, key: string) =>
      server.request('POST', `/api/events/${event.slug}/reservations`, {
        token,
        headers: { 'idempotency-key': key },
        body: { items: items.map(([name, quantity]) => ({ ticketTypeId: typeId(event, name), quantity })) },
      });
    const money = (reservation: { items: Array<Record<string, unknown>>; totals: unknown }) => ({
      items: reservation.items.map(({ ticketTypeName, quantity, unitPrice, currency, total }) => ({ ticketTypeName, quantity, unitPrice, currency, total })),
      totals: reservation.totals,
    });

    const key = `money-${randomUUID()}`;
    const held = await hold([['Dinner', 7], ['Coffee', 3]], key);
    expect(held.status).toBe(201);
    const id: string = held.body.reservation.id;
    const euros = {
      items: [
        { ticketTypeName: 'Coffee', quantity: 3, unitPrice: '0.10', currency: 'EUR', total: '0.30' },
        { ticketTypeName: 'Dinner', quantity: 7, unitPrice: '19.99', currency: 'EUR', total: '139.93' },
      ],
      totals: [{ currency: 'EUR', total: '140.23' }],
    };
    expect(money(held.body.reservation)).toEqual(euros);
    const replayed = await hold([['Dinner', 7], ['Coffee', 3]], key);
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    expect(money(replayed.body.reservation)).toEqual(euros);
    expect(money((await server.request('GET', `/api/reservations/${id}`, { token })).body.reservation)).toEqual(euros);
    expect(money((await server.request('POST', `/api/reservations/${id}/extend`, { token })).body.reservation)).toEqual(euros);
    const confirmed = await server.request('POST', `/api/reservations/${id}/confirm`, { token });
    expect(confirmed.body.reservation.status).toBe('confirmed');
    expect(money(confirmed.body.reservation)).toEqual(euros);

    // Two currencies are never added together: one total each, by currency code.
    const mixed = await hold([['Parking', 3], ['Coffee', 3]], `money-${randomUUID()}`);
    expect(mixed.status).toBe(201);
    const both = {
      items: [
        { ticketTypeName: 'Coffee', quantity: 3, unitPrice: '0.10', currency: 'EUR', total: '0.30' },
        { ticketTypeName: 'Parking', quantity: 3, unitPrice: '0.70', currency: 'USD', total: '2.10' },
      ],
      totals: [
        { currency: 'EUR', total: '0.30' },
        { currency: 'USD', total: '2.10' },
      ],
    };
    expect(money(mixed.body.reservation)).toEqual(both);
    const released = await server.request('DELETE', `/api/reservations/${mixed.body.reservation.id}`, { token });
    expect(released.body.reservation.status).toBe('released');
    expect(money(released.body.reservation)).toEqual(both);
  });

  it('serves availability with the version as ETag and 304 while nothing changes', async () => {
    const event = await createEvent(catalog);
    const first = await server.request('GET', `/api/events/${event.slug}/availability`);
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag');
    expect(etag).toBe(`"${first.body.version}"`);
    expect(Date.parse(first.body.serverTime)).not.toBeNaN();

    const unchanged = await server.request('GET', `/api/events/${event.slug}/availability`, { headers: { 'if-none-match': etag! } });
    expect(unchanged.status).toBe(304);
    // `*` matches whatever is current (RFC 9110), as a weak tag and a list do.
    for (const ifNoneMatch of ['*', `W/${etag}`, `"0", ${etag}`]) {
      expect((await server.request('GET', `/api/events/${event.slug}/availability`, { headers: { 'if-none-match': ifNoneMatch } })).status).toBe(304);
    }

    await server.request('POST', `/api/events/${event.id}/reservations`, {
      token: await server.token(),
      body: { items: [{ ticketTypeId: typeId(event, 'General'), quantity: 1 }] },
    });
    const changed = await server.request('GET', `/api/events/${event.slug}/availability`, { headers: { 'if-none-match': etag! } });
    expect(changed.status).toBe(200);
    expect(changed.body.version).toBeGreaterThan(first.body.version);
  });

  it('never puts holder or reservation ids in what every buyer sees', async () => {
    const event = await createEvent(catalog);
    const holder = randomUUID();
    await server.request('POST', `/api/events/${event.id}/reservations`, {
      token: await server.token('authenticated', holder),
      body: { items: [{ ticketTypeId: typeId(event, 'General'), quantity: 1 }] },
    });
    for (const path of [`/api/events/${event.id}/availability`, `/api/events/${event.id}`, '/api/events']) {
      const text = JSON.stringify((await server.request('GET', path)).body);
      expect(text).not.toContain(holder);
      expect(text).not.toMatch(/holder|reservationId/i);
    }
  });

  it('hides private and draft events from buyers but shows them to organizers', async () => {
    const hidden = await createEvent(catalog, { isPublic: false });
    const draft = await createEvent(catalog, { status: 'draft' });
    const buyer = await server.token('authenticated');
    const organizer = await server.token('organizer');
    const publicList = (await server.request('GET', '/api/events', { token: buyer })).body.events.map((e: { id: string }) => e.id);
    expect(publicList).not.toContain(hidden.id);
    expect(publicList).not.toContain(draft.id);
    const organizerList = (await server.request('GET', '/api/events', { token: organizer })).body.events.map((e: { id: string }) => e.id);
    expect(organizerList).toEqual(expect.arrayContaining([hidden.id, draft.id]));

    expect((await server.request('GET', `/api/events/${hidden.slug}`, { token: buyer })).status).toBe(404);
    expect((await server.request('GET', `/api/events/${hidden.slug}/availability`)).status).toBe(404);
    const hold = await server.request('POST', `/api/events/${hidden.id}/reservations`, {
      token: buyer,
      body: { items: [{ ticketTypeId: typeId(hidden, 'General'), quantity: 1 }] },
    });
    expect(hold.status).toBe(404);
    expect((await server.request('GET', `/api/events/${hidden.slug}`, { token: organizer })).status).toBe(200);
  });

  it('takes startsAt with any offset ISO 8601 allows; a time the database cannot give back is 400, and the event list stays up', async () => {
    const organizer = await server.token('organizer');
    const create = (startsAt: string) =>
      server.request('POST', '/api/events', { token: organizer, body: { slug: uniqueSlug('when'), name: 'When', startsAt, ticketTypes: [{ name: 'Seat', totalCapacity: 1 }] } });
    // PostgreSQL takes offsets up to ±15:59 only: this was a 500.
    const farEast = await create('2030-06-01T12:00:00+23:59');
    expect([farEast.status, farEast.body.event?.startsAt]).toEqual([201, '2030-05-31T12:01:00.000Z']);
    // 1 BC and the year 10000 in UTC: they used to be stored, and then every read of the events failed, the public list included.
    for (const startsAt of ['0001-01-01T00:00:00+01:00', '9999-12-31T23:00:00-02:00', '1969-12-31T23:59:59Z']) {
      const refused = await create(startsAt);
      expect([refused.status, refused.body.error.code, refused.body.error.issues[0].message]).toEqual([400, 'invalid_request', 'startsAt must be from 1970 to 9999 (in UTC)']);
    }
    expect((await server.request('GET', '/api/events')).status).toBe(200);
  });

  it('refuses text the database cannot keep as sent (NUL, a lone surrogate) with 400 naming the field, and stores nothing', async () => {
    const organizer = await server.token('organizer');
    const slug = uniqueSlug('text');
    const event = { slug, name: 'Text', venue: 'Hall', startsAt: '2030-06-01T12:00:00Z', ticketTypes: [{ name: 'Seat', description: 'Front', totalCapacity: 1 }] };
    const cases: Array<[string, unknown]> = [
      ['name', { ...event, name: 'a\u0000b' }],
      ['venue', { ...event, venue: 'Hall \ud800' }],
      ['ticketTypes.0.name', { ...event, ticketTypes: [{ ...event.ticketTypes[0], name: '\udc00Seat' }] }],
      ['ticketTypes.0.description', { ...event, ticketTypes: [{ ...event.ticketTypes[0], description: 'Front\u0000' }] }],
    ];
    for (const [field, body] of cases) {
      const refused = await server.request('POST', '/api/events', { token: organizer, body });
      expect([refused.status, refused.body.error.code, refused.body.error.issues[0]], field).toEqual([
        400,
        'invalid_request',
        { path: `body.${field}`, message: 'must be well-formed text without NUL' },
      ]);
    }
    expect((await server.request('GET', `/api/events/${slug}`, { token: organizer })).status).toBe(404);
    // A pair of surrogates is one character (an emoji), and fine.
    const created = await server.request('POST', '/api/events', { token: organizer, body: { ...event, name: 'Text \ud83c\udfb5' } });
    expect([created.status, created.body.event.name]).toEqual([201, 'Text 🎵']);
  });

  it('lets organizers create events and change capacity, and nobody else', async () => {
    const organizer = await server.token('organizer');
    const body = {
      slug: uniqueSlug('gala'),
      name: 'Gala',
      startsAt: '2027-03-01T19:00:00+01:00',
      ticketTypes: [
        { name: 'Seat', price: '45.50', totalCapacity: 100, maxPerOrder: 6 },
        { name: 'Livestream', totalCapacity: null },
      ],
    };
    expect((await server.request('POST', '/api/events', { body })).status).toBe(401);
    const asBuyer = await server.request('POST', '/api/events', { token: await server.token('authenticated'), body });
    expect(asBuyer.status).toBe(403);
    expect(asBuyer.body.error.code).toBe('forbidden');

    const created = await server.request('POST', '/api/events', { token: organizer, body });
    expect(created.status).toBe(201);
    expect(created.body.event).toMatchObject({ slug: body.slug, startsAt: '2027-03-01T18:00:00.000Z' });
    expect(created.body.event.ticketTypes.map((x: { name: string; price: string }) => [x.name, x.price])).toEqual([
      ['Seat', '45.50'],
      ['Livestream', '0.00'],
    ]);
    const again = await server.request('POST', '/api/events', { token: organizer, body });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('event_slug_taken');

    const seat = created.body.event.ticketTypes[0].id;
    const patched = await server.request('PATCH', `/api/event-tickets/${seat}`, { token: organizer, body: { totalCapacity: 150 } });
    expect(patched.status).toBe(200);
    expect(patched.body.ticketType).toMatchObject({ totalCapacity: 150, availableCount: 150 });
    const buyer = await server.token();
    await server.request('POST', `/api/events/${body.slug}/reservations`, { token: buyer, body: { items: [{ ticketTypeId: seat, quantity: 6 }] } });
    const below = await server.request('PATCH', `/api/event-tickets/${seat}`, { token: organizer, body: { totalCapacity: 5 } });
    expect(below.status).toBe(409);
    expect(below.body.error).toMatchObject({ code: 'capacity_below_committed', committed: 6 });
    expect((await server.request('PATCH', `/api/event-tickets/${seat}`, { token: buyer, body: { totalCapacity: 500 } })).status).toBe(403);
  });

  it('refuses to let one buyer touch another buyer’s reservation; the service role may', async () => {
    const event = await createEvent(catalog);
    const owner = await server.token();
    const held = await server.request('POST', `/api/events/${event.id}/reservations`, {
      token: owner,
      body: { items: [{ ticketTypeId: typeId(event, 'General'), quantity: 1 }] },
    });
    const id = held.body.reservation.id;
    const stranger = await server.token();
    for (const [method, path] of [
      ['GET', `/api/reservations/${id}`],
      ['POST', `/api/reservations/${id}/confirm`],
      ['POST', `/api/reservations/${id}/extend`],
      ['DELETE', `/api/reservations/${id}`],
    ] as const) {
      const response = await server.request(method, path, { token: stranger });
      // Not yours looks exactly like does not exist.
      expect([response.status, response.body.error.code], `${method} ${path}`).toEqual([404, 'reservation_not_found']);
    }
    const service = await server.token('service');
    expect((await server.request('DELETE', `/api/reservations/${id}`, { token: service })).body.reservation.status).toBe('released');
  });

  it('refuses missing, malformed, expired and wrongly signed tokens with 401 and a code', async () => {
    const event = await createEvent(catalog);
    const path = `/api/events/${event.id}/reservations`;
    const body = { items: [{ ticketTypeId: typeId(event, 'General'), quantity: 1 }] };
    const { TokenVerifier } = await import('../src/auth/token-verifier.ts');
    const expired = await server.service.verifier.sign({ userId: 'x', role: 'authenticated' }, -10);
    const foreign = await new TokenVerifier('another-secret-that-is-long-enough-to-sign').sign({ userId: 'x', role: 'authenticated' }, 60);
    const anonymous = await server.service.verifier.sign({ role: 'anon' }, 60);
    const cases: Array<[Record<string, string>, number, string]> = [
      [{}, 401, 'unauthorized'],
      [{ authorization: 'Basic dXNlcjpwYXNz' }, 401, 'invalid_token'],
      [{ authorization: 'Bearer not-a-jwt' }, 401, 'invalid_token'],
      [{ authorization: `Bearer ${expired.token}` }, 401, 'token_expired'],
      [{ authorization: `Bearer ${foreign.token}` }, 401, 'invalid_token'],
      [{ authorization: `Bearer ${anonymous.token}` }, 403, 'holder_required'],
    ];
    for (const [headers, status, code] of cases) {
      const response = await server.request('POST', path, { headers, body });
      expect([response.status, response.body.error.code], JSON.stringify(headers)).toEqual([status, code]);
    }
    // A bad token is refused even where no token is needed: a client never silently loses its identity.
    expect((await server.request('GET', '/api/events', { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
  });

  it('mints dev tokens only when dev auth is on', async () => {
    const minted = await server.request('POST', '/api/auth/dev-token', { body: { role: 'organizer' } });
    expect(minted.status).toBe(201);
    expect(minted.body).toMatchObject({ role: 'organizer' });
    expect((await server.request('POST', '/api/events', { token: minted.body.token, body: {} })).status).toBe(400);
    const bare = await server.request('POST', '/api/auth/dev-token');
    expect(bare.status).toBe(201);
    expect(bare.body.role).toBe('authenticated');

    const locked = await startTestServer(t.db, { devAuth: false });
    try {
      const refused = await locked.request('POST', '/api/auth/dev-token', { body: {} });
      expect(refused.status).toBe(404);
      expect(refused.body.error.code).toBe('not_found');
    } finally {
      await locked.close();
    }
  });

  it('describes every route in /api/openapi.json', async () => {
    const { status, body } = await server.request('GET', '/api/openapi.json');
    expect(status).toBe(200);
    expect(body.openapi).toMatch(/^3\./);
    const routes = Object.entries(body.paths as Record<string, object>).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(routes.sort()).toEqual(
      [
        'GET /healthz',
        'GET /readyz',
        'GET /api/events',
        'POST /api/events',
        'GET /api/events/{idOrSlug}',
        'PATCH /api/events/{idOrSlug}',
        'PUT /api/events/{idOrSlug}/access/{userId}',
        'DELETE /api/events/{idOrSlug}/access/{userId}',
        'GET /api/events/{idOrSlug}/availability',
        'POST /api/events/{idOrSlug}/reservations',
        'GET /api/reservations/{id}',
        'DELETE /api/reservations/{id}',
        'POST /api/reservations/{id}/confirm',
        'POST /api/reservations/{id}/extend',
        'PATCH /api/event-tickets/{id}',
        'POST /api/auth/dev-token',
        'GET /api/events/{idOrSlug}/holds',
        'GET /api/events/{idOrSlug}/sales',
        'GET /api/realtime/stats',
        'PUT /api/events/{idOrSlug}/queue',
        'PATCH /api/events/{idOrSlug}/queue',
        'GET /api/events/{idOrSlug}/queue',
        'POST /api/events/{idOrSlug}/queue/entries',
        'GET /api/events/{idOrSlug}/queue/entries/me',
        'DELETE /api/events/{idOrSlug}/queue/entries/me',
        'POST /api/event-tickets/{id}/waitlist',
        'PATCH /api/event-tickets/{id}/waitlist',
        'GET /api/waitlist/me',
        'DELETE /api/waitlist/{entryId}',
        'GET /api/events/{idOrSlug}/waitlist',
        'PATCH /api/events/{idOrSlug}/waitlist',
        'GET /api/push/vapid-public-key',
        'POST /api/push/subscriptions',
        'DELETE /api/push/subscriptions',
        'GET /api/push/watches',
        'POST /api/event-tickets/{id}/notify',
        'DELETE /api/event-tickets/{id}/notify',
      ].sort(),
    );
    expect(body.paths['/api/events/{idOrSlug}/reservations'].post.requestBody.content['application/json'].schema).toBeDefined();
  });

  it('checks the role before looking at the body', async () => {
    const bad = { slug: 'NOT VALID' };
    expect((await server.request('POST', '/api/events', { body: bad })).body.error.code).toBe('unauthorized');
    const asBuyer = await server.request('POST', '/api/events', { token: await server.token(), body: bad });
    expect([asBuyer.status, asBuyer.body.error.code]).toEqual([403, 'forbidden']);
    const patch = await server.request('PATCH', `/api/event-tickets/${randomUUID()}`, { token: await server.token(), body: {} });
    expect([patch.status, patch.body.error.code]).toEqual([403, 'forbidden']);
  });

  it('lets a service token without a user act on any reservation', async () => {
    const event = await createEvent(catalog);
    const held = await server.request('POST', `/api/events/${event.id}/reservations`, {
      token: await server.token(),
      body: { items: [{ ticketTypeId: typeId(event, 'General'), quantity: 1 }] },
    });
    const service = (await server.service.verifier.sign({ role: 'service' }, 60)).token;
    const confirmed = await server.request('POST', `/api/reservations/${held.body.reservation.id}/confirm`, { token: service });
    expect(confirmed.body.reservation.status).toBe('confirmed');
    // Holding seats still needs someone to hold them for.
    const hold = await server.request('POST', `/api/events/${event.id}/reservations`, {
      token: service,
      body: { items: [{ ticketTypeId: typeId(event, 'General'), quantity: 1 }] },
    });
    expect([hold.status, hold.body.error.code]).toEqual([403, 'holder_required']);
  });

  it('refuses every buyer route to a token without a user (`sub`) with 403 holder_required, and changes nothing', async () => {
    const event = await createEvent(catalog);
    const type = typeId(event, 'General');
    const browser = { endpoint: 'https://fcm.googleapis.com/fcm/send/holder-required', keys: { p256dh: Buffer.alloc(65, 4).toString('base64url'), auth: Buffer.alloc(16, 1).toString('base64url') } };
    const buyerRoutes: Array<[string, string, unknown?]> = [
      ['POST', `/api/events/${event.id}/reservations`, { items: [{ ticketTypeId: type, quantity: 1 }] }],
      ['POST', `/api/event-tickets/${type}/waitlist`, { quantity: 1 }],
      ['GET', '/api/waitlist/me'],
      ['DELETE', `/api/waitlist/${randomUUID()}`],
      ['POST', '/api/push/subscriptions', browser],
      ['DELETE', '/api/push/subscriptions', { endpoint: browser.endpoint }],
      ['GET', '/api/push/watches'],
      ['POST', `/api/event-tickets/${type}/notify`],
      ['DELETE', `/api/event-tickets/${type}/notify`],
      ['POST', `/api/events/${event.id}/queue/entries`],
      ['GET', `/api/events/${event.id}/queue/entries/me`],
      ['DELETE', `/api/events/${event.id}/queue/entries/me`],
    ];
    // A guest's anon token and a service token, both signed by the service, neither naming a user.
    for (const role of ['anon', 'service'] as const) {
      const token = (await server.service.verifier.sign({ role }, 60)).token;
      for (const [method, path, body] of buyerRoutes) {
        const refused = await server.request(method, path, { token, body });
        expect([role, method, path, refused.status, refused.body.error.code]).toEqual([role, method, path, 403, 'holder_required']);
      }
    }
    const availability = await server.request('GET', `/api/events/${event.id}/availability`);
    expect(availability.body.tickets[0]).toMatchObject({ ticketTypeId: type, availableCount: 10 });
  });

  it('answers 503 shutting_down with Retry-After while a node drains', async () => {
    const { buildApp } = await import('../src/http/app.ts');
    const { registryMetrics } = await import('../src/http/routes/metrics.ts');
    const { service } = server;
    const draining = await buildApp({
      db: t.db,
      catalog: service.catalog,
      holds: service.holds,
      waitingRoom: service.waitingRoom,
      waitingList: service.waitingList,
      push: service.push,
      verifier: service.verifier,
      devAuth: false,
      logger: pino({ level: 'silent' }),
      metrics: registryMetrics(service.metrics.registry),
      realtimeStats: () => service.gateway.stats,
      storefrontDir: undefined,
      isShuttingDown: () => true,
      rateLimit: { limits: { holdsPerMinute: 100, queueJoinsPerMinute: 100, writesPerMinute: 100, readsPerMinute: 100 }, clientAddress: () => '127.0.0.1' },
    });
    try {
      for (const url of ['/api/events', '/readyz']) {
        const response = await draining.inject({ method: 'GET', url });
        expect([response.statusCode, response.json().error.code, response.headers['retry-after']]).toEqual([503, 'shutting_down', '1']);
      }
    } finally {
      await draining.close();
    }
  });

  it('reports health and readiness', async () => {
    expect((await server.request('GET', '/healthz')).body).toEqual({ status: 'ok' });
    expect((await server.request('GET', '/readyz')).body).toEqual({ status: 'ok' });
  });
});
