import { randomUUID } from 'node:crypto';
import type { ServerMessage } from '@ticketpulse/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, drivers, type TestDatabase } from './support/database.ts';
import { createEvent, typeId } from './support/fixtures.ts';
import { TestSocket } from './support/realtime-client.ts';
import { startTestServer, type TestServer } from './support/server.ts';
import { subscribeStatus, supabaseClient } from './support/supabase-client.ts';
import { eventually, watch } from './support/viewer.ts';

/** A tick that never comes within a test: whatever arrives was sent on the leading edge. */
const NEVER_MS = 60_000;

// Leading edge (docs/protocol.md, "Coalescing and timing"): a change to a quiet
// event goes out at once; under load each viewer still gets one frame per event per tick.
describe.each(drivers)('the tick’s leading edge (%s)', (driver) => {
  let t: TestDatabase;
  let server: TestServer | undefined;

  beforeAll(async () => {
    t = await createTestDatabase(driver);
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  afterAll(async () => {
    await t.dispose();
  });

  const hold = async (s: TestServer, eventId: string, ticketTypeId: string) => {
    const response = await s.request('POST', `/api/events/${eventId}/reservations`, {
      token: await s.token('authenticated', randomUUID()),
      body: { items: [{ ticketTypeId, quantity: 1 }] },
    });
    expect(response.status).toBe(201);
  };

  it('sends a quiet event’s change at once, to both endpoints, without waiting for the tick', async () => {
    const s = (server = await startTestServer(t.db, { realtime: { tickMs: NEVER_MS, reconcileMs: 3_600_000 } }));
    const event = await createEvent(s.service.catalog);
    const general = typeId(event, 'General');
    const socket = await TestSocket.connect(s.url, await s.token('anon'));
    const view = await watch(socket, event.id);
    const supabase = supabaseClient(s.url, await s.token('anon'));
    const rows: unknown[] = [];
    const channel = supabase
      .channel(`leading-${event.id}`)
      .on('postgres_changes', { event: 'UPDATE', schema: 'public', table: 'event_tickets', filter: `event_id=eq.${event.id}` }, (p) => rows.push(p));
    expect((await subscribeStatus(channel)).status).toBe('SUBSCRIBED');

    await hold(s, event.id, general);
    await eventually(() => view.ticket(general)?.reservedCount === 1, 'the native viewer to see the hold');
    await eventually(() => rows.length === 1, 'the Supabase viewer to see the hold');
    socket.close();
    await supabase.removeAllChannels();
  });

  it('under a stream of changes sends each viewer at most one frame per tick, whatever events it watches, the last one exact', async () => {
    const tickMs = 300;
    const s = (server = await startTestServer(t.db, { realtime: { tickMs, reconcileMs: 3_600_000 } }));
    const busy = await createEvent(s.service.catalog, { ticketTypes: [{ name: 'General', price: '20.00', totalCapacity: 100, maxPerOrder: 4 }] });
    const quiet = await createEvent(s.service.catalog);
    const socket = await TestSocket.connect(s.url, await s.token('anon'));
    const busyView = await watch(socket, busy.id);
    const quietView = await watch(socket, quiet.id);
    const arrivals: number[] = [];
    socket.ws.on('message', (data) => {
      if ((JSON.parse(data.toString()) as ServerMessage).type === 'updates') arrivals.push(Date.now());
    });

    const changes = 30;
    for (let i = 0; i < changes; i += 1) {
      await hold(s, busy.id, typeId(busy, 'General'));
      // The quiet event changes once mid-stream: its update may not add a frame inside the busy event's tick.
      if (i === changes / 2) await hold(s, quiet.id, typeId(quiet, 'VIP'));
      await new Promise((resolve) => setTimeout(resolve, 40)); // a change every ~50 ms: several per tick
    }
    await eventually(() => busyView.ticket(typeId(busy, 'General'))?.reservedCount === changes, 'the viewer to reach the busy event’s final count');
    await eventually(() => quietView.ticket(typeId(quiet, 'VIP'))?.reservedCount === 1, 'the viewer to see the quiet event’s change');
    expect(busyView.gaps + quietView.gaps).toBe(0);
    expect(arrivals.length).toBeGreaterThan(1);
    // Sent at least a tick apart (less the documented timer jitter); delivery over loopback may shift each by a little.
    const gaps = arrivals.slice(1).map((at, i) => at - arrivals[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(tickMs - 60);
    socket.close();
  });

  it('waits for the tick when the leading edge is switched off (TICKETPULSE_TICK_LEADING_EDGE=off)', async () => {
    const s = (server = await startTestServer(t.db, { realtime: { tickMs: NEVER_MS, reconcileMs: 3_600_000, leadingEdge: false } }));
    const event = await createEvent(s.service.catalog);
    const socket = await TestSocket.connect(s.url, await s.token('anon'));
    await watch(socket, event.id);
    let updates = 0;
    socket.ws.on('message', (data) => {
      if ((JSON.parse(data.toString()) as ServerMessage).type === 'updates') updates += 1;
    });
    await hold(s, event.id, typeId(event, 'General'));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(updates).toBe(0); // the change waits for a tick that is a minute away
    socket.close();
  });
});
