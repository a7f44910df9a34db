import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, postgresUrl, type TestDatabase } from '../support/database.ts';
import { databaseCounts, showsExactly } from '../support/database-truth.ts';
import { RandomWorkload } from '../support/random-workload.ts';
import { TestSocket } from '../support/realtime-client.ts';
import { recordReliability } from '../support/reliability-report.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { eventually, watch, type EventView } from '../support/viewer.ts';

const LONG = process.env.RELIABILITY_LONG === '1';
const DURATION_MS = LONG ? 60_000 : 10_000;
const BUYERS = 24;
const VIEWERS = 20;
const CAPACITY = 40;
/** Short holds, so many expire during the run. */
const holds = { holdSeconds: 2, extensionSeconds: 1, maxExtensions: 2 };

interface DurableReservation {
  id: string;
  status: string;
  seats: number;
  sold: number;
  reserved: number;
  extensions_used: number;
}

describe.skipIf(!postgresUrl)('reliability: consistency under a randomized concurrent workload', () => {
  let t: TestDatabase;
  let server: TestServer;

  beforeAll(async () => {
    t = await createTestDatabase('postgres');
    server = await startTestServer(t.db, { holds, sweepIntervalMs: 250 });
  });
  afterAll(async () => {
    await server?.close();
    await t?.dispose();
  });

  it(`holds, confirms, releases, extends, expiries and capacity edits for ${DURATION_MS / 1000} s end exact`, async () => {
    const organizerToken = await server.token('organizer');
    const created = await server.request('POST', '/api/events', {
      token: organizerToken,
      body: {
        slug: `load-${randomBytes(3).toString('hex')}`,
        name: 'Load',
        startsAt: '2027-06-01T20:00:00Z',
        ticketTypes: ['A', 'B', 'C'].map((name) => ({ name, totalCapacity: CAPACITY, maxPerOrder: 4 })),
      },
    });
    expect(created.status).toBe(201);
    const event = created.body.event as { id: string; ticketTypes: Array<{ id: string }> };
    const sockets: TestSocket[] = [];
    const views: EventView[] = [];
    for (let i = 0; i < VIEWERS; i += 1) {
      const socket = await TestSocket.connect(server.url, await server.token('anon'));
      sockets.push(socket);
      views.push(await watch(socket, event.id));
    }
    const buyerTokens = await Promise.all(Array.from({ length: BUYERS }, () => server.token('authenticated')));
    const workload = new RandomWorkload({ baseUrl: server.url, eventId: event.id, ticketTypeIds: event.ticketTypes.map((tt) => tt.id), buyerTokens, organizerToken, initialCapacity: CAPACITY });

    workload.start();
    await new Promise((resolve) => setTimeout(resolve, DURATION_MS));
    await workload.stop();
    // Every abandoned or extended hold runs out by the database's clock and the sweeper takes it.
    await eventually(
      async () => (await t.db.query(`SELECT 1 FROM reservations WHERE event_id = $1 AND status = 'active'`, [event.id])).rows.length === 0,
      'every remaining hold to expire',
      30_000,
    );

    // Zero oversell, by the counters and by the seats themselves.
    const oversold = await t.db.query(
      `SELECT et.id FROM event_tickets et
        WHERE et.event_id = $1
          AND (et.sold_count + et.reserved_count > et.total_capacity
               OR (SELECT count(*) FROM tickets t WHERE t.event_ticket_id = et.id AND t.status IN ('sold', 'reserved')) > et.total_capacity)`,
      [event.id],
    );
    expect(oversold.rows).toEqual([]);
    expect(await t.countMismatches()).toEqual([]);

    // Every 2xx is durable: what the API last acknowledged is what the database holds.
    const { rows } = await t.db.query<DurableReservation>(
      `SELECT r.id, r.status, r.extensions_used,
              count(t.id)::int AS seats,
              count(t.id) FILTER (WHERE t.status = 'sold')::int AS sold,
              count(t.id) FILTER (WHERE t.status = 'reserved')::int AS reserved
         FROM reservations r LEFT JOIN tickets t ON t.reservation_id = r.id
        WHERE r.event_id = $1 GROUP BY r.id`,
      [event.id],
    );
    const durable = new Map(rows.map((r) => [r.id, r]));
    const broken: unknown[] = [];
    for (const { reservation, action } of workload.acknowledged.values()) {
      const row = durable.get(reservation.id);
      const quantity = reservation.items.reduce((sum, item) => sum + item.quantity, 0);
      const expected =
        action === 'confirm'
          ? row?.status === 'confirmed' && row.sold === quantity
          : action === 'release'
            ? row?.status === 'released' && row.sold + row.reserved === 0
            : // Held or extended, then neither confirmed nor released: it ran out.
              row?.status === 'expired' && row.sold + row.reserved === 0 && row.extensions_used >= reservation.extensionsUsed;
      if (!expected || row?.seats !== quantity) broken.push({ action, reservation, row });
    }
    expect(broken).toEqual([]);
    // No reservation the API did not answer for.
    expect(rows.filter((r) => !workload.acknowledged.has(r.id))).toEqual([]);
    // The organizer's last accepted capacity per type is the capacity.
    const truth = await databaseCounts(t.db, event.id);
    const capacities = await t.db.query<{ id: string; total_capacity: number }>('SELECT id, total_capacity FROM event_tickets WHERE event_id = $1', [event.id]);
    for (const { id, total_capacity } of capacities.rows) {
      if (workload.capacities.has(id)) expect(total_capacity).toBe(workload.capacities.get(id));
    }

    // Every viewer's last snapshot equals the database.
    await eventually(() => views.every((view) => showsExactly((id) => view.ticket(id), truth)), 'every viewer to show the final counts', 15_000);
    const gaps = views.reduce((sum, view) => sum + view.gaps, 0);
    for (const socket of sockets) socket.close();

    const answers = Object.fromEntries(workload.answers);
    expect(Object.keys(answers).filter((key) => / (5\d\d|network)/.test(key))).toEqual([]);
    const count = (status: string) => rows.filter((r) => r.status === status).length;
    await recordReliability({
      fault: `consistency: randomized concurrent workload for ${DURATION_MS / 1000} s (holds, confirms, releases, extensions, expiries, capacity edits) over HTTP, viewers over WebSockets`,
      injected: 1,
      checked: ['zero oversell', 'verify_ticket_counts() empty', "every viewer's last snapshot equals the database", 'every 2xx corresponds to durable state', 'no 5xx'],
      figures: {
        durationMs: DURATION_MS,
        buyers: BUYERS,
        viewers: VIEWERS,
        requests: workload.requests,
        reservations: rows.length,
        confirmed: count('confirmed'),
        released: count('released'),
        expired: count('expired'),
        capacityEdits: Object.entries(answers).filter(([key]) => key.startsWith('capacity')).reduce((sum, [, n]) => sum + n, 0),
        answers: JSON.stringify(answers),
        viewerGapsResynced: gaps,
        oversold: 0,
        dataLost: 0,
      },
    });
  }, DURATION_MS + 120_000);
});
