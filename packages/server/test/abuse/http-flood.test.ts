import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import type { HttpRateLimits } from '../../src/http/rate-limit.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { createEvent, typeId } from '../support/fixtures.ts';
import { recordReliability } from '../support/reliability-report.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { eventually } from '../support/viewer.ts';
import { LEGIT_LATENCY_BOUND_MS, send, tally, type Answer } from '../support/http-send.ts';

describe('HTTP request floods per address', () => {
  let t: TestDatabase;
  const servers: TestServer[] = [];
  const serve = async (httpRateLimits: HttpRateLimits) => {
    const server = await startTestServer(t.db, { httpRateLimits, demo: true, simulatorPace: { holdEveryMs: [50, 100], decideAfterMs: [200, 400] } });
    servers.push(server);
    return server;
  };

  beforeAll(async () => {
    t = await createTestDatabase('pglite');
  });
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });
  afterAll(() => t.dispose());

  it('defaults: holds stricter than writes, writes stricter than reads', () => {
    expect(loadConfig({}).httpRateLimits).toEqual({ holdsPerMinute: 60, queueJoinsPerMinute: 60, writesPerMinute: 300, readsPerMinute: 1200 });
    expect(loadConfig({ TICKETPULSE_HTTP_HOLDS_PER_MINUTE: '5' }).httpRateLimits.holdsPerMinute).toBe(5);
    expect(() => loadConfig({ TICKETPULSE_HTTP_READS_PER_MINUTE: '0' })).toThrow(/TICKETPULSE_HTTP_READS_PER_MINUTE/);
  });

  it('refuses a read flood from one address with 429 rate_limited and Retry-After; another address and health probes are unaffected', async () => {
    const server = await serve({ holdsPerMinute: 5, queueJoinsPerMinute: 5, writesPerMinute: 10, readsPerMinute: 40 });
    const flood = await Promise.all(Array.from({ length: 400 }, () => send(server.url, 'GET', '/api/events')));
    const legit: Answer[] = [];
    for (let i = 0; i < 10; i++) legit.push(await send(server.url, 'GET', '/api/events', { from: '127.0.0.2' }));
    const probe = await send(server.url, 'GET', '/healthz');
    const refused = flood.filter((a) => a.status === 429);

    await recordReliability({
      fault: 'HTTP read flood from one address (127.0.0.1), limit 40/min; a second client on 127.0.0.2',
      injected: flood.length,
      checked: ['first 40 answered 200, the rest 429 rate_limited with Retry-After', 'the other address keeps 200 and its latency', '/healthz is never limited'],
      figures: { requests: flood.length, ...Object.fromEntries(Object.entries(tally(flood)).map(([k, v]) => [`status_${k}`, v])), legitMaxMs: Math.round(Math.max(...legit.map((a) => a.ms))) },
    });
    expect(tally(flood)).toEqual({ 200: 40, 429: 360 });
    for (const a of refused) expect([a.code, Number(a.retryAfter) >= 1 && Number(a.retryAfter) <= 60]).toEqual(['rate_limited', true]);
    expect(legit.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect(Math.max(...legit.map((a) => a.ms))).toBeLessThan(LEGIT_LATENCY_BOUND_MS);
    expect(probe.status).toBe(200);
  });

  it('counts requests refused before routing or authentication too: bad tokens and unknown paths', async () => {
    const server = await serve({ holdsPerMinute: 5, queueJoinsPerMinute: 5, writesPerMinute: 10, readsPerMinute: 20 });
    const badToken = await Promise.all(Array.from({ length: 30 }, () => send(server.url, 'GET', '/api/events', { headers: { authorization: 'Bearer forged' } })));
    const unknown = await Promise.all(Array.from({ length: 30 }, () => send(server.url, 'POST', '/api/no-such-route', { body: {} })));
    await recordReliability({
      fault: 'HTTP floods refused before the handler: 30 reads with a forged token, 30 POSTs to an unknown path, from one address (reads 20/min, writes 10/min)',
      injected: badToken.length + unknown.length,
      checked: ['a forged-token flood is limited like any other (401 up to the limit, then 429)', 'an unknown-path flood too (404, then 429)'],
      figures: { badToken: JSON.stringify(tally(badToken)), unknownPath: JSON.stringify(tally(unknown)) },
    });
    expect(tally(badToken)).toEqual({ 401: 20, 429: 10 });
    expect(tally(unknown)).toEqual({ 404: 10, 429: 20 });
  });

  it('lets through exactly the hold limit per address, nothing more reaches the database, and reads stay open', async () => {
    const server = await serve({ holdsPerMinute: 5, queueJoinsPerMinute: 5, writesPerMinute: 10, readsPerMinute: 1000 });
    const event = await createEvent(server.service.catalog, { ticketTypes: [{ name: 'General', totalCapacity: 1000, maxPerOrder: 4 }] });
    const hold = { items: [{ ticketTypeId: typeId(event, 'General'), quantity: 1 }] };
    const token = await server.token();
    const flood = await Promise.all(
      Array.from({ length: 50 }, () => send(server.url, 'POST', `/api/events/${event.id}/reservations`, { headers: { authorization: `Bearer ${token}` }, body: hold })),
    );
    const { rows } = await t.db.query<{ n: number }>('SELECT count(*)::integer AS n FROM reservations WHERE event_id = $1', [event.id]);
    const read = await send(server.url, 'GET', `/api/events/${event.id}/availability`);

    await recordReliability({
      fault: 'HTTP hold flood from one address, limit 5/min',
      injected: flood.length,
      checked: ['5 holds made (201), 45 refused 429 rate_limited', 'exactly 5 reservations in the database', 'reads from the same address still served (their own class)'],
      figures: { requests: flood.length, ...Object.fromEntries(Object.entries(tally(flood)).map(([k, v]) => [`status_${k}`, v])), reservations: rows[0]!.n },
    });
    expect(tally(flood)).toEqual({ 201: 5, 429: 45 });
    expect(rows[0]!.n).toBe(5);
    expect(read.status).toBe(200);
    expect(await t.countMismatches()).toEqual([]);
  });

  it('never limits the service’s own buyer simulator', async () => {
    const server = await serve({ holdsPerMinute: 1, queueJoinsPerMinute: 1, writesPerMinute: 1, readsPerMinute: 1 });
    await createEvent(server.service.catalog, { ticketTypes: [{ name: 'General', totalCapacity: 10_000, maxPerOrder: 4 }] });
    await server.service.simulator!.start();
    try {
      await eventually(() => server.service.simulator!.status().stats.holds >= 5, 'the simulator to make holds past the limit', 15_000);
    } finally {
      await server.service.simulator!.stop();
    }
    // Anyone else from the same address is limited.
    expect((await send(server.url, 'GET', '/api/events')).status).toBe(200);
    expect((await send(server.url, 'GET', '/api/events')).status).toBe(429);
  });
});
