import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queryable } from '../src/db/database.ts';
import { Catalog } from '../src/inventory/catalog.ts';
import { Holds } from '../src/inventory/holds.ts';
import { createTestDatabase, drivers, postgresUrl, type TestDatabase } from './support/database.ts';
import { createEvent, holdSettings, typeId, uniqueSlug } from './support/fixtures.ts';

/**
 * A seat's references (its ticket type of its own event, its hold) and a
 * hold's (its event) are kept by triggers that check once per statement
 * (15_references.sql), in place of three foreign keys. The rules, error code
 * and constraint names are the foreign keys': these tests hold them to that.
 */
const TYPE_KEY = { code: '23503', constraint: 'tickets_ticket_type_of_event' };
const HOLD_KEY = { code: '23503', constraint: 'tickets_reservation_id_fkey' };
const EVENT_KEY = { code: '23503', constraint: 'reservations_event_id_fkey' };
const newHold = `INSERT INTO reservations (event_id, holder_id, expires_at) VALUES ($1, 'buyer', now() + interval '5 minutes') RETURNING id`;

describe.each(drivers)('seat and hold references (%s)', (driver) => {
  let t: TestDatabase;
  let catalog: Catalog;
  let holds: Holds;
  beforeAll(async () => {
    t = await createTestDatabase(driver);
    catalog = new Catalog(t.db);
    holds = new Holds(t.db, holdSettings);
  });
  afterAll(() => t.dispose());

  const seats = async (eventId: string) =>
    Number((await t.db.query<{ n: string }>('SELECT count(*) AS n FROM tickets WHERE event_id = $1', [eventId])).rows[0]!.n);
  const sell = (eventId: string, typeIds: string[]) =>
    t.db.query(
      `INSERT INTO tickets (event_id, event_ticket_id, status, holder_id, purchased_at)
       SELECT $1, type_id, 'sold', 'buyer', now() FROM unnest($2::uuid[]) AS type_id`,
      [eventId, typeIds],
    );

  it('refuses a whole statement whose seats name a ticket type that does not exist, or one of another event', async () => {
    const event = await createEvent(catalog);
    const other = await createEvent(catalog);
    const general = typeId(event, 'General');

    const missing = randomUUID();
    await expect(sell(event.id, [general, missing])).rejects.toMatchObject({
      ...TYPE_KEY,
      detail: `Key (event_ticket_id, event_id)=(${missing}, ${event.id}) is not present in table "event_tickets".`,
    });
    await expect(sell(event.id, [general, typeId(other, 'VIP')])).rejects.toMatchObject(TYPE_KEY);
    expect(await seats(event.id)).toBe(0);
    expect(await t.countMismatches()).toEqual([]);

    await sell(event.id, [general, typeId(event, 'VIP')]);
    expect(await seats(event.id)).toBe(2);
  });

  it('refuses seats of a hold that does not exist, and a seat moved to another type or hold that does not', async () => {
    const event = await createEvent(catalog);
    const general = typeId(event, 'General');
    const ghost = randomUUID();
    await expect(
      t.db.query(
        `INSERT INTO tickets (event_id, event_ticket_id, reservation_id, status, holder_id, reservation_expires_at)
         VALUES ($1, $2, $3, 'reserved', 'buyer', now() + interval '5 minutes')`,
        [event.id, general, ghost],
      ),
    ).rejects.toMatchObject({ ...HOLD_KEY, detail: `Key (reservation_id)=(${ghost}) is not present in table "reservations".` });

    const { reservation } = await holds.reserve({ eventId: event.id, holderId: 'buyer', items: [{ ticketTypeId: general, quantity: 2 }] });
    await expect(t.db.query('UPDATE tickets SET reservation_id = $2 WHERE reservation_id = $1', [reservation.id, ghost])).rejects.toMatchObject(HOLD_KEY);
    await expect(t.db.query('UPDATE tickets SET event_ticket_id = $2 WHERE reservation_id = $1', [reservation.id, randomUUID()])).rejects.toMatchObject(TYPE_KEY);
    // Moving a seat to a type of the same event that exists is allowed, as the foreign key allowed it.
    await t.db.query('UPDATE tickets SET event_ticket_id = $2 WHERE reservation_id = $1', [reservation.id, typeId(event, 'VIP')]);
    expect(await t.countMismatches()).toEqual([]);
  });

  it('refuses to delete, re-key or truncate a ticket type or hold that seats reference, and lets unreferenced ones go', async () => {
    const event = await createEvent(catalog);
    const general = typeId(event, 'General');
    const vip = typeId(event, 'VIP');
    const { reservation } = await holds.reserve({ eventId: event.id, holderId: 'buyer', items: [{ ticketTypeId: general, quantity: 1 }] });

    await expect(t.db.query('DELETE FROM event_tickets WHERE id = $1', [general])).rejects.toMatchObject({
      ...TYPE_KEY,
      detail: `Key (id, event_id)=(${general}, ${event.id}) is still referenced from table "tickets".`,
    });
    await expect(t.db.query('UPDATE event_tickets SET id = $2 WHERE id = $1', [general, randomUUID()])).rejects.toMatchObject(TYPE_KEY);
    await expect(t.db.query('DELETE FROM reservations WHERE id = $1', [reservation.id])).rejects.toMatchObject({
      ...HOLD_KEY,
      detail: `Key (id)=(${reservation.id}) is still referenced from table "tickets".`,
    });
    await expect(t.db.query('UPDATE reservations SET id = $2 WHERE id = $1', [reservation.id, randomUUID()])).rejects.toMatchObject(HOLD_KEY);
    // An event with seats cannot go either: its ticket types go with it (ON DELETE CASCADE), and they are referenced.
    await expect(t.db.query('DELETE FROM events WHERE id = $1', [event.id])).rejects.toMatchObject({ code: '23503' });
    await expect(t.db.query('TRUNCATE event_tickets CASCADE')).rejects.toMatchObject(TYPE_KEY);
    await expect(t.db.query('TRUNCATE reservations CASCADE')).rejects.toMatchObject(HOLD_KEY);
    expect(await seats(event.id)).toBe(1);

    // VIP has no seats: it may go, and an event with no seats at all may go with its types.
    await t.db.query('DELETE FROM event_tickets WHERE id = $1', [vip]);
    const empty = await createEvent(catalog);
    await t.db.query('DELETE FROM events WHERE id = $1', [empty.id]);
    expect((await t.db.query('SELECT 1 FROM event_tickets WHERE event_id = $1', [empty.id])).rows).toEqual([]);
  });

  it('refuses a hold of an event that does not exist, and an event deleted, re-keyed or truncated while holds reference it', async () => {
    const ghost = randomUUID();
    await expect(t.db.query(newHold, [ghost])).rejects.toMatchObject({
      ...EVENT_KEY,
      detail: `Key (event_id)=(${ghost}) is not present in table "events".`,
    });
    // An event with no ticket types and a hold with no seats: only the hold's own reference stands in the way.
    const event = (
      await t.db.query<{ id: string }>(`INSERT INTO events (slug, name, starts_at) VALUES ($1, 'Bare', now() + interval '1 day') RETURNING id`, [uniqueSlug()])
    ).rows[0]!;
    const hold = (await t.db.query<{ id: string }>(newHold, [event.id])).rows[0]!.id;
    await expect(t.db.query('UPDATE reservations SET event_id = $2 WHERE id = $1', [hold, ghost])).rejects.toMatchObject(EVENT_KEY);
    await expect(t.db.query('DELETE FROM events WHERE id = $1', [event.id])).rejects.toMatchObject({
      ...EVENT_KEY,
      detail: `Key (id)=(${event.id}) is still referenced from table "reservations".`,
    });
    await expect(t.db.query('UPDATE events SET id = $2 WHERE id = $1', [event.id, randomUUID()])).rejects.toMatchObject(EVENT_KEY);
    await expect(t.db.query('TRUNCATE events CASCADE')).rejects.toMatchObject(EVENT_KEY);
    expect((await t.db.query('SELECT 1 FROM reservations WHERE id = $1', [hold])).rows).toHaveLength(1);

    // Once the hold is gone, the event may go.
    await t.db.query('DELETE FROM reservations WHERE id = $1', [hold]);
    await t.db.query('DELETE FROM events WHERE id = $1', [event.id]);
  });
});

/** The row locks a foreign key takes: only real PostgreSQL has two connections to race. */
describe.skipIf(!postgresUrl)('seat and hold references under concurrent deletes (real PostgreSQL)', () => {
  let t: TestDatabase;
  let catalog: Catalog;
  beforeAll(async () => {
    t = await createTestDatabase('postgres');
    catalog = new Catalog(t.db);
  });
  afterAll(() => t.dispose());

  /** Runs `remove` on another connection while a transaction that ran `write` is still open; it must wait for that commit. */
  async function removeWhileWriting(write: (tx: Queryable) => Promise<unknown>, remove: string, id: string): Promise<unknown> {
    let settled = false;
    let removing: Promise<unknown> | undefined;
    await t.db.transaction(async (tx) => {
      await write(tx);
      removing = t.db.query(remove, [id]).finally(() => (settled = true));
      removing.catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(settled).toBe(false); // waiting for this transaction's lock on the row
    });
    return removing;
  }

  it('a delete of a ticket type waits for a transaction writing its seats, then refuses: no seat is left without its type', async () => {
    const event = await createEvent(catalog);
    const vip = typeId(event, 'VIP');
    const removing = removeWhileWriting(
      // A cancelled seat changes no counter, so no counter's row lock makes the delete wait: only the reference's.
      (tx) => tx.query(`INSERT INTO tickets (event_id, event_ticket_id, status, holder_id) VALUES ($1, $2, 'cancelled', 'buyer')`, [event.id, vip]),
      'DELETE FROM event_tickets WHERE id = $1',
      vip,
    );
    await expect(removing).rejects.toMatchObject(TYPE_KEY);
    const { rows } = await t.db.query(
      `SELECT count(*)::int AS orphans FROM tickets t WHERE t.event_id = $1 AND NOT EXISTS (SELECT 1 FROM event_tickets et WHERE et.id = t.event_ticket_id)`,
      [event.id],
    );
    expect(rows).toEqual([{ orphans: 0 }]);
  });

  it('a delete of a hold waits for a transaction writing seats of it, then refuses', async () => {
    const event = await createEvent(catalog);
    const hold = (await t.db.query<{ id: string }>(newHold, [event.id])).rows[0]!.id;
    const removing = removeWhileWriting(
      (tx) =>
        tx.query(
          `INSERT INTO tickets (event_id, event_ticket_id, reservation_id, status, holder_id, reservation_expires_at)
           VALUES ($1, $2, $3, 'reserved', 'buyer', now() + interval '5 minutes')`,
          [event.id, typeId(event, 'General'), hold],
        ),
      'DELETE FROM reservations WHERE id = $1',
      hold,
    );
    await expect(removing).rejects.toMatchObject(HOLD_KEY);
    expect(await t.countMismatches()).toEqual([]);
  });

  it('a delete of an event waits for a transaction writing a hold of it, then refuses', async () => {
    const event = await createEvent(catalog);
    const removing = removeWhileWriting((tx) => tx.query(newHold, [event.id]), 'DELETE FROM events WHERE id = $1', event.id);
    await expect(removing).rejects.toMatchObject(EVENT_KEY);
    expect((await t.db.query('SELECT 1 FROM events WHERE id = $1', [event.id])).rows).toHaveLength(1);
  });
});
