import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTestDatabase, drivers, type TestDatabase } from '../../server/test/support/database.ts';
import { createEvent, typeId } from '../../server/test/support/fixtures.ts';
import { startTestServer, type TestServer } from '../../server/test/support/server.ts';
import { TcpProxy } from '../../server/test/support/tcp-proxy.ts';
import { eventually } from '../../server/test/support/viewer.ts';
import { ApiError, HoldClient, TicketAvailabilityManager, type FetchLike, type QueueState, type TicketAvailabilityManagerOptions } from '../src/index.ts';
import { UpgradeProxy } from './support/upgrade-proxy.ts';

describe.each(drivers)('the waiting room in the SDK, against a real server (%s)', (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  let organizer: string;
  const managers: TicketAvailabilityManager[] = [];
  const cleanups: Array<() => Promise<void> | void> = [];

  beforeAll(async () => {
    t = await createTestDatabase(driver);
    server = await startTestServer(t.db, { admission: { tickMs: 50, leaseMs: 500 }, realtime: { tickMs: 50 } });
    organizer = await server.token('organizer');
  });
  afterEach(async () => {
    for (const m of managers.splice(0)) m.cleanup();
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });
  afterAll(async () => {
    await server.close();
    await t.dispose();
  });

  /** A visitor's manager (their own `sub`), on `url`; `requests` records what its fetch sent. */
  const visitor = (options: Partial<TicketAvailabilityManagerOptions> = {}, url = server.url) => {
    const userId = randomUUID();
    const requests: Array<{ url: string; method: string; headers: Record<string, string>; status: number }> = [];
    const recording: FetchLike = async (input, init) => {
      const response = await fetch(input, init);
      requests.push({ url: input, method: init?.method ?? 'GET', headers: init?.headers ?? {}, status: response.status });
      return response;
    };
    const getToken = () => server.token('authenticated', userId);
    const manager = new TicketAvailabilityManager({ url, getToken, WebSocket, fetch: recording, debounceMs: 10, reconnect: { baseMs: 50, capMs: 200 }, ...options });
    managers.push(manager);
    return { manager, requests, getToken, fetch: recording };
  };
  /** A visitor whose WebSocket upgrades are refused, so the SDK polls. */
  const pollingVisitor = async (options: Partial<TicketAvailabilityManagerOptions>) => {
    const proxy = new UpgradeProxy(server.url);
    const url = await proxy.start();
    cleanups.push(() => proxy.stop());
    proxy.refuseUpgrades = true;
    return visitor({ reconnect: { baseMs: 20, capMs: 100, pollAfterFailures: 2 }, ...options }, url);
  };
  /** Every state a listener heard, and the latest. */
  const watching = (manager: TicketAvailabilityManager, eventId: string) => {
    const states: QueueState[] = [];
    const stop = manager.watchQueue(eventId, (state) => states.push(state));
    return { states, stop, get last() {
      return manager.getQueueState(eventId);
    } };
  };
  /** An event with a waiting room; `paused` is applied after setting it up. */
  const queuedEvent = async ({ paused, ...settings }: Record<string, unknown>, capacity = 10) => {
    const event = await createEvent(server.service.catalog, { ticketTypes: [{ name: 'General', price: '20.00', totalCapacity: capacity, maxPerOrder: 4 }] });
    const put = await server.request('PUT', `/api/events/${event.id}/queue`, { token: organizer, body: { admitPerMinute: 600, ...settings } });
    expect(put.status).toBe(200);
    if (paused) await configure(event.id, { paused: true });
    return event;
  };
  const configure = async (eventId: string, body: Record<string, unknown>) => {
    expect((await server.request('PATCH', `/api/events/${eventId}/queue`, { token: organizer, body })).status).toBe(200);
  };

  it('follows a visitor from the pre-queue to a position at opening, then admitted with a pass that its holds carry', async () => {
    const event = await queuedEvent({ opensAt: new Date(Date.now() + 3_600_000).toISOString(), prequeueMinutes: 120, passSeconds: 60 });
    const alice = visitor();
    const watch = watching(alice.manager, event.slug);
    await eventually(() => watch.last.status === 'not_joined', 'the room is known, and alice has no entry');
    expect(watch.last.queue).toMatchObject({ eventId: event.id, status: 'prequeue' });
    expect(watch.last.secondsUntilOpen).toBeGreaterThan(3500);

    const entry = await alice.manager.joinQueue(event.slug);
    // The HTTP answer feeds the state at once, before any frame.
    expect(alice.manager.getQueueState(event.slug)).toMatchObject({ status: 'prequeue', entry: { id: entry.id }, position: null });
    expect(await alice.manager.joinQueue(event.slug)).toMatchObject({ id: entry.id });
    // The organizer brings the opening forward: the countdown follows the frame.
    await configure(event.id, { opensAt: new Date(Date.now() + 2000).toISOString() });
    await eventually(() => watch.last.status === 'admitted', 'admitted after opening', 10_000);
    // The countdown ticked down each second of the pre-queue; the position was drawn at opening.
    const countdown = watch.states.filter((s) => s.status === 'prequeue').map((s) => s.secondsUntilOpen!);
    expect(new Set(countdown).size).toBeGreaterThanOrEqual(2);
    expect(countdown).toEqual([...countdown].sort((a, b) => b - a));
    expect(watch.last).toMatchObject({ position: 1, peopleAhead: 0, estimatedWaitSeconds: 0, isYourTurn: true, entry: { id: entry.id } });
    expect(watch.last.pass).toEqual(expect.any(String));
    expect(alice.manager.queuePass(event.id)).toBe(watch.last.pass);

    // A HoldClient made with the manager (as the React provider makes it) sends the pass with the hold.
    const holds = new HoldClient({ url: server.url, getToken: alice.getToken, fetch: alice.fetch, availability: alice.manager });
    const reservation = await holds.createHold(event.slug, [{ ticketTypeId: typeId(event, 'General'), quantity: 2 }]);
    expect(reservation.status).toBe('active');
    const sent = alice.requests.find((r) => r.url.endsWith('/reservations'))!;
    expect(sent.headers['x-ticketpulse-queue-pass']).toBe(watch.last.pass);
    watch.stop();
  });

  it('computes people ahead, the wait and the "enough tickets?" line from the queue frame, as the server does', async () => {
    const event = await queuedEvent({ opensAt: new Date(Date.now() - 1000).toISOString(), paused: true }, 3);
    const ahead = [visitor(), visitor(), visitor()];
    for (const v of ahead) await v.manager.joinQueue(event.id);
    const bob = visitor();
    const watch = watching(bob.manager, event.id);
    const entry = await bob.manager.joinQueue(event.id);
    expect(entry).toMatchObject({ status: 'waiting', position: 4, peopleAhead: 3 });
    await eventually(() => watch.last.queue?.length === 4, 'the frame counts four in line');
    // Three ahead, three seats left, no order yet: each of them buying one would take them all.
    expect(watch.last).toMatchObject({ status: 'waiting', position: 4, peopleAhead: 3, ticketsLikelyEnough: 'no', isYourTurn: false, pass: null });
    expect(watch.last.estimatedWaitSeconds).toBe(entry.estimatedWaitSeconds);

    // Admission moves the mark: the people ahead fall with each frame, by the same rule.
    await configure(event.id, { paused: false, admitPerMinute: 60 });
    await eventually(() => (watch.last.peopleAhead ?? 3) < 3, 'people ahead fall', 10_000);
    const now = watch.last;
    expect(now.peopleAhead).toBe(4 - now.queue!.servedUpTo - 1);
    watch.stop();
  });

  it('leaves the queue: the entry reads closed, and joining again puts the visitor back at the end', async () => {
    const event = await queuedEvent({ opensAt: new Date(Date.now() - 1000).toISOString(), paused: true });
    const first = visitor();
    const carol = visitor();
    const watch = watching(carol.manager, event.id);
    const before = await carol.manager.joinQueue(event.id);
    await first.manager.joinQueue(event.id);
    await carol.manager.leaveQueue(event.id);
    expect(carol.manager.getQueueState(event.id)).toMatchObject({ status: 'closed', isYourTurn: false, peopleAhead: null });
    const again = await carol.manager.joinQueue(event.id);
    expect(again.position).toBeGreaterThan(before.position!);
    await expect(visitor().manager.leaveQueue(event.id)).rejects.toMatchObject({ code: 'queue_entry_not_found', status: 404 });
    await expect(carol.manager.joinQueue(randomUUID())).rejects.toBeInstanceOf(ApiError);
    watch.stop();
  });

  it('says there is no waiting room for an event without one', async () => {
    const event = await createEvent(server.service.catalog);
    const watch = watching(visitor().manager, event.id);
    await eventually(() => watch.last.status === 'none', 'no waiting room');
    expect(watch.last).toMatchObject({ queue: null, entry: null, secondsUntilOpen: null, isYourTurn: false });
    watch.stop();
  });

  it('reports none once the organizer turns the room off (closed for a visitor who was in line), and the line again when it is back', async () => {
    const event = await queuedEvent({ opensAt: new Date(Date.now() - 1000).toISOString(), paused: true });
    const frank = visitor();
    const inLine = watching(frank.manager, event.id);
    const outside = watching(visitor().manager, event.id);
    await eventually(() => outside.last.status === 'not_joined', 'the room is known');
    await frank.manager.joinQueue(event.id);
    await configure(event.id, { enabled: false });
    // Joining it would be refused (queue_not_found): there is nothing to join.
    await eventually(() => outside.last.status === 'none', 'none for a visitor not in line');
    await eventually(() => inLine.last.status === 'closed', 'closed for the visitor who was in line');
    await configure(event.id, { enabled: true });
    await eventually(() => outside.last.status === 'not_joined', 'joinable again');
    await eventually(() => inLine.last.status === 'waiting', 'the place kept');
    inLine.stop();
    outside.stop();
  });

  it('resyncs after a reconnect: an admission missed while the connection was down shows with its pass', async () => {
    const event = await queuedEvent({ opensAt: new Date(Date.now() - 1000).toISOString(), paused: true, passSeconds: 120 });
    const proxy = TcpProxy.forUrl(server.url);
    await proxy.start();
    cleanups.push(() => proxy.stop());
    // Polling would take over after a few failed connects; this is about the socket coming back.
    const dave = visitor({ reconnect: { baseMs: 50, capMs: 200, pollAfterFailures: 1000 } }, proxy.urlFor(server.url));
    const watch = watching(dave.manager, event.id);
    await dave.manager.joinQueue(event.id);
    await eventually(() => watch.last.status === 'waiting' && watch.last.queue !== null, 'waiting, with the frame');
    await proxy.stop();
    await eventually(() => dave.manager.getConnectionStatus() === 'reconnecting', 'disconnected');
    await configure(event.id, { paused: false });
    await eventually(async () => (await server.request('GET', `/api/events/${event.id}/queue`, { token: organizer })).body.queue.servedUpTo >= 1, 'dave’s turn came meanwhile');
    expect(watch.last.status).toBe('waiting');
    await proxy.start();
    await eventually(() => watch.last.status === 'admitted', 'admitted, heard after the reconnect', 10_000);
    expect(watch.last).toMatchObject({ isYourTurn: true, pass: expect.any(String), queue: { servedUpTo: 1 } });
    watch.stop();
  });

  it('polls its entry at the pace the server asks, with If-None-Match, while the WebSocket is refused', async () => {
    const event = await queuedEvent({ opensAt: new Date(Date.now() - 1000).toISOString(), paused: true });
    const erin = await pollingVisitor({ pollIntervalMs: 100 });
    const watch = watching(erin.manager, event.id);
    await eventually(() => erin.manager.getConnectionStatus() === 'polling', 'polling');
    await eventually(() => watch.last.status === 'not_joined', 'the room is known by polling');
    await erin.manager.joinQueue(event.id);
    const polls = () => erin.requests.filter((r) => r.url.endsWith('/queue/entries/me') && r.method === 'GET');
    await eventually(() => polls().some((r) => r.status === 304), 'an unchanged entry costs a 304');
    expect(polls().some((r) => r.headers['if-none-match'] !== undefined)).toBe(true);
    await configure(event.id, { paused: false });
    await eventually(() => watch.last.status === 'admitted', 'admitted, by polling', 15_000);
    expect(watch.last.pass).toEqual(expect.any(String));
    watch.stop();
  });

  it('shows a polling visitor the tickets left and whether the people ahead are likely to take them, as a connected one sees', async () => {
    const event = await queuedEvent({ opensAt: new Date(Date.now() - 1000).toISOString(), paused: true }, 3);
    for (const v of [visitor(), visitor(), visitor()]) await v.manager.joinQueue(event.id);
    const hana = await pollingVisitor({ pollIntervalMs: 100 });
    const watch = watching(hana.manager, event.id);
    await eventually(() => hana.manager.getConnectionStatus() === 'polling', 'polling');
    await hana.manager.joinQueue(event.id);
    await eventually(() => watch.last.queue?.length === 4, 'the room, by polling');
    // Three ahead, three seats left, no order yet: as for a connected visitor, each of them buying one would take them all.
    expect(watch.last).toMatchObject({ status: 'waiting', peopleAhead: 3, ticketsLikelyEnough: 'no', queue: { servedUpTo: 0, ticketsLeft: 3 } });
    watch.stop();
  });

  it('counts a polling visitor\'s pre-queue wait down with the opening, between polls', async () => {
    const event = await queuedEvent({ opensAt: new Date(Date.now() + 120_000).toISOString() });
    // Slow polls: the wait must move between them.
    const gina = await pollingVisitor({ pollIntervalMs: 30_000 });
    const watch = watching(gina.manager, event.id);
    await eventually(() => gina.manager.getConnectionStatus() === 'polling', 'polling');
    const entry = await gina.manager.joinQueue(event.id);
    // The server asks again in 10 s; the countdown does not wait for that.
    await eventually(() => watch.last.estimatedWaitSeconds! <= entry.estimatedWaitSeconds! - 2, 'the wait counted down', 5000);
    expect(watch.last.estimatedWaitSeconds).toBe(watch.last.secondsUntilOpen);
    watch.stop();
  });
});
