import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../src/inventory/catalog.ts';
import { InventoryError } from '../src/inventory/errors.ts';
import { Holds } from '../src/inventory/holds.ts';
import { WaitingList } from '../src/inventory/waiting-list.ts';
import { createTestDatabase, drivers, type TestDatabase } from './support/database.ts';
import { createEvent, holdSettings } from './support/fixtures.ts';

/**
 * Buyers holding, confirming, releasing and abandoning holds (which expire),
 * joining and leaving waiting lists, taking and declining offers, while an
 * organizer changes capacities and pauses the sale and a sweeper expires
 * holds, all at once on one event with two small ticket types. Whatever the
 * interleaving, every seat that comes back goes either to an offer or back
 * to sale, exactly once: at every moment nobody waits for a type that has a
 * seat on sale, capacity is never exceeded, counters match a recount, and
 * offers go down each line in order.
 */

const TYPES = 2;
const MAX_PER_ORDER = 3;

type BuyerOp =
  | { kind: 'hold' | 'join'; type: number; quantity: number }
  | { kind: 'confirm' | 'release' | 'leave' | 'take' | 'decline' }
  | { kind: 'wait'; ms: number };
type OrganizerOp = { kind: 'capacity'; type: number; capacity: number } | { kind: 'pause'; ms: number } | { kind: 'wait'; ms: number };

const buyerOp: fc.Arbitrary<BuyerOp> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constantFrom('hold' as const, 'join' as const), type: fc.nat(TYPES - 1), quantity: fc.integer({ min: 1, max: MAX_PER_ORDER }) }) },
  { weight: 4, arbitrary: fc.constantFrom('confirm', 'release', 'leave', 'take', 'decline').map((kind) => ({ kind }) as BuyerOp) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 400 }).map((ms) => ({ kind: 'wait' as const, ms })) },
);
const organizerOp: fc.Arbitrary<OrganizerOp> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('capacity' as const), type: fc.nat(TYPES - 1), capacity: fc.integer({ min: 0, max: 6 }) }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 200 }).map((ms) => ({ kind: 'pause' as const, ms })) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 300 }).map((ms) => ({ kind: 'wait' as const, ms })) },
);
const scenario = fc.record({
  buyers: fc.array(fc.array(buyerOp, { minLength: 4, maxLength: 14 }), { minLength: 3, maxLength: 7 }),
  organizer: fc.array(organizerOp, { maxLength: 6 }),
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A refusal is an answer; anything else (a deadlock, a broken constraint) fails the run. */
async function refusalsAllowed(call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof InventoryError)) throw error;
  }
}

describe.each(drivers)('waiting lists under a concurrent random workload (%s)', (driver) => {
  let t: TestDatabase;
  let catalog: Catalog;
  let holds: Holds;
  let earlyBird: Holds;
  let waitingList: WaitingList;

  beforeAll(async () => {
    t = await createTestDatabase(driver);
    catalog = new Catalog(t.db);
    // Holds of one second: abandoned ones expire during the run.
    holds = new Holds(t.db, { holdSeconds: 1, extensionSeconds: 1, maxExtensions: 1 });
    earlyBird = new Holds(t.db, holdSettings);
    waitingList = new WaitingList(t.db);
  });
  afterAll(() => t.dispose());

  /** A seat on sale while someone waits for its type would be a seat both public and owed to the line. */
  const publicWhileWaiting = async (eventId: string) =>
    (
      await t.db.query(
        `SELECT et.id, et.available_count, et.waitlist_waiting FROM event_tickets et JOIN events e ON e.id = et.event_id
          WHERE et.event_id = $1 AND e.status = 'on_sale' AND et.status = 'on_sale' AND et.waitlist_waiting > 0 AND et.available_count > 0`,
        [eventId],
      )
    ).rows;
  const overCapacity = async (eventId: string) =>
    (await t.db.query('SELECT id FROM event_tickets WHERE event_id = $1 AND sold_count + reserved_count > total_capacity', [eventId])).rows;

  it('gives every freed seat to an offer or back to sale, exactly once, in order', async () => {
    let offersMade = 0;
    await fc.assert(
      fc.asyncProperty(scenario, async ({ buyers, organizer }) => {
        const event = await createEvent(catalog, {
          ticketTypes: Array.from({ length: TYPES }, (_, i) => ({ name: `Type ${i}`, totalCapacity: 3, maxPerOrder: MAX_PER_ORDER })),
        });
        await waitingList.configure(event.id, { offerSeconds: 1 });
        const typeIds = event.ticketTypes.map((type) => type.id);
        // The first type starts sold out to a long hold and every buyer joins its line, however slow the machine is.
        await earlyBird.reserve({ eventId: event.id, holderId: 'early-bird', items: [{ ticketTypeId: typeIds[0]!, quantity: 3 }] });
        await Promise.all(
          buyers.map((_, n) => waitingList.join(typeIds[0]!, `buyer-${n}`, { userId: `buyer-${n}`, privileged: false }, 1 + (n % MAX_PER_ORDER))),
        );
        let running = true;
        const violations: unknown[] = [];

        const buyer = async (ops: BuyerOp[], n: number) => {
          const holderId = `buyer-${n}`;
          const mine: string[] = [];
          const entries = () => waitingList.entriesOf(holderId);
          for (const op of ops) {
            if (op.kind === 'wait') await pause(op.ms);
            else if (op.kind === 'hold') {
              await refusalsAllowed(
                holds.reserve({ eventId: event.id, holderId, items: [{ ticketTypeId: typeIds[op.type]!, quantity: op.quantity }] }).then((r) => mine.push(r.reservation.id)),
              );
            } else if (op.kind === 'join') await refusalsAllowed(waitingList.join(typeIds[op.type]!, holderId, { userId: holderId, privileged: false }, op.quantity));
            else if (op.kind === 'confirm' || op.kind === 'release') {
              const id = mine.at(-1);
              if (id) await refusalsAllowed(op.kind === 'confirm' ? holds.confirm(id, holderId) : holds.release(id, holderId));
            } else if (op.kind === 'leave') {
              const entry = (await entries())[0];
              if (entry) await refusalsAllowed(waitingList.leave(entry.id, holderId));
            } else {
              const offer = (await entries()).find((e) => e.status === 'offered')?.offer;
              if (offer) await refusalsAllowed(op.kind === 'take' ? holds.confirm(offer.reservationId, holderId) : holds.release(offer.reservationId, holderId));
            }
          }
        };
        const organizerLoop = async () => {
          for (const op of organizer) {
            if (op.kind === 'wait') await pause(op.ms);
            else if (op.kind === 'capacity') await refusalsAllowed(catalog.updateTicketType(typeIds[op.type]!, { totalCapacity: op.capacity }));
            else {
              await catalog.updateEvent(event.id, { status: 'paused' });
              await pause(op.ms);
              await catalog.updateEvent(event.id, { status: 'on_sale' });
            }
          }
        };
        const sweeper = async () => {
          while (running) {
            await holds.expireDue();
            await pause(50);
          }
        };
        const watcher = async () => {
          while (running) {
            violations.push(...(await publicWhileWaiting(event.id)), ...(await overCapacity(event.id)));
            await pause(10);
          }
        };

        const background = [sweeper(), watcher()];
        try {
          await Promise.all([...buyers.map((ops, n) => buyer(ops, n)), organizerLoop()]);
        } finally {
          running = false;
          await Promise.all(background);
        }
        expect(violations).toEqual([]);

        // Every hold runs out; the seats each expiry frees go down the lines until nobody waits or nothing is left.
        await t.db.query(`UPDATE reservations SET expires_at = now() WHERE event_id = $1 AND status = 'active'`, [event.id]);
        await t.db.query(`UPDATE tickets SET reservation_expires_at = now() WHERE event_id = $1 AND status = 'reserved'`, [event.id]);
        while ((await holds.expireDue()) > 0) {
          await t.db.query(`UPDATE reservations SET expires_at = now() WHERE event_id = $1 AND status = 'active'`, [event.id]);
          await t.db.query(`UPDATE tickets SET reservation_expires_at = now() WHERE event_id = $1 AND status = 'reserved'`, [event.id]);
        }
        expect(await publicWhileWaiting(event.id)).toEqual([]);
        expect(await t.countMismatches()).toEqual([]);

        const { rows: offered } = await t.db.query<{ event_ticket_id: string; seq: string; offer_number: string; quantity: number; offered_quantity: number; seats: number; same_holder: boolean }>(
          `SELECT w.event_ticket_id, w.seq, w.offer_number, w.quantity, w.offered_quantity,
                  (SELECT count(*)::integer FROM tickets tk WHERE tk.reservation_id = w.offer_reservation_id) AS seats,
                  r.holder_id = w.holder_id AND r.event_id = w.event_id AS same_holder
             FROM waitlist_entries w JOIN reservations r ON r.id = w.offer_reservation_id
            WHERE w.event_id = $1 ORDER BY w.event_ticket_id, w.offer_number`,
          [event.id],
        );
        offersMade += offered.length;
        for (const [i, offer] of offered.entries()) {
          // Each offer is a hold of exactly the seats it says, in the waiting buyer's name, never more than they asked for.
          expect([offer.seats, offer.same_holder]).toEqual([offer.offered_quantity, true]);
          expect(offer.offered_quantity).toBeLessThanOrEqual(offer.quantity);
          // Offers down each line in join order.
          const previous = offered[i - 1];
          if (previous?.event_ticket_id === offer.event_ticket_id) expect(BigInt(offer.seq)).toBeGreaterThan(BigInt(previous.seq));
        }
        // Nobody still waiting was passed over by an offer.
        const { rows: skipped } = await t.db.query(
          `SELECT w.id FROM waitlist_entries w
            WHERE w.event_id = $1 AND w.status = 'waiting'
              AND EXISTS (SELECT 1 FROM waitlist_entries o WHERE o.event_ticket_id = w.event_ticket_id AND o.status = 'offered' AND o.seq > w.seq)`,
          [event.id],
        );
        expect(skipped).toEqual([]);
      }),
      { numRuns: driver === 'pglite' ? 6 : 10 },
    );
    // The workload did reach the lines (it is not a property of empty lists).
    expect(offersMade).toBeGreaterThan(0);
  }, 120_000);
});
