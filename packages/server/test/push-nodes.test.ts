import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenVerifier } from '../src/auth/token-verifier.ts';
import type { Role } from '../src/auth/principal.ts';
import { postgresUrl, withAdmin } from './support/database.ts';
import { callNode, type RunningNode } from './support/process.ts';
import { BrowserSubscription, createPushEvent, FakePushService, PUSH_TEST_JWT_SECRET, startPushNode, verifyVapid } from './support/push-service.ts';
import { TcpProxy } from './support/tcp-proxy.ts';
import { eventually } from './support/viewer.ts';

/**
 * Web Push across nodes and against a push service that stalls
 * (docs/push.md): the service as its own processes on one fresh PostgreSQL
 * schema, with no TICKETPULSE_VAPID_* set, so the nodes must agree on keys
 * kept in the database; the fake push service on loopback HTTPS, reached
 * directly or through a TCP proxy that can swallow a connection.
 */
describe.skipIf(!postgresUrl)('Web Push on several nodes', () => {
  const pushService = new FakePushService();
  let proxy: TcpProxy;
  const schema = `t_push_nodes_${randomBytes(4).toString('hex')}`;
  const nodes: RunningNode[] = [];
  const signer = new TokenVerifier(PUSH_TEST_JWT_SECRET);
  let proxyPort = 0;

  interface NodeOptions {
    /** The sender's interval; an hour means it never runs during the test. */
    intervalMs?: number;
    timeoutMs?: number;
    dataDir?: string;
  }
  const start = async ({ intervalMs = 100, timeoutMs = 1000, dataDir = mkdtempSync(join(tmpdir(), 'push-node-')) }: NodeOptions = {}) => {
    const started = await startPushNode(
      pushService,
      schema,
      {
        // No TICKETPULSE_VAPID_*: the nodes must agree on keys by themselves.
        TICKETPULSE_DATA_DIR: dataDir,
        TICKETPULSE_PUSH_ENDPOINT_HOSTS: `${pushService.host},127.0.0.1:${proxyPort}`,
        TICKETPULSE_PUSH_INTERVAL_MS: String(intervalMs),
        TICKETPULSE_PUSH_TIMEOUT_MS: String(timeoutMs),
      },
      // Not demo mode: demo nodes seed the demo events, which several nodes starting at once race to do.
      [],
    );
    nodes.push(started);
    return started;
  };

  const call = callNode;
  /** A fresh user's token, signed with the secret the nodes share (no dev tokens outside demo mode). */
  const token = async (role: Role = 'authenticated') => (await signer.signForNewUser(role, 600)).token;
  const publicKey = async (on: RunningNode) => (await call(on, 'GET', '/api/push/vapid-public-key')).body.publicKey as string;

  const onSale = async (on: RunningNode, capacity: number) => createPushEvent(on, await token('organizer'), capacity);
  /**
   * A browser on `host` waits on a sold-out type; the seat comes back and is
   * offered to it, which queues its push. Every request goes to `on`.
   */
  const offerPushedTo = async (on: RunningNode, host: string) => {
    const event = await onSale(on, 1);
    const other = await token();
    const held = await call(on, 'POST', `/api/events/${event.eventId}/reservations`, other, { items: [{ ticketTypeId: event.typeId, quantity: 1 }] });
    expect(held.status).toBe(201);
    const buyer = await token();
    const browser = new BrowserSubscription(host);
    expect((await call(on, 'POST', '/api/push/subscriptions', buyer, browser.toJSON())).status).toBe(201);
    expect((await call(on, 'POST', `/api/event-tickets/${event.typeId}/waitlist`, buyer, { quantity: 1 })).status).toBe(201);
    expect((await call(on, 'DELETE', `/api/reservations/${held.body.reservation.id}`, other)).status).toBe(200);
    return { browser, typeId: event.typeId };
  };

  beforeAll(async () => {
    await pushService.start();
    const [host, port] = pushService.host.split(':');
    proxy = new TcpProxy(host!, Number(port));
    proxyPort = await proxy.start();
    await withAdmin((c) => c.query(`CREATE SCHEMA ${schema}`));
  }, 120_000);

  afterAll(async () => {
    for (const running of nodes) await running.stop();
    await proxy.stop();
    await pushService.stop();
    await withAdmin((c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
  }, 120_000);

  it('every node signs with the same VAPID keys: generated once, kept in the database, whichever node sends', async () => {
    // Two nodes start together on an empty database, each with a data directory of its own: both generate a pair, one is kept.
    const bDir = mkdtempSync(join(tmpdir(), 'push-node-'));
    const [a, b] = await Promise.all([start(), start({ intervalMs: 3_600_000, dataDir: bDir })]);
    const key = await publicKey(a);
    expect(key).toMatch(/^[A-Za-z0-9_-]{87}$/);
    expect(await publicKey(b)).toBe(key);

    // Subscribed through b, sent by a (b's sender does not run): verifies with the key b published.
    const first = await offerPushedTo(b, pushService.host);
    await eventually(() => pushService.to(first.browser.path).length === 1, 'the offer is pushed by a');
    await verifyVapid(pushService.to(first.browser.path)[0]!, key);
    expect(first.browser.decrypt(pushService.to(first.browser.path)[0]!.body)).toMatchObject({ kind: 'offer', ticketTypeId: first.typeId });

    // Now b alone, sending: the same key, and its pushes verify with what a published.
    await a.stop();
    await b.stop();
    const bAgain = await start({ dataDir: bDir });
    expect(await publicKey(bAgain)).toBe(key);
    const second = await offerPushedTo(bAgain, pushService.host);
    await eventually(() => pushService.to(second.browser.path).length === 1, 'the offer is pushed by b');
    await verifyVapid(pushService.to(second.browser.path)[0]!, key);
    await bAgain.stop();
  }, 120_000);

  it('a push service that takes the connection and never answers holds up no hold or confirm; the push goes out on a later attempt', async () => {
    // One node sends, and waits 30 s for an answer before it gives up on a send: ample for the holds below, even on a loaded machine.
    const node = await start({ timeoutMs: 30_000 });
    proxy.blackhole = true;
    const stalled = await offerPushedTo(node, `127.0.0.1:${proxyPort}`);
    // The sender connects, and its TLS hello goes nowhere: the connection is open and nothing ever answers.
    await eventually(() => proxy.swallowed > 0, 'the sender connects to the stalled push service');
    // Later connections reach the push service; the one open stays stalled.
    proxy.blackhole = false;

    // While that send hangs, buyers hold and buy as usual.
    const event = await onSale(node, 40);
    for (let buyer = 0; buyer < 5; buyer += 1) {
      const holder = await token();
      const held = await call(node, 'POST', `/api/events/${event.eventId}/reservations`, holder, { items: [{ ticketTypeId: event.typeId, quantity: 2 }] });
      expect(held.status).toBe(201);
      const confirmed = await call(node, 'POST', `/api/reservations/${held.body.reservation.id}/confirm`, holder);
      expect([confirmed.status, confirmed.body.reservation.status]).toEqual([200, 'confirmed']);
    }
    // The send was still hanging all along: nothing has reached the push service for that browser.
    expect(proxy.connections).toBeGreaterThan(0);
    expect(pushService.to(stalled.browser.path)).toHaveLength(0);

    // The send times out, the row is retried after its backoff, and this time the push service takes it.
    await eventually(() => pushService.to(stalled.browser.path).length === 1, 'the push is sent again after the timeout', 90_000);
    expect(stalled.browser.decrypt(pushService.to(stalled.browser.path)[0]!.body)).toMatchObject({ kind: 'offer', ticketTypeId: stalled.typeId });
    // Marked sent once the push service has answered; two attempts: the stalled one and this one.
    const outboxRow = async () =>
      (
        await withAdmin((c) =>
          c.query<{ attempts: number; sent: boolean }>(
            `SELECT o.attempts, o.sent_at IS NOT NULL AS sent FROM ${schema}.push_outbox o JOIN ${schema}.push_subscriptions s ON s.id = o.subscription_id WHERE s.endpoint = $1`,
            [stalled.browser.endpoint],
          ),
        )
      ).rows;
    await eventually(async () => (await outboxRow())[0]?.sent === true, 'the row is marked sent');
    expect(await outboxRow()).toEqual([{ attempts: 2, sent: true }]);
  }, 180_000);
});
