/**
 * Scenario 4: a hold must cost the same whether 0, 100,000 or 1,000,000
 * tickets of its type are already sold, because the counters are maintained
 * incrementally (repeatable/10_counters.sql). Beside it, the baseline that
 * recounts with COUNT(*) on every ticket change
 * (bench/baselines/recount-triggers.sql),
 * holding through one transaction per hold (row-lock-holds.ts).
 *
 * Each system gets its own schema with one event per sold level. Rounds
 * alternate over levels and systems so that drift (cache warm-up, table
 * growth, a noisy neighbour) lands on all of them alike.
 */
import { readFile } from 'node:fs/promises';
import type { HoldSettings } from '../../packages/server/src/inventory/holds.ts';
import { Catalog } from '../../packages/server/src/inventory/catalog.ts';
import { Holds } from '../../packages/server/src/inventory/holds.ts';
import { rowLockHold } from '../baselines/row-lock-holds.ts';
import { closedLoop } from '../harness/closed-loop.ts';
import type { BenchDatabase, Check, Goal, Scenario } from '../harness/scenario.ts';
import { round, summarizeLatencies } from '../harness/stats.ts';

const QUANTITY = 2;
const CONCURRENCY = 8;
const MAX_GROWTH = 1.2;
const SETTINGS: HoldSettings = { holdSeconds: 900, extensionSeconds: 300, maxExtensions: 2 };
// Room for every hold of the run on top of past sales, so no hold ever meets a sold-out type.
const HEADROOM = 1_000_000;

interface Level {
  sold: number;
  eventId: string;
  ticketTypeId: string;
  holds: number;
  /** Holds per second of each measured round. */
  rates: number[];
  latencies: number[];
}

interface System {
  name: string;
  bench: BenchDatabase;
  levels: Level[];
  hold(level: Level, holderId: string): Promise<void>;
}

const label = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1000 ? `${n / 1000}k` : String(n));

/** One event per level, with `sold` past sales inserted in one statement (the statement-level triggers count them once). */
async function seedLevels(bench: BenchDatabase, sizes: readonly number[], tag: string): Promise<Level[]> {
  const catalog = new Catalog(bench.db);
  const startsAt = new Date(Date.now() + 30 * 86_400_000).toISOString();
  const levels: Level[] = [];
  for (const sold of sizes) {
    const event = await catalog.createEvent({
      slug: `cost-${tag}-${sold}`,
      name: `Cost growth, ${label(sold)} sold`,
      startsAt,
      ticketTypes: [{ name: 'General', price: '10.00', totalCapacity: sold + HEADROOM, maxPerOrder: 10 }],
    });
    const ticketTypeId = event.ticketTypes[0]!.id;
    await bench.db.query(
      `INSERT INTO tickets (event_id, event_ticket_id, status, holder_id, purchased_at)
       SELECT $1, $2, 'sold', 'past-buyer', now() - make_interval(secs => n) FROM generate_series(1, $3::integer) AS n`,
      [event.id, ticketTypeId, sold],
    );
    levels.push({ sold, eventId: event.id, ticketTypeId, holds: 0, rates: [], latencies: [] });
  }
  return levels;
}

async function countChecks(system: System, quick: boolean): Promise<Check[]> {
  const { db } = system.bench;
  const mismatches = (await db.query('SELECT * FROM verify_ticket_counts()')).rows;
  const { rows } = await db.query<{ id: string; sold_count: number; reserved_count: number; total_capacity: number; tickets: number }>(
    `SELECT et.id, et.sold_count, et.reserved_count, et.total_capacity,
            (SELECT count(*)::integer FROM tickets t WHERE t.event_ticket_id = et.id AND t.status IN ('sold', 'reserved')) AS tickets
     FROM event_tickets et`,
  );
  const byId = new Map(rows.map((r) => [r.id, r]));
  const wrong = system.levels.filter((l) => {
    const row = byId.get(l.ticketTypeId);
    // Warm-up holds count too: every hold made must be held, none twice.
    return row?.sold_count !== l.sold || row.reserved_count !== QUANTITY * l.holds;
  });
  const oversold = rows.filter((r) => r.tickets > r.total_capacity);
  return [
    {
      check: `${system.name}: verify_ticket_counts() empty`,
      ok: mismatches.length === 0,
      detail: mismatches.length === 0 ? 'counters agree with tickets' : JSON.stringify(mismatches.slice(0, 3)),
    },
    {
      check: `${system.name}: every hold held exactly once`,
      ok: wrong.length === 0,
      detail: wrong.length === 0
        ? `reserved_count = ${QUANTITY} x holds made at each level${quick ? ' (quick)' : ''}`
        : wrong.map((l) => `${label(l.sold)} sold: ${JSON.stringify(byId.get(l.ticketTypeId))}, expected ${QUANTITY * l.holds} reserved`).join('; '),
    },
    { check: `${system.name}: zero oversell`, ok: oversold.length === 0, detail: `${oversold.length} ticket type(s) above capacity` },
  ];
}

interface LevelResult {
  holdsPerSec: number;
  minRate: number;
  maxRate: number;
}

/** When the rounds at both levels overlap, the gap is the shared machine's noise, not the sales. */
function throughputNoise(zero: LevelResult, top: LevelResult, topLabel: string): string {
  const range = (l: LevelResult) => `${round(l.minRate)}-${round(l.maxRate)}`;
  const overlap = top.maxRate >= zero.minRate && zero.maxRate >= top.minRate;
  return overlap
    ? `round-to-round noise: single rounds ranged ${range(zero)} holds/s at 0 sold and ${range(top)} at ${topLabel}, overlapping; the hold statement itself does not grow (p50 latency ratio above)`
    : `rounds do not overlap (${range(zero)} holds/s at 0 sold, ${range(top)} at ${topLabel}): not explained by noise`;
}

export const costGrowth: Scenario = {
  name: 'cost-growth',
  title: 'Hold cost as sales grow',
  async run(ctx) {
    const sizes = ctx.quick ? [0, 1_000, 10_000] : [0, 100_000, 1_000_000];
    const holdsPerRound = ctx.quick ? 40 : 600;
    // The baseline at 1M sold manages a few holds a second: rounds are capped in time too.
    const roundMs = ctx.quick ? 1_500 : 3_000;
    const measuredRounds = ctx.quick ? 1 : 5;

    const open = () => ctx.freshDatabase({ maxConnections: CONCURRENCY + 2 });
    const tp = await open();
    const base = await open();
    const seedStart = performance.now();
    ctx.progress(`seeding ${sizes.map(label).join(' / ')} sold tickets in each of two schemas`);
    const tpLevels = await seedLevels(tp, sizes, 'tp');
    const baseLevels = await seedLevels(base, sizes, 'base');
    await base.db.exec(await readFile(new URL('../baselines/recount-triggers.sql', import.meta.url), 'utf8'));
    // Visibility map and statistics for both: the recounts become index-only scans, as on a settled database.
    for (const { db } of [tp, base]) await db.exec('VACUUM ANALYZE');
    ctx.progress(`seeded in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);

    const holds = new Holds(tp.db, SETTINGS);
    const systems: System[] = [
      {
        name: 'TicketPulse',
        bench: tp,
        levels: tpLevels,
        hold: async (level, holderId) => {
          await holds.reserve({ eventId: level.eventId, holderId, items: [{ ticketTypeId: level.ticketTypeId, quantity: QUANTITY }] });
        },
      },
      {
        name: 'baseline (recount triggers)',
        bench: base,
        levels: baseLevels,
        hold: async (level, holderId) => {
          const result = await rowLockHold(base.db, {
            eventId: level.eventId,
            ticketTypeId: level.ticketTypeId,
            holderId,
            quantity: QUANTITY,
            holdSeconds: SETTINGS.holdSeconds,
          });
          if (!result.ok) throw new Error(`baseline hold refused at ${label(level.sold)} sold: ${result.reason}`);
        },
      },
    ];

    // Round 0 warms up caches and is not measured. Each round starts at
    // another level and swaps the systems' order, so neither always runs
    // right after the baseline's heaviest round.
    for (let r = 0; r <= measuredRounds; r++) {
      for (let k = 0; k < sizes.length; k++) {
        for (const system of r % 2 ? [...systems].reverse() : systems) {
          if (ctx.signal.aborted) throw new Error('interrupted');
          const level = system.levels[(k + r) % sizes.length]!;
          const deadline = performance.now() + roundMs;
          const result = await closedLoop({
            concurrency: CONCURRENCY,
            signal: ctx.signal,
            done: (started) => started >= holdsPerRound || performance.now() > deadline,
            run: (i) => system.hold(level, `cost-${r}-${i}`),
          });
          level.holds += result.samples.length;
          if (r === 0) continue;
          level.rates.push(result.samples.length / result.seconds);
          for (const s of result.samples) level.latencies.push(s.ms);
        }
      }
      ctx.progress(r === 0 ? 'warm-up round done' : `round ${r}/${measuredRounds} done`);
      // Statistics once the warm-up has filled reservations: analyzing it
      // empty caches plans that seq-scan it as it grows.
      if (r === 0) for (const { db } of [tp, base]) await db.exec('ANALYZE');
    }

    const results = systems.map((system) => ({
      name: system.name,
      levels: system.levels.map((level) => {
        const rates = summarizeLatencies(level.rates);
        // The median round: one round disturbed by a neighbour does not move it.
        return { sold: level.sold, measured: level.latencies.length, holdsPerSec: rates.p50, minRate: Math.min(...level.rates), maxRate: rates.max, ...summarizeLatencies(level.latencies) };
      }),
    }));
    const [tpResult, baseResult] = results as [(typeof results)[0], (typeof results)[0]];
    const first = (r: typeof tpResult) => r.levels[0]!;
    const last = (r: typeof tpResult) => r.levels[r.levels.length - 1]!;
    const top = label(sizes[sizes.length - 1]!);
    const tpLatencyGrowth = last(tpResult).p50 / first(tpResult).p50;
    const tpThroughputGrowth = last(tpResult).holdsPerSec / first(tpResult).holdsPerSec;

    const checks = (await Promise.all(systems.map((s) => countChecks(s, ctx.quick)))).flat();
    const goals: Goal[] = ctx.quick
      ? []
      : [
          {
            goal: `TicketPulse p50 hold latency at most ${MAX_GROWTH}x from 0 to ${top} sold`,
            measured: `${round(tpLatencyGrowth, 2)}x`,
            met: tpLatencyGrowth <= MAX_GROWTH,
          },
          {
            goal: `TicketPulse throughput at least 1/${MAX_GROWTH} of the 0-sold figure at ${top} sold`,
            measured: `${round(tpThroughputGrowth, 2)}x`,
            met: tpThroughputGrowth >= 1 / MAX_GROWTH,
            ...(tpThroughputGrowth < 1 / MAX_GROWTH && { limitedBy: throughputNoise(first(tpResult), last(tpResult), top) }),
          },
        ];

    return {
      config: {
        soldLevels: sizes,
        quantityPerHold: QUANTITY,
        concurrency: CONCURRENCY,
        holdsPerRound,
        roundCapSeconds: roundMs / 1000,
        measuredRounds,
        warmupRounds: 1,
      },
      table: {
        columns: ['system', 'sold before', 'holds measured', 'holds/s (median round)', 'rounds min-max', 'p50 ms', 'p99 ms'],
        rows: results.flatMap((r) =>
          r.levels.map((l) => [r.name, l.sold, l.measured, round(l.holdsPerSec), `${round(l.minRate)}-${round(l.maxRate)}`, round(l.p50, 2), round(l.p99, 2)]),
        ),
      },
      ratios: [
        { name: `TicketPulse p50 latency, ${top} / 0 sold`, value: tpLatencyGrowth },
        { name: `TicketPulse holds/s, ${top} / 0 sold`, value: tpThroughputGrowth },
        { name: `baseline p50 latency, ${top} / 0 sold`, value: last(baseResult).p50 / first(baseResult).p50 },
        { name: `baseline holds/s, ${top} / 0 sold`, value: last(baseResult).holdsPerSec / first(baseResult).holdsPerSec },
        { name: `p50 latency at ${top} sold, baseline / TicketPulse`, value: last(baseResult).p50 / last(tpResult).p50 },
        { name: `holds/s at ${top} sold, TicketPulse / baseline`, value: last(tpResult).holdsPerSec / last(baseResult).holdsPerSec },
      ],
      goals,
      checks,
      notes: [
        `${CONCURRENCY} concurrent buyers per round, ${QUANTITY} seats per hold; each round stops at ${holdsPerRound} holds or ${roundMs / 1000} s, whichever comes first.`,
        'TicketPulse holds through Holds.reserve, the product\'s hold path (concurrent holds on one event are decided together, one statement per batch); the baseline through one transaction per hold (row lock on the ticket type, availability from its counter, insert), its counters recounted with COUNT(*) per ticket row by row-level triggers, as the original design\'s update_event_ticket_counts / update_event_counts do.',
        'The systems differ at 0 sold already (batched holds in one round trip against one transaction of five round trips per hold); the 1M/0 ratios isolate what sales cost each.',
        'The baseline gets indexes on (event_ticket_id, status) and (event_id, status) and a vacuumed table, so its recounts are index-only scans: what it pays is counting, not a missing index.',
      ],
    };
  },
};
