import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenVerifier } from '../src/auth/token-verifier.ts';
import { postgresUrl } from './support/database.ts';
import { startNode, type RunningNode } from './support/process.ts';
import { TestSocket } from './support/realtime-client.ts';
import { TEST_JWT_SECRET } from './support/server.ts';
import { eventually, watch, type EventView } from './support/viewer.ts';
import { schemaUrl } from './support/schema-url.ts';

const VIEWERS = 12;

/** The workers' process ids, from their "worker serving" log lines (JSON), in the order they started. */
function workerPids(node: RunningNode): number[] {
  return node
    .output()
    .split('\n')
    .filter((line) => line.includes('"msg":"worker serving"'))
    .map((line) => (JSON.parse(line) as { pid: number }).pid);
}

/** `name{worker="<slot>"} value` lines of a Prometheus scrape: each worker's figure by slot. */
function perWorker(scrape: string, name: string): Map<string, number> {
  const figures = new Map<string, number>();
  for (const match of scrape.matchAll(new RegExp(`^${name}\\{worker="(\\d+)"\\} (\\S+)$`, 'gm'))) figures.set(match[1]!, Number(match[2]));
  return figures;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

// `ticketpulse start --workers N` (docs/cli.md): N processes on one port, one sweeper among them, a dead worker replaced, SIGTERM drains all.
describe.skipIf(!postgresUrl)('ticketpulse start --workers on real PostgreSQL', () => {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: postgresUrl });
  const verifier = new TokenVerifier(TEST_JWT_SECRET);
  let node: RunningNode;

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    node = await startNode(
      {
        DATABASE_URL: schemaUrl(schema),
        TICKETPULSE_JWT_SECRET: TEST_JWT_SECRET,
        LOG_FORMAT: 'json',
        TICKETPULSE_HOLD_SECONDS: '3',
        TICKETPULSE_SWEEP_INTERVAL_MS: '200',
        TICKETPULSE_HTTP_HOLDS_PER_MINUTE: '100000',
      },
      ['--workers', '2'],
    );
  }, 120_000);
  afterAll(async () => {
    if (node) await node.stop();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  });

  const token = async (role: 'organizer' | 'authenticated' | 'anon') => (await verifier.sign({ userId: randomUUID(), role }, 600)).token;
  const post = async (path: string, body: unknown, role: 'organizer' | 'authenticated') =>
    fetch(`${node.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${await token(role)}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('answers GET /metrics for both workers, whichever takes the scrape: each figure labelled with its worker', async () => {
    await eventually(() => workerPids(node).length === 2, 'two workers serving', 60_000);
    // Handed to the workers in turn, these connections sit on both; their sum is the service's.
    const sockets = await Promise.all(Array.from({ length: 4 }, async () => TestSocket.connect(node.url, await token('anon'))));
    const scrape = async () => {
      const response = await fetch(`${node.url}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/plain');
      return response.text();
    };
    await eventually(async () => [...perWorker(await scrape(), 'ticketpulse_ws_connections').values()].reduce((a, b) => a + b, 0) === 4, 'four connections counted', 10_000);
    // Every scrape, whichever worker the kernel gives it to, shows both workers' figures, process metrics included.
    for (let i = 0; i < 4; i++) {
      const text = await scrape();
      expect([...perWorker(text, 'ticketpulse_ws_connections').keys()].sort()).toEqual(['0', '1']);
      expect([...perWorker(text, 'ticketpulse_process_resident_memory_bytes').keys()].sort()).toEqual(['0', '1']);
      expect(perWorker(text, 'ticketpulse_process_resident_memory_bytes').get('1')).toBeGreaterThan(0);
    }
    for (const socket of sockets) socket.ws.close();
    await Promise.all(sockets.map((s) => s.closed));
  }, 60_000);

  it('answers GET /api/realtime/stats for both workers, whichever takes it: the organizer sees every viewer', async () => {
    await eventually(() => workerPids(node).length === 2, 'two workers serving', 60_000);
    const created = await post(
      '/api/events',
      { slug: `stats-${randomBytes(3).toString('hex')}`, name: 'Stats', startsAt: '2027-06-01T20:00:00Z', ticketTypes: [{ name: 'GA', totalCapacity: 10, maxPerOrder: 4 }] },
      'organizer',
    );
    const { event } = (await created.json()) as { event: { id: string } };
    // Handed to the workers in turn: these viewers sit on both.
    const sockets = await Promise.all(Array.from({ length: 4 }, async () => TestSocket.connect(node.url, await token('anon'))));
    for (const socket of sockets) await watch(socket, event.id);
    const organizer = await token('organizer');
    const stats = async () => {
      const response = await fetch(`${node.url}/api/realtime/stats`, { headers: { authorization: `Bearer ${organizer}` } });
      expect(response.status).toBe(200);
      return (await response.json()) as { connections: number; watchedEvents: number; viewers: Record<string, number> };
    };
    await eventually(async () => (await stats()).viewers[event.id] === 4, 'the four viewers counted', 10_000);
    // Every answer, whichever worker the kernel gives the request to, counts both workers' viewers and the event once.
    for (let i = 0; i < 4; i++) {
      const figures = await stats();
      expect(figures.viewers[event.id]).toBe(4);
      expect(figures.connections).toBeGreaterThanOrEqual(4);
      // The only event watched so far, on both workers: one event, not one per worker.
      expect(figures.watchedEvents).toBe(1);
    }
    for (const socket of sockets) socket.ws.close();
    await Promise.all(sockets.map((s) => s.closed));
  }, 60_000);

  it('serves from two processes on one port, every viewer exact, one sweeper leading; a killed worker is replaced; SIGTERM drains all', async () => {
    await eventually(() => workerPids(node).length === 2, 'two workers serving', 60_000);
    const [first, second] = workerPids(node) as [number, number];
    expect(first).not.toBe(second);
    expect(first).not.toBe(node.child.pid);

    const created = await post(
      '/api/events',
      { slug: `workers-${randomBytes(3).toString('hex')}`, name: 'Workers', startsAt: '2027-06-01T20:00:00Z', ticketTypes: [{ name: 'GA', totalCapacity: 100, maxPerOrder: 4 }] },
      'organizer',
    );
    expect(created.status).toBe(201);
    const { event } = (await created.json()) as { event: { id: string; ticketTypes: Array<{ id: string }> } };
    const ga = event.ticketTypes[0]!.id;

    // Connections are handed to the workers in turn: these viewers sit on both.
    const sockets: TestSocket[] = [];
    const views: EventView[] = [];
    for (let i = 0; i < VIEWERS; i++) {
      const socket = await TestSocket.connect(node.url, await token('anon'));
      sockets.push(socket);
      views.push(await watch(socket, event.id));
    }
    // So are the holds: whichever worker commits one, viewers on the other hear of it over the bus.
    for (let i = 0; i < 8; i++) expect((await post(`/api/events/${event.id}/reservations`, { items: [{ ticketTypeId: ga, quantity: 1 }] }, 'authenticated')).status).toBe(201);
    await eventually(() => views.every((v) => v.ticket(ga)?.reservedCount === 8), 'every viewer to see 8 held', 10_000);

    // One sweeper for both workers: exactly one live lease, and the holds run out and come back to every viewer.
    const leases = await admin.query<{ node: string }>(`SELECT node FROM ${schema}.leader_leases WHERE job = 'expiry-sweeper' AND lease_until > now()`);
    expect(leases.rows).toHaveLength(1);
    await eventually(() => views.every((v) => v.ticket(ga)?.reservedCount === 0 && v.ticket(ga)?.availableCount === 100), 'the holds to expire for every viewer', 15_000);
    expect((await admin.query(`SELECT * FROM ${schema}.verify_ticket_counts()`)).rows).toEqual([]);

    // A worker killed outright is replaced in its slot; the service never stops answering.
    process.kill(first, 'SIGKILL');
    await eventually(() => workerPids(node).length === 3, 'a replacement worker serving', 60_000);
    const replacement = workerPids(node)[2]!;
    expect(alive(first)).toBe(false);
    expect(alive(replacement)).toBe(true);
    expect((await post(`/api/events/${event.id}/reservations`, { items: [{ ticketTypeId: ga, quantity: 2 }] }, 'authenticated')).status).toBe(201);
    const survivors = views.filter((_, i) => sockets[i]!.ws.readyState === sockets[i]!.ws.OPEN);
    expect(survivors.length).toBeGreaterThan(0);
    await eventually(() => survivors.every((v) => v.ticket(ga)?.reservedCount === 2), 'viewers on the surviving worker to see the new hold', 10_000);

    // SIGTERM on the primary drains every worker: clients are told to reconnect elsewhere, and all exit.
    const open = sockets.filter((s) => s.ws.readyState === s.ws.OPEN);
    expect(await node.stop()).toBe(0);
    for (const socket of open) expect((await socket.closed).code).toBe(1012);
    expect(alive(second)).toBe(false);
    expect(alive(replacement)).toBe(false);
  }, 180_000);
});

// `start --demo --workers N`: the simulated buyers are one crowd, worker 0's, whichever worker takes /api/simulator.
describe.skipIf(!postgresUrl)('ticketpulse start --demo --workers on real PostgreSQL', () => {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: postgresUrl });
  let node: RunningNode;

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    node = await startNode({ DATABASE_URL: schemaUrl(schema), TICKETPULSE_JWT_SECRET: TEST_JWT_SECRET, LOG_FORMAT: 'json' }, ['--demo', '--workers', '2']);
  }, 120_000);
  afterAll(async () => {
    if (node) await node.stop();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  });

  it('switches and reads one simulator, whichever worker takes the request', async () => {
    await eventually(() => workerPids(node).length === 2, 'two workers serving', 60_000);
    const { token } = await new TokenVerifier(TEST_JWT_SECRET).sign({ userId: randomUUID(), role: 'organizer' }, 600);
    const simulator = async (running?: boolean) => {
      const response = await fetch(`${node.url}/api/simulator`, {
        method: running === undefined ? 'GET' : 'PUT',
        headers: { authorization: `Bearer ${token}`, ...(running !== undefined && { 'content-type': 'application/json' }) },
        ...(running !== undefined && { body: JSON.stringify({ running }) }),
      });
      expect(response.status).toBe(200);
      return ((await response.json()) as { running: boolean }).running;
    };
    // Connections go to the workers in turn: these requests reach both.
    for (let i = 0; i < 4; i++) expect(await simulator(true)).toBe(true);
    for (let i = 0; i < 6; i++) expect(await simulator()).toBe(true);
    // Started once, in one worker, however many workers were asked.
    expect(node.output().split('\n').filter((line) => line.includes('buyer simulator started'))).toHaveLength(1);
    for (let i = 0; i < 2; i++) expect(await simulator(false)).toBe(false);
    for (let i = 0; i < 6; i++) expect(await simulator()).toBe(false);
  }, 120_000);
});
