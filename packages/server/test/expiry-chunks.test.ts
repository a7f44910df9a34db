import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../src/inventory/catalog.ts';
import { ExpirySweeper } from '../src/inventory/expiry-sweeper.ts';
import { Holds } from '../src/inventory/holds.ts';
import { createTestDatabase, drivers, type TestDatabase } from './support/database.ts';
import { createEvent, holdSettings, typeId } from './support/fixtures.ts';

describe.each(drivers)('expiry in chunks (%s)', (driver) => {
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

  /** Holds of `seats` each on General, due in order: the first one's deadline passed longest ago. */
  async function dueHolds(seats: number[]): Promise<{ general: string; ids: string[] }> {
    await holds.expireDue(); // nothing left due by earlier tests
    const event = await createEvent(catalog);
    const general = typeId(event, 'General');
    const ids: string[] = [];
    for (const [i, quantity] of seats.entries()) {
      const { reservation } = await holds.reserve({ eventId: event.id, holderId: `h${i}`, items: [{ ticketTypeId: general, quantity }] });
      ids.push(reservation.id);
    }
    await t.db.query(
      `WITH r AS (
         UPDATE reservations SET expires_at = now() - make_interval(secs => 100 - array_position($1::uuid[], id))
         WHERE id = ANY ($1::uuid[]) RETURNING id, expires_at)
       UPDATE tickets t SET reservation_expires_at = r.expires_at FROM r WHERE t.reservation_id = r.id`,
      [ids],
    );
    return { general, ids };
  }

  const statuses = async (ids: string[]) =>
    (await t.db.query<{ status: string }>('SELECT status FROM reservations WHERE id = ANY ($1::uuid[]) ORDER BY array_position($1::uuid[], id)', [ids])).rows.map(
      (r) => r.status,
    );

  it('releases at most the limit, earliest deadline first, each hold whole', async () => {
    const { general, ids } = await dueHolds([1, 1, 3, 1]);
    expect(await holds.expireDue(2)).toBe(2);
    expect(await statuses(ids)).toEqual(['expired', 'expired', 'active', 'active']);
    // The limit cuts through the 3-seat hold's seats: it is still released whole.
    expect(await holds.expireDue(1)).toBe(3);
    expect(await statuses(ids)).toEqual(['expired', 'expired', 'expired', 'active']);
    // Without a limit, the design's function still releases everything due and says how many seats.
    const { rows } = await t.db.query<{ n: number }>('SELECT expire_ticket_reservations() AS n');
    expect(rows[0]!.n).toBe(1);
    const { rows: left } = await t.db.query<{ reserved_count: number }>('SELECT reserved_count FROM event_tickets WHERE id = $1', [general]);
    expect(left[0]!.reserved_count).toBe(0);
  });

  it('sweeps chunk after chunk until nothing is due, telling listeners of each', async () => {
    const { ids } = await dueHolds([2, 1, 1, 2, 1]);
    const changed: string[] = [];
    const sweeper = new ExpirySweeper(new Holds(t.db, holdSettings, (eventId) => changed.push(eventId)), 60_000, pino({ level: 'silent' }), 2);
    expect(await sweeper.sweep()).toBe(7);
    expect(await statuses(ids)).toEqual(['expired', 'expired', 'expired', 'expired', 'expired']);
    expect(changed.length).toBeGreaterThan(1);
    expect(await sweeper.sweep()).toBe(0);
  });

  it('a hold on a sold-out type releases as many of its due holds as the batch wants, leaving the rest to the sweeper', async () => {
    await holds.expireDue();
    const event = await createEvent(catalog, { ticketTypes: [{ name: 'Wave', totalCapacity: 2500, maxPerOrder: 4 }] });
    const wave = typeId(event, 'Wave');
    // 2,500 one-seat holds, all due: the type looks sold out.
    await t.db.query(
      `WITH r AS (
         INSERT INTO reservations (event_id, holder_id, expires_at)
         SELECT $1, 'wave-' || n, now() - interval '1 second' FROM generate_series(1, 2500) AS n RETURNING id, holder_id, expires_at)
       INSERT INTO tickets (event_id, event_ticket_id, reservation_id, status, holder_id, reservation_expires_at)
       SELECT $1, $2, r.id, 'reserved', r.holder_id, r.expires_at FROM r`,
      [event.id, wave],
    );
    const { reservation } = await holds.reserve({ eventId: event.id, holderId: 'late', items: [{ ticketTypeId: wave, quantity: 4 }] });
    expect(reservation.status).toBe('active');
    const { rows } = await t.db.query<{ n: number }>(
      `SELECT count(*)::integer AS n FROM reservations WHERE event_id = $1 AND holder_id LIKE 'wave-%' AND status = 'active'`,
      [event.id],
    );
    // Four seats wanted: four one-seat holds released, earliest deadline first.
    expect(rows[0]!.n).toBe(2496);
    expect(await holds.expireDue()).toBe(2496);
  });
});
