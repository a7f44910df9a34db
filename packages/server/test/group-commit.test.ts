import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../src/inventory/catalog.ts';
import { InventoryError } from '../src/inventory/errors.ts';
import { Holds, type HoldRequest, type HoldResult } from '../src/inventory/holds.ts';
import { createTestDatabase, drivers, type TestDatabase } from './support/database.ts';
import { createEvent, holdSettings, typeId } from './support/fixtures.ts';
import { startTestServer } from './support/server.ts';

type Settled = { ok: true; result: HoldResult } | { ok: false; error: unknown };

/** Fires all requests in the same tick, so they queue behind one another and share batches. */
const burst = (holds: Holds, requests: HoldRequest[]): Promise<Settled[]> =>
  Promise.all(
    requests.map((r) =>
      holds.reserve(r).then(
        (result): Settled => ({ ok: true, result }),
        (error: unknown): Settled => ({ ok: false, error }),
      ),
    ),
  );

const code = (s: Settled) => (s.ok ? 'held' : s.error instanceof InventoryError ? s.error.code : String(s.error));

describe.each(drivers)('group commit of holds (%s)', (driver) => {
  let t: TestDatabase;
  let catalog: Catalog;
  let holds: Holds;
  let inOneBatch: Holds;
  const batches: number[] = [];

  beforeAll(async () => {
    t = await createTestDatabase(driver);
    catalog = new Catalog(t.db);
    holds = new Holds(t.db, holdSettings, () => {}, { onBatch: (size) => batches.push(size) });
    // A burst as one batch, for what is decided within one: in arrival order (two halves may commit in either order).
    inOneBatch = new Holds(t.db, holdSettings, () => {}, { onBatch: (size) => batches.push(size), splitWhenIdle: false });
  });
  afterEach(async () => {
    expect(await t.countMismatches()).toEqual([]);
    batches.length = 0;
  });
  afterAll(() => t.dispose());

  it('decides concurrent holds in one batch, first come first served, each with its own answer', async () => {
    const event = await createEvent(catalog);
    const general = typeId(event, 'General'); // 10 seats, at most 4 per order
    const results = await burst(
      inOneBatch,
      Array.from({ length: 40 }, (_, i) => ({ eventId: event.id, holderId: `buyer-${i}`, items: [{ ticketTypeId: general, quantity: 2 }] })),
    );

    // Arrival order decides: the first five get the ten seats, nobody after them does.
    expect(results.map(code)).toEqual([...Array<string>(5).fill('held'), ...Array<string>(35).fill('insufficient_availability')]);
    const refused = results[5]!;
    expect(!refused.ok && (refused.error as InventoryError).details).toMatchObject({ ticketTypeId: general, available: 0, requested: 2 });
    // They really were batched: fewer transactions than requests.
    expect(batches.length).toBeLessThan(40);
    expect(Math.max(...batches)).toBeGreaterThan(1);
    const held = results.flatMap((r) => (r.ok ? [r.result.reservation] : []));
    expect(new Set(held.map((r) => r.id)).size).toBe(5);
    for (const [i, reservation] of held.entries()) {
      expect(reservation).toMatchObject({ holderId: `buyer-${i}`, status: 'active', items: [{ ticketTypeId: general, quantity: 2, ticketTypeName: 'General' }] });
    }
  });

  it('answers each new hold with the reservation exactly as it is stored', async () => {
    const event = await createEvent(catalog, {
      ticketTypes: [
        { name: 'Zeta', price: '5.50', totalCapacity: 10, maxPerOrder: 4, sortOrder: 0 },
        { name: 'Alpha', price: '12.00', currency: 'USD', totalCapacity: 10, maxPerOrder: 4, sortOrder: 1 },
        { name: 'Beta', price: '7.25', totalCapacity: 10, maxPerOrder: 4, sortOrder: 0 },
      ],
    });
    const items = ['Alpha', 'Beta', 'Zeta'].map((name, i) => ({ ticketTypeId: typeId(event, name).toUpperCase(), quantity: i + 1 }));
    const results = await burst(holds, [
      { eventId: event.id, holderId: 'opener', items: [items[0]!] },
      { eventId: event.id, holderId: 'mixed', items },
      // The same order as the opener's: priced once for both (new_holds_priced).
      { eventId: event.id, holderId: 'follower', items: [items[0]!] },
    ]);
    for (const settled of results) {
      if (!settled.ok) throw settled.error;
      // Only a hold's answer names the version that counts it; the rest is the stored reservation.
      const { availabilityVersion, ...stored } = settled.result.reservation;
      expect(availabilityVersion).toEqual(expect.any(Number));
      expect(stored).toEqual(await holds.get(settled.result.reservation.id, undefined));
    }
    const mixed = results[1] as Extract<Settled, { ok: true }>;
    expect(mixed.result.reservation.items.map((i) => i.ticketTypeName)).toEqual(['Beta', 'Zeta', 'Alpha']);
    expect(mixed.result.reservation.totals).toEqual([
      { currency: 'EUR', total: '31.00' },
      { currency: 'USD', total: '12.00' },
    ]);
  });

  it('refuses one bad request without touching the good ones in the same batch', async () => {
    const event = await createEvent(catalog);
    const general = typeId(event, 'General');
    const vip = typeId(event, 'VIP');
    const results = await burst(inOneBatch, [
      { eventId: event.id, holderId: 'first', items: [{ ticketTypeId: general, quantity: 1 }] },
      { eventId: event.id, holderId: 'a', items: [{ ticketTypeId: general, quantity: 1 }, { ticketTypeId: vip, quantity: 2 }] },
      { eventId: event.id, holderId: 'b', items: [{ ticketTypeId: general, quantity: 5 }] },
      { eventId: event.id, holderId: 'c', items: [{ ticketTypeId: 'not-a-uuid', quantity: 1 }] },
      { eventId: event.id, holderId: 'd', items: [{ ticketTypeId: general, quantity: 1 }, { ticketTypeId: vip, quantity: 1 }] },
      { eventId: event.id, holderId: 'e', items: [{ ticketTypeId: general, quantity: 3 }] },
    ]);
    // d's VIP seat is gone (a took both), so d holds nothing at all, not even its General seat.
    expect(results.map(code)).toEqual(['held', 'held', 'quantity_above_max_per_order', 'unknown_ticket_type', 'insufficient_availability', 'held']);
    const { rows } = await t.db.query<{ name: string; reserved_count: number }>(
      'SELECT name, reserved_count FROM event_tickets WHERE event_id = $1 ORDER BY name',
      [event.id],
    );
    expect(rows).toEqual([
      { name: 'General', reserved_count: 5 },
      { name: 'VIP', reserved_count: 2 },
    ]);
  });

  it('gives a batch that fits the answers it would get one by one, and so does a batch that does not', async () => {
    const seatsLeft = async (eventId: string) =>
      (await t.db.query<{ name: string; available: number }>('SELECT name, available_count AS available FROM event_tickets WHERE event_id = $1 ORDER BY name', [eventId])).rows;
    const holdOf = (event: Awaited<ReturnType<typeof createEvent>>) => (holderId: string, general: number, vip = 0) => ({
      eventId: event.id,
      holderId,
      items: [
        ...(general > 0 ? [{ ticketTypeId: typeId(event, 'General'), quantity: general }] : []),
        ...(vip > 0 ? [{ ticketTypeId: typeId(event, 'VIP'), quantity: vip }] : []),
      ],
    });
    // General has 10 seats (4 per order), VIP 2: every request fits, exactly up to the last seat of both.
    let event = await createEvent(catalog);
    let hold = holdOf(event);
    expect((await burst(inOneBatch, [hold('opener', 1), hold('a', 4, 1), hold('b', 4), hold('c', 1, 1)])).map(code)).toEqual(['held', 'held', 'held', 'held']);
    expect(await seatsLeft(event.id)).toEqual([{ name: 'General', available: 0 }, { name: 'VIP', available: 0 }]);
    // Decided together, not one by one.
    expect(Math.max(...batches)).toBeGreaterThan(1);
    batches.length = 0;

    // One seat too many in all: the request that no longer fits is refused, and a later, smaller one still holds.
    event = await createEvent(catalog);
    hold = holdOf(event);
    const results = await burst(inOneBatch, [hold('opener', 1), hold('a', 4), hold('b', 4), hold('c', 3), hold('d', 1), hold('e', 0, 2)]);
    expect(results.map(code)).toEqual(['held', 'held', 'held', 'insufficient_availability', 'held', 'held']);
    expect(await seatsLeft(event.id)).toEqual([{ name: 'General', available: 0 }, { name: 'VIP', available: 0 }]);
    expect(Math.max(...batches)).toBeGreaterThan(1);
  });

  it('answers a double click in one batch with one hold, and a reused key for another request with a refusal', async () => {
    const event = await createEvent(catalog);
    const general = typeId(event, 'General');
    const request = { eventId: event.id, holderId: 'alice', idempotencyKey: 'checkout-1', items: [{ ticketTypeId: general, quantity: 2 }] };
    const results = await burst(holds, [
      { eventId: event.id, holderId: 'opener', items: [{ ticketTypeId: general, quantity: 1 }] },
      request,
      request,
      { ...request, items: [{ ticketTypeId: general, quantity: 3 }] },
    ]);
    expect(results.map(code)).toEqual(['held', 'held', 'held', 'idempotency_key_reused']);
    const [, first, second] = results as Array<Extract<Settled, { ok: true }>>;
    expect(second!.result.reservation.id).toBe(first!.result.reservation.id);
    expect([first!.result.replayed, second!.result.replayed]).toEqual([false, true]);
    const { rows } = await t.db.query<{ reserved_count: number }>('SELECT reserved_count FROM event_tickets WHERE id = $1', [general]);
    expect(rows[0]!.reserved_count).toBe(3);
  });

  it('decides a repeat of a refused request on its own, as if it came a moment later', async () => {
    const event = await createEvent(catalog);
    const general = typeId(event, 'General');
    const request = { eventId: event.id, holderId: 'bob', idempotencyKey: 'checkout-2', items: [{ ticketTypeId: general, quantity: 5 }] };
    const results = await burst(holds, [request, { ...request, items: [{ ticketTypeId: general, quantity: 1 }] }]);
    expect(results.map(code)).toEqual(['quantity_above_max_per_order', 'held']);
  });

  it('keeps the rest of a batch when one request breaks its transaction', async () => {
    const event = await createEvent(catalog);
    const general = typeId(event, 'General');
    const results = await burst(holds, [
      { eventId: event.id, holderId: 'opener', items: [{ ticketTypeId: general, quantity: 1 }] },
      { eventId: event.id, holderId: 'good-1', items: [{ ticketTypeId: general, quantity: 1 }] },
      // A caller bug the HTTP edge would have refused: reservations.holder_id is NOT NULL.
      { eventId: event.id, holderId: null as unknown as string, items: [{ ticketTypeId: general, quantity: 1 }] },
      { eventId: event.id, holderId: 'good-2', items: [{ ticketTypeId: general, quantity: 1 }] },
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, true, false, true]);
    const { rows } = await t.db.query<{ reserved_count: number }>('SELECT reserved_count FROM event_tickets WHERE id = $1', [general]);
    expect(rows[0]!.reserved_count).toBe(3);
  });

  it('batches each event separately: a sold-out event does not hold up another', async () => {
    const soldOut = await createEvent(catalog, { ticketTypes: [{ name: 'General', price: '1.00', totalCapacity: 0, maxPerOrder: 4 }] });
    const open = await createEvent(catalog);
    const results = await burst(holds, [
      ...Array.from({ length: 10 }, (_, i) => ({ eventId: soldOut.id, holderId: `x-${i}`, items: [{ ticketTypeId: typeId(soldOut, 'General'), quantity: 1 }] })),
      ...Array.from({ length: 10 }, (_, i) => ({ eventId: open.id, holderId: `y-${i}`, items: [{ ticketTypeId: typeId(open, 'General'), quantity: 1 }] })),
    ]);
    expect(results.map(code)).toEqual([...Array<string>(10).fill('insufficient_availability'), ...Array<string>(10).fill('held')]);
  });

  it('answers each hold with the availability version that counts it', async () => {
    const event = await createEvent(catalog, { ticketTypes: [{ name: 'General', price: '1.00', totalCapacity: 1000, maxPerOrder: 4 }] });
    const general = typeId(event, 'General');
    const version = async () => (await t.db.query<{ v: number }>('SELECT availability_version::integer AS v FROM events WHERE id = $1', [event.id])).rows[0]!.v;
    const before = await version();
    const alone = await holds.reserve({ eventId: event.id, holderId: 'v-0', items: [{ ticketTypeId: general, quantity: 1 }], idempotencyKey: 'v-0' });
    expect(alone.reservation.availabilityVersion).toBe(await version());
    expect(alone.reservation.availabilityVersion).toBeGreaterThan(before);
    batches.length = 0;
    const results = await burst(holds, Array.from({ length: 6 }, (_, i) => ({ eventId: event.id, holderId: `v-${i + 1}`, items: [{ ticketTypeId: general, quantity: 1 }] })));
    // With nothing in flight, a crowd goes out as two batches that write at once.
    expect(batches).toEqual([3, 3]);
    // One version per batch, newer than the hold before them, and the later one is the event's once they are all counted.
    const versions = [...new Set(results.map((r) => (r.ok ? r.result.reservation.availabilityVersion! : -1)))].sort((a, b) => a - b);
    expect(versions).toHaveLength(2);
    expect(versions[0]).toBeGreaterThan(alone.reservation.availabilityVersion!);
    expect(versions[1]).toBe(await version());
    // A replay is in a version at least as new as the one that first counted it.
    const replay = await holds.reserve({ eventId: event.id, holderId: 'v-0', items: [{ ticketTypeId: general, quantity: 1 }], idempotencyKey: 'v-0' });
    expect([replay.replayed, replay.reservation.availabilityVersion! >= alone.reservation.availabilityVersion!]).toEqual([true, true]);
  });

  it('keys batches by event id: holds by slug, by id and by the id in capitals share one queue', async () => {
    const event = await createEvent(catalog, { ticketTypes: [{ name: 'General', price: '1.00', totalCapacity: 1000, maxPerOrder: 4 }] });
    const general = typeId(event, 'General');
    const hold = (eventId: string, i: number): HoldRequest => ({ eventId, audience: { privileged: false }, holderId: `z-${i}`, items: [{ ticketTypeId: general, quantity: 1 }] });
    await holds.reserve(hold(event.slug, -1)); // the slug is looked up once per process
    batches.length = 0;
    const refs = [event.slug, event.id, event.id.toUpperCase()];
    const results = await burst(holds, Array.from({ length: 30 }, (_, i) => hold(refs[i % 3]!, i)));
    expect(results.map(code)).toEqual(Array<string>(30).fill('held'));
    // One queue: its two halves of fifteen (three queues would make at least three batches).
    expect(batches).toEqual([15, 15]);
  });

  it('shows over HTTP how holds batch, in ticketpulse_hold_batch_size on /metrics', async () => {
    const server = await startTestServer(t.db);
    try {
      const event = await createEvent(catalog);
      const general = typeId(event, 'General');
      const buyers = await Promise.all(Array.from({ length: 6 }, () => server.token()));
      const responses = await Promise.all(
        buyers.map((token) => server.request('POST', `/api/events/${event.id}/reservations`, { token, body: { items: [{ ticketTypeId: general, quantity: 1 }] } })),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(6).fill(201));
      const text = await (await fetch(`${server.url}/metrics`)).text();
      const holds = Number(/ticketpulse_hold_batch_size_sum (\d+)/.exec(text)?.[1]);
      expect(holds).toBe(6);
    } finally {
      await server.close();
    }
  });
});
