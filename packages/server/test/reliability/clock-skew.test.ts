import { randomBytes, randomUUID } from 'node:crypto';
import { ReservationExpiryManager, TicketAvailabilityManager, type HoldState } from '@ticketpulse/client';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { TokenVerifier } from '../../src/auth/token-verifier.ts';
import { postgresUrl } from '../support/database.ts';
import { createEventOverHttp } from '../support/http-event.ts';
import { startNode, type RunningNode } from '../support/process.ts';
import { recordReliability } from '../support/reliability-report.ts';
import { schemaUrl } from '../support/schema-url.ts';
import { TEST_JWT_SECRET } from '../support/server.ts';
import { eventually } from '../support/viewer.ts';

const HOLD_SECONDS = 4;
/**
 * Latency on a loaded machine, never minutes: the offset comes from the
 * welcome, the Date header only checks it. Without the offset the error
 * would be the whole 10 minutes; 500 ms failed once under a loaded CI run.
 */
const TOLERANCE_MS = 2_000;
/** performance.now() is not faked: the real time, whatever Date says. */
const realNow = () => performance.timeOrigin + performance.now();

/**
 * The server (its own process, real clock) and PostgreSQL decide expiry; the
 * real SDK runs in this process with Date ten minutes off either way. Its
 * countdown follows the server's clock through the offset it learns from the
 * welcome and the HTTP Date header. (packages/client/test/timers.test.ts
 * covers the same with fake timers and no server.)
 */
describe.skipIf(!postgresUrl)('reliability: a client clock 10 minutes off', () => {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: postgresUrl });
  const verifier = new TokenVerifier(TEST_JWT_SECRET);
  let node: RunningNode;
  let eventId = '';
  let ticketTypeId = '';
  const results: Array<{ skewMinutes: number; remainingErrorMs: number; expiredLateMs: number }> = [];

  const token = async (role: 'authenticated' | 'organizer' | 'anon', userId = randomUUID()) => (await verifier.sign({ userId, role }, 3600)).token;

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.query(`SET search_path = ${schema}`);
    node = await startNode({
      DATABASE_URL: schemaUrl(schema),
      TICKETPULSE_JWT_SECRET: TEST_JWT_SECRET,
      TICKETPULSE_HOLD_SECONDS: String(HOLD_SECONDS),
      TICKETPULSE_SWEEP_INTERVAL_MS: '200',
    });
    const event = await createEventOverHttp(node.url, await token('organizer'), [{ name: 'GA', totalCapacity: 100, maxPerOrder: 4 }]);
    eventId = event.id;
    ticketTypeId = event.ticketTypeIds[0]!;
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  afterAll(async () => {
    await node?.stop();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
    if (results.length === 0) return;
    await recordReliability({
      fault: 'clock: the SDK device clock 10 minutes behind and ahead of the server and database',
      injected: results.length,
      checked: ['expires_at - created_at is the hold time, both by the database clock', "the SDK's countdown within 2 s of the real remaining time (the skew is 600 s)", 'onExpired fires once the database expired it'],
      figures: {
        skewsTried: results.length,
        maxCountdownErrorMs: Math.max(...results.map((r) => r.remainingErrorMs)),
        maxExpiredLateMs: Math.max(...results.map((r) => r.expiredLateMs)),
      },
    });
  });

  for (const skewMinutes of [-10, 10]) {
    it(`counts a hold down by the server's clock with the device ${skewMinutes > 0 ? 'ahead' : 'behind'} by 10 minutes`, async () => {
      const buyer = await token('authenticated');
      const held = await fetch(`${node.url}/api/events/${eventId}/reservations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${buyer}`, 'content-type': 'application/json' },
        body: JSON.stringify({ items: [{ ticketTypeId, quantity: 1 }] }),
      });
      const { reservation } = (await held.json()) as { reservation: { id: string; expiresAt: string } };
      // Decided by the database: both timestamps come from its now().
      const { rows } = await admin.query<{ seconds: number }>(
        'SELECT extract(epoch FROM expires_at - created_at)::float8 AS seconds FROM reservations WHERE id = $1',
        [reservation.id],
      );
      expect(rows[0]!.seconds).toBe(HOLD_SECONDS);

      // Only Date is off; timers run in real time.
      vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
      vi.setSystemTime(realNow() + skewMinutes * 60_000);
      const anon = await token('anon');
      const manager = new TicketAvailabilityManager({ url: node.url, getToken: () => anon, WebSocket });
      manager.subscribeToEvent(eventId, () => {});
      const holds = new ReservationExpiryManager({ url: node.url, getToken: () => buyer, clock: manager.clock });
      try {
        await eventually(() => manager.getConnectionStatus(eventId) === 'connected', 'the SDK to connect', 20_000);
        const expired: HoldState[] = [];
        const state = await holds.startMonitoring(reservation.id, { onExpired: (s) => expired.push(s) });
        const remainingErrorMs = Math.abs(state.remainingMs - (Date.parse(reservation.expiresAt) - realNow()));
        expect(remainingErrorMs).toBeLessThan(TOLERANCE_MS);
        await eventually(() => expired.length === 1, 'onExpired', 20_000);
        const expiredLateMs = realNow() - Date.parse(reservation.expiresAt);
        expect(expiredLateMs).toBeGreaterThan(-TOLERANCE_MS);
        await eventually(
          async () => (await admin.query<{ status: string }>('SELECT status FROM reservations WHERE id = $1', [reservation.id])).rows[0]!.status === 'expired',
          'the database to expire the hold',
          20_000,
        );
        results.push({ skewMinutes, remainingErrorMs: Math.round(remainingErrorMs), expiredLateMs: Math.round(expiredLateMs) });
      } finally {
        holds.stopAll();
        manager.cleanup();
      }
    }, 60_000);
  }
});
