import { randomUUID } from 'node:crypto';
import type { QueueEntryMessage, QueueMessage, ServerMessage, SubscribedMessage } from '@ticketpulse/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, drivers, type TestDatabase } from './support/database.ts';
import { createEvent, typeId } from './support/fixtures.ts';
import { TestSocket } from './support/realtime-client.ts';
import { startTestServer, type TestServer } from './support/server.ts';
import { eventually } from './support/viewer.ts';

const isQueue = (m: ServerMessage): m is QueueMessage => m.type === 'queue';
const isEntry = (m: ServerMessage): m is QueueEntryMessage => m.type === 'queue_entry';

describe.each(drivers)('waiting room over the realtime gateway (%s)', (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  let organizer: string;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    t = await createTestDatabase(driver);
    server = await startTestServer(t.db, { admission: { tickMs: 50, leaseMs: 500 } });
    organizer = await server.token('organizer');
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
  });
  afterAll(async () => {
    await server.close();
    await t.dispose();
  });

  /** A visitor: their user id and token. */
  const visitor = async () => {
    const userId = randomUUID();
    return { userId, token: await server.token('authenticated', userId) };
  };
  /** A connection with this token, and every text frame it receives as sent. */
  const connect = async (token: string) => {
    const socket = await TestSocket.connect(server.url, token);
    const raw: string[] = [];
    socket.ws.on('message', (data) => raw.push(data.toString()));
    sockets.push(socket);
    return { socket, raw };
  };
  /** An event and its waiting room, opened a second ago; `paused` is applied after setting it up. */
  async function queuedEvent(settings: Record<string, unknown> = {}, options: { paused?: boolean; capacity?: number } = {}) {
    const event = await createEvent(server.service.catalog, {
      ...(options.capacity !== undefined && { ticketTypes: [{ name: 'General', price: '20.00', totalCapacity: options.capacity, maxPerOrder: 4 }] }),
    });
    const put = await server.request('PUT', `/api/events/${event.slug}/queue`, {
      token: organizer,
      body: { opensAt: new Date(Date.now() - 1000).toISOString(), admitPerMinute: 6000, ...settings },
    });
    expect(put.status).toBe(200);
    if (options.paused) await configure(event.id, { paused: true });
    return event;
  }
  const configure = async (eventId: string, body: Record<string, unknown>) => {
    const patch = await server.request('PATCH', `/api/events/${eventId}/queue`, { token: organizer, body });
    expect(patch.status).toBe(200);
  };
  const join = async (eventId: string, token: string) => {
    const response = await server.request('POST', `/api/events/${eventId}/queue/entries`, { token });
    expect(response.status).toBe(201);
    return response.body.entry as { id: string; position: number };
  };
  const queueFrames = (socket: TestSocket, eventId: string) => socket.received.filter(isQueue).filter((m) => m.eventId === eventId);
  const entryFrames = (socket: TestSocket) => socket.received.filter(isEntry);

  it('sends every subscriber the same queue frame bytes, after the state in the subscribe reply, as admission moves on', async () => {
    const event = await queuedEvent({ admitPerMinute: 120 });
    const a = await connect(await server.token('anon'));
    const b = await connect(await server.token('anon'));
    const reply = (await a.socket.subscribe(event.slug)) as SubscribedMessage;
    await b.socket.subscribe(event.id);
    expect(reply.queue).toMatchObject({ eventId: event.id, status: 'open', servedUpTo: 0, length: 0, ticketsLeft: 12 });
    for (let i = 0; i < 3; i += 1) await join(event.id, (await visitor()).token);

    await eventually(() => queueFrames(b.socket, event.id).some((m) => m.servedUpTo === 3), 'b is told all three were served');
    await eventually(() => queueFrames(a.socket, event.id).some((m) => m.servedUpTo === 3), 'a is told all three were served');
    // Identical bytes: each frame b got, a got too, byte for byte (a subscribed first, so it may have one more).
    const rawQueue = (raw: string[]) => raw.filter((frame) => frame.startsWith('{"type":"queue",'));
    const fromA = new Set(rawQueue(a.raw));
    // How many depends on how the ticks coalesced joins and admissions on a busy machine: at least the one that said all three were served.
    expect(rawQueue(b.raw).some((frame) => (JSON.parse(frame) as { servedUpTo: number }).servedUpTo === 3)).toBe(true);
    for (const frame of rawQueue(b.raw)) expect(fromA.has(frame)).toBe(true);
    // The frames follow the admission ticks: the line grows as visitors join, served-up-to only rises, as the API reads it.
    const served = queueFrames(a.socket, event.id).map((m) => m.servedUpTo);
    expect(served).toEqual([...served].sort((x, y) => x - y));
    expect(Math.max(...queueFrames(a.socket, event.id).map((m) => m.length))).toBeGreaterThanOrEqual(1);
    const api = await server.request('GET', `/api/events/${event.id}/queue`, { token: organizer });
    expect(queueFrames(a.socket, event.id).at(-1)).toMatchObject({ servedUpTo: api.body.queue.servedUpTo, length: api.body.queue.length, status: 'open' });
  });

  it("tells a visitor alone of their own entry: waiting with the frame's formula, admitted with a pass, then expired", async () => {
    const event = await queuedEvent({ passSeconds: 2 }, { paused: true });
    const alice = await visitor();
    const bob = await visitor();
    const aliceEntry = await join(event.id, alice.token);
    const bobEntry = await join(event.id, bob.token);
    const aliceSocket = (await connect(alice.token)).socket;
    const bobSocket = (await connect(bob.token)).socket;
    const stranger = (await connect(await server.token('anon'))).socket;
    const subscribed = (await aliceSocket.subscribe(event.id)) as SubscribedMessage;
    await bobSocket.subscribe(event.id);
    await stranger.subscribe(event.id);

    const first = await aliceSocket.next<QueueEntryMessage>(isEntry);
    expect(first.entry).toMatchObject({ id: aliceEntry.id, status: 'waiting', position: 1, pass: null });
    // What the client computes from the shared state equals what the server says.
    expect(first.entry.position! - subscribed.queue!.servedUpTo - 1).toBe(first.entry.peopleAhead);

    await configure(event.id, { paused: false, admitPerMinute: 60 });
    const admitted = await aliceSocket.next<QueueEntryMessage>((m) => isEntry(m) && m.entry.status === 'admitted');
    expect(admitted.entry.pass).toEqual(expect.any(String));
    const expired = await aliceSocket.next<QueueEntryMessage>((m) => isEntry(m) && m.entry.status === 'expired');
    expect(expired.entry.id).toBe(aliceEntry.id);

    await bobSocket.next((m) => isEntry(m) && m.entry.status === 'admitted');
    expect(entryFrames(bobSocket).every((m) => m.entry.id === bobEntry.id)).toBe(true);
    expect(entryFrames(aliceSocket).every((m) => m.entry.id === aliceEntry.id)).toBe(true);
    expect(entryFrames(stranger)).toEqual([]);
    expect(queueFrames(stranger, event.id).length).toBeGreaterThan(0);
  });

  it('tells a visitor whose pass ran out and who joined again over HTTP of their new turn, as it comes (not at the next presence round)', async () => {
    // Presence rounds every 30 s: the rejoined entry must be noticed sooner than that.
    // A pass long enough for the node's once-a-second look at a subscriber with no entry yet to see it admitted.
    const event = await queuedEvent({ abandonAfterSeconds: 120, passSeconds: 3 });
    const carol = await visitor();
    const socket = (await connect(carol.token)).socket;
    await socket.subscribe(event.id);
    const first = await join(event.id, carol.token);
    await socket.next<QueueEntryMessage>((m) => isEntry(m) && m.entry.status === 'admitted');
    // The node has seen the entry end: it is one this node will not hear of again by itself.
    await socket.next<QueueEntryMessage>((m) => isEntry(m) && m.entry.status === 'expired', 10_000);
    const again = await server.request('POST', `/api/events/${event.id}/queue/entries`, { token: carol.token });
    expect([again.status, again.body.entry.position]).toEqual([200, first.position + 1]);
    const admitted = await socket.next<QueueEntryMessage>((m) => isEntry(m) && m.entry.status === 'admitted', 5000);
    expect(admitted.entry).toMatchObject({ id: first.id, position: first.position + 1, pass: expect.any(String) });
  });

  it("tells a visitor's other connections within a tick when they leave over HTTP, and when they join again (not at their turn or the next presence round)", async () => {
    // Paused, so their turn never comes; presence rounds every 150 s.
    const event = await queuedEvent({ abandonAfterSeconds: 600 }, { paused: true });
    await join(event.id, (await visitor()).token);
    const dave = await visitor();
    const { position } = await join(event.id, dave.token);
    const tabs = [(await connect(dave.token)).socket, (await connect(dave.token)).socket];
    for (const tab of tabs) {
      await tab.subscribe(event.id);
      await tab.next<QueueEntryMessage>((m) => isEntry(m) && m.entry.status === 'waiting');
    }
    // Past the node's first look at every subscriber's entry (its presence round), which would find any change by itself.
    await new Promise((resolve) => setTimeout(resolve, 500));

    const left = await server.request('DELETE', `/api/events/${event.id}/queue/entries/me`, { token: dave.token });
    expect([left.status, left.body.entry.status]).toEqual([200, 'closed']);
    for (const tab of tabs) await tab.next<QueueEntryMessage>((m) => isEntry(m) && m.entry.status === 'closed', 2000);

    const again = await server.request('POST', `/api/events/${event.id}/queue/entries`, { token: dave.token });
    expect(again.body.entry).toMatchObject({ status: 'waiting', position: position + 1 });
    for (const tab of tabs) {
      const back = await tab.next<QueueEntryMessage>((m) => isEntry(m) && m.entry.status === 'waiting' && m.entry.position === position + 1, 2000);
      // Their old place counts until the line passes it (docs/waiting-room.md).
      expect(back.entry).toMatchObject({ eventId: event.id, peopleAhead: position });
    }
  });

  it.each([
    [true, 'at once, not at the next realtime tick,'],
    [false, 'at the next realtime tick with TICKETPULSE_TICK_LEADING_EDGE=off, even'],
  ])("sends the admission leader's viewers each admission's frame (leading edge %s) %s when they had none within the last tick", async (leadingEdge) => {
    // A 3 s realtime tick: a frame that waited for it would come up to 3 s late.
    const slow = await startTestServer(t.db, { realtime: { tickMs: 3000, leadingEdge }, admission: { tickMs: 50, leaseMs: 500 } });
    // The other node gives the admission lease up for the while.
    await server.service.queueAdmission.stop();
    try {
      const event = await createEvent(slow.service.catalog);
      const opensAt = new Date(Date.now() - 1000).toISOString();
      const put = await slow.request('PUT', `/api/events/${event.id}/queue`, { token: organizer, body: { opensAt, admitPerMinute: 6000 } });
      expect(put.status).toBe(200);
      await configure(event.id, { paused: true });
      await eventually(() => slow.service.queueAdmission.isLeader, 'the slow node to lead admission');
      const viewer = await TestSocket.connect(slow.url, await slow.token('anon'));
      sockets.push(viewer);
      await viewer.subscribe(event.id);
      for (let i = 0; i < 3; i += 1) await join(event.id, (await visitor()).token);
      // The joins go out on a tick; then a whole tick passes with no frame. Joins that straddle a tick (slow on a
      // loaded machine) show up over two: the first one's, then the next one at least a tick after it.
      await viewer.next<QueueMessage>((m) => isQueue(m) && m.eventId === event.id && m.length === 3, 10_000);
      await new Promise((resolve) => setTimeout(resolve, 3100));

      await configure(event.id, { paused: false });
      // The first admission tick's frame (it may let in fewer than all three; the rest then go out on the tick).
      const served = (m: ServerMessage) => isQueue(m) && m.eventId === event.id && m.servedUpTo > 0;
      if (!leadingEdge) {
        await new Promise((resolve) => setTimeout(resolve, 1500));
        expect(viewer.received.some(served)).toBe(false);
      }
      const admitted = await viewer.next<QueueMessage>(served, leadingEdge ? 2000 : 5000);
      // length counts those still waiting.
      expect(admitted).toMatchObject({ status: 'open', length: 3 - admitted.servedUpTo });
      const allServed = (m: ServerMessage) => isQueue(m) && m.eventId === event.id && m.servedUpTo === 3 && m.length === 0;
      await eventually(() => viewer.received.some(allServed), 'all three served', 5000);
    } finally {
      await slow.close();
      server.service.queueAdmission.start();
    }
  });

  it('tells a subscribed pre-queue visitor their drawn position when the queue opens, without polling', async () => {
    const event = await createEvent(server.service.catalog);
    const put = await server.request('PUT', `/api/events/${event.slug}/queue`, {
      token: organizer,
      body: { opensAt: new Date(Date.now() + 1500).toISOString(), admitPerMinute: 60 },
    });
    expect(put.status).toBe(200);
    const carol = await visitor();
    const carolEntry = await join(event.id, carol.token);
    const socket = (await connect(carol.token)).socket;
    await socket.subscribe(event.id);
    const first = await socket.next<QueueEntryMessage>(isEntry);
    expect(first.entry).toMatchObject({ id: carolEntry.id, status: 'prequeue', position: null });

    const placed = await socket.next<QueueEntryMessage>((m) => isEntry(m) && m.entry.position !== null);
    expect(placed.entry).toMatchObject({ id: carolEntry.id, position: 1 });
    expect(['waiting', 'admitted']).toContain(placed.entry.status);
  });

  it('tells every waiting subscriber when the event sells out with nothing held', async () => {
    const event = await queuedEvent({ maxActiveShoppers: 1 }, { capacity: 1 });
    const buyer = await visitor();
    const waiting = await visitor();
    await join(event.id, buyer.token);
    await join(event.id, waiting.token);
    const { socket } = await connect(waiting.token);
    await socket.subscribe(event.id);
    await eventually(async () => {
      const me = await server.request('GET', `/api/events/${event.id}/queue/entries/me`, { token: buyer.token });
      return me.body.entry.status === 'admitted';
    }, 'the buyer is admitted');
    const hold = await server.request('POST', `/api/events/${event.id}/reservations`, {
      token: buyer.token,
      body: { items: [{ ticketTypeId: typeId(event, 'General'), quantity: 1 }] },
    });
    expect(hold.status).toBe(201);
    await socket.next((m) => isQueue(m) && m.status === 'held_out');
    const confirm = await server.request('POST', `/api/reservations/${hold.body.reservation.id}/confirm`, { token: buyer.token });
    expect(confirm.status).toBe(200);
    const soldOut = await socket.next<QueueMessage>((m) => isQueue(m) && m.status === 'sold_out');
    expect(soldOut.ticketsLeft).toBe(0);
    const mine = await socket.next<QueueEntryMessage>((m) => isEntry(m) && m.entry.status === 'sold_out');
    expect(mine.entry.position).toBe(2);
  });

  it('counts a visitor connected over the socket as present: they are admitted while an absent one is skipped', async () => {
    const event = await queuedEvent({ abandonAfterSeconds: 4, admitPerMinute: 60 }, { paused: true });
    const absent = await visitor();
    const present = await visitor();
    await join(event.id, absent.token);
    const presentEntry = await join(event.id, present.token);
    const { socket } = await connect(present.token);
    await socket.subscribe(event.id);
    // Neither has been seen for an hour, as far as the database knows.
    await t.db.query(`UPDATE queue_entries SET last_seen_at = now() - interval '1 hour' WHERE event_id = $1`, [event.id]);
    await eventually(async () => {
      const { rows } = await t.db.query<{ fresh: boolean }>(
        `SELECT last_seen_at > now() - interval '1 minute' AS fresh FROM queue_entries WHERE id = $1`,
        [presentEntry.id],
      );
      return rows[0]!.fresh;
    }, 'the connected visitor is marked seen');
    await configure(event.id, { paused: false });
    const admitted = await socket.next<QueueEntryMessage>((m) => isEntry(m) && m.entry.status === 'admitted');
    expect(admitted.entry.position).toBe(2);
    const { rows } = await t.db.query<{ holder_id: string; skipped: boolean }>('SELECT holder_id, skipped FROM queue_entries WHERE event_id = $1', [event.id]);
    expect(Object.fromEntries(rows.map((r) => [r.holder_id, r.skipped]))).toEqual({ [absent.userId]: true, [present.userId]: false });
  });

  it('answers the polling route with the room as the queue frame shows it, an ETag and when to ask again; If-None-Match gets 304 until the entry changes', async () => {
    const event = await queuedEvent({}, { paused: true, capacity: 7 });
    const { token } = await visitor();
    await join(event.id, token);
    const path = `/api/events/${event.id}/queue/entries/me`;
    const first = await server.request('GET', path, { token });
    expect(first.status).toBe(200);
    expect(first.body.entry.status).toBe('waiting');
    expect(first.body.pollAfterMs).toBeGreaterThanOrEqual(1000);
    expect(first.body.pollAfterMs).toBeLessThanOrEqual(10_000);
    // What a visitor without a socket needs for the line's figures: where it is, how long, the tickets left (no order yet to average).
    expect(first.body.queue).toMatchObject({ eventId: event.id, servedUpTo: 0, length: 1, ticketsLeft: 7, seatsPerOrder: null });
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^".+"$/);
    expect(first.headers.get('cache-control')).toBe('private, no-cache');
    const again = await server.request('GET', path, { token, headers: { 'if-none-match': etag } });
    expect([again.status, again.headers.get('etag')]).toEqual([304, etag]);
    await configure(event.id, { paused: false });
    await eventually(async () => (await server.request('GET', path, { token, headers: { 'if-none-match': etag } })).status === 200, 'a changed entry');
    const admitted = await server.request('GET', path, { token, headers: { 'if-none-match': etag } });
    expect(admitted.body.entry.status).toBe('admitted');
    expect(admitted.headers.get('etag')).not.toBe(etag);
    await eventually(async () => (await server.request('GET', path, { token })).body.queue.servedUpTo === 1, 'the room moved on in the answer too');
  });
});
