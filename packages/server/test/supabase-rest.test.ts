import type { SupabaseClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../src/http/auth.ts';
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
});
