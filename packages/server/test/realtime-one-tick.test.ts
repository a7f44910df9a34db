import { randomUUID } from 'node:crypto';
import type { SupabaseClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/database.ts';
import { createTestDatabase, drivers, type TestDatabase } from './support/database.ts';
import { createEvent, typeId } from './support/fixtures.ts';
import { TestSocket } from './support/realtime-client.ts';
import { startTestServer, type TestServer } from './support/server.ts';
import { subscribeStatus, supabaseClient } from './support/supabase-client.ts';
import { eventually } from './support/viewer.ts';

/** Reads of an event's availability or ticket-type rows (not the tickets outbox, not access checks). */
const isAvailabilityRead = (sql: string) => /ticket_availability_view|JOIN event_tickets/.test(sql);

/** The database, counting availability reads while `counting` is on. */
function counted(db: Database): { db: Database; reads: () => number; reset: () => void } {
  let reads = 0;
  const wrapped = new Proxy(db, {
    get(target, key, receiver) {
      if (key === 'query') {
        return (sql: string, params?: readonly unknown[]) => {
          if (isAvailabilityRead(sql)) reads += 1;
          return target.query(sql, params);
        };
      }
      const value: unknown = Reflect.get(target, key, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { db: wrapped, reads: () => reads, reset: () => (reads = 0) };
}

const CHANGES = 5;

// Both endpoints follow one change feed and one tick: a Supabase viewer of an
// event costs the database nothing more per tick than the native viewers do.
describe.each(drivers)('one realtime pipeline (%s)', (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  let db: ReturnType<typeof counted>;

  beforeAll(async () => {
    t = await createTestDatabase(driver);
    db = counted(t.db);
    // No periodic everything-check during the test: only the holds' changes are read.
    server = await startTestServer(db.db, { realtime: { reconcileMs: 3_600_000 } });
  });
  afterAll(async () => {
    await server.close();
    await t.dispose();
  });

  /** Availability reads per change (one tick each), with the given viewers in place. */
  async function readsPerTick(withSupabase: boolean): Promise<number> {
    const event = await createEvent(server.service.catalog);
    const general = typeId(event, 'General');
    const socket = await TestSocket.connect(server.url, await server.token('anon'));
    socket.send({ type: 'subscribe', eventId: event.id });
    await socket.next((m) => m.type === 'subscribed');
    let supabase: SupabaseClient | undefined;
    const rows: unknown[] = [];
    if (withSupabase) {
      supabase = supabaseClient(server.url, await server.token('anon'));
      const channel = supabase
        .channel(`one-tick-${event.id}`)
        .on('postgres_changes', { event: 'UPDATE', schema: 'public', table: 'event_tickets', filter: `event_id=eq.${event.id}` }, (p) => rows.push(p));
      expect((await subscribeStatus(channel)).status).toBe('SUBSCRIBED');
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    db.reset();
    for (let i = 1; i <= CHANGES; i += 1) {
      const hold = await server.request('POST', `/api/events/${event.id}/reservations`, {
        token: await server.token('authenticated', randomUUID()),
        body: { items: [{ ticketTypeId: general, quantity: 1 }] },
      });
      expect(hold.status).toBe(201);
      await socket.next((m) => m.type === 'updates');
      if (withSupabase) await eventually(() => rows.length >= i, `Supabase UPDATE ${i}`);
      // Past the next tick, so each change is read in a tick of its own.
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    const reads = db.reads() / CHANGES;
    socket.ws.close();
    await supabase?.removeAllChannels();
    return reads;
  }

  it('reads each changed event once per tick, whichever endpoints watch it', async () => {
    const nativeOnly = await readsPerTick(false);
    const both = await readsPerTick(true);
    console.log(`availability reads per tick (${driver}): native only ${nativeOnly}, native + Supabase ${both}`);
    expect(nativeOnly).toBe(1);
    expect(both).toBe(nativeOnly);
  });
});
