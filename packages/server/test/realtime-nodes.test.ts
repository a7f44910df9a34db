import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenVerifier } from '../src/auth/token-verifier.ts';
import { createTestDatabase, postgresUrl, type TestDatabase } from './support/database.ts';
import { createEvent, typeId } from './support/fixtures.ts';
import { startNode, type RunningNode } from './support/process.ts';
import { TestSocket } from './support/realtime-client.ts';
import { natsUrl, startTestServer, TEST_JWT_SECRET } from './support/server.ts';
import { eventually, watch, type EventView } from './support/viewer.ts';

/** A URL for the same database with its own search_path, for child processes. */
function schemaUrl(schema: string): string {
  const separator = postgresUrl!.includes('?') ? '&' : '?';
  return `${postgresUrl}${separator}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
}

describe.skipIf(!postgresUrl)('several gateway nodes on real PostgreSQL', () => {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: postgresUrl });
  const verifier = new TokenVerifier(TEST_JWT_SECRET);

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
  });
  afterAll(async () => {
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  });

  /** Two processes, A and B; a hold made through A reaches a viewer on B. */
  async function holdOnAReachesB(bus: string): Promise<void> {
    const env = {
      DATABASE_URL: schemaUrl(schema),
      TICKETPULSE_JWT_SECRET: TEST_JWT_SECRET,
      TICKETPULSE_BUS: bus,
      TICKETPULSE_RECONCILE_MS: '600000', // only the bus may carry the change
    };
    const nodes: RunningNode[] = [];
    try {
      nodes.push(await startNode(env), await startNode(env));
      const [a, b] = nodes as [RunningNode, RunningNode];
      const organizer = (await verifier.sign({ userId: 'org', role: 'organizer' }, 600)).token;
      const created = await fetch(`${a.url}/api/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${organizer}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          slug: `two-nodes-${randomBytes(3).toString('hex')}`,
          name: 'Two nodes',
          startsAt: '2027-06-01T20:00:00Z',
          ticketTypes: [{ name: 'GA', totalCapacity: 100, maxPerOrder: 4 }],
        }),
      });
      const { event } = (await created.json()) as { event: { id: string; ticketTypes: Array<{ id: string }> } };
      const ga = event.ticketTypes[0]!.id;

      const viewer = await TestSocket.connect(b.url, (await verifier.sign({ userId: randomUUID(), role: 'anon' }, 600)).token);
      const view = await watch(viewer, event.id);
      const buyer = (await verifier.sign({ userId: randomUUID(), role: 'authenticated' }, 600)).token;
      const held = await fetch(`${a.url}/api/events/${event.id}/reservations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${buyer}`, 'content-type': 'application/json' },
        body: JSON.stringify({ items: [{ ticketTypeId: ga, quantity: 3 }] }),
      });
      expect(held.status).toBe(201);
      await eventually(() => view.ticket(ga)?.reservedCount === 3, `the viewer on B to see A's hold (bus ${bus})`, 3000);
      viewer.close();
    } finally {
      for (const node of nodes) await node.stop();
    }
  }

  it('carries changes between two processes through PostgreSQL LISTEN/NOTIFY', () => holdOnAReachesB('postgres'));

  it.skipIf(!natsUrl)('carries changes between two processes through NATS', () => holdOnAReachesB(natsUrl!));

  // The tick's leading edge across nodes. Ticks are 5 s apart; two quiet events change 2.5 s apart and each must reach
  // B within 1.5 s: B's tick can fall in one of those windows, never in both, so only A's signal sent at once passes.
  it('carries a quiet event’s change to the other node at once, not at the next tick', async () => {
    const env = { DATABASE_URL: schemaUrl(schema), TICKETPULSE_JWT_SECRET: TEST_JWT_SECRET, TICKETPULSE_BUS: 'postgres', TICKETPULSE_RECONCILE_MS: '600000', TICKETPULSE_TICK_MS: '5000' };
    const nodes: RunningNode[] = [];
    try {
      nodes.push(await startNode(env), await startNode(env));
      const [a, b] = nodes as [RunningNode, RunningNode];
      const organizer = (await verifier.sign({ userId: 'org', role: 'organizer' }, 600)).token;
      // A viewer per event: one connection gets at most one frame a tick, whatever it watches.
      const viewers: TestSocket[] = [];
      const events: Array<{ id: string; ticketTypes: Array<{ id: string }> }> = [];
      const views: EventView[] = [];
      for (const round of [1, 2]) {
        const created = await fetch(`${a.url}/api/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${organizer}`, 'content-type': 'application/json' },
          body: JSON.stringify({ slug: `quiet-${round}-${randomBytes(3).toString('hex')}`, name: 'Quiet', startsAt: '2027-06-01T20:00:00Z', ticketTypes: [{ name: 'GA', totalCapacity: 10, maxPerOrder: 2 }] }),
        });
        const { event } = (await created.json()) as { event: { id: string; ticketTypes: Array<{ id: string }> } };
        events.push(event);
        viewers.push(await TestSocket.connect(b.url, (await verifier.sign({ userId: randomUUID(), role: 'anon' }, 600)).token));
        views.push(await watch(viewers.at(-1)!, event.id));
      }
      // More than a tick with no change: both events are quiet on both nodes.
      await new Promise((resolve) => setTimeout(resolve, 5200));
      for (const [i, event] of events.entries()) {
        if (i === 1) await new Promise((resolve) => setTimeout(resolve, 1000)); // the second hold 2.5 s after the first
        const buyer = (await verifier.sign({ userId: randomUUID(), role: 'authenticated' }, 600)).token;
        const held = await fetch(`${a.url}/api/events/${event.id}/reservations`, {
          method: 'POST',
          headers: { authorization: `Bearer ${buyer}`, 'content-type': 'application/json' },
          body: JSON.stringify({ items: [{ ticketTypeId: event.ticketTypes[0]!.id, quantity: 1 }] }),
        });
        expect(held.status).toBe(201);
        await eventually(() => views[i]!.ticket(event.ticketTypes[0]!.id)?.reservedCount === 1, `hold ${i + 1} on A to reach B before B's tick`, 1500);
      }
      for (const viewer of viewers) viewer.close();
    } finally {
      for (const node of nodes) await node.stop();
    }
  });

  it('resyncs every watched event after its LISTEN connection is killed', async () => {
    const t: TestDatabase = await createTestDatabase('postgres');
    const listeners = async () =>
      (await admin.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE query = 'LISTEN "ticketpulse_availability"'`)).rows.map((r) => r.pid);
    const realtime = { reconcileMs: 600_000 }; // no polling: only the reconnect may heal it
    const a = await startTestServer(t.db, { bus: { kind: 'postgres' }, realtime });
    const before = new Set(await listeners());
    const bDatabase = await t.connectAgain();
    const b = await startTestServer(bDatabase, { bus: { kind: 'postgres' }, realtime });
    try {
      const bListener = (await listeners()).filter((pid) => !before.has(pid));
      expect(bListener).toHaveLength(1);
      const event = await createEvent(a.service.catalog);
      const general = typeId(event, 'General');
      const viewer = await TestSocket.connect(b.url, await b.token());
      const view = await watch(viewer, event.id);

      await admin.query('SELECT pg_terminate_backend($1)', bListener);
      // Made while B hears nothing: its signal is lost for good.
      await a.service.holds.reserve({ eventId: event.id, holderId: 'h', items: [{ ticketTypeId: general, quantity: 2 }] });
      await eventually(() => view.ticket(general)?.reservedCount === 2, 'the viewer on B to converge after the listener came back', 10_000);
      viewer.close();
    } finally {
      await b.close();
      await a.close();
      await bDatabase.close();
      await t.dispose();
    }
  });
});
