import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../src/inventory/catalog.ts';
import { InventoryError } from '../src/inventory/errors.ts';
import { Holds } from '../src/inventory/holds.ts';
import { createTestDatabase, postgresUrl, type TestDatabase } from './support/database.ts';
import { createEvent, holdSettings } from './support/fixtures.ts';
import { eventually } from './support/viewer.ts';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Races that need two real connections: PostgreSQL only. */
describe.skipIf(!postgresUrl)('lock order and races on real PostgreSQL', () => {
  let t: TestDatabase;
  let catalog: Catalog;
  let holds: Holds;
  beforeAll(async () => {
    t = await createTestDatabase('postgres');
    catalog = new Catalog(t.db);
    holds = new Holds(t.db, holdSettings);
  });
  afterAll(() => t.dispose());

  it('does not deadlock when a hold releases an expired multi-type hold while another buyer locks in id order', async () => {
    const event = await createEvent(catalog, {
      ticketTypes: [
        { name: 'One', totalCapacity: 2, maxPerOrder: 2 },
        { name: 'Two', totalCapacity: 2, maxPerOrder: 2 },
      ],
    });
    const [low, high] = event.ticketTypes.map((x) => x.id).sort();
    // An expired hold on both types makes the higher one look exhausted.
    const { reservation } = await holds.reserve({
      eventId: event.id,
      holderId: 'expired',
      items: [
        { ticketTypeId: low!, quantity: 1 },
        { ticketTypeId: high!, quantity: 2 },
      ],
    });
    await t.db.query(`UPDATE tickets SET reservation_expires_at = now() - interval '1 second' WHERE reservation_id = $1`, [reservation.id]);

    // Another transaction takes the lower type first, then, a moment later, the higher one.
    let reserveSettled = false;
    const other = t.db.transaction(async (tx) => {
      await tx.query('SELECT 1 FROM event_tickets WHERE id = $1 FOR UPDATE', [low]);
      const racing = holds.reserve({ eventId: event.id, holderId: 'buyer', items: [{ ticketTypeId: high!, quantity: 2 }] });
      racing.then(
        () => (reserveSettled = true),
        () => (reserveSettled = true),
      );
      await pause(300);
      expect(reserveSettled).toBe(false); // it waits for the lower type, in order
      await tx.query('SELECT 1 FROM event_tickets WHERE id = $1 FOR UPDATE', [high]);
      // Wrapped: returning the promise itself would make the transaction wait for it before committing.
      return { racing };
    });
    const result = await (await other).racing;
    expect(result.reservation.status).toBe('active');
    expect(await t.countMismatches()).toEqual([]);
  });

  it('a hold on a sold-out type releases the due holds it needs, latest first, past those someone has locked, and no more', async () => {
    const event = await createEvent(catalog, { ticketTypes: [{ name: 'Wave', totalCapacity: 6, maxPerOrder: 4 }] });
    const wave = event.ticketTypes[0]!.id;
    // Six one-seat holds, all due, the first one's deadline longest ago: the type looks sold out.
    const { rows } = await t.db.query<{ id: string }>(
      `WITH r AS (
         INSERT INTO reservations (event_id, holder_id, expires_at)
         SELECT $1, 'wave-' || n, now() - make_interval(secs => 10 - n) FROM generate_series(1, 6) AS n RETURNING id, holder_id, expires_at)
       INSERT INTO tickets (event_id, event_ticket_id, reservation_id, status, holder_id, reservation_expires_at)
       SELECT $1, $2, r.id, 'reserved', r.holder_id, r.expires_at FROM r RETURNING reservation_id AS id`,
      [event.id, wave],
    );
    const { rows: ordered } = await t.db.query<{ id: string }>('SELECT id FROM reservations WHERE id = ANY ($1::uuid[]) ORDER BY expires_at', [rows.map((r) => r.id)]);
    const ids = ordered.map((r) => r.id);
    const statuses = async () =>
      (await t.db.query<{ status: string }>('SELECT status FROM reservations WHERE id = ANY ($1::uuid[]) ORDER BY expires_at', [ids])).rows.map((r) => r.status);

    // A buyer takes the latest due holds first (the sweeper the earliest); someone holds the three latest
    // (uncommitted) while the buyer wants two seats.
    const locking = t.db.transaction(async (tx) => {
      await tx.query('SELECT 1 FROM reservations WHERE id = ANY ($1::uuid[]) FOR UPDATE', [ids.slice(3)]);
      const held = await holds.reserve({ eventId: event.id, holderId: 'buyer', items: [{ ticketTypeId: wave, quantity: 2 }] });
      return { held };
    });
    const { held } = await locking;
    expect(held.reservation.status).toBe('active');
    // The buyer skipped the locked three, released the next two it needed, and left the first to the sweeper.
    expect(await statuses()).toEqual(['active', 'expired', 'expired', 'active', 'active', 'active']);
    expect(await holds.expireDue()).toBe(4);
    expect(await t.countMismatches()).toEqual([]);
  });

  it('refuses a reused Idempotency-Key for another event even when both requests race', async () => {
    const first = await createEvent(catalog);
    const second = await createEvent(catalog);
    const key = 'race-across-events';
    const secondHold = t.db.transaction(async (tx) => {
      const txHolds = new Holds(tx, holdSettings);
      await txHolds.reserve({ eventId: first.id, holderId: 'racer', idempotencyKey: key, items: [{ ticketTypeId: first.ticketTypes[0]!.id, quantity: 1 }] });
      // Uncommitted: the next request passes the key check and meets this row at insert time.
      const racing = holds
        .reserve({ eventId: second.id, holderId: 'racer', idempotencyKey: key, items: [{ ticketTypeId: second.ticketTypes[0]!.id, quantity: 1 }] })
        .catch((error: unknown) => error);
      await pause(300);
      return { racing };
    });
    const error = await (await secondHold).racing;
    expect(error).toBeInstanceOf(InventoryError);
    expect((error as InventoryError).code).toBe('idempotency_key_reused');
    expect(await t.countMismatches()).toEqual([]);
  });
  describe('a batch that refuses no one is written before it waits for the ticket types', () => {
    /** Another buyer's hold, not yet committed: its transaction keeps the ticket type's row lock until `then` has run. */
    const whileAnotherHolds = <T>(eventId: string, ticketTypeId: string, quantity: number, then: () => Promise<T>) =>
      t.db.transaction(async (tx) => {
        await tx.query('SELECT reserve_holds($1, $2::jsonb, 900)', [eventId, JSON.stringify([{ holderId: 'first', items: [{ ticketTypeId, quantity }] }])]);
        return { result: await then() };
      });
    /** A hold batch that has written its holds and seats and now waits for a row lock. */
    const writtenAndWaiting = async () =>
      (
        await t.db.query<{ n: number }>(
          `SELECT count(*)::integer AS n FROM pg_stat_activity AS a
            WHERE a.wait_event_type = 'Lock' AND a.query LIKE '%reserve_holds%'
              AND EXISTS (SELECT 1 FROM pg_locks AS l WHERE l.pid = a.pid AND l.relation = 'tickets'::regclass AND l.mode = 'RowExclusiveLock')`,
        )
      ).rows[0]!.n === 1;
    const heldBy = async (eventId: string, holderId: string) =>
      (await t.db.query<{ n: number }>('SELECT count(*)::integer AS n FROM tickets WHERE event_id = $1 AND holder_id = $2', [eventId, holderId])).rows[0]!.n;

    it('and holds once the lock is free, when the seats are still there', async () => {
      const event = await createEvent(catalog, { ticketTypes: [{ name: 'General', totalCapacity: 10, maxPerOrder: 10 }] });
      const general = event.ticketTypes[0]!.id;
      const { result } = await whileAnotherHolds(event.id, general, 4, async () => {
        const racing = holds.reserve({ eventId: event.id, holderId: 'second', items: [{ ticketTypeId: general, quantity: 5 }] });
        await eventually(writtenAndWaiting, 'the second hold written, waiting for the lock');
        return { racing };
      });
      expect((await result.racing).reservation.status).toBe('active');
      expect([await heldBy(event.id, 'first'), await heldBy(event.id, 'second')]).toEqual([4, 5]);
      expect(await t.countMismatches()).toEqual([]);
    });

    it('and is undone and refused under the lock when the seats ran out meanwhile', async () => {
      const event = await createEvent(catalog, { ticketTypes: [{ name: 'General', totalCapacity: 10, maxPerOrder: 10 }] });
      const general = event.ticketTypes[0]!.id;
      const { result } = await whileAnotherHolds(event.id, general, 8, async () => {
        const racing = holds.reserve({ eventId: event.id, holderId: 'second', items: [{ ticketTypeId: general, quantity: 5 }] }).catch((error: unknown) => error);
        await eventually(writtenAndWaiting, 'the second hold written, waiting for the lock');
        return { racing };
      });
      const error = await result.racing;
      expect(error).toBeInstanceOf(InventoryError);
      expect([(error as InventoryError).code, (error as InventoryError).details]).toEqual([
        'insufficient_availability',
        { ticketTypeId: general, available: 2, requested: 5 },
      ]);
      // Not a seat or a hold of it is left, and the counters say 8.
      expect([await heldBy(event.id, 'first'), await heldBy(event.id, 'second')]).toEqual([8, 0]);
      expect((await t.db.query('SELECT 1 FROM reservations WHERE event_id = $1 AND holder_id = $2', [event.id, 'second'])).rows).toHaveLength(0);
      expect(await t.countMismatches()).toEqual([]);
    });

    it('and is undone and refused when its ticket type was paused meanwhile', async () => {
      const event = await createEvent(catalog, { ticketTypes: [{ name: 'General', totalCapacity: 10, maxPerOrder: 10 }] });
      const general = event.ticketTypes[0]!.id;
      const pausing = t.db.transaction(async (tx) => {
        await tx.query(`UPDATE event_tickets SET status = 'paused' WHERE id = $1`, [general]);
        const racing = holds.reserve({ eventId: event.id, holderId: 'second', items: [{ ticketTypeId: general, quantity: 1 }] }).catch((error: unknown) => error);
        await eventually(writtenAndWaiting, 'the hold written, waiting for the lock');
        return { racing };
      });
      const error = await (await pausing).racing;
      expect(error).toBeInstanceOf(InventoryError);
      expect((error as InventoryError).code).toBe('ticket_type_not_on_sale');
      expect(await heldBy(event.id, 'second')).toBe(0);
      expect(await t.countMismatches()).toEqual([]);
    });
  });
});
