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
});
