import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.ts';
import { openPostgres } from '../../src/db/postgres.ts';
import { TokenVerifier } from '../../src/auth/token-verifier.ts';
import { Catalog } from '../../src/inventory/catalog.ts';
import { postgresUrl } from '../support/database.ts';
import { createEvent, typeId } from '../support/fixtures.ts';
import { startNode, type RunningNode } from '../support/process.ts';
import { recordReliability } from '../support/reliability-report.ts';
import { schemaUrl } from '../support/schema-url.ts';
import { TEST_JWT_SECRET } from '../support/server.ts';
import { eventually } from '../support/viewer.ts';

const VISITORS = 40;

/**
 * The only node, and so the admission leader, is killed with SIGKILL in the
 * middle of an on-sale's queue and started again on the same port: its lease
 * is never given up, so the new process must wait for it to lapse.
 */
describe.skipIf(!postgresUrl)('reliability: the admission leader is killed -9 mid-queue', () => {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: postgresUrl });
  const verifier = new TokenVerifier(TEST_JWT_SECRET);
  const env = { DATABASE_URL: schemaUrl(schema), TICKETPULSE_JWT_SECRET: TEST_JWT_SECRET };
  let db: Database;
  let node: RunningNode;

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    node = await startNode(env); // migrates the schema
    db = await openPostgres({ connectionString: postgresUrl!, options: `-c search_path=${schema}` });
  });
  afterAll(async () => {
    await node?.stop();
    await db?.close();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  });

  /** A JSON request to a node: status and parsed body. */
  const send = async (base: string, method: string, path: string, options: { token: string; body?: unknown; headers?: Record<string, string> }) => {
    const response = await fetch(new URL(path, base), {
      method,
      headers: { authorization: `Bearer ${options.token}`, ...options.headers, ...(options.body !== undefined && { 'content-type': 'application/json' }) },
      ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a test reads whatever the API answered
    return { status: response.status, body: (await response.json()) as any };
  };
  const token = async (role: 'organizer' | 'authenticated', userId = randomUUID()) => (await verifier.sign({ userId, role }, 600)).token;
  const servedUpTo = async (eventId: string) =>
    Number((await db.query<{ s: string }>('SELECT served_up_to AS s FROM event_queues WHERE event_id = $1', [eventId])).rows[0]!.s);
  const positions = async (eventId: string) =>
    Object.fromEntries((await db.query<{ holder_id: string; position: string }>('SELECT holder_id, position FROM queue_entries WHERE event_id = $1', [eventId])).rows.map((r) => [r.holder_id, Number(r.position)]));

  it('keeps every position and pass, and admission resumes soon after the restart', async () => {
    const event = await createEvent(new Catalog(db, () => {}), {
      ticketTypes: [{ name: 'General', price: '20.00', totalCapacity: 1000, maxPerOrder: 4 }],
    });
    const organizer = await token('organizer');
    const setup = await send(node.url, 'PUT', `/api/events/${event.id}/queue`, {
      token: organizer,
      body: { opensAt: new Date(Date.now() - 1000).toISOString(), admitPerMinute: 120 },
    });
    expect(setup.status).toBe(200);
    const visitors: Array<{ userId: string; token: string }> = [];
    for (let i = 0; i < VISITORS; i += 1) {
      const userId = randomUUID();
      const visitor = { userId, token: await token('authenticated', userId) };
      expect((await send(node.url, 'POST', `/api/events/${event.id}/queue/entries`, { token: visitor.token })).status).toBe(201);
      visitors.push(visitor);
    }
    await eventually(async () => (await servedUpTo(event.id)) >= 3, 'some visitors admitted', 30_000);
    const before = await positions(event.id);
    const first = visitors[0]!;
    const pass = (await send(node.url, 'GET', `/api/events/${event.id}/queue/entries/me`, { token: first.token })).body.entry;
    expect(pass.status).toBe('admitted');

    node.child.kill('SIGKILL');
    await new Promise((resolve) => node.child.once('exit', resolve));
    const killedAt = Date.now();
    const servedAtKill = await servedUpTo(event.id);
    node = await startNode({ ...env, PORT: new URL(node.url).port });
    const servingAt = Date.now();
    await eventually(async () => (await servedUpTo(event.id)) > servedAtKill, 'admission to resume', 10_000);
    const resumedMs = Date.now() - servingAt;

    expect(await positions(event.id)).toEqual(before);
    const after = (await send(node.url, 'GET', `/api/events/${event.id}/queue/entries/me`, { token: first.token })).body.entry;
    expect([after.status, after.position, after.passExpiresAt]).toEqual(['admitted', pass.position, pass.passExpiresAt]);
    const hold = await send(node.url, 'POST', `/api/events/${event.id}/reservations`, {
      token: first.token,
      headers: { 'x-ticketpulse-queue-pass': pass.pass },
      body: { items: [{ ticketTypeId: typeId(event, 'General'), quantity: 1 }] },
    });
    expect(hold.status).toBe(201);
    await recordReliability({
      fault: `waiting room: kill -9 of the admission leader (the only node) mid-queue, ${VISITORS} visitors in line, restarted on the same port`,
      injected: 1,
      checked: ['every entry keeps its position', 'an admitted pass stays valid (same expiry, a hold with it succeeds)', 'admission resumes after the restart'],
      figures: { visitors: VISITORS, servedAtKill, downMs: servingAt - killedAt, admissionResumedAfterRestartMs: resumedMs, positionsLost: 0 },
    });
    console.log(`admission resumed ${resumedMs} ms after the restart (down ${servingAt - killedAt} ms)`);
  }, 120_000);
});
