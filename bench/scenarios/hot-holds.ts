/**
 * Scenario 1: an on-sale's first seconds. Many buyers hold 1-4 seats each on
 * one ticket type at once. TicketPulse's hold path (Holds.reserve: group
 * commit, repeatable/50_group_commit.sql) against the usual one transaction
 * per hold with a row lock (bench/baselines/row-lock-holds.ts), in
 * alternating rounds on the same database.
 *
 * Then a sell-out race on a small ticket type, for each side: buyers keep
 * holding until refused, and not one seat may be held beyond capacity.
 */
import type { HoldSettings } from '../../packages/server/src/inventory/holds.ts';
import type { Database } from '../../packages/server/src/db/database.ts';
import { Catalog } from '../../packages/server/src/inventory/catalog.ts';
import { InventoryError } from '../../packages/server/src/inventory/errors.ts';
import { Holds } from '../../packages/server/src/inventory/holds.ts';
import { rowLockHold } from '../baselines/row-lock-holds.ts';
import { closedLoop } from '../harness/closed-loop.ts';
import { createHotType, heldSeats, type HotType } from '../harness/hot-type.ts';
import type { BenchContext, Check, Scenario } from '../harness/scenario.ts';
import { round, summarizeLatencies } from '../harness/stats.ts';

const SETTINGS: HoldSettings = { holdSeconds: 900, extensionSeconds: 300, maxExtensions: 2 };
const POOL = 32;

type Side = 'TicketPulse' | 'baseline';
const SIDES: Side[] = ['TicketPulse', 'baseline'];

/** Seats a buyer asks for: 1-4, the same sequence on both sides. */
const seatsFor = (i: number) => (i % 4) + 1;

/** Holds `quantity` seats; false when refused for lack of seats. */
type Hold = (target: HotType, holderId: string, quantity: number) => Promise<boolean>;

function holdFor(side: Side, db: Database, holds: Holds): Hold {
  if (side === 'baseline') {
    return async (target, holderId, quantity) =>
      (await rowLockHold(db, { ...target, holderId, quantity, holdSeconds: SETTINGS.holdSeconds })).ok;
  }
  return async (target, holderId, quantity) => {
    try {
      await holds.reserve({ eventId: target.eventId, holderId, items: [{ ticketTypeId: target.ticketTypeId, quantity }] });
      return true;
    } catch (error) {
      if (error instanceof InventoryError && error.code === 'insufficient_availability') return false;
      throw error;
    }
  };
}

interface Totals {
  holds: number;
  seats: number;
  seconds: number;
  latencies: number[];
}

export const hotHolds: Scenario = {
  name: 'hot-holds',
  title: 'Hot on-sale holds',
  async run(ctx: BenchContext) {
    const buyers = ctx.quick ? 20 : 200;
    const rounds = ctx.quick ? 1 : 3;
    const roundSeconds = ctx.quick ? 1 : 5;
    const raceCapacity = ctx.quick ? 500 : 20_000;
    const { db } = await ctx.freshDatabase({ maxConnections: POOL });
    const catalog = new Catalog(db);
    const batchSizes: number[] = [];
    const holds = new Holds(db, SETTINGS, () => {}, { onBatch: (size) => batchSizes.push(size) });

    const targets = {
      TicketPulse: await createHotType(catalog, 'hot-ticketpulse', 100_000_000),
      baseline: await createHotType(catalog, 'hot-baseline', 100_000_000),
    } satisfies Record<Side, HotType>;
    const accepted: Record<Side, number> = { TicketPulse: 0, baseline: 0 };
    const totals = Object.fromEntries(SIDES.map((s) => [s, { holds: 0, seats: 0, seconds: 0, latencies: [] as number[] }])) as Record<Side, Totals>;

    // Round 0 of each side is a warm-up; then ANALYZE, so that plans are made
    // on filled tables rather than the empty ones migrations left.
    for (let r = 0; r <= rounds && !ctx.signal.aborted; r++) {
      for (const side of SIDES) {
        const hold = holdFor(side, db, holds);
        batchSizes.length = 0;
        let seats = 0;
        const seconds = r === 0 ? 1 : roundSeconds;
        const deadline = performance.now() + seconds * 1000;
        const result = await closedLoop({
          concurrency: buyers,
          signal: ctx.signal,
          done: () => performance.now() >= deadline,
          run: async (i) => {
            const quantity = seatsFor(i);
            if (!(await hold(targets[side], `${side}-${r}-${i}`, quantity))) throw new Error(`${side}: refused with seats left`);
            seats += quantity;
            accepted[side] += quantity;
          },
        });
        const latencies = result.samples.map((s) => s.ms);
        const summary = summarizeLatencies(latencies);
        const batches = side === 'TicketPulse' ? `, mean batch ${round(latencies.length / Math.max(1, batchSizes.length))}` : '';
        ctx.progress(
          `${r === 0 ? 'warm-up' : `round ${r}/${rounds}`} ${side}: ${Math.round(latencies.length / result.seconds)} holds/s, ` +
            `p50 ${round(summary.p50)} ms, p99 ${round(summary.p99)} ms${batches}`,
        );
        if (r > 0) {
          const t = totals[side];
          t.holds += latencies.length;
          t.seats += seats;
          t.seconds += result.seconds;
          // One by one: a fast round's latencies outnumber what a call's arguments can hold.
          for (const ms of latencies) t.latencies.push(ms);
        }
      }
      if (r === 0) await db.exec('ANALYZE');
    }

    // The sell-out race: more demand than seats, on both sides.
    const checks: Check[] = [];
    for (const side of SIDES) {
      const target = await createHotType(catalog, `race-${side.toLowerCase()}`, raceCapacity);
      const hold = holdFor(side, db, holds);
      let acceptedSeats = 0;
      let soldOut = false;
      await closedLoop({
        concurrency: buyers,
        signal: ctx.signal,
        done: () => soldOut,
        run: async (i) => {
          const quantity = seatsFor(i);
          if (await hold(target, `race-${side}-${i}`, quantity)) acceptedSeats += quantity;
          // Refused: fewer seats left than asked; a 1-seat request refused means none at all.
          else if (quantity === 1) soldOut = true;
        },
      });
      const held = await heldSeats(db, target.ticketTypeId);
      ctx.progress(`sell-out race ${side}: ${acceptedSeats} seats accepted, ${held.tickets} held, capacity ${held.capacity}`);
      checks.push({
        check: `${side}: zero oversell in a sell-out race`,
        ok: held.tickets <= held.capacity && held.counted === held.tickets && acceptedSeats === held.tickets,
        detail: `capacity ${held.capacity}, seats held ${held.tickets}, counters say ${held.counted}, seats the buyers were told they hold ${acceptedSeats}`,
      });
    }
    for (const side of SIDES) {
      const held = await heldSeats(db, targets[side].ticketTypeId);
      checks.push({
        check: `${side}: every accepted hold is in the database`,
        ok: held.tickets === accepted[side] && held.counted === held.tickets,
        detail: `${accepted[side]} seats accepted, ${held.tickets} held, counters say ${held.counted}`,
      });
    }
    const mismatches = (await db.query('SELECT * FROM verify_ticket_counts()')).rows;
    checks.push({ check: 'verify_ticket_counts() is empty', ok: mismatches.length === 0, detail: `${mismatches.length} mismatching counters` });

    const rows = SIDES.map((side) => {
      const t = totals[side];
      const l = summarizeLatencies(t.latencies);
      return { side, holdsPerSec: t.holds / t.seconds, seatsPerSec: t.seats / t.seconds, ...l };
    });
    const [tp, base] = rows as [(typeof rows)[0], (typeof rows)[0]];
    return {
      config: { buyers, seatsPerHold: '1-4, cycling', measuredRounds: rounds, roundSeconds, warmupSeconds: 1, poolConnections: POOL, raceCapacity, inProcessBuyers: true },
      table: {
        columns: ['system', 'holds/s', 'seats/s', 'p50 ms', 'p99 ms', 'max ms', 'holds'],
        rows: rows.map((r) => [
          r.side === 'baseline' ? 'baseline: row lock, one transaction per hold' : 'TicketPulse: group commit',
          Math.round(r.holdsPerSec),
          Math.round(r.seatsPerSec),
          round(r.p50, 2),
          round(r.p99, 2),
          round(r.max, 1),
          r.count,
        ]),
      },
      ratios: [
        { name: 'holds/s, TicketPulse / baseline', value: tp.holdsPerSec / base.holdsPerSec },
        { name: 'p99 latency, baseline / TicketPulse', value: base.p99 / tp.p99 },
      ],
      goals: [
        {
          goal: 'at least 20,000 holds/s on one ticket type',
          measured: `${Math.round(tp.holdsPerSec)} holds/s`,
          met: tp.holdsPerSec >= 20_000,
          limitedBy:
            'the 2 cores, shared by PostgreSQL and this process. An event\'s batches write their holds and seats two at a time, and queue on ' +
            'its row locks only for the counter update, the answers and the commit (docs/inventory.md, A batch written before it locks): ' +
            'with 200 buyers the database used 1.3-1.4 cores and Node 0.3 (a scratch driver, 2026-12-05), where one batch at a time, ' +
            'locking first, used 0.8 and 0.2. perf of the backends when they still locked first (2026-12-05, batches of 200 holds of ' +
            '1-4 seats), inclusive shares: index inserts 19%, the after-statement triggers 18% (counters, change capture, the seats\' ' +
            'reference checks), the batch\'s JSON about 8%, heap inserts 4%, WAL 3%: what is left is writing the rows, about 60 us of ' +
            'database CPU a hold of 2.5 seats.',
        },
        { goal: 'at least 8x the baseline', measured: `${round(tp.holdsPerSec / base.holdsPerSec, 1)}x`, met: tp.holdsPerSec >= 8 * base.holdsPerSec },
        { goal: 'p99 hold latency at most 50 ms', measured: `${round(tp.p99, 1)} ms`, met: tp.p99 <= 50 },
      ],
      checks,
      notes: [
        `${buyers} buyers in the runner's process call each side's hold function directly (TicketPulse: Holds.reserve, what the HTTP route calls), ` +
          'so the figures are the inventory\'s, without HTTP. PostgreSQL is the separate server process.',
      ],
    };
  },
};
