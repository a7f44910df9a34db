import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { CloseCode } from '@ticketpulse/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { createEvent, typeId } from '../support/fixtures.ts';
import { TestSocket } from '../support/realtime-client.ts';
import { recordReliability } from '../support/reliability-report.ts';
import { startTestServer, type TestServer, type TestServerOptions } from '../support/server.ts';
import { eventually, watch } from '../support/viewer.ts';

/** Slack on top of a configured timeout before calling it missed: a loaded 2-core machine is slow, not broken. */
const SLACK_MS = 5000;
/** Generous: loopback round trips take milliseconds; this only catches a server stuck behind the attackers. */
const LEGIT_LATENCY_BOUND_MS = 2000;

/** A raw TCP connection that records what the server sends and when it closes. */
interface Raw {
  socket: Socket;
  received: () => Buffer;
  /** Milliseconds from opening to the server closing it. */
  closedAfter: Promise<number>;
}

async function openRaw(url: string): Promise<Raw> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const chunks: Buffer[] = [];
  const openedAt = Date.now();
  socket.on('data', (chunk) => chunks.push(chunk));
  socket.on('error', () => {});
  const closedAfter = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now() - openedAt)));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return { socket, received: () => Buffer.concat(chunks), closedAfter };
}

const upgradeRequest = (url: string, path: string) =>
  `GET ${path} HTTP/1.1\r\nHost: ${new URL(url).host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`;

/** A client frame (masked, as clients must), optionally announcing a length other than the payload's. */
function frame(opcode: number, payload: Buffer, { fin = true, announced = payload.length }: { fin?: boolean; announced?: number } = {}): Buffer {
  const head = [(fin ? 0x80 : 0) | opcode];
  if (announced < 126) head.push(0x80 | announced);
  else if (announced < 65_536) head.push(0x80 | 126, announced >> 8, announced & 0xff);
  else {
    const length = Buffer.alloc(8);
    length.writeBigUInt64BE(BigInt(announced));
    head.push(0x80 | 127, ...length);
  }
  const mask = randomBytes(4);
  const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from(head), mask, masked]);
}

/** The close code of the first close frame the server sent after its 101, if any. */
function closeCode(received: Buffer): number | undefined {
  let at = received.indexOf('\r\n\r\n') + 4;
  while (at + 2 <= received.length) {
    const opcode = received[at]! & 0x0f;
    let length = received[at + 1]! & 0x7f;
    let start = at + 2;
    if (length === 126) {
      length = received.readUInt16BE(start);
      start += 2;
    } else if (length === 127) {
      length = Number(received.readBigUInt64BE(start));
      start += 8;
    }
    if (opcode === 8) return received.readUInt16BE(start);
    at = start + length;
  }
  return undefined;
}

/** Completes a WebSocket handshake on a raw connection. */
async function handshake(url: string, path: string): Promise<Raw> {
  const raw = await openRaw(url);
  raw.socket.write(upgradeRequest(url, path));
  await eventually(() => raw.received().includes('\r\n\r\n'), 'the 101 answer');
  expect(raw.received().toString('latin1', 0, 12)).toBe('HTTP/1.1 101');
  return raw;
}

const statusLine = (raw: Raw) => raw.received().toString('latin1').split('\r\n')[0] || '(nothing)';
const tally = (items: string[]) => items.reduce<Record<string, number>>((acc, item) => ((acc[item] = (acc[item] ?? 0) + 1), acc), {});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('slow clients and oversized frames', () => {
  let t: TestDatabase;
  const servers: TestServer[] = [];
  const raws: Raw[] = [];
  const serve = async (options: TestServerOptions) => {
    const server = await startTestServer(t.db, options);
    servers.push(server);
    return server;
  };

  beforeAll(async () => {
    t = await createTestDatabase('pglite');
  });
  afterEach(async () => {
    for (const raw of raws.splice(0)) raw.socket.destroy();
    for (const server of servers.splice(0)) await server.close();
  });
  afterAll(() => t.dispose());

  it('sets request timeouts by default: 10 s for headers, 30 s for a whole request', async () => {
    const { app } = (await serve({})).service;
    expect([app.server.headersTimeout, app.server.requestTimeout]).toEqual([10_000, 30_000]);
  });

  it('times out slow and unfinished handshakes, and keeps serving a legitimate viewer meanwhile', async () => {
    const timeouts = { headersMs: 1000, requestMs: 2000, checkEveryMs: 250 };
    const server = await serve({ httpTimeouts: timeouts });
    const event = await createEvent(server.service.catalog);
    const control = await TestSocket.connect(server.url, await server.token());
    const view = await watch(control, event.id);

    // Dribblers send an upgrade request a byte every 100 ms (it would take ~20 s); the silent send nothing; the stalled stop half-way.
    const request = upgradeRequest(server.url, `/realtime?token=${await server.token()}`);
    const kinds = [...Array<string>(40).fill('dribbling'), ...Array<string>(40).fill('silent'), ...Array<string>(20).fill('stalled')];
    const attackers = await Promise.all(kinds.map(async (kind) => ({ kind, raw: await openRaw(server.url) })));
    raws.push(...attackers.map((a) => a.raw));
    let dribbling = true;
    void (async () => {
      for (let i = 0; dribbling && i < request.length; i++) {
        for (const a of attackers) if (a.kind === 'dribbling' && !a.raw.socket.destroyed) a.raw.socket.write(request[i]!);
        await sleep(100);
      }
    })();
    for (const a of attackers) if (a.kind === 'stalled') a.raw.socket.write(request.slice(0, request.length / 2));

    // Meanwhile: round trips and updates for the legitimate viewer, reads for a legitimate HTTP client.
    const latencies: number[] = [];
    const general = typeId(event, 'General');
    for (let i = 1; i <= 8; i++) {
      const started = Date.now();
      control.send({ type: 'ping', ref: `p${i}` });
      await control.next((m) => m.type === 'pong' && m.ref === `p${i}`);
      expect((await server.request('GET', `/api/events/${event.id}`)).status).toBe(200);
      latencies.push(Date.now() - started);
      await server.service.holds.reserve({ eventId: event.id, holderId: `h${i}`, items: [{ ticketTypeId: general, quantity: 1 }] });
      await sleep(150);
    }
    await eventually(() => view.ticket(general)?.reservedCount === 8, 'the viewer to see every hold');

    const closedAfter = await Promise.all(attackers.map((a) => a.raw.closedAfter));
    dribbling = false;
    const answers = tally(attackers.map((a) => `${a.kind}: ${statusLine(a.raw)}`));
    await recordReliability({
      fault: 'slowloris on the WebSocket upgrade: 40 clients dribbling the request a byte per 100 ms, 40 silent after connecting, 20 stalled half-way (headers timeout 1 s in the test; 10 s by default)',
      injected: attackers.length,
      checked: ['every slow connection closed by the server within the headers timeout plus the check interval (plus slack)', 'a legitimate viewer keeps its round trips and gets every update', 'HTTP reads keep working'],
      figures: { connections: attackers.length, closedAfterMaxMs: Math.max(...closedAfter), closedAfterMinMs: Math.min(...closedAfter), legitMaxRoundTripMs: Math.max(...latencies), ...answers },
    });
    expect(Math.max(...closedAfter)).toBeLessThan(timeouts.headersMs + timeouts.checkEveryMs + SLACK_MS);
    // Nobody got through: no 101 to any of them.
    expect(Object.keys(answers).filter((answer) => answer.includes(' 101'))).toEqual([]);
    expect(Math.max(...latencies)).toBeLessThan(LEGIT_LATENCY_BOUND_MS);
    expect(view.gaps).toBe(0);
  });

  it('times out a request whose body is sent too slowly with 408', async () => {
    const timeouts = { headersMs: 1000, requestMs: 2000, checkEveryMs: 250 };
    const server = await serve({ httpTimeouts: timeouts });
    const event = await createEvent(server.service.catalog);
    const raw = await openRaw(server.url);
    raws.push(raw);
    raw.socket.write(
      `POST /api/events/${event.id}/reservations HTTP/1.1\r\nHost: ${new URL(server.url).host}\r\nAuthorization: Bearer ${await server.token()}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{',
    );
    const ticker = setInterval(() => raw.socket.write(' '), 100);
    try {
      const closedAfter = await raw.closedAfter;
      await recordReliability({
        fault: 'slow request body: a hold whose 500-byte body is dribbled a byte per 100 ms (request timeout 2 s in the test; 30 s by default)',
        injected: 1,
        checked: ['answered 408 and closed within the request timeout plus the check interval (plus slack)', 'no hold made'],
        figures: { closedAfterMs: closedAfter, answer: statusLine(raw) },
      });
      expect(statusLine(raw)).toBe('HTTP/1.1 408 Request Timeout');
      expect(closedAfter).toBeLessThan(timeouts.requestMs + timeouts.checkEveryMs + SLACK_MS);
    } finally {
      clearInterval(ticker);
    }
    const { rows } = await t.db.query<{ n: number }>('SELECT count(*)::integer AS n FROM reservations WHERE event_id = $1', [event.id]);
    expect(rows[0]!.n).toBe(0);
  });

  it('closes a connection that never authenticates (4003) and reaps an authenticated one dribbling a frame', async () => {
    const server = await serve({ realtime: { authTimeoutMs: 500, heartbeatMs: 300 } });
    const silent = await handshake(server.url, '/realtime');
    const dribbler = await handshake(server.url, `/realtime?token=${await server.token()}`);
    raws.push(silent, dribbler);
    // A text frame announcing 1000 bytes, of which one comes every 100 ms: no pong can get through it.
    const whole = frame(1, Buffer.from(JSON.stringify({ type: 'ping', ref: 'x'.repeat(1000 - 26) })));
    dribbler.socket.write(whole.subarray(0, 8));
    let sent = 8;
    const ticker = setInterval(() => dribbler.socket.write(whole.subarray(sent, ++sent)), 100);
    try {
      const [silentAfter, dribblerAfter] = await Promise.all([silent.closedAfter, dribbler.closedAfter]);
      await recordReliability({
        fault: 'slow WebSocket clients: one never sends auth (auth timeout 500 ms), one authenticated dribbling a 1000-byte frame a byte per 100 ms (heartbeat 300 ms)',
        injected: 2,
        checked: ['the silent one closed with 4003, its socket destroyed 2 s later when it does not answer the close (was 30 s)', 'the dribbler terminated by the heartbeat within two intervals (plus slack)'],
        figures: { silentClosedAfterMs: silentAfter, silentCloseCode: closeCode(silent.received()) ?? 'none', dribblerClosedAfterMs: dribblerAfter, dribblerBytesSent: sent },
      });
      expect(closeCode(silent.received())).toBe(CloseCode.authTimeout);
      // 4003 at the auth timeout; the socket itself once the close goes unanswered for 2 s.
      expect(silentAfter).toBeLessThan(500 + 2000 + SLACK_MS);
      expect(dribblerAfter).toBeLessThan(2 * 300 + SLACK_MS);
      expect(sent).toBeLessThan(whole.length);
    } finally {
      clearInterval(ticker);
    }
    await eventually(() => server.service.gateway.stats.connections === 0, 'the server to forget both');
  });

  it('closes with 1009 on frames announced or assembled past the size limit, without waiting for them, and keeps serving others', async () => {
    const maxFrameBytes = 4096;
    const server = await serve({ realtime: { maxFrameBytes } });
    const control = await TestSocket.connect(server.url, await server.token());
    const token = await server.token();
    const cases: Array<[string, Buffer[]]> = [
      ['announces 1 GB, sends 10 bytes', [frame(1, Buffer.alloc(10), { announced: 1e9 })]],
      ['announces 2^53 bytes', [frame(1, Buffer.alloc(0), { announced: Number.MAX_SAFE_INTEGER })]],
      ['announces one byte over the limit', [frame(1, Buffer.alloc(0), { announced: maxFrameBytes + 1 })]],
      ['ten 1 KB fragments of one message', [frame(1, Buffer.alloc(1024, 0x20), { fin: false }), ...Array.from({ length: 9 }, () => frame(0, Buffer.alloc(1024, 0x20), { fin: false }))]],
      ['a 5 KB binary frame', [frame(2, randomBytes(5 * 1024))]],
    ];
    const outcomes: Record<string, string> = {};
    for (const [name, frames] of cases) {
      const raw = await handshake(server.url, `/realtime?token=${token}`);
      raws.push(raw);
      for (const f of frames) raw.socket.write(f);
      const closedAfter = await raw.closedAfter;
      outcomes[name] = `${closeCode(raw.received()) ?? 'none'} after ${closedAfter} ms`;
      expect([name, closeCode(raw.received())]).toEqual([name, CloseCode.messageTooBig]);
      control.send({ type: 'ping', ref: name });
      await control.next((m) => m.type === 'pong' && m.ref === name);
    }
    await recordReliability({
      fault: `oversized WebSocket frames (limit ${maxFrameBytes} bytes): announced lengths of 1 GB, 2^53 and limit+1 without the payload, a message assembled from fragments past the limit, an oversized binary frame`,
      injected: cases.length,
      checked: ['each closed with 1009 as soon as the header or the fragment passing the limit arrives', 'a control client keeps its round trips'],
      figures: outcomes,
    });
    await eventually(() => server.service.gateway.stats.connections === 1, 'only the control connection to remain');
  });
});
