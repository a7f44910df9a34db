import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Catalog, type EventWithTicketTypes } from '../src/inventory/catalog.ts';
import { createTestDatabase, drivers, type TestDatabase } from './support/database.ts';
import { createEvent, typeId } from './support/fixtures.ts';
import { startTestServer, type RequestOptions, type TestServer } from './support/server.ts';

interface Case {
  name: string;
  method: string;
  path: string;
  options?: RequestOptions;
  status: number;
  code: string;
}

describe.each(drivers)('bad input (%s)', (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  let event: EventWithTicketTypes;
  let buyer: string;
  let organizer: string;
  let reservationId: string;

  beforeAll(async () => {
    t = await createTestDatabase(driver);
    server = await startTestServer(t.db);
    event = await createEvent(new Catalog(t.db));
    buyer = await server.token('authenticated');
    organizer = await server.token('organizer');
    const held = await server.request('POST', `/api/events/${event.id}/reservations`, {
      token: await server.token(),
      body: { items: [{ ticketTypeId: typeId(event, 'General'), quantity: 1 }] },
    });
    reservationId = held.body.reservation.id;
  });
  afterAll(async () => {
    await server.close();
    await t.dispose();
  });

  /** Everything a request could have changed: rows, counters and versions. */
  const databaseState = async () =>
    (
      await t.db.query(`SELECT
        (SELECT count(*) FROM reservations) AS reservations,
        (SELECT count(*) FROM tickets) AS tickets,
        (SELECT count(*) FROM events) AS events,
        (SELECT json_agg(json_build_object('id', id, 'cap', total_capacity, 'sold', sold_count, 'held', reserved_count,
           'status', status, 'max', max_per_order, 'v', version) ORDER BY id) FROM event_tickets) AS ticket_types,
        (SELECT json_agg(json_build_object('id', id, 'v', availability_version) ORDER BY id) FROM events) AS versions,
        (SELECT json_agg(json_build_object('id', id, 'status', status, 'exp', expires_at, 'ext', extensions_used) ORDER BY id)
           FROM reservations) AS holds`)
    ).rows[0];

  const cases = (): Case[] => {
    const general = typeId(event, 'General');
    const reserve = `/api/events/${event.id}/reservations`;
    const hold = (body: unknown, extra: RequestOptions = {}): RequestOptions => ({ token: buyer, body, ...extra });
    const item = (fields: Record<string, unknown>) => ({ items: [{ ticketTypeId: general, quantity: 1, ...fields }] });
    const validEvent = { slug: 'ok-slug', name: 'N', startsAt: '2027-01-01T20:00:00Z', ticketTypes: [{ name: 'A', totalCapacity: 5 }] };
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    return [
      // Malformed bodies
      { name: 'not JSON', method: 'POST', path: reserve, options: hold(undefined, { rawBody: 'hold me 2 seats' }), status: 400, code: 'invalid_json' },
      { name: 'truncated JSON', method: 'POST', path: reserve, options: hold(undefined, { rawBody: '{"items":[{"ticketTypeId":' }), status: 400, code: 'invalid_json' },
      { name: 'empty JSON body', method: 'POST', path: reserve, options: hold(undefined, { rawBody: '' }), status: 400, code: 'invalid_json' },
      { name: 'deeply nested JSON', method: 'POST', path: reserve, options: hold(undefined, { rawBody: deep }), status: 400, code: 'invalid_request' },
      { name: 'prototype pollution', method: 'POST', path: reserve, options: hold(undefined, { rawBody: '{"__proto__":{"admin":true},"items":[]}' }), status: 400, code: 'invalid_json' },
      { name: 'text/plain', method: 'POST', path: reserve, options: hold(undefined, { rawBody: 'x', headers: { 'content-type': 'text/plain' } }), status: 415, code: 'unsupported_media_type' },
      { name: 'body over 64 KB', method: 'POST', path: reserve, options: hold({ items: [], pad: 'x'.repeat(70_000) }), status: 413, code: 'payload_too_large' },
      // Wrong shapes and types
      { name: 'array body', method: 'POST', path: reserve, options: hold([1, 2]), status: 400, code: 'invalid_request' },
      { name: 'items missing', method: 'POST', path: reserve, options: hold({}), status: 400, code: 'invalid_request' },
      { name: 'items empty', method: 'POST', path: reserve, options: hold({ items: [] }), status: 400, code: 'invalid_request' },
      { name: 'items not an array', method: 'POST', path: reserve, options: hold({ items: 'two' }), status: 400, code: 'invalid_request' },
      { name: 'quantity zero', method: 'POST', path: reserve, options: hold(item({ quantity: 0 })), status: 400, code: 'invalid_request' },
      { name: 'quantity negative', method: 'POST', path: reserve, options: hold(item({ quantity: -3 })), status: 400, code: 'invalid_request' },
      { name: 'quantity fractional', method: 'POST', path: reserve, options: hold(item({ quantity: 1.5 })), status: 400, code: 'invalid_request' },
      { name: 'quantity as string', method: 'POST', path: reserve, options: hold(item({ quantity: '2' })), status: 400, code: 'invalid_request' },
      { name: 'quantity huge', method: 'POST', path: reserve, options: hold(item({ quantity: 1e12 })), status: 400, code: 'invalid_request' },
      { name: 'quantity beyond float', method: 'POST', path: reserve, options: hold(undefined, { rawBody: `{"items":[{"ticketTypeId":"${general}","quantity":1e400}]}` }), status: 400, code: 'invalid_request' },
      { name: 'quantity null', method: 'POST', path: reserve, options: hold(item({ quantity: null })), status: 400, code: 'invalid_request' },
      { name: 'ticket type not a uuid', method: 'POST', path: reserve, options: hold(item({ ticketTypeId: "1'; DROP TABLE tickets;--" })), status: 400, code: 'invalid_request' },
      { name: 'ticket type a number', method: 'POST', path: reserve, options: hold(item({ ticketTypeId: 42 })), status: 400, code: 'invalid_request' },
      { name: 'unknown field', method: 'POST', path: reserve, options: hold(item({ price: 0 })), status: 400, code: 'invalid_request' },
      { name: 'duplicate ticket type', method: 'POST', path: reserve, options: hold({ items: [{ ticketTypeId: general, quantity: 1 }, { ticketTypeId: general, quantity: 1 }] }), status: 400, code: 'invalid_request' },
      { name: 'too many items', method: 'POST', path: reserve, options: hold({ items: Array.from({ length: 21 }, () => ({ ticketTypeId: randomUUID(), quantity: 1 })) }), status: 400, code: 'invalid_request' },
      { name: 'Idempotency-Key too long', method: 'POST', path: reserve, options: hold(item({}), { headers: { 'idempotency-key': 'k'.repeat(256) } }), status: 400, code: 'invalid_request' },
      { name: 'Idempotency-Key with spaces', method: 'POST', path: reserve, options: hold(item({}), { headers: { 'idempotency-key': 'a key' } }), status: 400, code: 'invalid_request' },
      // The token first: without one (or with a bad one), malformed input gets 401, not a 400 that shows the schema
      { name: 'no token, not JSON', method: 'POST', path: reserve, options: { rawBody: 'hold me 2 seats' }, status: 401, code: 'unauthorized' },
      { name: 'no token, quantity zero', method: 'POST', path: reserve, options: { body: item({ quantity: 0 }) }, status: 401, code: 'unauthorized' },
      { name: 'no token, reservation id not a uuid', method: 'GET', path: '/api/reservations/123', status: 401, code: 'unauthorized' },
      { name: 'no token, waiting list quantity wrong', method: 'POST', path: `/api/event-tickets/${general}/waitlist`, options: { body: { quantity: 'many' } }, status: 401, code: 'unauthorized' },
      { name: 'bad token, quantity zero', method: 'POST', path: reserve, options: { body: item({ quantity: 0 }), headers: { authorization: 'Bearer a.b.c' } }, status: 401, code: 'invalid_token' },
      { name: 'buyer, event slug invalid', method: 'POST', path: '/api/events', options: { token: buyer, body: { ...validEvent, slug: 'Not A Slug' } }, status: 403, code: 'forbidden' },
      // Unknown ids and rules
      { name: 'unknown ticket type', method: 'POST', path: reserve, options: hold(item({ ticketTypeId: randomUUID() })), status: 422, code: 'unknown_ticket_type' },
      { name: 'above max per order', method: 'POST', path: reserve, options: hold(item({ quantity: 5 })), status: 422, code: 'quantity_above_max_per_order' },
      { name: 'unknown event', method: 'POST', path: `/api/events/${randomUUID()}/reservations`, options: hold(item({})), status: 404, code: 'event_not_found' },
      { name: 'unknown slug', method: 'GET', path: '/api/events/no-such-event', status: 404, code: 'event_not_found' },
      { name: 'slug too long', method: 'GET', path: `/api/events/${'a'.repeat(101)}`, status: 414, code: 'uri_too_long' },
      { name: 'malformed URL escape', method: 'GET', path: '/api/events/%E0%A4%A/availability', status: 400, code: 'invalid_request' },
      { name: 'slug with odd characters', method: 'GET', path: '/api/events/%27%3B--/availability', status: 400, code: 'invalid_request' },
      { name: 'reservation id not a uuid', method: 'GET', path: '/api/reservations/123', options: { token: buyer }, status: 400, code: 'invalid_request' },
      { name: 'unknown reservation', method: 'POST', path: `/api/reservations/${randomUUID()}/confirm`, options: { token: buyer }, status: 404, code: 'reservation_not_found' },
      { name: 'foreign reservation: confirm', method: 'POST', path: `/api/reservations/${reservationId}/confirm`, options: { token: buyer }, status: 404, code: 'reservation_not_found' },
      { name: 'foreign reservation: extend', method: 'POST', path: `/api/reservations/${reservationId}/extend`, options: { token: buyer }, status: 404, code: 'reservation_not_found' },
      { name: 'foreign reservation: release', method: 'DELETE', path: `/api/reservations/${reservationId}`, options: { token: buyer }, status: 404, code: 'reservation_not_found' },
      { name: 'unknown route', method: 'GET', path: '/api/nothing-here', status: 404, code: 'not_found' },
      // Organizer input
      { name: 'event slug invalid', method: 'POST', path: '/api/events', options: { token: organizer, body: { ...validEvent, slug: 'Not A Slug' } }, status: 400, code: 'invalid_request' },
      { name: 'event date invalid', method: 'POST', path: '/api/events', options: { token: organizer, body: { ...validEvent, startsAt: 'next friday' } }, status: 400, code: 'invalid_request' },
      { name: 'event without ticket types', method: 'POST', path: '/api/events', options: { token: organizer, body: { ...validEvent, ticketTypes: [] } }, status: 400, code: 'invalid_request' },
      { name: 'negative capacity', method: 'POST', path: '/api/events', options: { token: organizer, body: { ...validEvent, ticketTypes: [{ name: 'A', totalCapacity: -1 }] } }, status: 400, code: 'invalid_request' },
      { name: 'price as float', method: 'POST', path: '/api/events', options: { token: organizer, body: { ...validEvent, ticketTypes: [{ name: 'A', totalCapacity: 1, price: 9.999 }] } }, status: 400, code: 'invalid_request' },
      { name: 'duplicate ticket type names', method: 'POST', path: '/api/events', options: { token: organizer, body: { ...validEvent, ticketTypes: [{ name: 'A', totalCapacity: 1 }, { name: 'A', totalCapacity: 2 }] } }, status: 400, code: 'invalid_request' },
      { name: 'capacity change empty', method: 'PATCH', path: `/api/event-tickets/${general}`, options: { token: organizer, body: {} }, status: 400, code: 'invalid_request' },
      { name: 'capacity change negative', method: 'PATCH', path: `/api/event-tickets/${general}`, options: { token: organizer, body: { totalCapacity: -5 } }, status: 400, code: 'invalid_request' },
      { name: 'capacity change below held', method: 'PATCH', path: `/api/event-tickets/${general}`, options: { token: organizer, body: { totalCapacity: 0 } }, status: 409, code: 'capacity_below_committed' },
      { name: 'status unknown', method: 'PATCH', path: `/api/event-tickets/${general}`, options: { token: organizer, body: { status: 'sold_out' } }, status: 400, code: 'invalid_request' },
      { name: 'unknown ticket type id', method: 'PATCH', path: `/api/event-tickets/${randomUUID()}`, options: { token: organizer, body: { totalCapacity: 5 } }, status: 404, code: 'ticket_type_not_found' },
    ];
  };

  it('answers each bad request with its documented 4xx code and changes nothing', async () => {
    const before = await databaseState();
    const outcomes = [];
    for (const c of cases()) {
      const response = await server.request(c.method, c.path, c.options);
      outcomes.push({ name: c.name, status: response.status, code: response.body?.error?.code, message: typeof response.body?.error?.message });
    }
    expect(outcomes).toEqual(
      cases().map((c) => ({ name: c.name, status: c.status, code: c.code, message: 'string' })),
    );
    expect(await databaseState()).toEqual(before);
    expect(await t.countMismatches()).toEqual([]);
  });

  it('never leaks a stack trace', async () => {
    for (const c of cases()) {
      const response = await server.request(c.method, c.path, c.options);
      expect(JSON.stringify(response.body)).not.toMatch(/at .*\.(ts|js):\d+|node_modules/);
    }
  });
});
