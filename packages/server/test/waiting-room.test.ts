import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Catalog, type EventWithTicketTypes } from '../src/inventory/catalog.ts';
import { InventoryError } from '../src/inventory/errors.ts';
import { Holds } from '../src/inventory/holds.ts';
import { AdmissionDriver } from '../src/waiting-room/admission-driver.ts';
import { QueuePasses } from '../src/waiting-room/queue-pass.ts';
import { WaitingRoom, type QueueSettingsChange, type Visitor } from '../src/waiting-room/waiting-room.ts';
import { createTestDatabase, drivers, type TestDatabase } from './support/database.ts';
import { createEvent, holdSettings, typeId } from './support/fixtures.ts';
import { TEST_JWT_SECRET } from './support/server.ts';

const silent = pino({ level: 'silent' });
const visitor = (holderId: string): Visitor => ({ holderId, audience: { privileged: false, userId: holderId } });
const inSeconds = (seconds: number) => new Date(Date.now() + seconds * 1000);

/** Critical value of the chi-square distribution with 9 degrees of freedom at p = 0.01. */
const CHI_SQUARE_9_DOF_P01 = 21.666;

async function refusalCode(call: Promise<unknown>): Promise<string> {
  const error = await call.then(
    () => new Error('expected a refusal, but the call succeeded'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InventoryError);
  return (error as InventoryError).code;
}

describe.each(drivers)('waiting room (%s)', (driver) => {
  let t: TestDatabase;
  let catalog: Catalog;
  let holds: Holds;
  let room: WaitingRoom;
  let driverA: AdmissionDriver;

  beforeAll(async () => {
    t = await createTestDatabase(driver);
    catalog = new Catalog(t.db);
    holds = new Holds(t.db, holdSettings);
    room = new WaitingRoom(t.db, new QueuePasses(TEST_JWT_SECRET));
    driverA = new AdmissionDriver(t.db, { tickMs: 100, leaseMs: 60_000 }, silent);
  });
  afterEach(async () => {
    expect(await t.countMismatches()).toEqual([]);
  });
  afterAll(() => t.dispose());

  /** An event with a waiting room; opened a second ago unless the settings say otherwise. */
  async function queuedEvent(settings: QueueSettingsChange = {}, event?: EventWithTicketTypes) {
    const e = event ?? (await createEvent(catalog));
    await room.configure(e.id, { opensAt: inSeconds(-1).toISOString(), admitPerMinute: 60, ...settings });
    return e;
  }
  const joinAll = async (eventId: string, holders: string[]) => {
    const entries = [];
    for (const holder of holders) entries.push((await room.join(eventId, visitor(holder))).entry);
    return entries;
  };
  /** In join order: by the database clock, then (joins decided in one batch share its reading) by position, the order they arrived in. */
  const positions = async (eventId: string) =>
    (
      await t.db.query<{ holder_id: string; position: string }>(
        'SELECT holder_id, position FROM queue_entries WHERE event_id = $1 ORDER BY joined_at, position, holder_id',
        [eventId],
      )
    ).rows.map((r) => ({ holder: r.holder_id, position: Number(r.position) }));
  /** Ticks at a given clock: the elapsed time since the previous tick, times the rate, is admitted. */
  const tickAt = (date: Date) => driverA.tick(date);

  it('shuffles the pre-queue at opening: uniform, exact positions unrelated to join order', async () => {
    const event = await queuedEvent({ opensAt: inSeconds(3600).toISOString(), prequeueMinutes: 120 });
    const n = 2000;
    const holders = Array.from({ length: n }, (_, i) => `early-${String(i).padStart(4, '0')}`);
    for (let i = 0; i < n; i += 50) await Promise.all(holders.slice(i, i + 50).map((h) => room.join(event.id, visitor(h))));
    const before = await room.entry(event.id, visitor(holders[0]!));
    expect([before.status, before.position, before.peopleAhead]).toEqual(['prequeue', null, null]);
    expect((await room.read(event.id)).length).toBe(n);

    // The organizer opens the sale now: the next tick draws the positions.
    await room.configure(event.id, { opensAt: inSeconds(-1).toISOString() });
    await tickAt(new Date());
    const placed = await positions(event.id);
    expect(placed.map((p) => p.position).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i + 1));

    // Spearman's rank correlation between join order (rank i + 1) and position (already a rank).
    const sumD2 = placed.reduce((sum, p, i) => sum + (i + 1 - p.position) ** 2, 0);
    const rho = 1 - (6 * sumD2) / (n * (n * n - 1));
    expect(Math.abs(rho)).toBeLessThan(0.1);

    // The first-joined 10% spread evenly over the ten deciles of positions.
    const chiSquare = (drawn: Array<{ position: number }>) => {
      const observed = new Array<number>(10).fill(0);
      for (const p of drawn.slice(0, n / 10)) observed[Math.floor((p.position - 1) / (n / 10))]!++;
      const expected = n / 10 / 10;
      return observed.reduce((sum, o) => sum + (o - expected) ** 2 / expected, 0);
    };
    let statistic = chiSquare(placed);
    if (statistic >= CHI_SQUARE_9_DOF_P01) {
      // A fair shuffle fails one draw at p = 0.01 once in a hundred runs; the same entries are drawn again,
      // and a fair shuffle fails twice in a row once in ten thousand, while a biased one keeps failing.
      await t.db.query('UPDATE queue_entries SET position = NULL WHERE event_id = $1', [event.id]);
      await t.db.query('UPDATE event_queues SET last_position = 0, served_up_to = 0 WHERE event_id = $1', [event.id]);
      await t.db.query('SELECT queue_shuffle($1)', [event.id]);
      statistic = chiSquare(await positions(event.id));
    }
    expect(statistic).toBeLessThan(CHI_SQUARE_9_DOF_P01);
  });

  it('after opening, positions follow arrival strictly, concurrent joins included', async () => {
    const event = await queuedEvent();
    await joinAll(event.id, ['a1', 'a2', 'a3']);
    await Promise.all(Array.from({ length: 40 }, (_, i) => room.join(event.id, visitor(`c${i}`))));
    const placed = await positions(event.id);
    expect(placed.map((p) => p.position)).toEqual(Array.from({ length: 43 }, (_, i) => i + 1));
    expect(placed.slice(0, 3).map((p) => p.holder)).toEqual(['a1', 'a2', 'a3']);
  });

  it('one entry per user: joining again returns the same entry, leaving and rejoining goes to the end', async () => {
    const event = await queuedEvent();
    const [first] = await joinAll(event.id, ['me', 'other-1', 'other-2']);
    const again = await room.join(event.id, visitor('me'));
    expect(again.created).toBe(false);
    expect([again.entry.id, again.entry.position, again.entry.status, again.entry.peopleAhead]).toEqual([first!.id, 1, 'waiting', 0]);

    const left = await room.leave(event.id, visitor('me'));
    expect(left.status).toBe('closed');
    expect((await room.read(event.id)).length).toBe(2);
    const back = await room.join(event.id, visitor('me'));
    expect([back.created, back.entry.id, back.entry.position]).toEqual([false, first!.id, 4]);
    expect((await room.read(event.id)).length).toBe(3);
    // Someone else never reads your entry: theirs is their own, and without one there is none.
    expect(await refusalCode(room.entry(event.id, visitor('stranger')))).toBe('queue_entry_not_found');
  });

  it('joins that arrive together are decided together, each with its own answer, in arrival order', async () => {
    // A draft event: only privileged callers see it.
    const event = await queuedEvent({}, await createEvent(catalog, { status: 'draft' }));
    const staff = (holderId: string): Visitor => ({ holderId, audience: { privileged: true, userId: holderId } });
    for (const holder of ['s1', 'back']) await room.join(event.id, staff(holder));
    await room.leave(event.id, staff('back'));
    // Submitted in one turn of the event loop: one batch (group commit), in this order.
    const answers = await Promise.allSettled([
      room.join(event.id, staff('s2')),
      room.join(event.id, visitor('outsider')),
      room.join(event.id, staff('s2')),
      room.join(event.id, staff('back')),
      room.join(event.id, staff('s1')),
      room.join(event.id, staff('s3')),
    ]);
    const joined = answers.map((a) => (a.status === 'fulfilled' ? { created: a.value.created, id: a.value.entry.id, position: a.value.entry.position } : a.reason));
    // The caller who may not see the event is refused alone; the batch goes on without them.
    expect(joined[1]).toBeInstanceOf(InventoryError);
    expect((joined[1] as InventoryError).code).toBe('event_not_found');
    // The same holder twice: one entry, created once.
    expect(joined[0]).toEqual({ created: true, id: expect.any(String), position: 3 });
    expect(joined[2]).toEqual({ ...joined[0], created: false });
    // Back in at the end, after those who arrived before in the same batch; an entry already in line keeps its place.
    expect(joined[3]).toMatchObject({ created: false, position: 4 });
    expect(joined[4]).toMatchObject({ created: false, position: 1 });
    expect(joined[5]).toMatchObject({ created: true, position: 5 });
    const queue = await room.read(event.id);
    expect([queue.lastPosition, queue.length]).toEqual([5, 4]);
  });

  it('answers a new entry as reading it back does, and an entry that already existed whole', async () => {
    const event = await queuedEvent({ admitPerMinute: 120 });
    await joinAll(event.id, ['first', 'second']);
    // One batch: two new visitors (sent back by the batch as four numbers each) and one already in line.
    const [fresh, again, next] = await Promise.all([room.join(event.id, visitor('third')), room.join(event.id, visitor('first')), room.join(event.id, visitor('fourth'))]);
    expect(fresh).toEqual({ created: true, entry: await room.entry(event.id, visitor('third')) });
    expect(next).toEqual({ created: true, entry: await room.entry(event.id, visitor('fourth')) });
    expect(again).toEqual({ created: false, entry: await room.entry(event.id, visitor('first')) });
    expect(fresh.entry).toMatchObject({ eventId: event.id, status: 'waiting', position: 3, peopleAhead: 2, estimatedWaitSeconds: 2, pass: null, passExpiresAt: null });
    // Without its queue, an event has no entries left behind (the queue's trigger, not a foreign key per entry).
    await t.db.query('DELETE FROM event_queues WHERE event_id = $1', [event.id]);
    const { rows } = await t.db.query<{ n: number }>('SELECT count(*)::integer AS n FROM queue_entries WHERE event_id = $1', [event.id]);
    expect(rows[0]!.n).toBe(0);
  });

  it('admits at the configured rate by the elapsed time, and only the admitted may hold', async () => {
    const event = await queuedEvent({ admitPerMinute: 60 });
    const general = typeId(event, 'General');
    // Ticked before anyone joins: nothing owed is saved up for them.
    const start = new Date();
    await tickAt(start);
    await joinAll(event.id, Array.from({ length: 30 }, (_, i) => `v${i}`));
    const hold = (holder: string) =>
      holds.reserve({ eventId: event.id, audience: visitor(holder).audience, holderId: holder, items: [{ ticketTypeId: general, quantity: 1 }] });
    expect(await refusalCode(hold('v0'))).toBe('queue_pass_required');

    // Ten seconds at 60 a minute: ten admitted, in order.
    const { queues } = await tickAt(new Date(start.getTime() + 10_000));
    const queue = queues.find((q) => q.eventId === event.id)!;
    expect([queue.servedUpTo, queue.admitted, queue.length, queue.status]).toEqual([10, 10, 20, 'open']);
    const admitted = await room.entry(event.id, visitor('v9'));
    expect(admitted.status).toBe('admitted');
    expect(admitted.pass).toEqual(expect.any(String));
    expect((await room.entry(event.id, visitor('v10'))).status).toBe('waiting');
    expect(await refusalCode(hold('v10'))).toBe('queue_pass_required');
    expect(await refusalCode(hold('stranger'))).toBe('queue_pass_required');

    // One active hold per pass; released, the pass allows another.
    const { reservation } = await hold('v0');
    expect(await refusalCode(hold('v0'))).toBe('queue_one_hold_at_a_time');
    await holds.release(reservation.id, 'v0');
    const second = await hold('v0');
    await holds.confirm(second.reservation.id, 'v0');
    // Two holds by one admitted visitor in the same batch: the second is refused.
    const both = await Promise.allSettled([hold('v1'), hold('v1')]);
    expect(both.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);

    // The organizer (privileged) is not queued.
    await holds.reserve({ eventId: event.id, audience: { privileged: true }, holderId: 'organizer', items: [{ ticketTypeId: general, quantity: 1 }] });
  });

  it('refuses holds once the pass has run out, and the pass is bound to its event', async () => {
    const event = await queuedEvent({ admitPerMinute: 60, passSeconds: 60, opensAt: inSeconds(-600).toISOString() });
    const other = await queuedEvent({ admitPerMinute: 60 });
    await joinAll(event.id, ['late', 'on-time']);
    await joinAll(other.id, ['somebody']);
    // Admitted 5 minutes ago (a clock in the past), with a 60-second pass.
    await tickAt(new Date(Date.now() - 310_000));
    await tickAt(new Date(Date.now() - 300_000));
    const entry = await room.entry(event.id, visitor('late'));
    expect([entry.status, entry.pass, entry.passExpiresAt]).toEqual(['expired', null, null]);
    const hold = (eventId: string, typeIdOf: EventWithTicketTypes) =>
      holds.reserve({ eventId, audience: visitor('late').audience, holderId: 'late', items: [{ ticketTypeId: typeId(typeIdOf, 'General'), quantity: 1 }] });
    expect(await refusalCode(hold(event.id, event))).toBe('queue_pass_expired');
    // Admitted to one event is not admitted to another.
    expect(await refusalCode(hold(other.id, other))).toBe('queue_pass_required');
    // Expired: rejoining puts the visitor at the end.
    const back = await room.join(event.id, visitor('late'));
    expect([back.entry.status, back.entry.position]).toEqual(['waiting', 3]);
  });

  it('skips visitors who went away, so the real ones are admitted at the rate', async () => {
    const event = await queuedEvent({ admitPerMinute: 60, abandonAfterSeconds: 60 });
    const holders = Array.from({ length: 100 }, (_, i) => `w${String(i).padStart(3, '0')}`);
    const start = new Date();
    await tickAt(start);
    await joinAll(event.id, holders);
    // 30% went silent an hour ago: the database saw them last then.
    const gone = holders.filter((_, i) => i % 10 < 3);
    await t.db.query(`UPDATE queue_entries SET last_seen_at = now() - interval '1 hour' WHERE event_id = $1 AND holder_id = ANY ($2)`, [event.id, gone]);
    // Thirty seconds at 60 a minute, in ticks: thirty real visitors, and the silent ones among them passed over.
    for (const at of [10_000, 20_000]) await tickAt(new Date(start.getTime() + at));
    const { queues } = await tickAt(new Date(start.getTime() + 30_000));
    const queue = queues.find((q) => q.eventId === event.id)!;
    expect(queue.admitted).toBe(30);
    const admittedHolders = holders.slice(0, queue.servedUpTo).filter((h) => !gone.includes(h));
    expect(admittedHolders).toHaveLength(30);
    expect(queue.abandoned).toBe(queue.servedUpTo - 30);
    expect(queue.length).toBe(100 - queue.servedUpTo);
    expect((await room.entry(event.id, visitor(admittedHolders[29]!))).status).toBe('admitted');
    // The waiting count falls as people leave.
    await room.leave(event.id, visitor(holders[99]!));
    expect((await room.read(event.id)).length).toBe(100 - queue.servedUpTo - 1);
  });

  it('stops at the active-shopper cap and goes on as passes run out', async () => {
    const event = await queuedEvent({ admitPerMinute: 600, maxActiveShoppers: 5, passSeconds: 30 });
    const start = new Date();
    await tickAt(start);
    await joinAll(event.id, Array.from({ length: 20 }, (_, i) => `s${i}`));
    let { queues } = await tickAt(new Date(start.getTime() + 5_000));
    expect(queues.find((q) => q.eventId === event.id)!.servedUpTo).toBe(5);
    ({ queues } = await tickAt(new Date(start.getTime() + 10_000)));
    expect(queues.find((q) => q.eventId === event.id)!.servedUpTo).toBe(5);
    // The first five passes have run out 30 s after their admission.
    await tickAt(new Date(start.getTime() + 35_500));
    ({ queues } = await tickAt(new Date(start.getTime() + 36_000)));
    expect(queues.find((q) => q.eventId === event.id)!.servedUpTo).toBe(10);
  });

  it('measures the rate from when the line last ran empty: a quiet spell does not make a crowd’s wait look long', async () => {
    const event = await queuedEvent({ admitPerMinute: 60, opensAt: inSeconds(-600).toISOString() });
    const now = Date.now();
    // One visitor admitted 40 s ago, then nobody to admit until a crowd of ten arrives.
    await joinAll(event.id, ['early']);
    await tickAt(new Date(now - 40_000));
    await tickAt(new Date(now - 6000));
    const crowd = Array.from({ length: 10 }, (_, i) => `crowd${i}`);
    await joinAll(event.id, crowd);
    // Five seconds at 60 a minute: five of them in.
    const { queues } = await tickAt(new Date(now - 1000));
    expect(queues.find((q) => q.eventId === event.id)!.servedUpTo).toBe(6);

    // Over the whole last minute that is 6 a minute; the line has moved at about 60 a minute since it last ran empty.
    const queue = await room.read(event.id);
    expect(queue.measuredAdmitPerMinute).toBeGreaterThan(40);
    expect(queue.measuredAdmitPerMinute).toBeLessThanOrEqual(61);
    const last = await room.entry(event.id, visitor(crowd[9]!));
    expect(last.peopleAhead).toBe(4);
    // Five places to go at about a second each, not at ten.
    expect(last.estimatedWaitSeconds).toBeGreaterThanOrEqual(5);
    expect(last.estimatedWaitSeconds).toBeLessThanOrEqual(8);
  });

  it('estimates waits by the places the line moves past, skipped ones included; the organizer sees real admissions', async () => {
    const event = await queuedEvent({ admitPerMinute: 60, abandonAfterSeconds: 60, opensAt: inSeconds(-600).toISOString() });
    const holders = Array.from({ length: 80 }, (_, i) => `p${String(i).padStart(2, '0')}`);
    await joinAll(event.id, holders);
    // Every other visitor went silent an hour ago: each real admission passes one skipped place too.
    const gone = holders.filter((_, i) => i % 2 === 1);
    await t.db.query(`UPDATE queue_entries SET last_seen_at = now() - interval '1 hour' WHERE event_id = $1 AND holder_id = ANY ($2)`, [event.id, gone]);
    const now = Date.now();
    await tickAt(new Date(now - 20_000));
    const { queues } = await tickAt(new Date(now - 10_000));
    // Two ticks of ten seconds at 60 a minute: twenty real visitors in, nineteen places skipped among them.
    expect(queues.find((q) => q.eventId === event.id)!).toMatchObject({ admitted: 20, servedUpTo: 39 });

    const queue = await room.read(event.id);
    expect(queue.measuredAdmitPerMinute).toBeCloseTo(20, 0);
    // The line passed 39 places in the last minute (about 41 a minute with the measure's start at the configured 60):
    // the last in line, 41 places away, waits about a minute, not the two that 20 admissions a minute would say.
    const [live] = await room.live([event.id]);
    expect(live!.live.rate).toBeGreaterThan(38);
    expect(live!.live.rate).toBeLessThan(44);
    expect(queue.estimatedWaitSeconds).toBe(Math.ceil((41 * 60) / live!.live.rate));
    // The entry and the realtime frame's `rate` agree, so every client computes the same wait.
    const last = await room.entry(event.id, visitor(holders[79]!));
    expect([last.peopleAhead, last.estimatedWaitSeconds]).toEqual([40, queue.estimatedWaitSeconds]);
  });

  it('starts the pace at the configured rate and moves to the measure: no swing in the first seconds after opening', async () => {
    const event = await queuedEvent({ admitPerMinute: 30, opensAt: inSeconds(-600).toISOString() });
    const pace = async () => (await room.live([event.id]))[0]!.live.rate;
    // The line runs empty (the measure starts), and at once nothing is measured yet: the configured rate.
    await tickAt(new Date(Date.now() - 50));
    expect(await pace()).toBeCloseTo(30, 0);
    // Now as if it ran empty four seconds ago, and a crowd came: one admitted two seconds in, no second one yet.
    // Counted over the clock, that is 30 a minute after two seconds and 15 after four; the pace stays near the configured 30.
    const now = Date.now();
    await tickAt(new Date(now - 4000));
    await joinAll(event.id, Array.from({ length: 40 }, (_, i) => `f${i}`));
    const { queues } = await tickAt(new Date(now - 2000));
    expect(queues.find((q) => q.eventId === event.id)!.servedUpTo).toBe(1);
    const early = await pace();
    expect(early).toBeGreaterThan(24);
    expect(early).toBeLessThanOrEqual(31);
    // Until admission moves again, the clock alone does not move it: no new `queue` frame, the same ETag for a poll.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await pace()).toBe(early);
  });

  it('never estimates a pace above what the active-shopper cap lets through: cap per pass time', async () => {
    const event = await queuedEvent({ admitPerMinute: 600, maxActiveShoppers: 2, passSeconds: 120, opensAt: inSeconds(-600).toISOString() });
    await joinAll(event.id, Array.from({ length: 12 }, (_, i) => `c${i}`));
    const now = Date.now();
    await tickAt(new Date(now - 2000));
    const { queues } = await tickAt(new Date(now - 1000));
    // The cap's two at once, then nobody until a pass ends: the burst's pace would promise the next ten in about a second.
    expect(queues.find((q) => q.eventId === event.id)!.servedUpTo).toBe(2);
    const last = await room.entry(event.id, visitor('c11'));
    // Two shoppers per two minutes: one place a minute, ten places to go.
    expect(last.peopleAhead).toBe(9);
    expect(last.estimatedWaitSeconds).toBe(600);
    expect((await room.live([event.id]))[0]!.live.rate).toBe(1);
  });

  it('pauses while every seat left is held, resumes when seats return, and stops at sold out', async () => {
    const base = await createEvent(catalog, { ticketTypes: [{ name: 'General', price: '10.00', totalCapacity: 2, maxPerOrder: 2 }] });
    const event = await queuedEvent({ admitPerMinute: 60 }, base);
    const general = typeId(event, 'General');
    const start = new Date();
    await tickAt(start);
    await joinAll(event.id, ['buyer', 'w1', 'w2', 'w3']);
    await tickAt(new Date(start.getTime() + 1000));
    const { reservation } = await holds.reserve({ eventId: event.id, audience: visitor('buyer').audience, holderId: 'buyer', items: [{ ticketTypeId: general, quantity: 2 }] });
    let { queues } = await tickAt(new Date(start.getTime() + 5000));
    let queue = queues.find((q) => q.eventId === event.id)!;
    expect([queue.status, queue.servedUpTo]).toEqual(['held_out', 1]);
    expect((await room.entry(event.id, visitor('w1'))).status).toBe('waiting');

    await holds.release(reservation.id, 'buyer');
    ({ queues } = await tickAt(new Date(start.getTime() + 6000)));
    queue = queues.find((q) => q.eventId === event.id)!;
    expect([queue.status, queue.servedUpTo]).toEqual(['open', 2]);

    const bought = await holds.reserve({ eventId: event.id, audience: visitor('w1').audience, holderId: 'w1', items: [{ ticketTypeId: general, quantity: 2 }] });
    await holds.confirm(bought.reservation.id, 'w1');
    ({ queues } = await tickAt(new Date(start.getTime() + 20_000)));
    queue = queues.find((q) => q.eventId === event.id)!;
    expect([queue.status, queue.servedUpTo, queue.estimatedWaitSeconds]).toEqual(['sold_out', 2, null]);
    expect((await room.entry(event.id, visitor('w3'))).status).toBe('sold_out');
  });

  it('never oversells with a queue in front: admitted visitors race for the last seats', async () => {
    const base = await createEvent(catalog, { ticketTypes: [{ name: 'General', price: '10.00', totalCapacity: 25, maxPerOrder: 4 }] });
    const event = await queuedEvent({ admitPerMinute: 6000 }, base);
    const general = typeId(event, 'General');
    const holders = Array.from({ length: 60 }, (_, i) => `r${i}`);
    const start = new Date();
    await tickAt(start);
    await joinAll(event.id, holders);
    await tickAt(new Date(start.getTime() + 1000));
    const outcomes = await Promise.allSettled(
      holders.map((h, i) =>
        holds.reserve({ eventId: event.id, audience: visitor(h).audience, holderId: h, items: [{ ticketTypeId: general, quantity: 1 + (i % 3) }] }),
      ),
    );
    const held = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value.reservation] : []));
    const seats = held.reduce((sum, r) => sum + r.items[0]!.quantity, 0);
    expect(seats).toBeLessThanOrEqual(25);
    expect(seats).toBeGreaterThan(20);
    const { rows } = await t.db.query<{ n: string }>(`SELECT count(*) AS n FROM tickets WHERE event_ticket_id = $1 AND status = 'reserved'`, [general]);
    expect(Number(rows[0]!.n)).toBe(seats);
  });

  it('reports as moved only the lines a tick changed (served-up-to or status), not a paused or idle one', async () => {
    const event = await queuedEvent({ admitPerMinute: 60 });
    const start = new Date();
    const moved = async (afterMs: number) => (await tickAt(new Date(start.getTime() + afterMs))).moved.includes(event.id);
    await tickAt(start);
    await joinAll(event.id, ['m0', 'm1', 'm2']);
    expect(await moved(1_000)).toBe(true); // one admitted
    expect(await moved(1_000)).toBe(false); // no time passed: nobody more
    await room.configure(event.id, { paused: true });
    expect(await moved(2_000)).toBe(true); // open -> paused
    expect(await moved(5_000)).toBe(false);
    await room.configure(event.id, { paused: false });
    expect(await moved(6_000)).toBe(true); // paused -> open
    expect((await room.read(event.id)).status).toBe('open');
  });

  it('one node drives admission; another takes over when it stops', async () => {
    // A queue to drive: with none open, no node takes the lease.
    await queuedEvent();
    const second = driver === 'postgres' ? await t.connectAgain() : t.db;
    const leaseMs = 300;
    const a = new AdmissionDriver(t.db, { tickMs: 50, leaseMs }, silent);
    const b = new AdmissionDriver(second, { tickMs: 50, leaseMs }, silent);
    try {
      // driverA (the tests' clock) holds a long lease: let it go first.
      await t.db.query("UPDATE leader_leases SET lease_until = now() WHERE job = 'queue-admission'");
      a.start();
      await expect.poll(() => a.isLeader, { timeout: 5000 }).toBe(true);
      b.start();
      for (let i = 0; i < 5; i++) {
        await b.tick();
        expect([a.isLeader, b.isLeader]).toEqual([true, false]);
      }
      await a.stop();
      await expect.poll(() => b.isLeader, { timeout: 5000 }).toBe(true);
    } finally {
      await a.stop();
      await b.stop();
      if (second !== t.db) await second.close();
    }
  });
});
