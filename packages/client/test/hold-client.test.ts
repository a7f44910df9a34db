import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTestDatabase, type TestDatabase } from '../../server/test/support/database.ts';
import { createEvent, typeId } from '../../server/test/support/fixtures.ts';
import { startTestServer, type TestServer, type TestServerOptions } from '../../server/test/support/server.ts';
import { TcpProxy } from '../../server/test/support/tcp-proxy.ts';
import { eventually } from '../../server/test/support/viewer.ts';
import { ApiError, HoldClient, ReservationError, ReservationExpiryManager, TicketAvailabilityManager, type FetchLike, type HoldClientOptions } from '../src/index.ts';

/** One attempt the SDK made: what it sent, and the status it got (undefined: the connection failed). */
interface Attempt {
  method: string;
  idempotencyKey: string | undefined;
  status: number | undefined;
}

/** Node's fetch, recording each attempt: the wire shows how many requests the SDK really sent. */
function recordingFetch(attempts: Attempt[]): FetchLike {
  return async (input, init) => {
    const attempt: Attempt = { method: init?.method ?? 'GET', idempotencyKey: init?.headers?.['idempotency-key'], status: undefined };
    attempts.push(attempt);
    const response = await fetch(input, init);
    attempt.status = response.status;
    return response;
  };
}

/** A real server on its own PGlite database for one describe block. */
function withServer(options: TestServerOptions = {}): { readonly server: TestServer } {
  let database: TestDatabase;
  let server: TestServer;
  beforeAll(async () => {
    database = await createTestDatabase('pglite');
    server = await startTestServer(database.db, options);
  });
  afterAll(async () => {
    await server.close();
    await database.dispose();
  });
  return {
    get server() {
      return server;
    },
  };
}

/** A new buyer's HoldClient on `url`, recording its attempts. */
function buyer(server: TestServer, url = server.url, options: Partial<HoldClientOptions> = {}) {
  const attempts: Attempt[] = [];
  const userId = randomUUID();
  const holds = new HoldClient({ url, getToken: () => server.token('authenticated', userId), fetch: recordingFetch(attempts), ...options });
  return { holds, attempts };
}

describe('HoldClient against a real server', () => {
  const live = withServer();
  const cleanups: Array<() => void> = [];
  let proxy: TcpProxy | undefined;
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) cleanup();
    await proxy?.stop();
    proxy = undefined;
  });

  it('a create whose answer is lost is retried with the same Idempotency-Key and yields one hold, counted down and shown', async () => {
    const { server } = live;
    const event = await createEvent(server.service.catalog);
    const general = typeId(event, 'General');
    proxy = TcpProxy.forUrl(server.url);
    await proxy.start();

    // The countdown and the live counts, as an app has them (straight to the server: only holds go through the proxy).
    const manager = new TicketAvailabilityManager({ url: server.url, getToken: () => server.token('anon'), WebSocket, debounceMs: 10 });
    const userId = randomUUID();
    const getToken = () => server.token('authenticated', userId);
    const reservations = new ReservationExpiryManager({ url: server.url, getToken, clock: manager.clock });
    cleanups.push(() => manager.cleanup(), () => reservations.stopAll());
    manager.subscribeToEvent(event.id, () => {});
    await eventually(() => manager.getTicketAvailability(event.id, general)?.availableCount === 10, 'the live counts');
    const { holds, attempts } = buyer(server, proxy.urlFor(server.url), { getToken, clock: manager.clock, availability: manager, reservations });

    proxy.dropAnswers = 1; // the server makes the hold; its answer never arrives
    const reservation = await holds.createHold(event.id, [{ ticketTypeId: general, quantity: 2 }]);

    expect(attempts.map((a) => a.status)).toEqual([undefined, 201]);
    const [first, retry] = attempts;
    expect(first!.idempotencyKey).toBeTruthy();
    expect(retry!.idempotencyKey).toBe(first!.idempotencyKey);
    const { body } = await server.request('GET', `/api/events/${event.id}`);
    expect(body.event.reservedCount).toBe(2); // one hold of 2, not two
    expect(reservation).toMatchObject({ eventId: event.id, status: 'active', items: [{ ticketTypeId: general, quantity: 2 }] });
    expect(reservations.getState(reservation.id)).toMatchObject({ status: 'active', isExpired: false });
    await eventually(() => manager.getEventState(event.id).version >= reservation.availabilityVersion!, 'the version that counts the hold');
    expect(manager.getTicketAvailability(event.id, general)?.availableCount).toBe(8); // shown once, never twice
  });

  it('a 409 insufficient_availability is reported at once, with its code and details, and never sent again', async () => {
    const { server } = live;
    const event = await createEvent(server.service.catalog);
    const general = typeId(event, 'General');
    await server.service.holds.reserve({ eventId: event.id, holderId: randomUUID(), items: [{ ticketTypeId: general, quantity: 4 }] });
    await server.service.holds.reserve({ eventId: event.id, holderId: randomUUID(), items: [{ ticketTypeId: general, quantity: 4 }] });
    const { holds, attempts } = buyer(server);

    const failure = await holds.createHold(event.id, [{ ticketTypeId: general, quantity: 3 }]).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(ApiError);
    expect(failure).toBeInstanceOf(ReservationError);
    expect(failure).toMatchObject({ code: 'insufficient_availability', status: 409, retryable: false, details: { ticketTypeId: general, available: 2, requested: 3 } });
    expect(attempts).toHaveLength(1);
  });

  it('extends, confirms and releases with typed answers; refusals carry their codes', async () => {
    const { server } = live;
    const event = await createEvent(server.service.catalog);
    const { holds, attempts } = buyer(server);
    const held = await holds.createHold(event.slug, [{ ticketTypeId: typeId(event, 'VIP'), quantity: 1 }]);

    expect((await holds.getHold(held.id)).id).toBe(held.id);
    expect((await holds.extendHold(held.id)).extensionsUsed).toBe(1);
    expect((await holds.confirmHold(held.id)).status).toBe('confirmed');
    expect((await holds.confirmHold(held.id)).status).toBe('confirmed'); // again: a no-op
    await expect(holds.releaseHold(held.id)).rejects.toMatchObject({ code: 'reservation_confirmed', status: 409 });
    await expect(holds.getHold(randomUUID())).rejects.toMatchObject({ code: 'reservation_not_found', status: 404 });
    expect(attempts).toHaveLength(7); // nothing retried
  });
});

describe('HoldClient under the holds rate limit', () => {
  // One hold per one-second window for each address: a real limit, with a window short enough to see it end.
  const live = withServer({ httpRateLimits: { holdsPerMinute: 1, windowMs: 1000 } });

  it('a 429 is retried after Retry-After, and the retry makes the hold', async () => {
    const { server } = live;
    const event = await createEvent(server.service.catalog);
    const general = typeId(event, 'General');
    // Backoff alone would retry within a millisecond, inside the window, and be refused again.
    const { holds, attempts } = buyer(server, server.url, { retry: { baseDelayMs: 1, maxDelayMs: 1 } });

    await holds.createHold(event.id, [{ ticketTypeId: general, quantity: 1 }]);
    const second = await holds.createHold(event.id, [{ ticketTypeId: general, quantity: 1 }]);

    expect(attempts.map((a) => a.status)).toEqual([201, 429, 201]);
    expect(attempts[2]!.idempotencyKey).toBe(attempts[1]!.idempotencyKey);
    expect(second.status).toBe('active');
    const { body } = await server.request('GET', `/api/events/${event.id}`);
    expect(body.event.reservedCount).toBe(2);
  });
});
