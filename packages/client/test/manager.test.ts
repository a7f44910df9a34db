import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTestDatabase, drivers, type TestDatabase } from '../../server/test/support/database.ts';
import { Holds } from '../../server/src/inventory/holds.ts';
import { createEvent, holdSettings, typeId } from '../../server/test/support/fixtures.ts';
import { startTestServer, type TestServer } from '../../server/test/support/server.ts';
import { eventually } from '../../server/test/support/viewer.ts';
import { memoryCache, TicketAvailabilityManager, type AnalyticsEvent, type ConnectionStatus, type TicketAvailabilityManagerOptions, type Transition } from '../src/index.ts';
import { UpgradeProxy } from './support/upgrade-proxy.ts';

describe.each(drivers)('TicketAvailabilityManager against a real gateway (%s)', (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  const managers: TicketAvailabilityManager[] = [];

  const manager = (options: Partial<TicketAvailabilityManagerOptions> = {}, url = server.url) => {
    const m = new TicketAvailabilityManager({
      url,
      getToken: () => server.token('anon'),
      WebSocket,
      debounceMs: 10,
      reconnect: { baseMs: 50, capMs: 200 },
      ...options,
    });
    managers.push(m);
    return m;
  };
  const hold = (eventId: string, ticketTypeId: string, quantity = 1) =>
    server.service.holds.reserve({ eventId, holderId: randomUUID(), items: [{ ticketTypeId, quantity }] });

  beforeAll(async () => {
    t = await createTestDatabase(driver);
    server = await startTestServer(t.db);
  });
  afterEach(() => {
    for (const m of managers.splice(0)) m.cleanup();
  });
  afterAll(async () => {
    await server.close();
    await t.dispose();
  });

  it('subscribes, shows the snapshot, and follows updates', async () => {
    const event = await createEvent(server.service.catalog);
    const general = typeId(event, 'General');
    const m = manager();
    const states: number[] = [];
    const stop = m.subscribeToEvent(event.slug, (state) => states.push(state.version));
    await eventually(() => m.getConnectionStatus(event.slug) === 'connected', 'connected');
    expect(m.getTicketAvailability(event.slug, general)).toMatchObject({ availableCount: 10, actualAvailable: 10, ticketTypeName: 'General', isUnlimited: false });
    await hold(event.id, general, 3);
    await eventually(() => m.getTicketAvailability(event.slug, general)?.availableCount === 7, 'the hold to show');
    expect(m.getEventState(event.slug)).toMatchObject({ eventId: event.id, isStale: false, error: null });
    expect(m.getStats()).toMatchObject({ connectSuccesses: 1, mode: 'websocket' });
    expect(m.getStats().latencyMs.samples).toBeGreaterThan(0);
    stop();
  });

  it('makes one server subscription for two listeners, and fires each transition once', async () => {
    const event = await createEvent(server.service.catalog, { ticketTypes: [{ name: 'Seat', totalCapacity: 12, maxPerOrder: 10 }] });
    const seat = typeId(event, 'Seat');
    const m = manager({ lowStockThreshold: 5 });
    const transitions: Transition['kind'][] = [];
    m.onTransition((tr) => transitions.push(tr.kind));
    m.subscribeToEvent(event.id, () => {});
    m.subscribeToEvent(event.id, () => {});
    await eventually(() => m.getConnectionStatus(event.id) === 'connected', 'connected');
    expect(server.service.gateway.stats.watchedEvents).toBeGreaterThan(0);
    await hold(event.id, seat, 8); // 4 left: low stock
    await eventually(() => transitions.length === 1, 'lowStock');
    const { reservation } = await hold(event.id, seat, 4); // sold out
    await eventually(() => transitions.length === 2, 'soldOut');
    await server.service.holds.release(reservation.id, undefined); // back in stock
    await eventually(() => transitions.length === 3, 'backInStock');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(transitions).toEqual(['lowStock', 'soldOut', 'backInStock']);
  });

  it('reconnects after a server restart and resyncs by version, missing nothing', async () => {
    const t2 = await createTestDatabase(driver);
    const first = await startTestServer(t2.db);
    const port = Number(new URL(first.url).port);
    const event = await createEvent(first.service.catalog);
    const vip = typeId(event, 'VIP');
    const analytics: AnalyticsEvent[] = [];
    // Polling would take over after a few failed connects; this is about the WebSocket coming back.
    const m = manager({ onEvent: (e) => analytics.push(e), reconnect: { baseMs: 50, capMs: 200, pollAfterFailures: 1000 } }, first.url);
    m.subscribeToEvent(event.id, () => {});
    await eventually(() => m.getConnectionStatus(event.id) === 'connected', 'connected');
    await first.close();
    await eventually(() => m.getConnectionStatus() === 'reconnecting', 'reconnecting');
    // Sold while the node is down: no update will ever be sent for it.
    await new Holds(t2.db, holdSettings).reserve({ eventId: event.id, holderId: 'gap', items: [{ ticketTypeId: vip, quantity: 2 }] });
    const restarted = await startTestServer(t2.db, { port });
    try {
      await eventually(() => m.getTicketAvailability(event.id, vip)?.availableCount === 0, 'the missed hold after the reconnect', 10_000);
      expect(m.getConnectionStatus(event.id)).toBe('connected');
      expect(m.getStats().reconnectionsMs.length).toBe(1);
      expect(analytics.some((e) => e.type === 'reconnected')).toBe(true);
    } finally {
      m.cleanup();
      await restarted.close();
      await t2.dispose();
    }
  });

  it('falls back to polling when the WebSocket is refused, and returns to it when it works again', async () => {
    const proxy = new UpgradeProxy(server.url);
    const url = await proxy.start();
    proxy.refuseUpgrades = true;
    try {
      const event = await createEvent(server.service.catalog);
      const general = typeId(event, 'General');
      const statuses: ConnectionStatus[] = [];
      const m = manager({ pollIntervalMs: 100, reconnect: { baseMs: 20, capMs: 100, pollAfterFailures: 2 } }, url);
      m.onStatusChange((s) => statuses.push(s));
      m.subscribeToEvent(event.id, () => {});
      await eventually(() => m.getConnectionStatus() === 'polling', 'polling');
      await eventually(() => m.getTicketAvailability(event.id, general)?.availableCount === 10, 'data by polling');
      await hold(event.id, general, 2);
      await eventually(() => m.getTicketAvailability(event.id, general)?.availableCount === 8, 'a change by polling');
      expect(m.getStats().mode).toBe('polling');

      proxy.refuseUpgrades = false;
      await eventually(() => m.getConnectionStatus() === 'connected', 'back on the WebSocket', 10_000);
      expect(m.getStats().mode).toBe('websocket');
      await hold(event.id, general, 1);
      await eventually(() => m.getTicketAvailability(event.id, general)?.availableCount === 7, 'a change over the WebSocket');
      expect(statuses).toContain('polling');
    } finally {
      await proxy.stop();
    }
  });

  it('shows cached data, marked stale with its age, when the server cannot be reached', async () => {
    const event = await createEvent(server.service.catalog);
    const storage = memoryCache();
    const online = manager({ storage });
    online.subscribeToEvent(event.id, () => {});
    await eventually(() => online.getConnectionStatus(event.id) === 'connected', 'connected');
    await eventually(() => storage.size > 0, 'the cache to be written');
    online.cleanup();

    const offline = manager({ storage, reconnect: { baseMs: 50, capMs: 100, pollAfterFailures: 100 } }, 'http://127.0.0.1:9');
    offline.subscribeToEvent(event.id, () => {});
    await eventually(() => offline.getEventState(event.id).availability.size === 2, 'cached data');
    const state = offline.getEventState(event.id);
    expect(state.isStale).toBe(true);
    expect(state.lastUpdated).toBeLessThanOrEqual(Date.now());
    expect(state.status).not.toBe('connected');
  });

  it('evicts the least recently used event without listeners, and never one that has them', async () => {
    const events = await Promise.all([1, 2, 3].map(() => createEvent(server.service.catalog)));
    const m = manager({ maxChannels: 2 });
    const stopFirst = m.subscribeToEvent(events[0]!.id, () => {});
    m.subscribeToEvent(events[1]!.id, () => {});
    m.subscribeToEvent(events[2]!.id, () => {});
    await eventually(() => m.getEventState(events[2]!.id).error?.code === 'too_many_channels', 'a clear refusal');
    expect(m.getConnectionStatus(events[0]!.id)).not.toBe('error');
    stopFirst(); // no listeners left on the first: it may go
    await eventually(() => m.getConnectionStatus(events[2]!.id) === 'connected', 'the third admitted', 5000);
    expect(m.getEventState(events[2]!.id).error).toBeNull();
  });

  it('reports an event that does not exist as an error state', async () => {
    const m = manager();
    m.subscribeToEvent('no-such-event', () => {});
    await eventually(() => m.getConnectionStatus('no-such-event') === 'error', 'the error');
    expect(m.getEventState('no-such-event').error).toMatchObject({ code: 'event_not_found' });
  });

  it('shows the user’s own hold at once and rolls it back if it fails', async () => {
    const event = await createEvent(server.service.catalog);
    const general = typeId(event, 'General');
    const m = manager();
    m.subscribeToEvent(event.id, () => {});
    await eventually(() => m.getConnectionStatus(event.id) === 'connected', 'connected');
    const pending = m.applyOptimisticHold(event.id, [{ ticketTypeId: general, quantity: 4 }]);
    await eventually(() => m.getTicketAvailability(event.id, general)?.availableCount === 6, 'the optimistic hold');
    pending.rollback();
    await eventually(() => m.getTicketAvailability(event.id, general)?.availableCount === 10, 'the rollback');

    m.applyOptimisticHold(event.id, [{ ticketTypeId: general, quantity: 2 }]);
    await hold(event.id, general, 2); // the real one: the server's version replaces the guess
    await eventually(() => m.getTicketAvailability(event.id, general)?.reservedCount === 2, 'reconciled');
    expect(m.getTicketAvailability(event.id, general)?.availableCount).toBe(8);
  });
});
