import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, drivers, type TestDatabase } from './support/database.ts';
import { createEvent, typeId } from './support/fixtures.ts';
import { startTestServer, TEST_JWT_SECRET, type TestServer } from './support/server.ts';

const JOINS_PER_MINUTE = 30;

describe.each(drivers)('waiting room over HTTP (%s)', (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  let organizer: string;

  beforeAll(async () => {
    t = await createTestDatabase(driver);
    server = await startTestServer(t.db, { admission: { tickMs: 50, leaseMs: 500 }, httpRateLimits: { queueJoinsPerMinute: JOINS_PER_MINUTE } });
    organizer = await server.token('organizer');
  });
  afterAll(async () => {
    await server.close();
    await t.dispose();
  });

  /** An event and its waiting room, opened a second ago and admitting fast. */
  async function queuedEvent(settings: Record<string, unknown> = {}) {
    const event = await createEvent(server.service.catalog);
    const put = await server.request('PUT', `/api/events/${event.slug}/queue`, {
      token: organizer,
      body: { opensAt: new Date(Date.now() - 1000).toISOString(), admitPerMinute: 6000, ...settings },
    });
    expect(put.status).toBe(200);
    return { event, queue: put.body.queue };
  }
  const join = (slug: string, token: string) => server.request('POST', `/api/events/${slug}/queue/entries`, { token });
  const me = (slug: string, token: string) => server.request('GET', `/api/events/${slug}/queue/entries/me`, { token });
  const hold = (eventId: string, ticketTypeId: string, token: string, headers: Record<string, string> = {}) =>
    server.request('POST', `/api/events/${eventId}/reservations`, { token, headers, body: { items: [{ ticketTypeId, quantity: 1 }] } });

  it('organizers set up, change, pause and read the waiting room; visitors may not', async () => {
    const { event, queue } = await queuedEvent({ maxActiveShoppers: 50 });
    expect(queue).toMatchObject({
      enabled: true,
      prequeueMinutes: 30,
      admitPerMinute: 6000,
      maxActiveShoppers: 50,
      passSeconds: 600,
      abandonAfterSeconds: 120,
      paused: false,
      length: 0,
      servedUpTo: 0,
    });
    const paused = await server.request('PATCH', `/api/events/${event.id}/queue`, { token: organizer, body: { paused: true, admitPerMinute: 120 } });
    expect([paused.status, paused.body.queue.paused, paused.body.queue.admitPerMinute, paused.body.queue.status]).toEqual([200, true, 120, 'paused']);
    const read = await server.request('GET', `/api/events/${event.id}/queue`, { token: organizer });
    expect(Object.keys(read.body.queue)).toEqual(
      expect.arrayContaining(['length', 'admitted', 'activeShoppers', 'servedUpTo', 'measuredAdmitPerMinute', 'abandoned', 'estimatedWaitSeconds']),
    );
    const visitor = await server.token();
    expect((await server.request('GET', `/api/events/${event.id}/queue`, { token: visitor })).status).toBe(403);
    expect((await server.request('PATCH', `/api/events/${event.id}/queue`, { token: visitor, body: { paused: false } })).status).toBe(403);
  });

  it('refuses bad settings and unknown queues with documented codes', async () => {
    const event = await createEvent(server.service.catalog);
    const bad = [
      { admitPerMinute: 10 },
      { opensAt: 'tomorrow', admitPerMinute: 10 },
      { opensAt: new Date().toISOString(), admitPerMinute: 0 },
      { opensAt: new Date().toISOString(), admitPerMinute: 10, passSeconds: -1 },
      { opensAt: new Date().toISOString(), admitPerMinute: 10, surprise: true },
      // Waits are whole seconds in the database: a queue opening in the year 9999 used to be a 500.
      { opensAt: '9999-12-31T23:59:59Z', admitPerMinute: 10 },
      { opensAt: new Date(Date.now() + 11 * 366 * 86_400_000).toISOString(), admitPerMinute: 10 },
    ];
    for (const body of bad) {
      const response = await server.request('PUT', `/api/events/${event.id}/queue`, { token: organizer, body });
      expect([response.status, response.body.error.code]).toEqual([400, 'invalid_request']);
    }
    // Not a time: said once, not also "at most 10 years from now".
    const notATime = await server.request('PUT', `/api/events/${event.id}/queue`, { token: organizer, body: { opensAt: 'tomorrow', admitPerMinute: 10 } });
    expect(notATime.body.error.issues).toEqual([{ path: 'body.opensAt', message: 'Invalid ISO datetime' }]);
    const { event: queued } = await queuedEvent();
    const tooLate = await server.request('PATCH', `/api/events/${queued.id}/queue`, { token: organizer, body: { opensAt: '9999-12-31T23:59:59Z' } });
    expect([tooLate.status, tooLate.body.error.code, tooLate.body.error.issues[0].path]).toEqual([400, 'invalid_request', 'body.opensAt']);
    // Nine years ahead is an on-sale, not a typo.
    const far = await server.request('PATCH', `/api/events/${queued.id}/queue`, {
      token: organizer,
      body: { opensAt: new Date(Date.now() + 9 * 365 * 86_400_000).toISOString() },
    });
    expect([far.status, far.body.queue.status]).toEqual([200, 'prequeue']);
    const empty = await server.request('PATCH', `/api/events/${event.id}/queue`, { token: organizer, body: {} });
    expect([empty.status, empty.body.error.code]).toEqual([400, 'invalid_request']);
    const none = await server.request('PATCH', `/api/events/${event.id}/queue`, { token: organizer, body: { paused: true } });
    expect([none.status, none.body.error.code]).toEqual([404, 'queue_not_found']);
    const visitor = await server.token();
    expect((await join(event.slug, visitor)).body.error.code).toBe('queue_not_found');
    expect((await join('no-such-event', visitor)).body.error.code).toBe('event_not_found');
    expect((await server.request('POST', `/api/events/${event.slug}/queue/entries`)).status).toBe(401);
    const unknown = await server.request('PUT', '/api/events/no-such-event/queue', {
      token: organizer,
      body: { opensAt: new Date().toISOString(), admitPerMinute: 10 },
    });
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'event_not_found']);
  });

  it('takes opensAt with any offset ISO 8601 allows, refuses one long ago, and a refused time leaves the room readable', async () => {
    const { event } = await queuedEvent();
    // PostgreSQL takes offsets up to ±15:59 only: these were 500s.
    for (const [opensAt, utc] of [
      ['2030-06-01T12:00:00+23:59', '2030-05-31T12:01:00.000Z'],
      ['2030-06-01T12:00:00-16:00', '2030-06-02T04:00:00.000Z'],
    ]) {
      const changed = await server.request('PATCH', `/api/events/${event.id}/queue`, { token: organizer, body: { opensAt } });
      expect([changed.status, changed.body.queue?.opensAt]).toEqual([200, utc]);
    }
    // Year 1 at +01:00 is 1 BC: it used to be written, and then every read of the room was a 500 (the organizer's, the admission tick's, the gateway's).
    for (const opensAt of ['0001-01-01T00:00:00+01:00', '1000-01-01T00:00:00Z', new Date(Date.now() - 11 * 366 * 86_400_000).toISOString()]) {
      const refused = await server.request('PATCH', `/api/events/${event.id}/queue`, { token: organizer, body: { opensAt } });
      expect([refused.status, refused.body.error.code, refused.body.error.issues[0].message]).toEqual([400, 'invalid_request', 'opensAt must be at most 10 years ago']);
    }
    const read = await server.request('GET', `/api/events/${event.id}/queue`, { token: organizer });
    expect([read.status, read.body.queue.opensAt]).toEqual([200, '2030-06-02T04:00:00.000Z']);
    // Nine years ago is the past: admission at once.
    const past = await server.request('PATCH', `/api/events/${event.id}/queue`, { token: organizer, body: { opensAt: new Date(Date.now() - 9 * 365 * 86_400_000).toISOString() } });
    expect([past.status, past.body.queue.status]).toEqual([200, 'open']);
  });

  it('joins (201, then 200), reads only your own entry, leaves; too early is queue_not_open_yet', async () => {
    const { event } = await queuedEvent({ admitPerMinute: 1 });
    await server.request('PATCH', `/api/events/${event.id}/queue`, { token: organizer, body: { paused: true } });
    const alice = await server.token();
    const bob = await server.token();
    const first = await join(event.slug, alice);
    expect([first.status, first.body.entry.status, first.body.entry.position, first.body.entry.pass]).toEqual([201, 'waiting', 1, null]);
    expect(first.body.entry.estimatedWaitSeconds).toBeGreaterThan(0);
    const again = await join(event.slug, alice);
    expect([again.status, again.body.entry.id]).toEqual([200, first.body.entry.id]);
    // Bob has no entry: he never sees Alice's.
    const bobs = await me(event.slug, bob);
    expect([bobs.status, bobs.body.error.code]).toEqual([404, 'queue_entry_not_found']);
    await join(event.slug, bob);
    expect((await me(event.slug, bob)).body.entry.id).not.toBe(first.body.entry.id);
    const left = await server.request('DELETE', `/api/events/${event.slug}/queue/entries/me`, { token: alice });
    expect([left.status, left.body.entry.status]).toEqual([200, 'closed']);

    const later = await createEvent(server.service.catalog);
    const opensAt = new Date(Math.floor(Date.now() / 1000) * 1000 + 3 * 3600_000);
    await server.request('PUT', `/api/events/${later.id}/queue`, {
      token: organizer,
      body: { opensAt: opensAt.toISOString(), admitPerMinute: 10, prequeueMinutes: 30 },
    });
    const early = await join(later.slug, alice);
    expect([early.status, early.body.error.code]).toEqual([409, 'queue_not_open_yet']);
    // Written as every other time in the API is.
    expect([early.body.error.opensAt, early.body.error.joinFrom]).toEqual([opensAt.toISOString(), new Date(opensAt.getTime() - 30 * 60_000).toISOString()]);
  });

  it('admits, hands out a signed pass, and holds need it: forged, foreign and wrongly signed passes are refused', async () => {
    const { event } = await queuedEvent();
    const general = typeId(event, 'General');
    const alice = await server.token();
    const bob = await server.token();
    const outsider = await server.token();
    await join(event.slug, alice);
    await join(event.slug, bob);
    await expect.poll(async () => (await me(event.slug, alice)).body.entry.status, { timeout: 10_000 }).toBe('admitted');
    await expect.poll(async () => (await me(event.slug, bob)).body.entry.status, { timeout: 10_000 }).toBe('admitted');
    const entry = (await me(event.slug, alice)).body.entry;
    expect(new Date(entry.passExpiresAt).getTime()).toBeGreaterThan(Date.now());

    const refused = await hold(event.id, general, outsider);
    expect([refused.status, refused.body.error.code]).toEqual([403, 'queue_pass_required']);
    // Someone else's pass does not make the outsider admitted.
    const borrowed = await hold(event.id, general, outsider, { 'x-ticketpulse-queue-pass': entry.pass });
    expect([borrowed.status, borrowed.body.error.code]).toEqual([403, 'queue_pass_invalid']);
    // A pass signed with the access-token secret, or tampered with, is not a pass.
    const [header, payload] = entry.pass.split('.');
    const wronglySigned = await new SignJWT(JSON.parse(Buffer.from(payload, 'base64url').toString()))
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(TEST_JWT_SECRET));
    const tampered = `${header}.${payload}.${'A'.repeat(43)}`;
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
    for (const pass of [wronglySigned, tampered, unsigned, 'not-a-jwt']) {
      const response = await hold(event.id, general, alice, { 'x-ticketpulse-queue-pass': pass });
      expect([response.status, response.body.error.code]).toEqual([403, 'queue_pass_invalid']);
    }
    // A pass for another event is refused there.
    const { event: other } = await queuedEvent();
    const elsewhere = await hold(other.id, typeId(other, 'General'), alice, { 'x-ticketpulse-queue-pass': entry.pass });
    expect([elsewhere.status, elsewhere.body.error.code]).toEqual([403, 'queue_pass_invalid']);

    const held = await hold(event.id, general, alice, { 'x-ticketpulse-queue-pass': entry.pass });
    expect(held.status).toBe(201);
    const second = await hold(event.id, general, alice);
    expect([second.status, second.body.error.code]).toEqual([409, 'queue_one_hold_at_a_time']);
    expect((await hold(event.id, general, bob)).status).toBe(201);
    expect(await t.countMismatches()).toEqual([]);
  });

  it("tells organizers and the live frame the event's average seats per order, counted when holds are confirmed", async () => {
    const { event, queue } = await queuedEvent();
    expect(queue.seatsPerOrder).toBeNull();
    const general = typeId(event, 'General');
    const buy = async (quantity: number) => {
      const buyer = await server.token();
      await join(event.slug, buyer);
      await expect.poll(async () => (await me(event.slug, buyer)).body.entry.status, { timeout: 10_000 }).toBe('admitted');
      const held = await server.request('POST', `/api/events/${event.id}/reservations`, {
        token: buyer,
        body: { items: [{ ticketTypeId: general, quantity }] },
      });
      expect(held.status).toBe(201);
      return { buyer, id: held.body.reservation.id as string };
    };
    const three = await buy(3);
    const one = await buy(1);
    await buy(4);
    for (const { buyer, id } of [three, one, three]) {
      expect((await server.request('POST', `/api/reservations/${id}/confirm`, { token: buyer })).status).toBe(200);
    }
    // (3 + 1) / 2: confirming twice counts one order, and the 4-seat hold, not confirmed, none.
    const read = await server.request('GET', `/api/events/${event.id}/queue`, { token: organizer });
    expect(read.body.queue.seatsPerOrder).toBe(2);
    const [live] = await server.service.waitingRoom.live([event.id]);
    expect(live?.live.seatsPerOrder).toBe(2);
    expect(await t.countMismatches()).toEqual([]);
  });

  it('refuses an expired pass', async () => {
    const { event } = await queuedEvent({ passSeconds: 1 });
    const alice = await server.token();
    await join(event.slug, alice);
    await expect.poll(async () => (await me(event.slug, alice)).body.entry.status, { timeout: 10_000 }).toBe('admitted');
    const { pass } = (await me(event.slug, alice)).body.entry;
    await expect.poll(async () => (await me(event.slug, alice)).body.entry.status, { timeout: 10_000 }).toBe('expired');
    const withPass = await hold(event.id, typeId(event, 'General'), alice, { 'x-ticketpulse-queue-pass': pass });
    expect([withPass.status, withPass.body.error.code]).toEqual([403, 'queue_pass_expired']);
    const without = await hold(event.id, typeId(event, 'General'), alice);
    expect([without.status, without.body.error.code]).toEqual([403, 'queue_pass_expired']);
    // Someone else's expired pass, or one for another event, was never a pass for this hold: invalid, not "expired, rejoin".
    const borrowed = await hold(event.id, typeId(event, 'General'), await server.token(), { 'x-ticketpulse-queue-pass': pass });
    expect([borrowed.status, borrowed.body.error.code]).toEqual([403, 'queue_pass_invalid']);
    const { event: other } = await queuedEvent();
    const elsewhere = await hold(other.id, typeId(other, 'General'), alice, { 'x-ticketpulse-queue-pass': pass });
    expect([elsewhere.status, elsewhere.body.error.code]).toEqual([403, 'queue_pass_invalid']);
  });

  it('opensAt moved into the future after opening starts a new pre-queue: places kept, newcomers shuffled behind them at the new opensAt', async () => {
    const { event } = await queuedEvent();
    const patch = (body: Record<string, unknown>) => server.request('PATCH', `/api/events/${event.id}/queue`, { token: organizer, body });
    await patch({ paused: true });
    const alice = await server.token();
    expect((await join(event.slug, alice)).body.entry).toMatchObject({ status: 'waiting', position: 1 });

    const later = new Date(Date.now() + 10 * 60_000).toISOString(); // within the 30-minute pre-queue
    const postponed = await patch({ opensAt: later, paused: false });
    expect([postponed.status, postponed.body.queue.status]).toEqual([200, 'prequeue']);
    const newcomers = [await server.token(), await server.token()];
    for (const newcomer of newcomers) {
      const joined = await join(event.slug, newcomer);
      // Not placed by arrival while the room says pre-queue: the place comes from the shuffle at opensAt.
      expect([joined.status, joined.body.entry.status, joined.body.entry.position]).toEqual([201, 'prequeue', null]);
    }
    expect((await me(event.slug, alice)).body.entry).toMatchObject({ status: 'waiting', position: 1 });
    const read = await server.request('GET', `/api/events/${event.id}/queue`, { token: organizer });
    expect(read.body.queue).toMatchObject({ status: 'prequeue', length: 3, lastPosition: 1, servedUpTo: 0 });

    await patch({ opensAt: new Date(Date.now() - 1000).toISOString() });
    await expect.poll(async () => (await me(event.slug, newcomers[0]!)).body.entry.position, { timeout: 10_000 }).not.toBeNull();
    const positions = await Promise.all(newcomers.map(async (newcomer) => (await me(event.slug, newcomer)).body.entry.position));
    expect(positions.sort()).toEqual([2, 3]);
    await expect.poll(async () => (await me(event.slug, alice)).body.entry.status, { timeout: 10_000 }).toBe('admitted');
  });

  it(`limits joins per address (${JOINS_PER_MINUTE} a minute here)`, async () => {
    const { event } = await queuedEvent();
    // The earlier tests' joins counted too: whatever is left of this minute's allowance, then 429.
    const statuses: number[] = [];
    for (let i = 0; i <= JOINS_PER_MINUTE; i++) statuses.push((await join(event.slug, await server.token())).status);
    expect(statuses.at(-1)).toBe(429);
    const refused = await join(event.slug, await server.token());
    expect([refused.status, refused.body.error.code]).toEqual([429, 'rate_limited']);
  });
});
