import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenVerifier } from '../../src/auth/token-verifier.ts';
import { postgresUrl } from '../support/database.ts';
import { PhoenixSocket } from '../support/phoenix-socket.ts';
import { startNode, type RunningNode } from '../support/process.ts';
import { TestSocket } from '../support/realtime-client.ts';
import { recordReliability } from '../support/reliability-report.ts';

const JWT_SECRET = `jwt-secret-${randomBytes(16).toString('hex')}`;
const DB_PASSWORD = `db-password-${randomBytes(8).toString('hex')}`;

/** The service as its own process, logging at trace level, with a JWT secret and (on PostgreSQL) a database URL with a password. */
describe('secrets in logs', () => {
  let node: RunningNode;
  let schema: string | undefined;
  let env: Record<string, string>;

  beforeAll(async () => {
    env = { TICKETPULSE_JWT_SECRET: JWT_SECRET, LOG_LEVEL: 'trace', TICKETPULSE_DEV_AUTH: 'true', TICKETPULSE_STOREFRONT_DIR: '/nonexistent' };
    if (postgresUrl) {
      // Trust authentication ignores the password; the service still holds it in its URL.
      schema = `t_${randomBytes(6).toString('hex')}`;
      const admin = new pg.Client({ connectionString: postgresUrl });
      await admin.connect();
      await admin.query(`CREATE SCHEMA ${schema}`);
      await admin.end();
      const url = new URL(postgresUrl);
      url.password = DB_PASSWORD;
      url.searchParams.set('options', `-c search_path=${schema}`);
      env.DATABASE_URL = url.href;
    }
    node = await startNode(env, ['--demo']);
  });
  afterAll(async () => {
    await node?.stop();
    if (schema) {
      const admin = new pg.Client({ connectionString: postgresUrl });
      await admin.connect();
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    }
  });

  it('never writes a token, the JWT secret or the database password, whatever the traffic', async () => {
    const verifier = new TokenVerifier(JWT_SECRET);
    const buyer = (await verifier.sign({ userId: randomUUID(), role: 'authenticated' }, 3600)).token;
    const organizer = (await verifier.sign({ userId: randomUUID(), role: 'organizer' }, 3600)).token;
    const expired = (await verifier.sign({ userId: randomUUID(), role: 'authenticated' }, -60)).token;
    const tokens = [buyer, organizer, expired];
    const call = async (path: string, init: RequestInit = {}) => {
      const response = await fetch(node.url + path, init);
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

    const minted = await call('/api/auth/dev-token', { method: 'POST' });
    tokens.push(String(minted.body.token));
    const created = await call('/api/events', {
      method: 'POST',
      headers: { ...bearer(organizer), 'content-type': 'application/json' },
      body: JSON.stringify({ slug: `logs-${randomBytes(4).toString('hex')}`, name: 'Logs', startsAt: '2030-01-01T20:00:00Z', ticketTypes: [{ name: 'Seat', totalCapacity: 10 }] }),
    });
    const event = created.body.event as { id: string; ticketTypes: Array<{ id: string }> };
    const held = await call(`/api/events/${event.id}/reservations`, {
      method: 'POST',
      headers: { ...bearer(buyer), 'content-type': 'application/json' },
      body: JSON.stringify({ items: [{ ticketTypeId: event.ticketTypes[0]!.id, quantity: 1 }] }),
    });
    expect(held.status).toBe(201);
    // A queue pass (a bearer credential for a hold): joined, admitted, sent with a hold.
    const queued = await call(`/api/events/${event.id}/queue`, {
      method: 'PUT',
      headers: { ...bearer(organizer), 'content-type': 'application/json' },
      body: JSON.stringify({ opensAt: new Date(Date.now() - 1000).toISOString(), admitPerMinute: 6000 }),
    });
    expect(queued.status).toBe(200);
    const visitor = (await verifier.sign({ userId: randomUUID(), role: 'authenticated' }, 3600)).token;
    tokens.push(visitor);
    await call(`/api/events/${event.id}/queue/entries`, { method: 'POST', headers: bearer(visitor) });
    let pass = '';
    await expect
      .poll(async () => (pass = String(((await call(`/api/events/${event.id}/queue/entries/me`, { headers: bearer(visitor) })).body.entry as { pass: unknown }).pass)), { timeout: 10_000 })
      .toMatch(/^ey/);
    const passHold = await call(`/api/events/${event.id}/reservations`, {
      method: 'POST',
      headers: { ...bearer(visitor), 'content-type': 'application/json', 'x-ticketpulse-queue-pass': pass },
      body: JSON.stringify({ items: [{ ticketTypeId: event.ticketTypes[0]!.id, quantity: 1 }] }),
    });
    expect(passHold.status).toBe(201);
    let requests = 7;
    // Tokens where they do not belong: query strings, bad headers, an expired one, on known and unknown paths.
    for (const token of tokens) {
      for (const path of [`/api/events?token=${token}&apikey=${token}&access_token=${token}`, `/api/nowhere?apikey=${token}`, `/rest/v1/event_tickets?select=*&apikey=${token}`]) {
        await call(path);
        await call(path, { headers: bearer(token) });
        requests += 2;
      }
      await call('/api/events', { headers: { authorization: `Basic ${token}` } });
      await call(`/api/events/${event.id}/sales`, { headers: bearer(token) });
      requests += 2;
    }
    // Both WebSocket endpoints: in the URL, as the auth message, refreshed, and refused.
    let sockets = 0;
    for (const token of tokens) {
      const inUrl = await TestSocket.open(node.url, { token });
      const first = await TestSocket.open(node.url);
      first.send({ type: 'auth', token });
      first.send({ type: 'refresh_token', token, ref: 'r' });
      const upgrade = await PhoenixSocket.upgrade(node.url, token);
      if ('socket' in upgrade) {
        await upgrade.socket.join('x', [{ table: 'event_tickets' }], token);
        upgrade.socket.sendAccessToken('x', token);
        upgrade.socket.close();
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      inUrl.close();
      first.close();
      sockets += 3;
    }
    await node.stop();
    const output = node.output();
    // The run was logged in detail: requests, with their URLs' paths.
    expect(output).toContain('incoming request');
    expect(output).toContain('/api/events?token=[REDACTED]&apikey=[REDACTED]&access_token=[REDACTED]');
    const secrets: Array<[string, string]> = [
      ['JWT secret', JWT_SECRET],
      ['database password', DB_PASSWORD],
      ...tokens.flatMap((token, i): Array<[string, string]> => [
        [`token ${i}`, token],
        [`token ${i} signature`, token.split('.')[2]!],
      ]),
      ['queue pass', pass.split('.')[2]!],
    ];
    for (const [name, secret] of secrets) expect(output.includes(secret), name).toBe(false);
    await recordReliability({
      fault: 'security/hygiene: secrets in logs (trace level, real process, JWT secret, database URL with a password, tokens in headers, query strings and WebSocket messages)',
      injected: requests + sockets,
      checked: ['stdout and stderr contain no token (nor its signature), no JWT secret, no database password'],
      figures: { requests, webSocketConnections: sockets, tokens: tokens.length, logBytes: output.length, database: postgresUrl ? 'postgres' : 'pglite', secretsFound: 0 },
    });
  });
});
