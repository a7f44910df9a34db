import { execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { CloseCode } from '@ticketpulse/protocol';
import pg from 'pg';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TokenVerifier } from '../src/auth/token-verifier.ts';
import { createTestDatabase, postgresUrl, type TestDatabase } from './support/database.ts';
import { createEvent as createFixtureEvent, typeId } from './support/fixtures.ts';
import { freePort } from './support/free-port.ts';
import { PhoenixSocket } from './support/phoenix-socket.ts';
import { startNode, type RunningNode } from './support/process.ts';
import { TestSocket } from './support/realtime-client.ts';
import { startRequest } from './support/request-in-flight.ts';
import { schemaUrl } from './support/schema-url.ts';
import { startTestServer, TEST_JWT_SECRET } from './support/server.ts';
import { eventually } from './support/viewer.ts';

const BIN = fileURLToPath(new URL('../bin/ticketpulse.js', import.meta.url));
const VIEWERS = 200;
/** Holds sent right before the SIGTERM, still in flight when it arrives. */
const IN_FLIGHT = 20;
/** Pings each chatty viewer sends right before the SIGTERM: within the default message budget (20 a second, bursts of 40). */
const PINGS = 10;
/** Generous: a stop that hangs on its clients fails here, not a slow one. */
const EXITS_WITHIN_MS = 20_000;

// `ticketpulse start` on SIGTERM (docs/protocol.md §9, shutdown): every client closed with 1012, silent and talking ones too, nothing committed lost.
describe.skipIf(!postgresUrl)('ticketpulse start stopping on SIGTERM, on real PostgreSQL', () => {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: postgresUrl });
  const verifier = new TokenVerifier(TEST_JWT_SECRET);
  const token = async (role: 'organizer' | 'authenticated' | 'anon') => (await verifier.sign({ userId: randomUUID(), role }, 600)).token;

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
  });
  // A test that fails before its SIGTERM must not leave its server running.
  const started: RunningNode[] = [];
  afterEach(() => {
    for (const node of started.splice(0)) if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill('SIGKILL');
  });
  afterAll(async () => {
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  });

  const start = async (args: string[] = []) => {
    const node = await startNode(
      {
        DATABASE_URL: schemaUrl(schema),
        TICKETPULSE_JWT_SECRET: TEST_JWT_SECRET,
        LOG_FORMAT: 'json',
        TICKETPULSE_HTTP_HOLDS_PER_MINUTE: '100000',
        TICKETPULSE_WS_MAX_CONNECTIONS_PER_IP: '100000',
        TICKETPULSE_WS_MAX_CONNECTIONS_PER_USER: '100000',
        TICKETPULSE_WS_CONNECTS_PER_IP_PER_SECOND: '100000',
      },
      args,
    );
    started.push(node);
    return node;
  };

  /** One event with one ticket type, for the holds. */
  async function createEvent(node: RunningNode): Promise<{ eventId: string; typeId: string }> {
    const created = await fetch(`${node.url}/api/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await token('organizer')}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        slug: `stop-${randomBytes(3).toString('hex')}`,
        name: 'Stopping',
        startsAt: '2027-06-01T20:00:00Z',
        ticketTypes: [{ name: 'GA', totalCapacity: 1000, maxPerOrder: 4 }],
      }),
    });
    expect(created.status).toBe(201);
    const { event } = (await created.json()) as { event: { id: string; ticketTypes: Array<{ id: string }> } };
    return { eventId: event.id, typeId: event.ticketTypes[0]!.id };
  }

  /** A hold over a connection of its own: 201 and its id, another status, or no answer at all (refused: the server stopped listening). */
  async function hold(node: RunningNode, eventId: string, typeId: string): Promise<{ status: number; id?: string; code?: string } | { failed: string }> {
    try {
      const response = await fetch(`${node.url}/api/events/${eventId}/reservations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await token('authenticated')}`, 'content-type': 'application/json', connection: 'close' },
        body: JSON.stringify({ items: [{ ticketTypeId: typeId, quantity: 1 }] }),
      });
      const body = (await response.json()) as { reservation?: { id: string }; error?: { code: string } };
      return { status: response.status, ...(body.reservation && { id: body.reservation.id }), ...(body.error && { code: body.error.code }) };
    } catch (error) {
      return { failed: String((error as { cause?: unknown }).cause ?? error) };
    }
  }

  /** Exits by itself on SIGTERM, with code 0. */
  async function stopped(node: RunningNode): Promise<void> {
    const exit = node.stop();
    const code = await Promise.race([exit, new Promise((resolve) => setTimeout(() => resolve('still running'), EXITS_WITHIN_MS))]);
    if (code === 'still running') node.child.kill('SIGKILL');
    expect(code).toBe(0);
  }

  it('closes every client of both endpoints with 1012, the ones that do not answer or are still sending included, answers the requests in flight, exits, and loses no committed hold', async () => {
    const node = await start();
    const { eventId, typeId } = await createEvent(node);
    const viewerToken = await token('anon');
    const sockets: TestSocket[] = [];
    for (let i = 0; i < VIEWERS; i++) sockets.push(await TestSocket.connect(node.url, viewerToken));
    await Promise.all(sockets.map((s) => s.subscribe(eventId)));
    const phoenix = await Promise.all(Array.from({ length: 4 }, () => PhoenixSocket.open(node.url, viewerToken)));
    // Half the viewers of each endpoint stop reading: they will not answer the server's close frame until after it has gone.
    const deaf = [...sockets, ...phoenix].filter((_, i) => i % 2 === 0);
    for (const socket of deaf) socket.ws.pause();
    const listening = [...sockets, ...phoenix].filter((_, i) => i % 2 === 1);
    // A quarter are still talking as the node stops: what they sent may be unread when their socket closes (a reset then).
    const chatty = sockets.filter((_, i) => i % 4 === 1);

    const committed = await hold(node, eventId, typeId);
    expect(committed).toMatchObject({ status: 201 });
    // Certainly in flight: the server has read its headers, its body comes once the node is shutting down.
    const held = await startRequest(
      node.url,
      'POST',
      `/api/events/${eventId}/reservations`,
      { authorization: `Bearer ${await token('authenticated')}` },
      { items: [{ ticketTypeId: typeId, quantity: 1 }] },
    );
    const inFlight = Array.from({ length: IN_FLIGHT }, () => hold(node, eventId, typeId));
    for (const socket of chatty) for (let i = 0; i < PINGS; i++) socket.send({ type: 'ping' });
    const exited = stopped(node);
    await eventually(() => listening.every((s) => s.ws.readyState !== WebSocket.OPEN), 'the listening clients told of the restart', EXITS_WITHIN_MS);
    const heldAnswer = await held.finish();
    await exited;
    const answers = await Promise.all(inFlight);

    // Every client got the close frame, the deaf ones too once they read again.
    for (const socket of deaf) socket.ws.resume();
    for (const socket of sockets) expect(await socket.closed).toEqual({ code: CloseCode.serviceRestart, reason: 'server restart' });
    for (const socket of phoenix) expect(await socket.closed).toBe(CloseCode.serviceRestart);

    // The request the server had begun when the node began to stop was served; each hold in flight either committed and was answered 201, or was refused.
    expect(heldAnswer).toMatchObject({ status: 201 });
    for (const answer of answers) {
      if ('status' in answer) expect(answer.status === 201 || (answer.status === 503 && answer.code === 'shutting_down'), JSON.stringify(answer)).toBe(true);
    }
    const heldId = (heldAnswer as { body: { reservation: { id: string } } }).body.reservation.id;
    const answered = [committed, ...answers].flatMap((a) => ('id' in a && a.id ? [a.id] : []));
    const { rows } = await admin.query<{ id: string }>(`SELECT id FROM ${schema}.reservations WHERE event_id = $1 AND status = 'active'`, [eventId]);
    expect(rows.map((r) => r.id).sort()).toEqual([heldId, ...answered].sort());
    expect((await admin.query(`SELECT * FROM ${schema}.verify_ticket_counts()`)).rows).toEqual([]);
  }, 120_000);

  it('with --workers 2, SIGTERM closes the clients of every worker and the primary and all workers exit', async () => {
    const node = await start(['--workers', '2']);
    await eventually(() => node.output().split('"msg":"worker serving"').length - 1 === 2, 'two workers serving', 60_000);
    const { eventId } = await createEvent(node);
    const viewerToken = await token('anon');
    const sockets: TestSocket[] = [];
    for (let i = 0; i < VIEWERS; i++) sockets.push(await TestSocket.connect(node.url, viewerToken));
    await Promise.all(sockets.map((s) => s.subscribe(eventId)));
    for (const socket of sockets.filter((_, i) => i % 2 === 0)) socket.ws.pause();
    const workers = node
      .output()
      .split('\n')
      .filter((line) => line.includes('"msg":"worker serving"'))
      .map((line) => (JSON.parse(line) as { pid: number }).pid);

    await stopped(node);
    for (const socket of sockets) socket.ws.resume();
    for (const socket of sockets) expect((await socket.closed).code).toBe(CloseCode.serviceRestart);
    for (const pid of workers) expect(() => process.kill(pid, 0)).toThrow();
  }, 180_000);

  it('with --workers 2, SIGTERM while one worker serves and the other is not up yet still drains: its clients get 1012 and the primary exits with code 0', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [BIN, 'start', '--workers', '2', '--port', String(port), '--host', '127.0.0.1'], {
      env: { ...process.env, DATABASE_URL: schemaUrl(schema), TICKETPULSE_JWT_SECRET: TEST_JWT_SECRET, LOG_FORMAT: 'json', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let workers: number[] = [];
    try {
      // Both workers paused as soon as they are forked (long before they listen), then one let go: one serves, one is not up yet.
      await eventually(() => (workers = childrenOf(child.pid!)).length === 2, 'two workers forked', 60_000);
      for (const pid of workers) process.kill(pid, 'SIGSTOP');
      process.kill(workers[0]!, 'SIGCONT');
      await eventually(() => output.includes('"msg":"worker serving"'), 'one worker serving', 60_000);
      expect(output).not.toContain('serving on'); // the primary has not announced the service: not every worker is up
      const socket = await TestSocket.connect(`http://127.0.0.1:${port}`, await token('anon'));

      child.kill('SIGTERM');
      process.kill(workers[1]!, 'SIGCONT');
      const code = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve('still running'), EXITS_WITHIN_MS))]);
      expect(code, output).toBe(0);
      expect((await socket.closed).code).toBe(CloseCode.serviceRestart);
      for (const pid of workers) expect(() => process.kill(pid, 0)).toThrow();
    } finally {
      for (const pid of [child.pid!, ...workers]) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
    }
  }, 120_000);
});

/** The process ids of a process's children (the workers of a primary). */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).trim().split('\n').map(Number);
  } catch {
    return []; // pgrep exits 1 when there are none
  }
}

// Embedders and tests close a service without the process ending: everything is closed before close resolves.
describe('service.close() in a process that goes on', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase('pglite');
  });
  afterAll(() => t.dispose());

  it('tells every client of both endpoints 1012, answers the request in flight, and resolves with every socket closed', async () => {
    // Every client shares one address and one anonymous user here.
    const server = await startTestServer(t.db, { realtime: { maxConnectionsPerUser: 1000, maxConnectionsPerIp: 1000, connectAttemptsPerIpPerSecond: 1000 } });
    const event = await createFixtureEvent(server.service.catalog);
    const viewerToken = await server.token('anon');
    const sockets = await Promise.all(Array.from({ length: 20 }, () => TestSocket.connect(server.url, viewerToken)));
    await Promise.all(sockets.map((s) => s.subscribe(event.id)));
    const phoenix = await Promise.all(Array.from({ length: 4 }, () => PhoenixSocket.open(server.url, viewerToken)));
    // Half of each kind stop reading: the close must not wait for their answers.
    const deaf = [...sockets, ...phoenix].filter((_, i) => i % 2 === 0);
    for (const socket of deaf) socket.ws.pause();
    const listening = [...sockets, ...phoenix].filter((_, i) => i % 2 === 1);
    const held = await startRequest(
      server.url,
      'POST',
      `/api/events/${event.id}/reservations`,
      { authorization: `Bearer ${await server.token('authenticated')}` },
      { items: [{ ticketTypeId: typeId(event, 'General'), quantity: 1 }] },
    );

    let closed = false;
    const closing = server.service.close().then(() => (closed = true));
    await eventually(() => listening.every((s) => s.ws.readyState !== WebSocket.OPEN), 'the listening clients told of the restart');
    // The request began before the close: the close waits for its answer.
    expect(closed).toBe(false);
    const answer = await held.finish();
    expect(answer).toMatchObject({ status: 201 });
    await closing;
    expect(server.service.gateway.stats.connections).toBe(0);
    expect(server.service.supabase.stats.sockets).toBe(0);

    for (const socket of deaf) socket.ws.resume();
    for (const socket of sockets) expect(await socket.closed).toEqual({ code: CloseCode.serviceRestart, reason: 'server restart' });
    for (const socket of phoenix) expect(await socket.closed).toBe(CloseCode.serviceRestart);
    const id = (answer as { body: { reservation: { id: string } } }).body.reservation.id;
    const { rows } = await t.db.query<{ status: string }>('SELECT status FROM reservations WHERE id = $1', [id]);
    expect(rows).toEqual([{ status: 'active' }]);
  });
});
