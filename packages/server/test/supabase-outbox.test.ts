import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Catalog, type EventWithTicketTypes } from '../src/inventory/catalog.ts';
import { Holds } from '../src/inventory/holds.ts';
import type { RowChange } from '../src/realtime/supabase/row-changes.ts';
import { TicketsOutbox } from '../src/realtime/supabase/tickets-outbox.ts';
import { createTestDatabase, postgresUrl, type TestDatabase } from './support/database.ts';
import { createEvent, holdSettings, typeId } from './support/fixtures.ts';

// Concurrent transactions need real PostgreSQL: PGlite is one connection.
describe.skipIf(!postgresUrl)('tickets outbox (postgres)', () => {
  let t: TestDatabase;
  let event: EventWithTicketTypes;
  /** Another event: a hold locks its event's ticket types, so concurrent holds must be on different events. */
  let other: EventWithTicketTypes;
  const hold = (db: ConstructorParameters<typeof Holds>[0], holderId: string, quantity: number, on = event) =>
    new Holds(db, holdSettings).reserve({ eventId: on.id, holderId, items: [{ ticketTypeId: typeId(on, 'General'), quantity }] });
  const outboxRows = async () => (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM tickets_changes')).rows[0]!.n;

  beforeAll(async () => {
    t = await createTestDatabase('postgres');
    const catalog = new Catalog(t.db, () => {});
    event = await createEvent(catalog);
    other = await createEvent(catalog);
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('writes nothing while no node holds the lease', async () => {
    await hold(t.db, randomUUID(), 1);
    expect(await outboxRows()).toBe(0);
  });

  it('delivers each committed change once, in commit order, and a long transaction holds back only its own', async () => {
    const outbox = new TicketsOutbox(t.db);
    await outbox.listen();
    expect(await outbox.read()).toEqual([]);

    // The older transaction takes its id first (it holds a seat) but commits last.
    let commitOlder!: () => void;
    let olderHeld!: () => void;
    const held = new Promise<void>((resolve) => (olderHeld = resolve));
    const older = t.db.transaction(async (tx) => {
      await hold(tx, 'older', 1);
      olderHeld();
      await new Promise<void>((resolve) => (commitOlder = resolve));
    });
    await held;
    await hold(t.db, 'younger', 2, other);
    await t.db
      .transaction(async (tx) => {
        await hold(tx, 'rolled-back', 1, other);
        throw new Error('roll back');
      })
      .catch(() => {});

    const holders = (changes: RowChange[]) => changes.map((c) => [c.type, c.record?.holder_id]);
    expect(holders(await outbox.read())).toEqual([
      ['INSERT', 'younger'],
      ['INSERT', 'younger'],
    ]);
    expect(await outbox.read()).toEqual([]);
    commitOlder();
    await older;
    const changes = await outbox.read();
    expect(holders(changes)).toEqual([['INSERT', 'older']]);
    expect(changes[0]).toMatchObject({ table: 'tickets', oldRecord: null, record: { status: 'reserved', event_id: event.id } });
    expect(Date.parse(changes[0]!.commitTimestamp)).not.toBeNaN();
    expect(await outbox.read()).toEqual([]);

    // A confirmation updates the older hold's seat: an UPDATE whose old row is known by id only.
    const { rows } = await t.db.query<{ id: string; reservation_id: string }>(`SELECT id, reservation_id FROM tickets WHERE holder_id = 'older'`);
    await new Holds(t.db, holdSettings).confirm(rows[0]!.reservation_id, 'older');
    await expect(outbox.read()).resolves.toEqual([
      expect.objectContaining({ type: 'UPDATE', record: expect.objectContaining({ status: 'sold' }), oldRecord: { id: rows[0]!.id } }),
    ]);
    outbox.release();
  });
});
