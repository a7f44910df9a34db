import { availabilityStatusOf, percentageSold, type EventSaleState } from '@ticketpulse/protocol';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, drivers, type TestDatabase } from './support/database.ts';

/**
 * The protocol's availability rules (availability-rules.ts) are a copy of
 * ticket_availability_view's, for clients that see only event_tickets rows.
 * Here the view itself judges generated rows, edges included (capacity 0,
 * threshold 0, one seat left, unlimited), and the copy must agree on every one.
 */
const eventStatuses = ['draft', 'on_sale', 'paused', 'ended', 'cancelled'] as const;

const saleStateOf = (status: (typeof eventStatuses)[number]): EventSaleState =>
  status === 'on_sale' ? 'open' : status === 'paused' ? 'paused' : 'off_sale';

const ticketType = fc
  .record({
    eventStatus: fc.constantFrom(...eventStatuses),
    saleStatus: fc.constantFrom('on_sale' as const, 'paused' as const),
    totalCapacity: fc.option(fc.oneof(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 100_000 })), { nil: null }),
    soldShare: fc.double({ min: 0, max: 1, noNaN: true }),
    reservedShare: fc.double({ min: 0, max: 1, noNaN: true }),
    unlimitedSold: fc.integer({ min: 0, max: 1000 }),
    lowStockThreshold: fc.option(fc.integer({ min: 0, max: 500 }), { nil: null }),
  })
  .map(({ totalCapacity, soldShare, reservedShare, unlimitedSold, ...rest }) => {
    if (totalCapacity === null) return { ...rest, totalCapacity, soldCount: unlimitedSold, reservedCount: 0 };
    const soldCount = Math.floor(totalCapacity * soldShare);
    return { ...rest, totalCapacity, soldCount, reservedCount: Math.floor((totalCapacity - soldCount) * reservedShare) };
  });

describe.each(drivers)('availability rules match ticket_availability_view (%s)', (driver) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(driver, 2);
  });
  afterAll(() => t.dispose());

  it('status and percentage sold agree on every generated ticket type', async () => {
    const events = new Map<string, string>();
    for (const status of eventStatuses) {
      const { rows } = await t.db.query<{ id: string }>(
        `INSERT INTO events (slug, name, starts_at, status) VALUES ($1, $1, now() + interval '1 day', $2) RETURNING id`,
        [`rules-${status.replace("_", "-")}`, status],
      );
      events.set(status, rows[0]!.id);
    }
    const samples = fc.sample(ticketType, { numRuns: 600, seed: 42 });
    const ids: string[] = [];
    for (const s of samples) {
      const { rows } = await t.db.query<{ id: string }>(
        `INSERT INTO event_tickets (event_id, name, total_capacity, sold_count, reserved_count, status, low_stock_threshold)
         VALUES ($1, 'x', $2, $3, $4, $5, $6) RETURNING id`,
        [events.get(s.eventStatus), s.totalCapacity, s.soldCount, s.reservedCount, s.saleStatus, s.lowStockThreshold],
      );
      ids.push(rows[0]!.id);
    }
    const { rows } = await t.db.query<{ ticket_type_id: string; status: string; percentage_sold: number }>(
      'SELECT ticket_type_id, status, percentage_sold FROM ticket_availability_view WHERE ticket_type_id = ANY($1)',
      [ids],
    );
    const byView = new Map(rows.map((row) => [row.ticket_type_id, row]));
    const disagreements = samples.flatMap((s, i) => {
      const view = byView.get(ids[i]!)!;
      const availableCount = s.totalCapacity === null ? null : s.totalCapacity - s.soldCount - s.reservedCount;
      const ours = {
        status: availabilityStatusOf(saleStateOf(s.eventStatus), { ...s, availableCount }),
        percentageSold: percentageSold(s.soldCount, s.totalCapacity),
      };
      const theirs = { status: view.status, percentageSold: view.percentage_sold };
      return JSON.stringify(ours) === JSON.stringify(theirs) ? [] : [{ sample: s, ours, theirs }];
    });
    expect(disagreements).toEqual([]);
    // The samples reach every status, so the comparison covers every branch.
    expect(new Set(rows.map((row) => row.status))).toEqual(new Set(['available', 'low_stock', 'sold_out', 'paused', 'off_sale']));
  });
});
