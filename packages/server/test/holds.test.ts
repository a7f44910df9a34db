import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../src/inventory/catalog.ts';
import { InventoryError } from '../src/inventory/errors.ts';
import { Holds } from '../src/inventory/holds.ts';
import { readAvailability } from '../src/inventory/availability.ts';
import { createTestDatabase, drivers, type TestDatabase } from './support/database.ts';
import { createEvent, holdSettings, typeId } from './support/fixtures.ts';

/** Resolves to the refusal code, or fails if the call succeeded. */
async function refusal(call: Promise<unknown>): Promise<InventoryError> {
  const error = await call.then(
    () => {
      throw new Error('expected a refusal, but the call succeeded');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InventoryError);
  return error as InventoryError;
}

describe.each(drivers)('holds (%s)', (driver) => {
  let t: TestDatabase;
  let catalog: Catalog;
  let holds: Holds;

  beforeAll(async () => {
    t = await createTestDatabase(driver);
    catalog = new Catalog(t.db);
    holds = new Holds(t.db, holdSettings);
  });
  afterEach(async () => {
    expect(await t.countMismatches()).toEqual([]);
  });
  afterAll(() => t.dispose());

  const counts = async (ticketTypeId: string) => {
    const { rows } = await t.db.query<{ sold_count: number; reserved_count: number; available_count: number | null }>(
      'SELECT sold_count, reserved_count, available_count FROM event_tickets WHERE id = $1',
      [ticketTypeId],
    );
    return rows[0]!;
  };
  /** Moves a hold's deadline into the past, as the database clock passing it would. */
  const expireNow = (reservationId: string) =>
    t.db.query(
      `WITH r AS (UPDATE reservations SET expires_at = now() - interval '1 second' WHERE id = $1 RETURNING id)
       UPDATE tickets SET reservation_expires_at = now() - interval '1 second' WHERE reservation_id IN (SELECT id FROM r)`,
      [reservationId],
    );

  it('holds several ticket types at once and counts them', async () => {
    const event = await createEvent(catalog);
    const general = typeId(event, 'General');
    const vip = typeId(event, 'VIP');
    const { reservation, replayed } = await holds.reserve({
      eventId: event.id,
      holderId: 'buyer-1',
      items: [
        { ticketTypeId: general, quantity: 2 },
        { ticketTypeId: vip, quantity: 1 },
      ],
    });
    expect(replayed).toBe(false);
    expect(reservation.status).toBe('active');
    expect(reservation.items.map((i) => [i.ticketTypeName, i.quantity])).toEqual([
      ['General', 2],
      ['VIP', 1],
    ]);
    const heldFor = new Date(reservation.expiresAt).getTime() - new Date(reservation.createdAt).getTime();
    expect(heldFor).toBe(holdSettings.holdSeconds * 1000);
    expect(await counts(general)).toEqual({ sold_count: 0, reserved_count: 2, available_count: 8 });
    expect(await counts(vip)).toEqual({ sold_count: 0, reserved_count: 1, available_count: 1 });
  });

  it('gives holds and their seats time-ordered ids (UUIDv7): a later hold sorts after an earlier one', async () => {
    const event = await createEvent(catalog);
    const general = typeId(event, 'General');
    const hold = (holderId: string) => holds.reserve({ eventId: event.id, holderId, items: [{ ticketTypeId: general, quantity: 2 }] });
    const first = (await hold('buyer-v7-a')).reservation;
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = (await hold('buyer-v7-b')).reservation;
    const { rows } = await t.db.query<{ id: string; reservation_id: string }>('SELECT id, reservation_id FROM tickets WHERE reservation_id = ANY($1::uuid[])', [
      [first.id, second.id],
    ]);
    const v7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    for (const id of [first.id, second.id, ...rows.map((row) => row.id)]) expect(id).toMatch(v7);
    expect(rows).toHaveLength(4);
    // The first 48 bits are the creation time in milliseconds: within a moment of now, and in order.
    const millis = (id: string) => parseInt(id.replaceAll('-', '').slice(0, 12), 16);
    expect(Math.abs(millis(first.id) - Date.parse(first.createdAt))).toBeLessThan(60_000);
    expect(millis(second.id)).toBeGreaterThan(millis(first.id));
    expect(second.id > first.id).toBe(true);
    // A seat's id is its hold's with the seat's number in the counter bits: the hold's time, and one id per seat, across items too.
    const both = (await holds.reserve({ eventId: event.id, holderId: 'buyer-v7-c', items: [{ ticketTypeId: general, quantity: 4 }, { ticketTypeId: typeId(event, 'VIP'), quantity: 2 }] })).reservation;
    const seats = await t.db.query<{ id: string; reservation_id: string }>('SELECT id, reservation_id FROM tickets WHERE reservation_id = ANY($1::uuid[])', [
      [first.id, second.id, both.id],
    ]);
    expect(seats.rows).toHaveLength(10);
    expect(new Set(seats.rows.map((row) => row.id)).size).toBe(10);
    for (const seat of seats.rows) {
      expect(seat.id).toMatch(v7);
      expect(millis(seat.id)).toBe(millis(seat.reservation_id));
    }
  });

  it('is all or nothing: one short ticket type refuses the whole hold', async () => {
    const event = await createEvent(catalog);
    const general = typeId(event, 'General');
    const vip = typeId(event, 'VIP');
    await holds.reserve({ eventId: event.id, holderId: 'a', items: [{ ticketTypeId: vip, quantity: 2 }] });
    const error = await refusal(
      holds.reserve({
        eventId: event.id,
        holderId: 'b',
        items: [
          { ticketTypeId: general, quantity: 3 },
          { ticketTypeId: vip, quantity: 1 },
        ],
      }),
    );
    expect(error.code).toBe('insufficient_availability');
    expect(error.details).toMatchObject({ ticketTypeId: vip, available: 0, requested: 1 });
    expect(await counts(general)).toMatchObject({ reserved_count: 0, available_count: 10 });
    const { rows } = await t.db.query('SELECT 1 FROM reservations WHERE holder_id = $1', ['b']);
    expect(rows).toHaveLength(0);
  });

  it('refuses quantities above max_per_order, unknown or foreign ticket types, and paused sales', async () => {
    const event = await createEvent(catalog);
    const other = await createEvent(catalog);
    const general = typeId(event, 'General');
    const hold = (ticketTypeId: string, quantity: number, eventId = event.id) =>
      holds.reserve({ eventId, holderId: 'x', items: [{ ticketTypeId, quantity }] });

    expect((await refusal(hold(general, 5))).code).toBe('quantity_above_max_per_order');
    expect((await refusal(hold(randomUUID(), 1))).code).toBe('unknown_ticket_type');
    expect((await refusal(hold(typeId(other, 'General'), 1))).code).toBe('unknown_ticket_type');
    expect((await refusal(hold(general, 1, randomUUID()))).code).toBe('event_not_found');

    await catalog.updateTicketType(general, { status: 'paused' });
    expect((await refusal(hold(general, 1))).code).toBe('ticket_type_not_on_sale');
    await catalog.updateTicketType(general, { status: 'on_sale' });

    await t.db.query(`UPDATE events SET status = 'paused' WHERE id = $1`, [event.id]);
    expect((await refusal(hold(general, 1))).code).toBe('event_not_on_sale');
    expect(await counts(general)).toMatchObject({ reserved_count: 0, sold_count: 0 });
  });

  it('confirms: held seats become sold, and confirming again changes nothing', async () => {
    const event = await createEvent(catalog);
    const general = typeId(event, 'General');
    const { reservation } = await holds.reserve({ eventId: event.id, holderId: 'c', items: [{ ticketTypeId: general, quantity: 3 }] });
    const confirmed = await holds.confirm(reservation.id, 'c');
    expect(confirmed.status).toBe('confirmed');
    expect(confirmed.confirmedAt).not.toBeNull();
    expect(await counts(general)).toEqual({ sold_count: 3, reserved_count: 0, available_count: 7 });
    expect((await holds.confirm(reservation.id, 'c')).status).toBe('confirmed');
    expect(await counts(general)).toMatchObject({ sold_count: 3 });
    expect((await refusal(holds.release(reservation.id, 'c'))).code).toBe('reservation_confirmed');
  });

  it('releases: seats return at once, and only the holder (or the service) may act', async () => {
    const event = await createEvent(catalog);
    const general = typeId(event, 'General');
    const { reservation } = await holds.reserve({ eventId: event.id, holderId: 'd', items: [{ ticketTypeId: general, quantity: 4 }] });
    // Someone else's hold is answered as one that does not exist.
    expect((await refusal(holds.release(reservation.id, 'someone-else'))).code).toBe('reservation_not_found');
    expect((await refusal(holds.confirm(reservation.id, 'someone-else'))).code).toBe('reservation_not_found');
    expect((await refusal(holds.extend(reservation.id, 'someone-else'))).code).toBe('reservation_not_found');
    expect((await refusal(holds.get(reservation.id, 'someone-else'))).code).toBe('reservation_not_found');
    expect(await counts(general)).toMatchObject({ reserved_count: 4 });

    const released = await holds.release(reservation.id, undefined);
    expect(released.status).toBe('released');
    expect(await counts(general)).toEqual({ sold_count: 0, reserved_count: 0, available_count: 10 });
    expect((await holds.release(reservation.id, 'd')).status).toBe('released');
    const late = await refusal(holds.confirm(reservation.id, 'd'));
    expect(late.code).toBe('hold_expired');
    expect(late.details).toMatchObject({ status: 'released' });
    expect((await refusal(holds.get(randomUUID(), undefined))).code).toBe('reservation_not_found');
  });

  it('extends by one step a bounded number of times, never after the deadline', async () => {
    const event = await createEvent(catalog);
    const general = typeId(event, 'General');
    const { reservation } = await holds.reserve({ eventId: event.id, holderId: 'e', items: [{ ticketTypeId: general, quantity: 1 }] });
    const once = await holds.extend(reservation.id, 'e');
    const twice = await holds.extend(reservation.id, 'e');
    const step = holdSettings.extensionSeconds * 1000;
    expect(new Date(once.expiresAt).getTime() - new Date(reservation.expiresAt).getTime()).toBe(step);
    expect(new Date(twice.expiresAt).getTime() - new Date(once.expiresAt).getTime()).toBe(step);
    expect(twice.extensionsUsed).toBe(2);
    const limit = await refusal(holds.extend(reservation.id, 'e'));
    expect(limit.code).toBe('extension_limit_reached');
    expect(limit.details).toMatchObject({ maxExtensions: 2 });

    const { reservation: other } = await holds.reserve({ eventId: event.id, holderId: 'e', items: [{ ticketTypeId: general, quantity: 1 }] });
    await expireNow(other.id);
    expect((await refusal(holds.extend(other.id, 'e'))).code).toBe('hold_expired');
  });

  it('uses the event’s own hold duration and extension rules when set', async () => {
    const event = await createEvent(catalog, { holdSeconds: 120, holdExtensionSeconds: 30, maxHoldExtensions: 0 });
    const { reservation } = await holds.reserve({
      eventId: event.id,
      holderId: 'f',
      items: [{ ticketTypeId: typeId(event, 'General'), quantity: 1 }],
    });
    expect(new Date(reservation.expiresAt).getTime() - new Date(reservation.createdAt).getTime()).toBe(120_000);
    expect((await refusal(holds.extend(reservation.id, 'f'))).code).toBe('extension_limit_reached');
  });

  it('expires holds by the database clock: the sweep frees seats and confirming fails with hold_expired', async () => {
    await holds.expireDue(); // holds left due by earlier tests in this database
    const event = await createEvent(catalog, { holdSeconds: 1 });
    const general = typeId(event, 'General');
    const { reservation } = await holds.reserve({ eventId: event.id, holderId: 'g', items: [{ ticketTypeId: general, quantity: 4 }] });
    expect(await holds.expireDue()).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await refusal(holds.confirm(reservation.id, 'g'))).code).toBe('hold_expired');
    expect(await holds.expireDue()).toBe(4);
    expect(await counts(general)).toEqual({ sold_count: 0, reserved_count: 0, available_count: 10 });
    expect((await holds.get(reservation.id, 'g')).status).toBe('expired');
    expect(await holds.expireDue()).toBe(0);
  });

  it('never lets an expired hold block a sale, even before the sweeper runs', async () => {
    const event = await createEvent(catalog);
    const vip = typeId(event, 'VIP');
    const { reservation } = await holds.reserve({ eventId: event.id, holderId: 'h', items: [{ ticketTypeId: vip, quantity: 2 }] });
    await expireNow(reservation.id);
    const { reservation: next } = await holds.reserve({ eventId: event.id, holderId: 'i', items: [{ ticketTypeId: vip, quantity: 2 }] });
    expect(next.status).toBe('active');
    expect((await holds.get(reservation.id, 'h')).status).toBe('expired');
    expect(await counts(vip)).toEqual({ sold_count: 0, reserved_count: 2, available_count: 0 });
  });

  it('replays the same Idempotency-Key from the same holder instead of holding twice', async () => {
    const event = await createEvent(catalog);
    const general = typeId(event, 'General');
    const vip = typeId(event, 'VIP');
    const request = {
      eventId: event.id,
      holderId: 'j',
      idempotencyKey: 'checkout-1',
      items: [
        { ticketTypeId: general, quantity: 2 },
        { ticketTypeId: vip, quantity: 1 },
      ],
    };
    const first = await holds.reserve(request);
    const again = await holds.reserve({ ...request, items: [...request.items].reverse() });
    expect(again.replayed).toBe(true);
    expect(again.reservation.id).toBe(first.reservation.id);
    expect(await counts(general)).toMatchObject({ reserved_count: 2 });

    const reused = await refusal(holds.reserve({ ...request, items: [{ ticketTypeId: general, quantity: 1 }] }));
    expect(reused.code).toBe('idempotency_key_reused');
    // The key is per holder: another buyer with the same key gets their own hold.
    const otherHolder = await holds.reserve({ ...request, holderId: 'k' });
    expect(otherHolder.reservation.id).not.toBe(first.reservation.id);
  });

  it('holds once when the same request races itself (a double click)', async () => {
    const event = await createEvent(catalog);
    const vip = typeId(event, 'VIP');
    const request = { eventId: event.id, holderId: 'l', idempotencyKey: 'double-click', items: [{ ticketTypeId: vip, quantity: 2 }] };
    const results = await Promise.all([holds.reserve(request), holds.reserve(request), holds.reserve(request)]);
    expect(new Set(results.map((r) => r.reservation.id)).size).toBe(1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect(await counts(vip)).toMatchObject({ reserved_count: 2, available_count: 0 });
  });

  it('changes capacity: up freely, down never below sold + held', async () => {
    const event = await createEvent(catalog);
    const general = typeId(event, 'General');
    const { reservation } = await holds.reserve({ eventId: event.id, holderId: 'm', items: [{ ticketTypeId: general, quantity: 4 }] });
    await holds.confirm(reservation.id, 'm');
    await holds.reserve({ eventId: event.id, holderId: 'n', items: [{ ticketTypeId: general, quantity: 3 }] });

    expect((await catalog.updateTicketType(general, { totalCapacity: 20 })).availableCount).toBe(13);
    const below = await refusal(catalog.updateTicketType(general, { totalCapacity: 6 }));
    expect(below.code).toBe('capacity_below_committed');
    expect(below.details).toMatchObject({ committed: 7 });
    const exact = await catalog.updateTicketType(general, { totalCapacity: 7 });
    expect(exact.availableCount).toBe(0);
    expect((await refusal(catalog.updateTicketType(randomUUID(), { totalCapacity: 1 }))).code).toBe('ticket_type_not_found');
  });

  it('releases expired holds before refusing a capacity decrease', async () => {
    const event = await createEvent(catalog);
    const general = typeId(event, 'General');
    const { reservation } = await holds.reserve({ eventId: event.id, holderId: 'o', items: [{ ticketTypeId: general, quantity: 4 }] });
    await expireNow(reservation.id);
    expect((await catalog.updateTicketType(general, { totalCapacity: 2 })).availableCount).toBe(2);
  });

  it('never shows an unlimited ticket type as sold out', async () => {
    const event = await createEvent(catalog, {
      ticketTypes: [{ name: 'Free RSVP', totalCapacity: null, maxPerOrder: 100 }],
    });
    const free = typeId(event, 'Free RSVP');
    for (const holder of ['p', 'q', 'r']) {
      const { reservation } = await holds.reserve({ eventId: event.id, holderId: holder, items: [{ ticketTypeId: free, quantity: 100 }] });
      await holds.confirm(reservation.id, holder);
    }
    const { tickets } = await readAvailability(t.db, event.id, { privileged: false });
    expect(tickets[0]).toMatchObject({
      isUnlimited: true,
      isSoldOut: false,
      status: 'available',
      soldCount: 300,
      availableCount: null,
      totalCapacity: null,
    });
  });

  it('reports availability status: low stock, sold out, paused; hidden types are left out', async () => {
    const event = await createEvent(catalog, {
      ticketTypes: [
        { name: 'A', totalCapacity: 10, maxPerOrder: 10, lowStockThreshold: 3 },
        { name: 'B', totalCapacity: 2, maxPerOrder: 2 },
        { name: 'C', totalCapacity: 5, maxPerOrder: 5, status: 'paused' },
        { name: 'D', totalCapacity: 5, maxPerOrder: 5, status: 'hidden' },
      ],
    });
    await holds.reserve({ eventId: event.id, holderId: 's', items: [{ ticketTypeId: typeId(event, 'A'), quantity: 7 }] });
    const { reservation } = await holds.reserve({ eventId: event.id, holderId: 's', items: [{ ticketTypeId: typeId(event, 'B'), quantity: 2 }] });
    await holds.confirm(reservation.id, 's');
    const snapshot = await readAvailability(t.db, event.slug, { privileged: false });
    expect(snapshot.tickets.map((x) => [x.ticketTypeName, x.status, x.availableCount, x.isSoldOut, x.percentageSold])).toEqual([
      ['A', 'low_stock', 3, false, 0],
      ['B', 'sold_out', 0, true, 100],
      ['C', 'paused', 5, false, 0],
    ]);
  });

  it('bumps the event’s availability version with every change to its counts, in the same transaction', async () => {
    const event = await createEvent(catalog);
    const general = typeId(event, 'General');
    const version = async () => (await readAvailability(t.db, event.id, { privileged: true })).version;
    const v0 = await version();
    const { reservation } = await holds.reserve({ eventId: event.id, holderId: 'u', items: [{ ticketTypeId: general, quantity: 1 }] });
    const v1 = await version();
    await holds.extend(reservation.id, 'u');
    const v2 = await version();
    await holds.confirm(reservation.id, 'u');
    const v3 = await version();
    expect(v1).toBeGreaterThan(v0);
    expect(v2).toBe(v1); // a new deadline changes no count
    expect(v3).toBeGreaterThan(v2);

    // A failed transaction leaves both counts and version untouched.
    await expect(
      t.db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO tickets (event_id, event_ticket_id, status, holder_id) VALUES ($1, $2, 'sold', 'v')`,
          [event.id, general],
        );
        throw new Error('payment failed');
      }),
    ).rejects.toThrow('payment failed');
    expect(await version()).toBe(v3);
    expect(await counts(general)).toMatchObject({ sold_count: 1 });
  });

  it('refuses to oversell even when tickets are written directly (the CHECK constraint)', async () => {
    const event = await createEvent(catalog);
    const vip = typeId(event, 'VIP');
    await expect(
      t.db.query(
        `INSERT INTO tickets (event_id, event_ticket_id, status, holder_id) SELECT $1, $2, 'sold', 'w' FROM generate_series(1, 3)`,
        [event.id, vip],
      ),
    ).rejects.toMatchObject({ code: '23514' });
    expect(await counts(vip)).toMatchObject({ sold_count: 0 });
  });
});

describe.each(drivers)('event status and versions (%s)', (driver) => {
  let t: TestDatabase;
  let catalog: Catalog;
  beforeAll(async () => {
    t = await createTestDatabase(driver);
    catalog = new Catalog(t.db);
  });
  afterAll(() => t.dispose());

  it('shows every ticket type of a paused or closed event as not purchasable, and bumps the version', async () => {
    const event = await createEvent(catalog);
    const snapshot = () => readAvailability(t.db, event.id, { privileged: true });
    const before = await snapshot();
    await t.db.query(`UPDATE events SET status = 'paused' WHERE id = $1`, [event.id]);
    const paused = await snapshot();
    expect(paused.version).toBeGreaterThan(before.version);
    expect(paused.tickets.map((x) => x.status)).toEqual(['paused', 'paused']);
    await t.db.query(`UPDATE events SET status = 'cancelled' WHERE id = $1`, [event.id]);
    const cancelled = await snapshot();
    expect(cancelled.version).toBeGreaterThan(paused.version);
    expect(cancelled.tickets.map((x) => x.status)).toEqual(['off_sale', 'off_sale']);
  });

  it('bumps a ticket type’s version when an organizer changes it', async () => {
    const event = await createEvent(catalog);
    const general = event.ticketTypes.find((x) => x.name === 'General')!;
    const changed = await catalog.updateTicketType(general.id, { status: 'paused' });
    expect(changed.version).toBeGreaterThan(general.version);
    const again = await catalog.updateTicketType(general.id, { totalCapacity: 12 });
    expect(again.version).toBeGreaterThan(changed.version);
  });
});
