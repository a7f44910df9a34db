import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenVerifier } from '../../src/auth/token-verifier.ts';
import { postgresUrl } from '../support/database.ts';
import { createEventOverHttp } from '../support/http-event.ts';
import { startNode, type RunningNode } from '../support/process.ts';
import { recordReliability } from '../support/reliability-report.ts';
import { schemaUrl } from '../support/schema-url.ts';
import { TEST_JWT_SECRET } from '../support/server.ts';
import { eventually } from '../support/viewer.ts';

type Crash = 'backend terminated' | 'node killed -9';

interface Outcome {
  action: 'hold' | 'confirm';
  crash: Crash;
  status: number | 'network';
  /** What the database holds afterwards: all of the change, or none of it. */
  applied: 'all' | 'none';
}

/**
 * A statement-level trigger on tickets (this test's schema only) holds every
 * hold or confirm inside its transaction, after the reservation, its seats
 * and the counters were written, for as long as the test keeps it armed.
 * The test then kills the backend or the node process right there.
 */
describe.skipIf(!postgresUrl)('reliability: a crash in the middle of a hold or confirm transaction', () => {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const applicationName = `tp_rel_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: postgresUrl });
  const verifier = new TokenVerifier(TEST_JWT_SECRET);
  const env = {
    DATABASE_URL: schemaUrl(schema, applicationName),
    TICKETPULSE_JWT_SECRET: TEST_JWT_SECRET,
    TICKETPULSE_BUS: 'postgres',
  };
  let node: RunningNode;
  let eventId = '';
  let ticketTypeId = '';
  const outcomes: Outcome[] = [];

  const token = async (role: 'authenticated' | 'organizer', userId = randomUUID()) => (await verifier.sign({ userId, role }, 600)).token;
  interface Answer {
    status: number | 'network';
    retryAfter: string | null;
    body: { reservation?: { id: string } };
  }
  const call = async (method: string, path: string, bearer: string, body?: unknown): Promise<Answer> => {
    try {
      const response = await fetch(node.url + path, {
        method,
        headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(30_000),
      });
      return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as { reservation?: { id: string } } };
    } catch {
      return { status: 'network', retryAfter: null, body: {} };
    }
  };
  const arm = (armed: boolean) => admin.query(`UPDATE ${schema}.test_pause SET armed = $1`, [armed]);
  const pausedBackend = async () =>
    (
      await admin.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1 AND wait_event = 'PgSleep'`,
        [applicationName],
      )
    ).rows[0]?.pid;
  const reservation = async (id: string) =>
    (
      await admin.query<{ status: string; seats: number; sold: number }>(
        `SELECT r.status, count(t.id)::int AS seats, count(t.id) FILTER (WHERE t.status = 'sold')::int AS sold
           FROM ${schema}.reservations r LEFT JOIN ${schema}.tickets t ON t.reservation_id = r.id WHERE r.id = $1 GROUP BY r.id`,
        [id],
      )
    ).rows[0];
  const reservationsOf = async (holderId: string) =>
    (await admin.query<{ id: string }>(`SELECT id FROM ${schema}.reservations WHERE holder_id = $1`, [holderId])).rows.map((r) => r.id);
  const checkCounters = async () => {
    expect((await admin.query(`SELECT * FROM ${schema}.verify_ticket_counts()`)).rows).toEqual([]);
  };

  /** Starts `request`, waits until its transaction is paused in the trigger, crashes, then lets PostgreSQL finish. */
  async function crashDuring<T>(request: () => Promise<T>, crash: Crash): Promise<T> {
    await arm(true);
    const pending = request();
    await eventually(async () => (await pausedBackend()) !== undefined, 'the transaction to pause inside the trigger', 20_000);
    if (crash === 'backend terminated') {
      await admin.query('SELECT pg_terminate_backend($1)', [await pausedBackend()]);
    } else {
      node.child.kill('SIGKILL');
      await new Promise((resolve) => node.child.once('exit', resolve));
    }
    await arm(false);
    const answer = await pending;
    await eventually(async () => (await pausedBackend()) === undefined, 'the paused backend to finish', 20_000);
    if (crash === 'node killed -9') node = await startNode(env);
    return answer;
  }

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.query(`SET search_path = ${schema}`);
    node = await startNode(env); // migrates the schema
    await admin.query(`
      CREATE TABLE ${schema}.test_pause (armed boolean NOT NULL);
      INSERT INTO ${schema}.test_pause VALUES (false);
      CREATE FUNCTION ${schema}.test_pause_tickets() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        WHILE (SELECT armed FROM ${schema}.test_pause) LOOP PERFORM pg_sleep(0.05); END LOOP;
        RETURN NULL;
      END $$;
      CREATE TRIGGER zz_test_pause AFTER INSERT OR UPDATE ON ${schema}.tickets FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.test_pause_tickets();
    `);
    const event = await createEventOverHttp(node.url, await token('organizer'), [{ name: 'GA', totalCapacity: 100, maxPerOrder: 4 }]);
    eventId = event.id;
    ticketTypeId = event.ticketTypeIds[0]!;
  });
  afterAll(async () => {
    await arm(false).catch(() => {});
    await node?.stop();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
    if (outcomes.length === 0) return;
    await recordReliability({
      fault: 'crash in the middle of a hold or confirm transaction (backend terminated; node process killed -9)',
      injected: outcomes.length,
      checked: ['the reservation is all there (status, every seat, counters) or not at all', 'verify_ticket_counts() empty', 'a 503 with Retry-After when the node survives'],
      figures: {
        crashes: outcomes.length,
        appliedAll: outcomes.filter((o) => o.applied === 'all').length,
        appliedNone: outcomes.filter((o) => o.applied === 'none').length,
        halfApplied: 0,
        outcomes: JSON.stringify(outcomes),
      },
    });
  });

  const hold = (bearer: string) => () => call('POST', `/api/events/${eventId}/reservations`, bearer, { items: [{ ticketTypeId, quantity: 3 }] });

  for (const crash of ['backend terminated', 'node killed -9'] as const) {
    it(`hold, ${crash}: the reservation, its 3 seats and the counters are all there or none`, async () => {
      const holderId = randomUUID();
      const answer = await crashDuring(hold(await token('authenticated', holderId)), crash);
      const made = await reservationsOf(holderId);
      expect(made.length).toBeLessThanOrEqual(1);
      if (made[0]) expect(await reservation(made[0])).toEqual({ status: 'active', seats: 3, sold: 0 });
      await checkCounters();
      if (crash === 'backend terminated') {
        expect(answer).toMatchObject({ status: 503, retryAfter: '1' });
        expect(made).toEqual([]);
      } else {
        expect(answer.status).toBe('network');
      }
      outcomes.push({ action: 'hold', crash, status: answer.status, applied: made.length === 1 ? 'all' : 'none' });
    }, 90_000);

    it(`confirm, ${crash}: the reservation is confirmed with every seat sold, or still held with every seat reserved`, async () => {
      const bearer = await token('authenticated');
      const held = await hold(bearer)();
      expect(held.status).toBe(201);
      const id = held.body.reservation!.id;
      const answer = await crashDuring(() => call('POST', `/api/reservations/${id}/confirm`, bearer), crash);
      const after = await reservation(id);
      expect([
        { status: 'active', seats: 3, sold: 0 },
        { status: 'confirmed', seats: 3, sold: 3 },
      ]).toContainEqual(after);
      await checkCounters();
      if (crash === 'backend terminated') {
        expect(answer).toMatchObject({ status: 503, retryAfter: '1' });
        expect(after!.status).toBe('active');
        // The buyer retries and it goes through.
        expect((await call('POST', `/api/reservations/${id}/confirm`, bearer)).status).toBe(200);
        expect(await reservation(id)).toEqual({ status: 'confirmed', seats: 3, sold: 3 });
        await checkCounters();
      }
      outcomes.push({ action: 'confirm', crash, status: answer.status, applied: after!.status === 'confirmed' ? 'all' : 'none' });
    }, 90_000);
  }
});
