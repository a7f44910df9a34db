import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { ServerMessage, UpdatesMessage } from '@ticketpulse/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { PeriodicTask } from '../src/periodic-task.ts';
import { encodeTextFrame } from '../src/realtime/text-frame.ts';
import { createTestDatabase, drivers, type TestDatabase } from './support/database.ts';
import { createEvent, typeId } from './support/fixtures.ts';
import { TestSocket } from './support/realtime-client.ts';
import { startTestServer, type TestServer } from './support/server.ts';
import { eventually, watch } from './support/viewer.ts';

const metric = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);

// Shared frames are framed once and written to each socket as is (docs/architecture.md, "Fan-out").
describe('a frame framed once', () => {
  let http: Server;
  let wss: WebSocketServer;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    http = createServer();
    wss = new WebSocketServer({ server: http, perMessageDeflate: false });
    wss.on('connection', (ws) => sockets.push((ws as unknown as { _socket: Socket })._socket));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    wss.close();
    await new Promise((resolve) => http.close(resolve));
  });

  it('reaches a ws client as the same text, for every length encoding (7-bit, 16-bit, 64-bit)', async () => {
    const client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}`);
    const received: string[] = [];
    client.on('message', (data, isBinary) => received.push(`${isBinary ? 'binary' : 'text'}:${data.toString()}`));
    await new Promise((resolve) => client.once('open', resolve));
    await eventually(() => sockets.length === 1, 'the server side of the socket');
    // Exactly these many UTF-8 bytes, each side of where the length's encoding changes, some of them two-byte characters.
    const texts = [0, 125, 126, 65_535, 65_536, 200_000].map((bytes) => {
      const wide = Math.min(10, Math.floor(bytes / 2));
      return 'é'.repeat(wide) + 'x'.repeat(bytes - 2 * wide);
    });
    for (const text of texts) sockets[0]!.write(encodeTextFrame(Buffer.from(text)));
    await eventually(() => received.length === texts.length, 'every frame');
    expect(received).toEqual(texts.map((text) => `text:${text}`));
    client.close();
  });
});

describe('PeriodicTask (the tick’s clock)', () => {
  it('never overlaps a run that takes longer than the interval: the next begins after it ends', async () => {
    const runs: Array<{ began: number; ended?: number }> = [];
    let order = 0;
    const task = new PeriodicTask(5, async () => {
      const run: { began: number; ended?: number } = { began: order++ };
      runs.push(run);
      // Longer than the interval, awaited and busy: the way a long fan-out holds the event loop.
      await new Promise((resolve) => setTimeout(resolve, 20));
      const until = performance.now() + 10;
      while (performance.now() < until);
      run.ended = order++;
    });
    task.start();
    await eventually(() => runs.filter((r) => r.ended !== undefined).length >= 4, 'four runs');
    await task.stop();
    for (let i = 1; i < runs.length; i += 1) expect(runs[i]!.began).toBe(runs[i - 1]!.ended! + 1);
    // Stopped: no run begins after stop() has returned.
    const count = runs.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(runs.length).toBe(count);
  });
});

describe.each(drivers)('the gateway’s fan-out (%s)', (driver) => {
  let t: TestDatabase;
  let server: TestServer;

  beforeAll(async () => {
    t = await createTestDatabase(driver);
    server = await startTestServer(t.db, { realtime: { tickMs: 50 } });
  });
  afterAll(async () => {
    await server.close();
    await t.dispose();
  });

  it('sends every viewer of a change the same frame, uncompressed even when the client offers compression, counted in the metrics', async () => {
    const event = await createEvent(server.service.catalog);
    const general = typeId(event, 'General');
    const token = await server.token('anon');
    const raw: string[][] = [];
    const viewers: TestSocket[] = [];
    // One after another, within the per-address connection limits.
    for (let i = 0; i < 5; i += 1) {
      const socket = await TestSocket.connect(server.url, token);
      const frames: string[] = (raw[i] = []);
      socket.ws.on('message', (data) => frames.push(data.toString()));
      await watch(socket, event.id);
      viewers.push(socket);
    }
    // ws clients offer permessage-deflate by default; the gateway declines it (frames are written framed, uncompressed).
    for (const viewer of viewers) expect(viewer.ws.extensions).toBe('');
    const before = await (await fetch(`${server.url}/metrics`)).text();

    const hold = await server.request('POST', `/api/events/${event.id}/reservations`, {
      token: await server.token('authenticated', randomUUID()),
      body: { items: [{ ticketTypeId: general, quantity: 2 }] },
    });
    expect(hold.status).toBe(201);
    const updates = await Promise.all(viewers.map((v) => v.next<UpdatesMessage>((m) => m.type === 'updates')));
    for (const update of updates) expect(update.updates.find((u) => u.eventId === event.id)?.tickets.find((x) => x.ticketTypeId === general)?.availableCount).toBe(8);
    // Byte for byte the same frame for every viewer: built once.
    const frames = raw.map((messages) => messages.find((m) => m.startsWith('{"type":"updates"')));
    expect(new Set(frames).size).toBe(1);

    const after = await (await fetch(`${server.url}/metrics`)).text();
    expect(metric(after, 'ticketpulse_ws_messages_sent_total') - metric(before, 'ticketpulse_ws_messages_sent_total')).toBeGreaterThanOrEqual(viewers.length);
    expect(metric(after, 'ticketpulse_ws_bytes_sent_total') - metric(before, 'ticketpulse_ws_bytes_sent_total')).toBeGreaterThanOrEqual(viewers.length * frames[0]!.length);
    // The effective tick is measured from one tick to the next (the update itself may have gone out on the leading edge, before a second tick).
    await eventually(
      async () => metric(await (await fetch(`${server.url}/metrics`)).text(), 'ticketpulse_realtime_tick_interval_seconds_count') > 0,
      'the effective tick to be measured',
    );
    for (const viewer of viewers) viewer.close();
  });
});

// A fan-out writes the frames carrying the oldest change first (docs/protocol.md, "Coalescing and timing").
describe.each(drivers)('the order of a fan-out (%s)', (driver) => {
  let t: TestDatabase;
  let server: TestServer;

  beforeAll(async () => {
    t = await createTestDatabase(driver);
    // No leading edge and a quick reconcile: changes made in SQL are read together, on the tick.
    server = await startTestServer(t.db, { realtime: { tickMs: 100, reconcileMs: 300, leadingEdge: false } });
  });
  afterAll(async () => {
    await server.close();
    await t.dispose();
  });

  it('writes a quiet event’s change that waited for the tick before the busy event’s frames to everyone else', async () => {
    // The busy event sorts first, so its change is taken in first: without the order, its viewers are written in the order they subscribed.
    const [busy, quiet] = [await createEvent(server.service.catalog), await createEvent(server.service.catalog)].sort((a, b) => (a.id < b.id ? -1 : 1));
    const token = await server.token('anon');
    const others = await Promise.all(Array.from({ length: 8 }, () => TestSocket.connect(server.url, token)));
    for (const socket of others) await watch(socket, busy!.id);
    const both = await TestSocket.connect(server.url, token);
    await watch(both, busy!.id);
    const quietView = await watch(both, quiet!.id);
    const viewers = [...others, both];
    // Which socket's `updates` frame arrived in which place, and the events it carried: the sockets share this process, so frames arrive in the order they were written.
    const arrivals: Array<{ socket: TestSocket; eventIds: string[] }> = [];
    for (const socket of viewers) {
      socket.ws.on('message', (data) => {
        const message = JSON.parse(data.toString()) as ServerMessage;
        if (message.type === 'updates') arrivals.push({ socket, eventIds: message.updates.map((u) => u.eventId) });
      });
    }

    // One transaction: the quiet event changes first, the busy one a little later (commit times are compared in ms), and the same tick reads both.
    await t.db.transaction(async (tx) => {
      await tx.query('UPDATE event_tickets SET total_capacity = total_capacity + 1 WHERE id = $1', [typeId(quiet!, 'General')]);
      await tx.query('SELECT pg_sleep(0.02)');
      await tx.query('UPDATE event_tickets SET total_capacity = total_capacity + 1 WHERE id = $1', [typeId(busy!, 'General')]);
    });

    // Every viewer gets the busy event's change; on a loaded machine a tick that read the busy event just before
    // (while the viewers subscribed) defers it to the next, so the dual viewer may get the two changes in two frames.
    const got = (socket: TestSocket, eventId: string) => arrivals.some((a) => a.socket === socket && a.eventIds.includes(eventId));
    await eventually(() => viewers.every((socket) => got(socket, busy!.id)) && got(both, quiet!.id), 'every viewer’s frame');
    expect(quietView.ticket(typeId(quiet!, 'General'))?.totalCapacity).toBe(11);
    // The frame with the quiet event's change went out first, before the busy event's frames to everyone else.
    expect(arrivals.findIndex((a) => a.socket === both)).toBe(0);
    expect(arrivals[0]!.eventIds).toContain(quiet!.id);
    for (const socket of viewers) socket.close();
  });
});
