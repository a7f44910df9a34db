import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Backoff, ReservationExpiryManager, ServerClock, TicketAvailabilityManager, type EventState, type FetchLike } from '../src/index.ts';
import { FakeWebSocket } from './support/fake-socket.ts';
import { ticketAvailability } from './support/ticket.ts';

const EVENT = '11111111-1111-4111-8111-111111111111';
const TYPE = '22222222-2222-4222-8222-222222222222';

const ticket = (available: number, version: number) => ticketAvailability(EVENT, TYPE, available, version);

const noFetch: FetchLike = async () => {
  throw new Error('offline');
};

describe('backoff', () => {
  it('waits a random time below min(cap, base * 2^attempt), and resets', () => {
    const highest = new Backoff(500, 20_000, () => 0.999999);
    expect(Array.from({ length: 8 }, () => highest.next())).toEqual([499, 999, 1999, 3999, 7999, 15999, 19999, 19999]);
    const lowest = new Backoff(500, 20_000, () => 0);
    expect(lowest.next()).toBe(0);
    const random = new Backoff(500, 20_000);
    for (let attempt = 0; attempt < 50; attempt++) {
      const delay = random.next();
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(Math.min(20_000, 500 * 2 ** attempt));
    }
    random.reset();
    expect(random.attempts).toBe(0);
  });
});

describe('with fake timers', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeWebSocket.reset();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const manager = (options: Partial<ConstructorParameters<typeof TicketAvailabilityManager>[0]> = {}) =>
    new TicketAvailabilityManager({ url: 'http://tickets.test', getToken: () => 'token', WebSocket: FakeWebSocket, fetch: noFetch, ...options });

  /** A manager watching EVENT over a FakeWebSocket, welcomed and given a snapshot of `available`; every state its listener hears lands in `seen`. */
  async function watchedEvent(debounceMs: number, available: number) {
    const m = manager({ debounceMs });
    const seen: EventState[] = [];
    m.subscribeToEvent(EVENT, (state) => seen.push(state));
    await vi.advanceTimersByTimeAsync(0);
    const ws = FakeWebSocket.last;
    ws.welcome();
    expect(ws.sent).toContainEqual(expect.objectContaining({ type: 'subscribe', eventId: EVENT }));
    ws.receive({ type: 'subscribed', ref: EVENT, eventId: EVENT, version: 1, serverTime: new Date().toISOString(), unchanged: false, snapshot: { eventId: EVENT, version: 1, precision: 'exact', serverTime: new Date().toISOString(), tickets: [ticket(available, 1)] } });
    return { m, seen, ws };
  }

  it('never gives up reconnecting, and spaces attempts out to the cap', async () => {
    FakeWebSocket.refuse = true;
    const m = manager({ reconnect: { baseMs: 500, capMs: 20_000, pollAfterFailures: 1000 } });
    m.subscribeToEvent(EVENT, () => {});
    await vi.advanceTimersByTimeAsync(60 * 60_000);
    const attempts = FakeWebSocket.instances.length;
    // Full jitter under a 20 s cap: at least one try per 20 s, on average one per 10 s.
    expect(attempts).toBeGreaterThan(180);
    expect(attempts).toBeLessThan(1500);
    expect(m.getConnectionStatus()).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeWebSocket.instances.length).toBeGreaterThan(attempts);
    m.cleanup();
  });

  it('after the server announces a restart (1012), retries stay within 2 s for 30 s without polling, then back off again', async () => {
    const m = manager({ reconnect: { baseMs: 500, capMs: 20_000, pollAfterFailures: 3 }, random: () => 0.999999 });
    m.subscribeToEvent(EVENT, () => {});
    await vi.advanceTimersByTimeAsync(0);
    FakeWebSocket.last.welcome();
    FakeWebSocket.refuse = true;
    const before = FakeWebSocket.instances.length;
    FakeWebSocket.last.close(1012, 'server restart');
    await vi.advanceTimersByTimeAsync(30_000);
    // One try at most every 2 s (the highest jitter), not 0.5, 1, 2, 4, 8, 16 s apart.
    expect(FakeWebSocket.instances.length - before).toBeGreaterThanOrEqual(15);
    expect(m.getConnectionStatus()).toBe('reconnecting');
    const during = FakeWebSocket.instances.length;
    await vi.advanceTimersByTimeAsync(30_000);
    expect(FakeWebSocket.instances.length - during).toBeLessThanOrEqual(6);
    expect(m.getConnectionStatus()).toBe('polling');
    m.cleanup();
  });

  it('notifies listeners at most once per debounce window, with the changes coalesced', async () => {
    const { m, seen, ws } = await watchedEvent(50, 500);
    await vi.advanceTimersByTimeAsync(60);
    const before = seen.length;
    for (let v = 2; v <= 201; v++) {
      ws.receive({
        type: 'updates',
        serverTime: new Date().toISOString(),
        updates: [{ eventId: EVENT, version: v, previousVersion: v - 1, precision: 'exact', committedAt: new Date().toISOString(), snapshot: false, tickets: [ticket(500 - (v - 1), v)], removedTicketTypeIds: [] }],
      });
      await vi.advanceTimersByTimeAsync(1); // 200 updates over 200 ms
    }
    await vi.advanceTimersByTimeAsync(60);
    const notifications = seen.length - before;
    expect(notifications).toBeGreaterThanOrEqual(4);
    expect(notifications).toBeLessThanOrEqual(6); // 200 ms / 50 ms, plus the edges
    expect(seen.at(-1)!.availability.get(TYPE)?.availableCount).toBe(300);
    m.cleanup();
  });

  it('tells the first change after a quiet window at once, then coalesces the rest of the window', async () => {
    const { m, seen, ws } = await watchedEvent(50, 10);
    await vi.advanceTimersByTimeAsync(200); // quiet
    const update = (version: number, available: number) =>
      ws.receive({ type: 'updates', serverTime: new Date().toISOString(), updates: [{ eventId: EVENT, version, previousVersion: version - 1, precision: 'exact', committedAt: new Date().toISOString(), snapshot: false, tickets: [ticket(available, version)], removedTicketTypeIds: [] }] });
    const before = seen.length;
    update(2, 9);
    await vi.advanceTimersByTimeAsync(1);
    expect(seen.length - before).toBe(1);
    expect(seen.at(-1)!.availability.get(TYPE)?.availableCount).toBe(9);
    update(3, 8);
    update(4, 7);
    await vi.advanceTimersByTimeAsync(20);
    expect(seen.length - before).toBe(1); // still inside the window
    await vi.advanceTimersByTimeAsync(40);
    expect(seen.length - before).toBe(2);
    expect(seen.at(-1)!.availability.get(TYPE)?.availableCount).toBe(7);
    m.cleanup();
  });

  it('drops stale updates and resubscribes with its version when it sees a gap', async () => {
    const m = manager({ debounceMs: 1 });
    m.subscribeToEvent(EVENT, () => {});
    await vi.advanceTimersByTimeAsync(0);
    const ws = FakeWebSocket.last;
    ws.welcome();
    ws.receive({ type: 'subscribed', ref: EVENT, eventId: EVENT, version: 5, serverTime: new Date().toISOString(), unchanged: false, snapshot: { eventId: EVENT, version: 5, precision: 'exact', serverTime: new Date().toISOString(), tickets: [ticket(10, 5)] } });
    const update = (version: number, previousVersion: number, available: number) =>
      ws.receive({ type: 'updates', serverTime: new Date().toISOString(), updates: [{ eventId: EVENT, version, previousVersion, precision: 'exact', committedAt: new Date().toISOString(), snapshot: false, tickets: [ticket(available, version)], removedTicketTypeIds: [] }] });
    update(4, 3, 99); // stale
    await vi.advanceTimersByTimeAsync(5);
    expect(m.getTicketAvailability(EVENT, TYPE)?.availableCount).toBe(10);
    ws.sent.length = 0;
    update(9, 8, 1); // a gap: 6..8 missed
    expect(ws.sent).toEqual([{ type: 'subscribe', eventId: EVENT, ref: EVENT, sinceVersion: 5 }]);
    m.cleanup();
  });

  it('closes a silent connection after two heartbeats and reconnects', async () => {
    const m = manager({ reconnect: { baseMs: 10, capMs: 10 } });
    m.subscribeToEvent(EVENT, () => {});
    await vi.advanceTimersByTimeAsync(0);
    FakeWebSocket.last.welcome(1000);
    await vi.advanceTimersByTimeAsync(3100); // no pong, nothing at all
    expect(FakeWebSocket.instances.length).toBeGreaterThan(1);
    expect(FakeWebSocket.instances[0]!.readyState).toBe(3);
    m.cleanup();
  });

  it('counts hold deadlines down by the server clock, however wrong the device clock is', async () => {
    for (const skewMs of [-10 * 60_000, 10 * 60_000]) {
      vi.setSystemTime(new Date('2026-11-21T12:00:00Z'));
      const serverNow = Date.now() + skewMs; // the device is off by skewMs the other way
      const clock = new ServerClock();
      clock.observe(serverNow);
      const expiresAt = new Date(serverNow + 5 * 60_000).toISOString();
      const fetch: FetchLike = async () => ({
        ok: true,
        status: 200,
        headers: { get: () => null },
        json: async () => ({ reservation: { id: 'r1', eventId: EVENT, status: 'active', expiresAt, extensionsUsed: 0 } }),
      });
      const soon: number[] = [];
      const expired: number[] = [];
      const holds = new ReservationExpiryManager({ url: 'http://tickets.test', getToken: () => 't', fetch, clock });
      const state = await holds.startMonitoring('r1', {
        onExpiringSoon: (s) => soon.push(s.remainingMs),
        onExpired: () => expired.push(Date.now()),
      });
      expect(state.remainingMs).toBe(5 * 60_000);
      await vi.advanceTimersByTimeAsync(2 * 60_000);
      expect(holds.getState('r1')!.remainingMs).toBe(3 * 60_000);
      expect(soon).toEqual([]);
      await vi.advanceTimersByTimeAsync(60_000);
      expect(soon).toEqual([2 * 60_000]); // two minutes before, once
      await vi.advanceTimersByTimeAsync(2 * 60_000);
      expect(expired).toHaveLength(1);
      expect(holds.getState('r1')).toMatchObject({ isExpired: true, remainingMs: 0, status: 'expired' });
      holds.stopAll();
    }
  });

  it('keeps a finer server offset that the whole-second Date header agrees with, and corrects one it contradicts', async () => {
    vi.setSystemTime(new Date('2026-11-21T12:00:00.000Z'));
    const clock = new ServerClock();
    clock.observe(Date.now() + 600_700); // from a welcome: the server is 10 min 0.7 s ahead
    let date = new Date(Date.now() + 600_000).toUTCString(); // the same instant, truncated to the second
    const fetch: FetchLike = async () => ({
      ok: true,
      status: 200,
      headers: { get: (name: string) => (name === 'date' ? date : null) },
      json: async () => ({ reservation: { id: 'r3', eventId: EVENT, status: 'active', expiresAt: new Date(Date.now() + 900_000).toISOString(), extensionsUsed: 0 } }),
    });
    const holds = new ReservationExpiryManager({ url: 'http://tickets.test', getToken: () => 't', fetch, clock });
    await holds.startMonitoring('r3');
    expect(clock.offset).toBe(600_700);
    date = new Date(Date.now() + 300_000).toUTCString(); // the server's clock was set back
    await holds.startMonitoring('r3');
    expect(clock.offset).toBe(300_500);
    holds.stopAll();
  });

  it("tells a later monitor of a hold the warning and the end that earlier ones already heard", async () => {
    vi.setSystemTime(new Date('2026-11-21T12:00:00Z'));
    // A one-minute hold (a waiting-list offer, a short-hold event): expiring soon from the start.
    const hold = { id: 'r4', eventId: EVENT, status: 'active' as const, expiresAt: new Date(Date.now() + 60_000).toISOString(), extensionsUsed: 0 };
    const holds = new ReservationExpiryManager({ url: 'http://tickets.test', getToken: () => 't', fetch: noFetch, feed: false });
    await holds.startMonitoring(hold); // what HoldClient.createHold does, with no callbacks
    const heard: string[] = [];
    await holds.startMonitoring(hold, { onExpiringSoon: () => heard.push('soon'), onExpired: () => heard.push('expired') });
    expect(heard).toEqual(['soon']);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(heard).toEqual(['soon', 'expired']);
    const late: string[] = [];
    await holds.startMonitoring(hold, { onExpiringSoon: () => late.push('soon'), onExpired: () => late.push('expired') });
    expect(late).toEqual(['expired']); // an ended hold is no longer "expiring soon"
    expect(heard).toEqual(['soon', 'expired']); // earlier callers hear nothing twice
    holds.stopAll();
  });

  it('calls the callbacks of every part of the app that monitors a hold, not only the last', async () => {
    vi.setSystemTime(new Date('2026-11-21T12:00:00Z'));
    const hold = { id: 'r5', eventId: EVENT, status: 'active' as const, expiresAt: new Date(Date.now() + 5 * 60_000).toISOString(), extensionsUsed: 0 };
    const holds = new ReservationExpiryManager({ url: 'http://tickets.test', getToken: () => 't', fetch: noFetch, feed: false });
    const heard: string[] = [];
    await holds.startMonitoring(hold, { onExpiringSoon: () => heard.push('banner: soon'), onExpired: () => heard.push('banner: expired') });
    await holds.startMonitoring(hold, { onExpired: () => heard.push('cart: expired') });
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    expect(heard).toEqual(['banner: soon', 'banner: expired', 'cart: expired']);
    holds.stopAll();
  });

  it('re-checks each active hold with the server every 30 seconds', async () => {
    let calls = 0;
    let status = 'active';
    const fetch: FetchLike = async () => {
      calls += 1;
      return {
        ok: true,
        status: 200,
        headers: { get: () => null },
        json: async () => ({ reservation: { id: 'r2', eventId: EVENT, status, expiresAt: new Date(Date.now() + 600_000).toISOString(), extensionsUsed: 0 } }),
      };
    };
    const holds = new ReservationExpiryManager({ url: 'http://tickets.test', getToken: () => 't', fetch });
    await holds.startMonitoring('r2');
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(calls).toBe(2);
    status = 'released'; // released in another tab
    await vi.advanceTimersByTimeAsync(30_000);
    expect(holds.getState('r2')).toMatchObject({ status: 'released', isExpired: true });
    holds.stopAll();
  });
});

describe('in a browser', () => {
  const target = new EventTarget();
  const env = globalThis as unknown as Record<string, unknown>;
  beforeEach(() => {
    vi.useFakeTimers();
    FakeWebSocket.reset();
    // The browser's connectivity API is an edge we do not own: stand it in.
    env.navigator = { onLine: false };
    env.addEventListener = target.addEventListener.bind(target);
    env.removeEventListener = target.removeEventListener.bind(target);
  });
  afterEach(() => {
    vi.useRealTimers();
    delete env.navigator;
    delete env.addEventListener;
    delete env.removeEventListener;
    delete env.localStorage;
  });

  it('waits while offline and connects at once when the browser comes back online', async () => {
    const m = new TicketAvailabilityManager({ url: 'http://tickets.test', getToken: () => 't', WebSocket: FakeWebSocket, fetch: noFetch });
    m.subscribeToEvent(EVENT, () => {});
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeWebSocket.instances).toHaveLength(0);
    expect(m.getConnectionStatus()).toBe('disconnected');
    (env.navigator as { onLine: boolean }).onLine = true;
    target.dispatchEvent(new Event('online'));
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeWebSocket.instances).toHaveLength(1);
    FakeWebSocket.last.welcome();
    expect(m.getConnectionStatus()).toBe('connected');
    m.cleanup();
  });

  it('keeps snapshots in localStorage, and survives a full or missing one', async () => {
    const { localStorageCache } = await import('../src/index.ts');
    const items = new Map<string, string>();
    env.localStorage = { getItem: (k: string) => items.get(k) ?? null, setItem: (k: string, v: string) => void items.set(k, v) };
    const cache = localStorageCache('tp:');
    cache.setItem('a', '1');
    expect(items.get('tp:a')).toBe('1');
    expect(cache.getItem('a')).toBe('1');
    env.localStorage = { getItem: () => { throw new Error('denied'); }, setItem: () => { throw new Error('QuotaExceededError'); } };
    const broken = localStorageCache('tp:');
    expect(() => broken.setItem('b', '2')).not.toThrow();
    expect(broken.getItem('b')).toBeNull();
    delete env.localStorage; // private mode without storage at all
    expect(localStorageCache().getItem('c')).toBeNull();
  });

  it('reports hold_created and hold_expired to analytics', async () => {
    (env.navigator as { onLine: boolean }).onLine = true;
    const reported: string[] = [];
    const fetch: FetchLike = async () => ({
      ok: true,
      status: 200,
      headers: { get: () => null },
      json: async () => ({ reservation: { id: 'r3', eventId: EVENT, status: 'active', expiresAt: new Date(Date.now() + 2000).toISOString(), extensionsUsed: 0 } }),
    });
    const holds = new ReservationExpiryManager({ url: 'http://tickets.test', getToken: () => 't', fetch, onEvent: (e) => reported.push(e.type) });
    await holds.startMonitoring('r3');
    await vi.advanceTimersByTimeAsync(3000);
    expect(reported).toEqual(['hold_created', 'hold_expired']);
    holds.stopAll();
  });
});
