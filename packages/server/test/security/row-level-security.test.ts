import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.ts';
import { openPostgres } from '../../src/db/postgres.ts';
import { asRequester } from '../../src/db/requester.ts';
import type { Role } from '../../src/auth/principal.ts';
import { createTestDatabase, postgresUrl, type TestDatabase } from '../support/database.ts';
import { createEvent, typeId } from '../support/fixtures.ts';
import { PhoenixSocket } from '../support/phoenix-socket.ts';
import { TestSocket } from '../support/realtime-client.ts';
import { recordReliability } from '../support/reliability-report.ts';
import { startNode } from '../support/process.ts';
import { startTestServer, TEST_JWT_SECRET, type TestServer } from '../support/server.ts';
import { eventually, watch } from '../support/viewer.ts';

async function asAdmin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Row-level security needs a role that does not own the tables: real PostgreSQL only. */
describe.skipIf(!postgresUrl)('row-level security through a non-owner role (postgres)', () => {
  let t: TestDatabase;
  let app: Database;
  let server: TestServer;
  let schema: string;
  const role = `tp_app_${randomBytes(5).toString('hex')}`;

  beforeAll(async () => {
    t = await createTestDatabase('postgres');
    const { rows } = await t.db.query<{ schema: string }>('SELECT current_schema() AS schema');
    schema = rows[0]!.schema;
    // The setup docs/inventory.md describes, for this test's schema.
    await asAdmin(`CREATE ROLE ${role} NOLOGIN;
      GRANT USAGE ON SCHEMA ${schema} TO ${role};
      GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schema} TO ${role};
      GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${schema} TO ${role};
      GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA ${schema} TO ${role};`);
    app = await openPostgres({ connectionString: postgresUrl!, options: `-c search_path=${schema}`, role });
    server = await startTestServer(app, { sweepIntervalMs: 100 });
  });
  afterAll(async () => {
    await server?.close();
    await app?.close();
    await t?.dispose();
    await asAdmin(`DROP ROLE IF EXISTS ${role}`);
  });

  it("as one user, the database returns nothing of another's reservations or tickets", async () => {
    const event = await createEvent(server.service.catalog);
    const [alice, bob] = [randomUUID(), randomUUID()];
    const hold = (holderId: string, quantity: number) =>
      server.service.holds.reserve({ eventId: event.id, holderId, items: [{ ticketTypeId: typeId(event, 'General'), quantity }] });
    const { reservation: aliceHold } = await hold(alice, 2);
    const { reservation: bobHold } = await hold(bob, 3);
    const read = (sub: string | undefined, requesterRole: Role) =>
      asRequester(app, { userId: sub, role: requesterRole }, async (tx) => ({
        reservations: (await tx.query<{ id: string; holder_id: string }>('SELECT id, holder_id FROM reservations')).rows,
        tickets: (await tx.query<{ holder_id: string }>('SELECT holder_id FROM tickets')).rows,
        byId: (await tx.query('SELECT * FROM reservations WHERE id = $1', [bobHold.id])).rowCount,
        ticketsById: (await tx.query('SELECT * FROM tickets WHERE reservation_id = $1', [bobHold.id])).rowCount,
      }));

    const asAlice = await read(alice, 'authenticated');
    expect(asAlice.reservations).toEqual([{ id: aliceHold.id, holder_id: alice }]);
    expect(asAlice.tickets).toEqual([{ holder_id: alice }, { holder_id: alice }]);
    expect([asAlice.byId, asAlice.ticketsById]).toEqual([0, 0]);
    // The same for a guest token and for no requester at all.
    expect((await read(alice, 'anon')).tickets).toHaveLength(2);
    const nobody = await read(undefined, 'anon');
    expect([nobody.reservations.length, nobody.tickets.length]).toEqual([0, 0]);
    const raw = await app.query('SELECT * FROM tickets');
    expect(raw.rowCount).toBe(0);
    // Writes too: Alice cannot touch Bob's rows nor create rows in his name.
    const touched = await asRequester(app, { userId: alice, role: 'authenticated' }, (tx) =>
      tx.query(`UPDATE tickets SET status = 'cancelled' WHERE reservation_id = $1`, [bobHold.id]),
    );
    expect(touched.rowCount).toBe(0);
    await expect(
      asRequester(app, { userId: alice, role: 'authenticated' }, (tx) =>
        tx.query(`INSERT INTO reservations (event_id, holder_id, status, expires_at) VALUES ($1, $2, 'active', now() + interval '1 minute')`, [event.id, bob]),
      ),
    ).rejects.toMatchObject({ code: '42501' });
    // Organizers and the service role see everyone's; the owner (migrations, PGlite, the other tests) bypasses as before.
    expect((await read(undefined, 'organizer')).byId).toBe(1);
    expect((await read(undefined, 'service')).byId).toBe(1);
    expect((await t.db.query('SELECT * FROM reservations WHERE id = $1', [bobHold.id])).rowCount).toBe(1);
    expect(await t.countMismatches()).toEqual([]);
    await recordReliability({
      fault: "security/row-level-security: direct SQL through the non-owner role as one user, reading and writing another's rows",
      injected: 9,
      checked: ["a user's reads return only their rows (by table scan and by the other's id)", 'no requester: no rows', 'cross-user UPDATE touches 0 rows, INSERT in another name refused (42501)', 'organizer/service and owner see all'],
      figures: { crossUserRowsReturned: 0, crossUserRowsWritten: 0 },
    });
  });

  it("runs the service's own flows through that role: hold, get, extend, confirm, release, sweep, insights, realtime", async () => {
    const event = await createEvent(server.service.catalog, { holdSeconds: 1 });
    const lasting = await createEvent(server.service.catalog);
    const general = typeId(lasting, 'General');
    const buyer = await server.token('authenticated');
    const organizer = await server.token('organizer');
    const viewer = await TestSocket.connect(server.url, await server.token('anon'));
    const view = await watch(viewer, lasting.id);
    const supabase = await PhoenixSocket.open(server.url, await server.token('anon'));
    expect((await supabase.join('tickets', [{ table: 'tickets', filter: `event_id=eq.${lasting.id}` }])).status).toBe('ok');

    const body = { items: [{ ticketTypeId: general, quantity: 2 }] };
    const held = await server.request('POST', `/api/events/${lasting.id}/reservations`, { token: buyer, body });
    expect(held.status).toBe(201);
    const id: string = held.body.reservation.id;
    expect((await server.request('GET', `/api/reservations/${id}`, { token: buyer })).body.reservation.status).toBe('active');
    expect((await server.request('GET', `/api/reservations/${id}`, { token: await server.token() })).status).toBe(404);
    const insights = await server.request('GET', `/api/events/${lasting.id}/holds?expiringWithinSeconds=3600`, { token: organizer });
    expect(insights.body.holds.map((h: { id: string }) => h.id)).toEqual([id]);
    expect((await server.request('POST', `/api/reservations/${id}/extend`, { token: buyer })).status).toBe(200);
    await eventually(() => view.ticket(general)?.availableCount === 8, 'the viewer sees the hold');
    await supabase.next((f) => f[3] === 'postgres_changes');
    expect((await server.request('POST', `/api/reservations/${id}/confirm`, { token: buyer })).body.reservation.status).toBe('confirmed');
    const sales = await server.request('GET', `/api/events/${lasting.id}/sales?minutes=5`, { token: organizer });
    expect(sales.body.buckets.reduce((n: number, b: { sold: number }) => n + b.sold, 0)).toBe(2);

    const second = await server.request('POST', `/api/events/${lasting.id}/reservations`, { token: buyer, body });
    expect((await server.request('DELETE', `/api/reservations/${second.body.reservation.id}`, { token: buyer })).body.reservation.status).toBe('released');
    // A one-second hold, released by the sweeper running through the same role.
    const brief = await server.request('POST', `/api/events/${event.id}/reservations`, { token: buyer, body: { items: [{ ticketTypeId: typeId(event, 'General'), quantity: 1 }] } });
    await eventually(
      async () => (await server.request('GET', `/api/reservations/${brief.body.reservation.id}`, { token: buyer })).body.reservation.status === 'expired',
      'the sweeper expired the hold',
      5000,
    );
    const fresh = await TestSocket.connect(server.url, await server.token('anon'));
    expect((await watch(fresh, lasting.id)).ticket(general)?.availableCount).toBe(8);
    expect(await t.countMismatches()).toEqual([]);
    viewer.close();
    fresh.close();
    supabase.close();
    await recordReliability({
      fault: 'security/row-level-security: the service configured with a non-owner database role (TICKETPULSE_DB_APP_ROLE)',
      injected: 1,
      checked: ['hold, get, extend, confirm, release over HTTP', 'sweeper expiry', 'organizer holds and sales insights', 'realtime snapshot and updates, Supabase row changes', 'verify_ticket_counts() empty'],
      figures: { flowsChecked: 9, failures: 0 },
    });
  });

  it('the command line switches every connection to TICKETPULSE_DB_APP_ROLE, and will not start when it cannot', async () => {
    const url = new URL(postgresUrl!);
    url.searchParams.set('options', `-c search_path=${schema}`);
    const env = { DATABASE_URL: url.href, TICKETPULSE_JWT_SECRET: TEST_JWT_SECRET, TICKETPULSE_STOREFRONT_DIR: '/nonexistent' };
    const node = await startNode({ ...env, TICKETPULSE_DB_APP_ROLE: role });
    try {
      expect(node.output()).toContain(`as ${role}`);
      // The switch is awaited before a connection is used: nothing queues behind it, so pg has nothing to warn about.
      expect(node.output()).not.toContain('DeprecationWarning');
      const event = await createEvent(server.service.catalog);
      const token = await server.token('authenticated');
      const held = await fetch(`${node.url}/api/events/${event.id}/reservations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ items: [{ ticketTypeId: typeId(event, 'General'), quantity: 1 }] }),
      });
      expect(held.status).toBe(201);
      const { reservation } = (await held.json()) as { reservation: { id: string } };
      const mine = await fetch(`${node.url}/api/reservations/${reservation.id}`, { headers: { authorization: `Bearer ${token}` } });
      expect(mine.status).toBe(200);
    } finally {
      await node.stop();
    }
    const missing = `tp_missing_${randomBytes(4).toString('hex')}`;
    await expect(startNode({ ...env, TICKETPULSE_DB_APP_ROLE: missing })).rejects.toThrow(new RegExp(`${missing}\\W{1,4} does not exist`));
    await recordReliability({
      fault: 'security/row-level-security: ticketpulse start with TICKETPULSE_DB_APP_ROLE (a granted role, then a missing one)',
      injected: 2,
      checked: ['serves as the role: hold and read back over HTTP', 'a role it cannot switch to stops startup (fails closed, never runs as the owner)'],
      figures: { startsAsRole: 1, refusedStarts: 1 },
    });
  });
});
