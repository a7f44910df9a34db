import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { TokenVerifier } from '../../src/auth/token-verifier.ts';
import { postgresUrl } from '../support/database.ts';
import { createEventOverHttp } from '../support/http-event.ts';
import { startNode, type RunningNode } from '../support/process.ts';
import { TestRedis, redisServerAvailable } from '../support/redis-server.ts';
import { recordReliability } from '../support/reliability-report.ts';
import { schemaUrl } from '../support/schema-url.ts';
import { TEST_JWT_SECRET } from '../support/server.ts';
import { eventually } from '../support/viewer.ts';

const HOLDS_PER_MINUTE = 6;
const CONNECTS_PER_SECOND = 4;

if (process.env.CI === 'true' && !redisServerAvailable) throw new Error('CI=true but redis-server is not installed: .ci/run installs it');

/**
 * Two service processes behind one (imagined) load balancer, sharing their
 * per-address limits through a Redis of the test's own, which is killed and
 * brought back mid-test. Every request comes from 127.0.0.1.
 */
describe.skipIf(!postgresUrl || !redisServerAvailable)('per-address limits shared by two nodes through Redis', () => {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: postgresUrl });
  const verifier = new TokenVerifier(TEST_JWT_SECRET);
  let redis: TestRedis;
  const nodes: RunningNode[] = [];
  let hold: (node: RunningNode) => Promise<number>;

  beforeAll(async () => {
    redis = await TestRedis.start();
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    const env = {
      DATABASE_URL: schemaUrl(schema),
      TICKETPULSE_JWT_SECRET: TEST_JWT_SECRET,
      TICKETPULSE_REDIS_URL: redis.url,
      TICKETPULSE_HTTP_HOLDS_PER_MINUTE: String(HOLDS_PER_MINUTE),
      TICKETPULSE_WS_CONNECTS_PER_IP_PER_SECOND: String(CONNECTS_PER_SECOND),
      TICKETPULSE_STOREFRONT_DIR: '/nonexistent',
    };
    nodes.push(await startNode(env)); // migrates the schema first
    nodes.push(await startNode(env));
    const organizer = (await verifier.sign({ userId: randomUUID(), role: 'organizer' }, 600)).token;
    const event = await createEventOverHttp(nodes[0]!.url, organizer, [{ name: 'General', totalCapacity: 10_000, maxPerOrder: 4 }]);
    const buyer = (await verifier.sign({ userId: randomUUID(), role: 'authenticated' }, 600)).token;
    hold = async (node) => {
      const response = await fetch(`${node.url}/api/events/${event.id}/reservations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${buyer}`, 'content-type': 'application/json' },
        body: JSON.stringify({ items: [{ ticketTypeId: event.ticketTypeIds[0], quantity: 1 }] }),
        // A limit must never hold a request up; a hang fails here rather than at the suite's timeout.
        signal: AbortSignal.timeout(5000),
      });
      if (response.status === 429) expect(((await response.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
      return response.status;
    };
  });
  afterAll(async () => {
    for (const node of nodes) await node.stop();
    await redis?.stop();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  });

  const metric = async (node: RunningNode, name: string) => {
    const text = await (await fetch(`${node.url}/metrics`)).text();
    return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  };
  const storeUp = () => eventually(async () => (await Promise.all(nodes.map((n) => metric(n, 'ticketpulse_rate_limit_store_up')))).every((v) => v === 1), 'both nodes connected to Redis', 15_000);
  const tally = (statuses: number[]) => statuses.reduce<Record<number, number>>((all, s) => ({ ...all, [s]: (all[s] ?? 0) + 1 }), {});
  /** Holds alternating between the two nodes, one after another. */
  const alternating = async (count: number) => {
    const statuses: number[] = [];
    for (let i = 0; i < count; i++) statuses.push(await hold(nodes[i % 2]!));
    return statuses;
  };
  /** WebSocket attempts alternating between the nodes, all at once: opened (101) or refused with an HTTP status. */
  const connectAttempts = (count: number) =>
    Promise.all(
      Array.from({ length: count }, (_, i) => {
        const url = `${nodes[i % 2]!.url.replace('http', 'ws')}/realtime`;
        return new Promise<number>((resolve) => {
          const socket = new WebSocket(url);
          socket.once('open', () => (socket.terminate(), resolve(101)));
          socket.once('unexpected-response', (_request, response) => (socket.terminate(), resolve(response.statusCode ?? 0)));
          socket.once('error', () => resolve(0));
        });
      }),
    );

  it('share one budget; fall back to per-node limits while Redis is down, with one warning; share again once it is back', async () => {
    await storeUp();
    const shared = await alternating(2 * HOLDS_PER_MINUTE);
    const sharedAttempts = await connectAttempts(2 * CONNECTS_PER_SECOND);
    expect(tally(shared)).toEqual({ 201: HOLDS_PER_MINUTE, 429: HOLDS_PER_MINUTE });
    expect(tally(sharedAttempts)).toEqual({ 101: CONNECTS_PER_SECOND, 429: CONNECTS_PER_SECOND });

    await redis.stop();
    // Each node counts for itself: a full budget on each, and every request answered.
    const perNode = [];
    for (const node of nodes) perNode.push(tally(await Promise.all(Array.from({ length: HOLDS_PER_MINUTE + 2 }, () => hold(node)))));
    expect(perNode).toEqual([
      { 201: HOLDS_PER_MINUTE, 429: 2 },
      { 201: HOLDS_PER_MINUTE, 429: 2 },
    ]);
    const downAttempts = await connectAttempts(2 * CONNECTS_PER_SECOND);
    expect(tally(downAttempts)).toEqual({ 101: 2 * CONNECTS_PER_SECOND });
    for (const node of nodes) {
      expect(await metric(node, 'ticketpulse_rate_limit_store_errors_total')).toBeGreaterThanOrEqual(HOLDS_PER_MINUTE + 2);
      expect(await metric(node, 'ticketpulse_rate_limit_store_up')).toBe(0);
      expect(node.output().match(/Redis is not answering/g)).toHaveLength(1);
    }

    await redis.restart(); // empty, as after a crash
    await storeUp();
    const again = await alternating(2 * HOLDS_PER_MINUTE);
    expect(tally(again)).toEqual({ 201: HOLDS_PER_MINUTE, 429: HOLDS_PER_MINUTE });
    for (const node of nodes) expect(node.output()).toMatch(/Redis answers again/);

    // A Redis that stops answering without closing anything: the command timeout answers instead.
    const errorsBefore = await metric(nodes[0]!, 'ticketpulse_rate_limit_store_errors_total');
    redis.pause();
    let hung: number[];
    try {
      hung = await Promise.all(nodes.flatMap((node) => [hold(node), hold(node)]));
    } finally {
      redis.resume();
    }
    for (const status of hung) expect([201, 429]).toContain(status);
    expect(await metric(nodes[0]!, 'ticketpulse_rate_limit_store_errors_total')).toBeGreaterThanOrEqual(errorsBefore + 2);

    await recordReliability({
      fault: 'Redis shared by two nodes for the per-address limits, killed and restarted mid-test',
      injected: 1,
      checked: [
        `holds alternating between the nodes: ${HOLDS_PER_MINUTE} made in total, the rest 429`,
        `WebSocket attempts: ${CONNECTS_PER_SECOND} per second in total`,
        'Redis down: every request answered (no 5xx, no hang), limits per node, one warning per node, errors counted',
        'Redis back: sharing resumes',
        'Redis frozen (SIGSTOP): every request answered after the command timeout, errors counted',
      ],
      figures: {
        sharedHolds: JSON.stringify(tally(shared)),
        sharedAttempts: JSON.stringify(tally(sharedAttempts)),
        downHoldsPerNode: JSON.stringify(perNode),
        downAttempts: JSON.stringify(tally(downAttempts)),
        afterRestartHolds: JSON.stringify(tally(again)),
        frozenRedisHolds: JSON.stringify(tally(hung)),
      },
    });
  });
});
