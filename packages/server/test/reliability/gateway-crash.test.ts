import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.ts';
import { openPostgres } from '../../src/db/postgres.ts';
import { TokenVerifier } from '../../src/auth/token-verifier.ts';
import { postgresUrl } from '../support/database.ts';
import { databaseCounts } from '../support/database-truth.ts';
import { createEvent, typeId } from '../support/fixtures.ts';
import { HoldTraffic, type Buyer } from '../support/hold-traffic.ts';
import { startNode, type RunningNode } from '../support/process.ts';
import { recordReliability } from '../support/reliability-report.ts';
import { schemaUrl } from '../support/schema-url.ts';
import { SdkViewers } from '../support/sdk-viewers.ts';
import { startTestServer, TEST_JWT_SECRET, type TestServer } from '../support/server.ts';
import { eventually } from '../support/viewer.ts';

/** Thousands in the default run; RELIABILITY_LONG=1 doubles them. */
const VIEWERS = process.env.RELIABILITY_LONG === '1' ? 4000 : 2000;
const BUYERS = 4;

/**
 * Viewers watch one gateway process (A) while buyers hold through another
 * node (B, in this process). A is killed with SIGKILL, so nothing is said to
 * anyone, and restarted on the same port: the SDK reconnects with jittered
 * backoff and resyncs.
 */
describe.skipIf(!postgresUrl)('reliability: a gateway process is killed -9 under load', () => {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: postgresUrl });
  const verifier = new TokenVerifier(TEST_JWT_SECRET);
  const env = {
    DATABASE_URL: schemaUrl(schema),
    TICKETPULSE_JWT_SECRET: TEST_JWT_SECRET,
    TICKETPULSE_BUS: 'postgres',
    // Every viewer comes from 127.0.0.1: the per-address limits are not what is tested here.
    TICKETPULSE_WS_MAX_CONNECTIONS_PER_IP: '100000',
    TICKETPULSE_WS_CONNECTS_PER_IP_PER_SECOND: '100000',
  };
  let db: Database;
  let b: TestServer;
  const nodes: RunningNode[] = [];

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    nodes.push(await startNode(env)); // migrates the schema
    db = await openPostgres({ connectionString: postgresUrl!, options: `-c search_path=${schema}` });
    b = await startTestServer(db, { bus: { kind: 'postgres' } });
  });
  afterAll(async () => {
    for (const node of nodes) await node.stop();
    await b?.close();
    await db?.close();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  });

  it(`${VIEWERS} SDK viewers reconnect to the restarted process, resync and end exact`, async () => {
    const a = nodes[0]!;
    const event = await createEvent(b.service.catalog, {
      ticketTypes: [{ name: 'General', price: '20.00', totalCapacity: 1_000_000, maxPerOrder: 4 }],
    });
    const general = typeId(event, 'General');
    const viewers = new SdkViewers({
      url: a.url,
      getToken: async () => (await verifier.sign({ userId: randomUUID(), role: 'anon' }, 600)).token,
      eventId: event.id,
      count: VIEWERS,
      reconnect: { baseMs: 500, capMs: 5000 },
    });
    await viewers.open();
    const buyers: Buyer[] = [];
    for (let i = 0; i < BUYERS; i += 1) {
      const holderId = randomUUID();
      buyers.push({ holderId, token: await b.token('authenticated', holderId) });
    }
    const traffic = new HoldTraffic(b.url, event.id, general, buyers);
    traffic.start();
    try {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const connectsBefore = viewers.connects();
      a.child.kill('SIGKILL');
      await new Promise((resolve) => a.child.once('exit', resolve));
      const killedAt = Date.now();
      await eventually(() => viewers.connected() === 0, 'every viewer to notice the crash', 30_000);
      // Down for a second while the holds go on through B.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const restarted = await startNode({ ...env, PORT: new URL(a.url).port });
      nodes[0] = restarted;
      const servingAt = Date.now();
      await eventually(() => viewers.connected() === VIEWERS, 'every viewer to reconnect', 120_000);
      const reconnectedMs = Date.now() - servingAt;
      await traffic.stop();
      const truth = await databaseCounts(db, event.id);
      await eventually(() => viewers.exact(truth) === VIEWERS, 'every viewer to show the exact counts', 60_000);
      const exactMs = Date.now() - servingAt;

      expect(viewers.connects()).toBeGreaterThanOrEqual(connectsBefore + VIEWERS);
      expect(traffic.count((o) => o.status !== 201)).toBe(0);
      expect([...truth.values()][0]!.reservedCount).toBe(traffic.outcomes.length);
      expect((await db.query('SELECT * FROM verify_ticket_counts()')).rows).toEqual([]);
      await recordReliability({
        fault: `gateway: kill -9 of the process ${VIEWERS} SDK viewers watch, restarted on the same port ~1 s later, holds going on through another node`,
        injected: 1,
        checked: ['every viewer notices, reconnects with jittered backoff and resyncs', 'viewers exact afterwards', 'every hold 201 and durable', 'verify_ticket_counts() empty'],
        figures: {
          viewers: VIEWERS,
          holdsDuringRun: traffic.outcomes.length,
          downMs: servingAt - killedAt,
          reconnectedAfterRestartMs: reconnectedMs,
          exactAfterRestartMs: exactMs,
          dataLost: 0,
        },
      });
    } finally {
      await traffic.stop();
      viewers.close();
    }
  }, 300_000);
});
