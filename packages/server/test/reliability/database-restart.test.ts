import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.ts';
import { migrate } from '../../src/db/migrate.ts';
import { openPostgres } from '../../src/db/postgres.ts';
import { postgresUrl } from '../support/database.ts';
import { databaseCounts, showsExactly } from '../support/database-truth.ts';
import { createEvent, typeId } from '../support/fixtures.ts';
import { HoldTraffic, type Buyer } from '../support/hold-traffic.ts';
import { TestSocket } from '../support/realtime-client.ts';
import { recordReliability } from '../support/reliability-report.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';
import { eventually, watch, type EventView } from '../support/viewer.ts';

const BUYERS = 16;
const VIEWERS_PER_NODE = 20;
/** The bound, measured from the moment the database is reachable again. */
const CONVERGE_WITHIN_MS = 5000;
/** Long enough for the listener's reconnect attempts to back off to their cap (8 s with RELIABILITY_LONG=1). */
const OUTAGE_MS = process.env.RELIABILITY_LONG === '1' ? 8000 : 3000;

/**
 * Two gateway nodes reach PostgreSQL through a TCP proxy the test controls,
 * under an application_name of their own: the test kills only their
 * backends, and stops the proxy to make the database unreachable, without
 * touching the PostgreSQL server other tests share.
 */
describe.skipIf(!postgresUrl)('reliability: the database goes away during live traffic', () => {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const applicationName = `tp_rel_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: postgresUrl });
  const proxy = TcpProxy.forUrl(postgresUrl ?? 'postgres://127.0.0.1:5432');
  const databases: Database[] = [];
  /** Direct to PostgreSQL, never through the proxy: the test's own view of the truth. */
  let direct: Database;
  let a: TestServer;
  let b: TestServer;

  const connect = async () => {
    const url = new URL(proxy.urlFor(postgresUrl!));
    url.searchParams.set('application_name', applicationName);
    const db = await openPostgres({ connectionString: url.toString(), options: `-c search_path=${schema}`, maxConnections: 10 });
    databases.push(db);
    return db;
  };
  const terminateBackends = async () =>
    (
      await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND application_name = $1 AND pid <> pg_backend_pid()`,
        [applicationName],
      )
    ).rowCount ?? 0;
  const listeners = async () =>
    Number(
      (
        await admin.query<{ n: string }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN %'`, [
          applicationName,
        ])
      ).rows[0]!.n,
    );

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    direct = await openPostgres({ connectionString: postgresUrl!, options: `-c search_path=${schema}`, maxConnections: 2 });
    await proxy.start();
    const first = await connect();
    await migrate(first);
    // No periodic reconcile: only the reconnect of pool and listener may heal the nodes.
    const realtime = { reconcileMs: 600_000 };
    a = await startTestServer(first, { bus: { kind: 'postgres' }, realtime });
    b = await startTestServer(await connect(), { bus: { kind: 'postgres' }, realtime });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    for (const db of databases) await db.close();
    await direct?.close();
    await proxy.stop();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  });

  /** An event, viewers on both nodes (B hears of A's holds only through PostgreSQL), buyers on A. */
  async function liveSale() {
    const event = await createEvent(a.service.catalog, {
      ticketTypes: [{ name: 'General', price: '20.00', totalCapacity: 100_000, maxPerOrder: 4 }],
    });
    const general = typeId(event, 'General');
    const sockets: TestSocket[] = [];
    const views: EventView[] = [];
    for (const node of [a, b]) {
      for (let i = 0; i < VIEWERS_PER_NODE; i += 1) {
        const socket = await TestSocket.connect(node.url, await node.token('anon'));
        sockets.push(socket);
        views.push(await watch(socket, event.id));
      }
    }
    const buyers: Buyer[] = [];
    for (let i = 0; i < BUYERS; i += 1) {
      const holderId = randomUUID();
      buyers.push({ holderId, token: await a.token('authenticated', holderId) });
    }
    return { event, general, sockets, views, traffic: new HoldTraffic(a.url, event.id, general, buyers) };
  }

  /** Milliseconds from `since` until every view equals the database. */
  async function convergence(eventId: string, views: EventView[], since: number): Promise<number> {
    const truth = await databaseCounts(direct, eventId);
    await eventually(() => views.every((view) => showsExactly((id) => view.ticket(id), truth)), 'every viewer to show the exact counts', 30_000);
    return Date.now() - since;
  }

  /** Every 201 is a durable hold, none doubled; reservations without a 201 only where the answer was lost; counters agree. */
  async function checkNothingLostOrDoubled(eventId: string, traffic: HoldTraffic) {
    const { rows } = await direct.query<{ id: string; idempotency_key: string; status: string; seats: number }>(
      `SELECT r.id, r.idempotency_key, r.status, (SELECT count(*) FROM tickets t WHERE t.reservation_id = r.id) AS seats
         FROM reservations r WHERE r.event_id = $1`,
      [eventId],
    );
    const durable = new Map(rows.map((r) => [r.id, r]));
    const created = traffic.outcomes.filter((o) => o.status === 201);
    const lost = created.filter((o) => durable.get(o.reservationId!)?.status !== 'active');
    const createdIds = new Set(created.map((o) => o.reservationId));
    const failedKeys = new Set(traffic.outcomes.filter((o) => o.status !== 201).map((o) => o.idempotencyKey));
    const withoutAnswer = rows.filter((r) => !createdIds.has(r.id));
    // What the database holds for each lost one (missing, or another status), to tell a lost commit from a wrong answer.
    expect(lost.map((o) => ({ ...o, stored: durable.get(o.reservationId!) ?? rows.find((r) => r.idempotency_key === o.idempotencyKey) ?? 'missing' }))).toEqual([]);
    expect(createdIds.size).toBe(created.length);
    // A reservation nobody was told about exists only for a request whose answer failed (committed, then the connection died).
    expect(withoutAnswer.filter((r) => !failedKeys.has(r.idempotency_key))).toEqual([]);
    expect(rows.filter((r) => r.seats !== 1)).toEqual([]);
    // Every failed request retried with its key: a hold that was committed is replayed, not made twice; the others are made now.
    const retries = await Promise.all(traffic.outcomes.filter((o) => o.status !== 201).map((o) => traffic.retry(o)));
    expect(retries.filter((o) => o.status !== 201)).toEqual([]);
    const replayed = retries.filter((o) => o.replayed);
    expect(replayed.map((o) => o.reservationId).sort()).toEqual(withoutAnswer.map((r) => r.id).sort());
    expect((await direct.query('SELECT * FROM verify_ticket_counts()')).rows).toEqual([]);
    const [counts] = [...(await databaseCounts(direct, eventId)).values()];
    expect(counts!.reservedCount).toBe(rows.length + retries.length - replayed.length);
    // In the report's words (test-output/reliability.jsonl).
    return {
      created201: created.length,
      holdsLost: lost.length,
      committedButAnswerLost: withoutAnswer.length,
      retriedWithSameKey: retries.length,
      replayedOnRetry: replayed.length,
    };
  }

  it('answers 503 with Retry-After while its backends are terminated, then every viewer converges within 5 s', async () => {
    const { event, sockets, views, traffic } = await liveSale();
    const rounds = 3;
    let terminated = 0;
    let lastReturn = 0;
    traffic.start();
    for (let round = 0; round < rounds; round += 1) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      terminated += await terminateBackends();
      // PostgreSQL itself never went down: it is reachable again the moment its backends are gone.
      lastReturn = Date.now();
    }
    await traffic.stop();
    const convergedMs = await convergence(event.id, views, lastReturn);
    await eventually(async () => (await listeners()) === 2, 'both nodes to LISTEN again', 30_000);

    const unavailable = traffic.outcomes.filter((o) => o.status === 503);
    const other = traffic.outcomes.filter((o) => o.status !== 201 && o.status !== 503);
    expect(other).toEqual([]);
    expect(unavailable.every((o) => o.code === 'database_unavailable' && o.retryAfter === '1')).toBe(true);
    const accounting = await checkNothingLostOrDoubled(event.id, traffic);
    expect(convergedMs).toBeLessThan(CONVERGE_WITHIN_MS);
    for (const socket of sockets) socket.close();

    await recordReliability({
      fault: 'database: pg_terminate_backend of every backend of the nodes under live traffic',
      injected: rounds,
      checked: ['503 database_unavailable + Retry-After, no hang', 'listener back on both nodes', 'viewers exact within 5 s', 'no hold lost or doubled', 'failed requests retried with the same Idempotency-Key: committed ones replayed, never doubled', 'verify_ticket_counts() empty'],
      figures: {
        backendsTerminated: terminated,
        requests: traffic.outcomes.length,
        answered503: unavailable.length,
        otherFailures: other.length,
        viewers: views.length,
        convergedMs,
        ...accounting,
      },
    });
  }, 90_000);

  it('answers 503 with Retry-After while the database is unreachable, then every viewer converges within 5 s', async () => {
    const { event, sockets, views, traffic } = await liveSale();
    const outageMs = OUTAGE_MS;
    traffic.start();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const down = Date.now();
    await proxy.stop();
    await new Promise((resolve) => setTimeout(resolve, outageMs));
    // Taken before listening again: whatever was answered before it was decided without the database.
    const back = Date.now();
    await proxy.start();
    await traffic.stop();
    const convergedMs = await convergence(event.id, views, back);
    await eventually(async () => (await listeners()) === 2, 'both nodes to LISTEN again', 30_000);

    // Requests that began and were answered while the database was away. One begun late in the outage may be
    // decided after it (a busy event loop delays it), and then rightly succeeds.
    const duringOutage = traffic.outcomes.filter((o) => o.startedAt > down + 100 && o.finishedAt < back);
    expect(duringOutage.length).toBeGreaterThan(0);
    expect(duringOutage.filter((o) => o.status !== 503 || o.code !== 'database_unavailable' || o.retryAfter !== '1')).toEqual([]);
    const other = traffic.outcomes.filter((o) => o.status !== 201 && o.status !== 503);
    expect(other).toEqual([]);
    const accounting = await checkNothingLostOrDoubled(event.id, traffic);
    expect(convergedMs).toBeLessThan(CONVERGE_WITHIN_MS);
    for (const socket of sockets) socket.close();

    await recordReliability({
      fault: `database: unreachable for ${OUTAGE_MS / 1000} s (TCP proxy in front of PostgreSQL stopped) under live traffic`,
      injected: 1,
      checked: ['every request during the outage: 503 database_unavailable + Retry-After, no hang', 'listener back on both nodes', 'viewers exact within 5 s', 'no hold lost or doubled', 'failed requests retried with the same Idempotency-Key: committed ones replayed, never doubled', 'verify_ticket_counts() empty'],
      figures: {
        outageMs,
        requests: traffic.outcomes.length,
        requestsDuringOutage: duringOutage.length,
        answered503: traffic.count((o) => o.status === 503),
        otherFailures: other.length,
        viewers: views.length,
        convergedMs,
        ...accounting,
      },
    });
  }, 90_000);
});
