import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { BusSetting } from '../src/config.ts';
import { postgresUrl } from './support/database.ts';
import { createEvent, typeId } from './support/fixtures.ts';
import { PersonalView } from './support/personal-view.ts';
import { TestSocket } from './support/realtime-client.ts';
import { natsUrl, withTwoNodes } from './support/server.ts';
import { eventually } from './support/viewer.ts';

/**
 * Two nodes over one database: a buyer's feed on B hears of what is done
 * through A: their own holds (the bus carries a key of their id) and an
 * offer the database made in someone else's statement (the event they wait on changed).
 */
function acrossNodes(bus: BusSetting): Promise<void> {
  // No reconcile poll: only the bus may carry it.
  return withTwoNodes({ bus, realtime: { reconcileMs: 600_000 } }, async (a, b) => {
    const event = await createEvent(a.service.catalog);
    const userId = randomUUID();
    const token = await a.token('authenticated', userId);
    const socket = await TestSocket.connect(b.url, token);
    const view = new PersonalView(socket);
    await view.subscribe();

    const held = await a.request('POST', `/api/events/${event.id}/reservations`, { token, body: { items: [{ ticketTypeId: typeId(event, 'General'), quantity: 2 }] } });
    expect(held.status).toBe(201);
    await eventually(() => view.holds.has(held.body.reservation.id), 'the hold made through A in the feed on B', 3000);
    const extended = await a.request('POST', `/api/reservations/${held.body.reservation.id}/extend`, { token });
    await eventually(() => view.holds.get(held.body.reservation.id)?.expiresAt === extended.body.reservation.expiresAt, 'the extension (no count changed)', 3000);

    // Someone else holds the last VIP seats through A; I join the list through A; they release through A.
    const other = await a.token();
    const theirs = await a.request('POST', `/api/events/${event.id}/reservations`, { token: other, body: { items: [{ ticketTypeId: typeId(event, 'VIP'), quantity: 2 }] } });
    const joined = await a.request('POST', `/api/event-tickets/${typeId(event, 'VIP')}/waitlist`, { token, body: { quantity: 1 } });
    expect(joined.status).toBe(201);
    await eventually(() => view.entries.has(joined.body.entry.id), 'the entry made through A', 3000);
    expect((await a.request('DELETE', `/api/reservations/${theirs.body.reservation.id}`, { token: other })).status).toBe(200);
    await eventually(() => view.of('waitlist_offered').length === 1, 'the offer made in their release, on B', 3000);
    expect(view.gaps).toBe(0);
    socket.close();
  });
}

describe.skipIf(!postgresUrl)('the personal feed across nodes', () => {
  it('carries a change made on node A to the user connected to node B (PostgreSQL LISTEN/NOTIFY)', () => acrossNodes({ kind: 'postgres' }));
  it.skipIf(!natsUrl)('carries a change made on node A to the user connected to node B (NATS)', () => acrossNodes({ kind: 'nats', url: natsUrl! }));
});
