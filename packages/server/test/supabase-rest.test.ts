import { randomUUID } from 'node:crypto';
import type { SupabaseClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../src/auth/principal.ts';
import { createTestDatabase, drivers, type TestDatabase } from './support/database.ts';
import { createEvent, typeId } from './support/fixtures.ts';
import { startTestServer, type TestServer } from './support/server.ts';
import { supabaseClient } from './support/supabase-client.ts';

describe.each(drivers)('PostgREST subset for supabase-js (%s)', (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  const supabase = async (role: Role, userId?: string): Promise<SupabaseClient> =>
    supabaseClient(server.url, await server.token(role, userId));

  beforeAll(async () => {
    t = await createTestDatabase(driver);
    server = await startTestServer(t.db);
  });
  afterAll(async () => {
    await server.close();
    await t.dispose();
  });

  it("answers the design's initial loads: event_tickets and ticket_availability_view filtered by event", async () => {
    const event = await createEvent(server.service.catalog);
    await createEvent(server.service.catalog); // another event's rows must not come along
    const client = await supabase('anon');

    const { data: types, error } = await client.from('event_tickets').select('*').eq('event_id', event.id);
    expect(error).toBeNull();
    expect(types).toEqual([
      expect.objectContaining({ id: typeId(event, 'General'), event_id: event.id, name: 'General', price: 20, total_capacity: 10, available_count: 10 }),
      expect.objectContaining({ id: typeId(event, 'VIP'), name: 'VIP', price: 90, total_capacity: 2 }),
    ]);

    const { data: availability } = await client.from('ticket_availability_view').select('*').eq('event_id', event.id).gte('total_capacity', 5);
    expect(availability).toEqual([
      expect.objectContaining({ ticket_type_id: typeId(event, 'General'), actual_available: 10, percentage_sold: 0, status: 'available', is_sold_out: false }),
    ]);
  });

  it('shows only what the token may see: private events to organizers and granted users, hidden types to organizers', async () => {
    const event = await createEvent(server.service.catalog, { isPublic: false });
    await server.service.catalog.updateTicketType(typeId(event, 'VIP'), { status: 'hidden' });
    const load = async (client: SupabaseClient) => (await client.from('event_tickets').select('*').eq('event_id', event.id)).data;

    expect(await load(await supabase('anon'))).toEqual([]);
    await server.service.catalog.grantAccess(event.id, 'guest');
    expect((await load(await supabase('authenticated', 'guest')))?.map((r) => r.name)).toEqual(['General']);
    expect((await load(await supabase('organizer')))?.map((r) => r.name)).toEqual(['General', 'VIP']);
  });

  it('answers what it does not support with a PostgREST error', async () => {
    const client = await supabase('anon');
    expect((await client.from('reservations').select('*')).error).toMatchObject({ code: 'PGRST205' });
    expect((await client.from('event_tickets').select('id,name')).error).toMatchObject({ code: 'PGRST100', message: 'Only select=* is supported' });
    expect((await client.from('event_tickets').select('*').like('name', 'G%')).error).toMatchObject({
      code: 'PGRST100',
      message: expect.stringContaining('operator "like" is not supported'),
    });
  });

  it('takes a filter value as written, commas and quotes included, as PostgREST does', async () => {
    const event = await createEvent(server.service.catalog, {
      ticketTypes: [
        { name: 'A, B', price: '10.00', totalCapacity: 5 },
        { name: '"Quoted"', price: '10.00', totalCapacity: 5 },
        { name: 'C', price: '10.00', totalCapacity: 5 },
      ],
    });
    const client = await supabase('anon');
    const names = async (query: PromiseLike<{ data: Array<{ name: string }> | null }>) => (await query).data?.map((r) => r.name);
    expect(await names(client.from('event_tickets').select('*').eq('event_id', event.id).eq('name', 'A, B'))).toEqual(['A, B']);
    expect(await names(client.from('event_tickets').select('*').eq('event_id', event.id).eq('name', '"Quoted"'))).toEqual(['"Quoted"']);
    expect(await names(client.from('event_tickets').select('*').eq('event_id', event.id).in('name', ['A, B', 'C']))).toEqual(['A, B', 'C']);
  });

  it("answers every refusal under /rest/v1/ in PostgREST's shape, which supabase-js returns as its error", async () => {
    const event = await createEvent(server.service.catalog);
    const general = typeId(event, 'General');
    const anon = await supabase('anon');
    const expired = supabaseClient(server.url, (await server.service.verifier.sign({ userId: randomUUID(), role: 'anon' }, -10)).token);
    const cases: Array<[string, PromiseLike<{ error: unknown; status: number }>, number, string]> = [
      ['an unknown table', anon.from('tickets').select('*'), 404, 'PGRST205'],
      ['a write to an unknown table', anon.from('tickets').update({ status: 'sold' }).eq('id', randomUUID()), 404, 'PGRST205'],
      ['an update', anon.from('event_tickets').update({ name: 'x' }).eq('id', general), 405, 'PGRST117'],
      ['an insert', anon.from('event_tickets').insert({ name: 'x' }), 405, 'PGRST117'],
      ['a delete', anon.from('event_tickets').delete().eq('id', general), 405, 'PGRST117'],
      ['a function', anon.rpc('reserve_holds', {}), 404, 'PGRST202'],
      ['a single object', anon.from('event_tickets').select('*').eq('id', general).single(), 406, 'PGRST107'],
      ['CSV', anon.from('event_tickets').select('*').csv(), 406, 'PGRST107'],
      ['another schema', anon.schema('auth').from('event_tickets').select('*'), 406, 'PGRST106'],
      ['an order', anon.from('event_tickets').select('*').order('name'), 400, 'PGRST100'],
      ['a limit', anon.from('event_tickets').select('*').limit(1), 400, 'PGRST100'],
      ['a bad filter value', anon.from('event_tickets').select('*').eq('event_id', 'not-a-uuid'), 400, 'PGRST100'],
      ['a token that is not a JWT', supabaseClient(server.url, 'not-a-jwt').from('event_tickets').select('*'), 401, 'PGRST301'],
      ['an expired token', expired.from('event_tickets').select('*'), 401, 'PGRST303'],
    ];
    for (const [what, query, status, code] of cases) {
      const answer = await query;
      expect([answer.status, answer.error], what).toEqual([status, { code, message: expect.any(String), details: null, hint: expect.toSatisfy((h) => h === null || typeof h === 'string') }]);
    }
    // The writes changed nothing.
    expect((await anon.from('event_tickets').select('*').eq('id', general)).data).toEqual([expect.objectContaining({ name: 'General' })]);

    // What supabase-js cannot send: bodies, broken URLs, other paths. Outside /rest/v1/, the service's own format stays.
    const raw = async (method: string, path: string, init: RequestInit = {}) => {
      const response = await fetch(server.url + path, { method, ...init });
      return { status: response.status, body: await response.json(), headers: response.headers };
    };
    const json = { 'content-type': 'application/json' };
    const shaped = (status: number, code: string) => ({ status, body: { code, message: expect.any(String), details: null, hint: expect.anything() } });
    const plain = (status: number, code: string) => ({ status, body: { code, message: expect.any(String), details: null, hint: null } });
    // Writes are refused before their bodies are read: broken, oversized or of another type, they change nothing in the answer.
    expect(await raw('PATCH', '/rest/v1/event_tickets', { headers: json, body: '{"name":' })).toMatchObject(shaped(405, 'PGRST117'));
    expect(await raw('POST', '/rest/v1/event_tickets', { headers: { 'content-type': 'text/csv' }, body: 'name\nx' })).toMatchObject(shaped(405, 'PGRST117'));
    expect(await raw('POST', '/rest/v1/event_tickets/extra', { headers: json, body: JSON.stringify({ pad: 'x'.repeat(70_000) }) })).toMatchObject(plain(404, 'PGRST125'));
    expect(await raw('GET', '/rest/v1/event_tickets/extra')).toMatchObject(plain(404, 'PGRST125'));
    expect(await raw('GET', '/rest/v1/')).toMatchObject(plain(404, 'PGRST126'));
    expect(await raw('GET', '/rest/v1/%E0%A4%A')).toMatchObject(plain(400, 'PGRST100'));
    expect(await raw('GET', `/rest/v1/${'t'.repeat(150)}`)).toMatchObject(plain(414, 'PT414'));
    expect(await raw('PROPFIND', '/rest/v1/event_tickets')).toMatchObject(shaped(405, 'PGRST117'));
    const refused = await raw('GET', '/rest/v1/event_tickets', { headers: { authorization: 'Bearer not-a-jwt' } });
    expect(refused.headers.get('www-authenticate')).toBe('Bearer error="invalid_token", error_description="Token is invalid"');
    expect((await raw('PATCH', '/rest/v1/event_tickets')).headers.get('allow')).toBe('GET, HEAD');
    expect(await raw('GET', '/api/no-such-route')).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    expect(await raw('GET', '/rest/v1x/event_tickets')).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    expect(await raw('GET', '/api/events', { headers: { authorization: 'Bearer not-a-jwt' } })).toMatchObject({ status: 401, body: { error: { code: 'invalid_token' } } });
  });

  it('answers a rate-limited read in PostgREST shape, with Retry-After', async () => {
    const limited = await startTestServer(t.db, { httpRateLimits: { readsPerMinute: 2 } });
    try {
      const client = supabaseClient(limited.url, await limited.token('anon'));
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push(await client.from('event_tickets').select('*'));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 429]);
      expect(answers[2]!.error).toEqual({ code: 'PT429', message: expect.stringContaining('Too many requests'), details: null, hint: null });
      const raw = await fetch(`${limited.url}/rest/v1/event_tickets`);
      expect(Number(raw.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await limited.close();
    }
  });
});
