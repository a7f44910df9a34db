import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../src/inventory/catalog.ts';
import { InventoryError } from '../src/inventory/errors.ts';
import { Holds } from '../src/inventory/holds.ts';
import { createTestDatabase, drivers, type TestDatabase } from './support/database.ts';
import { createEvent, holdSettings } from './support/fixtures.ts';

/** Two ticket types: a small quota and an unlimited one. */
const TYPES = ['Quota', 'Unlimited'] as const;
type TypeName = (typeof TYPES)[number];
const MAX_PER_ORDER = 4;

type Op =
  | { kind: 'reserve'; items: Array<{ type: TypeName; quantity: number }> }
  | { kind: 'confirm' | 'release' | 'extend' | 'expire'; pick: number }
  | { kind: 'capacity'; capacity: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .uniqueArray(fc.record({ type: fc.constantFrom(...TYPES), quantity: fc.integer({ min: 1, max: MAX_PER_ORDER + 1 }) }), {
        minLength: 1,
        maxLength: 2,
        selector: (item) => item.type,
      })
      .map((items) => ({ kind: 'reserve' as const, items })),
  },
  ...(['confirm', 'release', 'extend', 'expire'] as const).map((kind) => ({
    weight: 2,
    arbitrary: fc.nat(50).map((pick) => ({ kind, pick })),
  })),
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 14 }).map((capacity) => ({ kind: 'capacity' as const, capacity })) },
);

interface ModelHold {
  id: string;
  status: 'active' | 'confirmed' | 'released' | 'expired';
  items: Array<{ type: TypeName; quantity: number }>;
  extensions: number;
}

/** The simplest correct ticket shop: what the database must agree with after every step. */
class Model {
  capacity = 8;
  holds: ModelHold[] = [];

  count(type: TypeName, status: 'active' | 'confirmed'): number {
    return this.holds
      .filter((h) => h.status === status)
      .flatMap((h) => h.items)
      .filter((i) => i.type === type)
      .reduce((sum, i) => sum + i.quantity, 0);
  }
  available(type: TypeName): number {
    return type === 'Unlimited' ? Infinity : this.capacity - this.count(type, 'active') - this.count(type, 'confirmed');
  }
}

async function outcome(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'ok';
  } catch (error) {
    if (error instanceof InventoryError) return error.code;
    throw error;
  }
}

describe.each(drivers)('hold lifecycle against a model (%s)', (driver) => {
  let t: TestDatabase;
  let catalog: Catalog;
  let holds: Holds;

  beforeAll(async () => {
    t = await createTestDatabase(driver);
    catalog = new Catalog(t.db);
    holds = new Holds(t.db, holdSettings);
  });
  afterAll(() => t.dispose());

  it('keeps counters equal to a recount and never exceeds capacity, whatever the sequence', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 25 }), async (ops) => {
        const model = new Model();
        const event = await createEvent(catalog, {
          ticketTypes: [
            { name: 'Quota', totalCapacity: model.capacity, maxPerOrder: MAX_PER_ORDER },
            { name: 'Unlimited', totalCapacity: null, maxPerOrder: MAX_PER_ORDER },
          ],
        });
        const ids = Object.fromEntries(event.ticketTypes.map((x) => [x.name, x.id])) as Record<TypeName, string>;

        for (const op of ops) {
          if (op.kind === 'reserve') {
            const expected = op.items.some((i) => i.quantity > MAX_PER_ORDER)
              ? 'quantity_above_max_per_order'
              : op.items.some((i) => model.available(i.type) < i.quantity)
                ? 'insufficient_availability'
                : 'ok';
            let id = '';
            const actual = await outcome(
              holds
                .reserve({
                  eventId: event.id,
                  holderId: 'buyer',
                  items: op.items.map((i) => ({ ticketTypeId: ids[i.type], quantity: i.quantity })),
                })
                .then((r) => (id = r.reservation.id)),
            );
            expect(actual, JSON.stringify(op)).toBe(expected);
            if (actual === 'ok') model.holds.push({ id, status: 'active', items: op.items, extensions: 0 });
          } else if (op.kind === 'capacity') {
            const committed = model.count('Quota', 'active') + model.count('Quota', 'confirmed');
            const expected = op.capacity >= committed ? 'ok' : 'capacity_below_committed';
            expect(await outcome(catalog.updateTicketType(ids.Quota, { totalCapacity: op.capacity }))).toBe(expected);
            if (expected === 'ok') model.capacity = op.capacity;
          } else {
            const hold = model.holds[op.pick % Math.max(1, model.holds.length)];
            if (!hold) continue;
            if (op.kind === 'confirm') {
              const expected = hold.status === 'active' || hold.status === 'confirmed' ? 'ok' : 'hold_expired';
              expect(await outcome(holds.confirm(hold.id, 'buyer'))).toBe(expected);
              if (expected === 'ok') hold.status = 'confirmed';
            } else if (op.kind === 'release') {
              const expected = hold.status === 'confirmed' ? 'reservation_confirmed' : 'ok';
              expect(await outcome(holds.release(hold.id, 'buyer'))).toBe(expected);
              if (hold.status === 'active') hold.status = 'released';
            } else if (op.kind === 'extend') {
              const expected =
                hold.status === 'confirmed'
                  ? 'reservation_confirmed'
                  : hold.status !== 'active'
                    ? 'hold_expired'
                    : hold.extensions >= holdSettings.maxExtensions
                      ? 'extension_limit_reached'
                      : 'ok';
              expect(await outcome(holds.extend(hold.id, 'buyer'))).toBe(expected);
              if (expected === 'ok') hold.extensions += 1;
            } else {
              // The deadline passes (by the database clock) and the sweeper runs.
              await t.db.query(
                `UPDATE tickets SET reservation_expires_at = now() - interval '1 second' WHERE reservation_id = $1 AND status = 'reserved'`,
                [hold.id],
              );
              await t.db.query(`UPDATE reservations SET expires_at = now() - interval '1 second' WHERE id = $1 AND status = 'active'`, [hold.id]);
              await holds.expireDue();
              if (hold.status === 'active') hold.status = 'expired';
            }
          }

          const { rows } = await t.db.query<{ name: TypeName; sold_count: number; reserved_count: number; total_capacity: number | null }>(
            'SELECT name, sold_count, reserved_count, total_capacity FROM event_tickets WHERE event_id = $1',
            [event.id],
          );
          for (const row of rows) {
            expect([row.name, row.sold_count, row.reserved_count]).toEqual([
              row.name,
              model.count(row.name, 'confirmed'),
              model.count(row.name, 'active'),
            ]);
            if (row.total_capacity !== null) expect(row.sold_count + row.reserved_count).toBeLessThanOrEqual(row.total_capacity);
          }
        }
        expect(await t.countMismatches()).toEqual([]);
      }),
      { numRuns: driver === 'pglite' ? 60 : 40 },
    );
  });
});
