import { randomUUID } from 'node:crypto';
import type { QueueEntryMessage, QueueMessage, ServerMessage, SubscribedMessage } from '@ticketpulse/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BusSetting } from '../src/config.ts';
import type { Database } from '../src/db/database.ts';
import { createTestDatabase, postgresUrl, type TestDatabase } from './support/database.ts';
import { createEvent } from './support/fixtures.ts';
import { TestSocket } from './support/realtime-client.ts';
import { natsUrl, startTestServer, withTwoNodes, type TestServer } from './support/server.ts';
import { eventually } from './support/viewer.ts';

const isQueue = (m: ServerMessage): m is QueueMessage => m.type === 'queue';
const isEntry = (m: ServerMessage): m is QueueEntryMessage => m.type === 'queue_entry';

describe.skipIf(!postgresUrl)('waiting room over the realtime gateway on two nodes (postgres)', () => {
  let t: TestDatabase;
  let secondDb: Database;
  let a: TestServer;
  let b: TestServer;
  const sockets: TestSocket[] = [];
  // Both nodes run the admission driver; the lease is long enough that the first to take it keeps it for the whole test.
  const admission = { tickMs: 50, leaseMs: 10_000 };

  beforeAll(async () => {
    t = await createTestDatabase('postgres');
    secondDb = await t.connectAgain();
    a = await startTestServer(t.db, { admission });
    b = await startTestServer(secondDb, { admission });
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await b?.close();
    await a?.close();
    await secondDb?.close();
    await t?.dispose();
  });

  it("sends queue frames and the visitor's own admission to subscribers on the node that is not the admission leader", async () => {
    const organizer = await a.token('organizer');
    const event = await createEvent(a.service.catalog);
    const put = await a.request('PUT', `/api/events/${event.slug}/queue`, {
      token: organizer,
      body: { opensAt: new Date(Date.now() - 1000).toISOString(), admitPerMinute: 120 },
    });
    expect(put.status).toBe(200);
    expect((await a.request('PATCH', `/api/events/${event.id}/queue`, { token: organizer, body: { paused: true } })).status).toBe(200);

    // An opened queue exists, so one of the two nodes takes the lease: find out which, from the table and the drivers.
    const leaderNode = async () =>
      (await t.db.query<{ node: string }>("SELECT node FROM leader_leases WHERE job = 'queue-admission' AND lease_until > now()")).rows[0]?.node;
    await eventually(async () => (await leaderNode()) !== undefined && (a.service.queueAdmission.isLeader || b.service.queueAdmission.isLeader), 'a node to lead admission');
    const [leader, follower] = a.service.queueAdmission.isLeader ? [a, b] : [b, a];
    expect(await leaderNode()).toBe(leader.service.queueAdmission.node);
    expect(follower.service.queueAdmission.isLeader).toBe(false);

    // Five visitors join (through either node); the last one watches on the follower.
    const visitors: Array<{ token: string; position: number }> = [];
    for (let i = 0; i < 5; i += 1) {
      const node = i % 2 === 0 ? leader : follower;
      const token = await node.token('authenticated', randomUUID());
      const joined = await node.request('POST', `/api/events/${event.id}/queue/entries`, { token });
      expect(joined.status).toBe(201);
      visitors.push({ token, position: joined.body.entry.position });
    }
    const me = visitors.at(-1)!;
    expect(me.position).toBe(5);

    const viewer = await TestSocket.connect(follower.url, await follower.token('anon'));
    const mine = await TestSocket.connect(follower.url, me.token);
    sockets.push(viewer, mine);
    const reply = (await viewer.subscribe(event.id)) as SubscribedMessage;
    expect(reply.queue).toMatchObject({ eventId: event.id, status: 'paused', servedUpTo: 0, length: 5 });
    await mine.subscribe(event.id);
    const waiting = await mine.next<QueueEntryMessage>(isEntry);
    expect(waiting.entry).toMatchObject({ status: 'waiting', position: 5, pass: null });

    // Admission resumes (set through the follower: the leader reads it from the database).
    expect((await follower.request('PATCH', `/api/events/${event.id}/queue`, { token: organizer, body: { paused: false } })).status).toBe(200);

    const frames = () => viewer.received.filter(isQueue).filter((m) => m.eventId === event.id);
    await eventually(() => frames().some((m) => m.servedUpTo >= 5), 'the viewer on the follower to be told all five were served', 20_000);
    const admitted = await mine.next<QueueEntryMessage>((m) => isEntry(m) && m.entry.status === 'admitted', 20_000);
    expect(admitted.entry).toMatchObject({ eventId: event.id, position: 5, pass: expect.any(String) });
    expect(mine.received.filter(isEntry).every((m) => m.entry.position === 5)).toBe(true);

    // Served-up-to advanced through the follower's frames (it only rises, and was seen below 5 on the way)...
    const served = frames().map((m) => m.servedUpTo);
    expect(served).toEqual([...served].sort((x, y) => x - y));
    expect(new Set(served).size).toBeGreaterThanOrEqual(2);
    expect(frames().some((m) => m.status === 'open')).toBe(true);
    // ...and, once nothing moves any more, the follower's last frame is what either node's API reads.
    const figures = async (node: TestServer) => {
      const q = (await node.request('GET', `/api/events/${event.id}/queue`, { token: organizer })).body.queue;
      return { status: q.status, servedUpTo: q.servedUpTo, length: q.length };
    };
    await eventually(async () => {
      const last = frames().at(-1)!;
      const api = await figures(follower);
      return last.servedUpTo === api.servedUpTo && last.length === api.length && last.status === api.status;
    }, "the follower's last queue frame to match the API", 20_000);
    const last = frames().at(-1)!;
    expect(await figures(leader)).toEqual({ status: last.status, servedUpTo: last.servedUpTo, length: last.length });
    expect(last).toMatchObject({ status: 'open', servedUpTo: 5, length: 0 });

    // The leader stayed the leader throughout: every admission was its own.
    expect(await leaderNode()).toBe(leader.service.queueAdmission.node);
    expect(follower.service.queueAdmission.isLeader).toBe(false);
  });
});

describe.skipIf(!postgresUrl)('a visitor leaving the waiting room through another node (postgres)', () => {
  it('tells their connection on node B within a tick when they leave and rejoin through node A (the bus carries a key of their id)', () =>
    // No reconcile poll, and presence rounds every 150 s: only the bus may carry it.
    withTwoNodes({ bus: { kind: 'postgres' }, realtime: { reconcileMs: 600_000 } }, async (a, b) => {
      const organizer = await a.token('organizer');
      const event = await createEvent(a.service.catalog);
      const queue = { opensAt: new Date(Date.now() - 1000).toISOString(), admitPerMinute: 60, abandonAfterSeconds: 600 };
      expect((await a.request('PUT', `/api/events/${event.id}/queue`, { token: organizer, body: queue })).status).toBe(200);
      expect((await a.request('PATCH', `/api/events/${event.id}/queue`, { token: organizer, body: { paused: true } })).status).toBe(200);
      const token = await a.token('authenticated', randomUUID());
      const joined = await a.request('POST', `/api/events/${event.id}/queue/entries`, { token });
      expect(joined.status).toBe(201);

      const tab = await TestSocket.connect(b.url, token);
      try {
        await tab.subscribe(event.id);
        await tab.next<QueueEntryMessage>((m) => isEntry(m) && m.entry.status === 'waiting');
        // Past node B's first look at every subscriber's entry, which would find any change by itself.
        await new Promise((resolve) => setTimeout(resolve, 500));

        expect((await a.request('DELETE', `/api/events/${event.id}/queue/entries/me`, { token })).status).toBe(200);
        await tab.next<QueueEntryMessage>((m) => isEntry(m) && m.entry.status === 'closed', 3000);
        const again = await a.request('POST', `/api/events/${event.id}/queue/entries`, { token });
        expect(again.body.entry).toMatchObject({ status: 'waiting', position: 2 });
        await tab.next<QueueEntryMessage>((m) => isEntry(m) && m.entry.status === 'waiting' && m.entry.position === 2, 3000);
      } finally {
        tab.close();
      }
    }));
});

describe.skipIf(!postgresUrl)("the admission leader's frames on the other nodes (postgres)", () => {
  const title = "sends each admission's queue frame to viewers on a node that is not the leader at once, not at that node's next tick";
  it(`${title} (PostgreSQL LISTEN/NOTIFY)`, () => admissionFrameOnFollower({ kind: 'postgres' }));
  it.skipIf(!natsUrl)(`${title} (NATS)`, () => admissionFrameOnFollower({ kind: 'nats', url: natsUrl! }));

  function admissionFrameOnFollower(bus: BusSetting): Promise<void> {
    const admission = { tickMs: 50, leaseMs: 10_000 };
    // Node B ticks once a minute and does not drive admission: within the test, only the leader's signal can bring it a frame.
    const follower = { bus, admission, realtime: { tickMs: 60_000, reconcileMs: 600_000 } };
    return withTwoNodes(
      { bus, admission },
      async (a, b) => {
        await b.service.queueAdmission.stop();
        const viewer = await TestSocket.connect(b.url, await b.token('anon'));
        try {
          const organizer = await a.token('organizer');
          const event = await createEvent(a.service.catalog);
          const queue = { opensAt: new Date(Date.now() - 1000).toISOString(), admitPerMinute: 6000 };
          expect((await a.request('PUT', `/api/events/${event.id}/queue`, { token: organizer, body: queue })).status).toBe(200);
          expect((await a.request('PATCH', `/api/events/${event.id}/queue`, { token: organizer, body: { paused: true } })).status).toBe(200);
          await eventually(() => a.service.queueAdmission.isLeader, 'node A to lead admission');
          for (let i = 0; i < 3; i += 1) {
            const joined = await a.request('POST', `/api/events/${event.id}/queue/entries`, { token: await a.token('authenticated', randomUUID()) });
            expect(joined.status).toBe(201);
          }
          const reply = (await viewer.subscribe(event.id)) as SubscribedMessage;
          expect(reply.queue).toMatchObject({ status: 'paused', servedUpTo: 0, length: 3 });

          expect((await a.request('PATCH', `/api/events/${event.id}/queue`, { token: organizer, body: { paused: false } })).status).toBe(200);
          // The first admission tick after the unpause may open the line before it admits anyone: either way its frame is
          // the one announced. Node B then sends at most one frame a tick (its 60 s), so this is the only one the test can wait for.
          const served = await viewer.next<QueueMessage>((m) => isQueue(m) && m.eventId === event.id && m.status === 'open', 3000);
          expect(served).toMatchObject({ status: 'open', length: 3 - served.servedUpTo });
        } finally {
          viewer.close();
        }
      },
      follower,
    );
  }
});
