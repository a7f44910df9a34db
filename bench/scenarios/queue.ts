/**
 * The waiting room at scale (issue 15, "Scale and speed"), in-process against
 * real PostgreSQL:
 *
 * - joins per second into one event's queue, through WaitingRoom.join as the
 *   HTTP route calls it, by many concurrent joiners; baseline: a bare INSERT
 *   of the same row, the ceiling of one statement per join on this database;
 * - the opening tick: 100,000 pre-queued entries (bulk-inserted with SQL) get
 *   their positions from the shuffle;
 * - size does not cost: one admission tick with 1,000 and with 1,000,000
 *   entries in line, medians of several ticks, interleaved;
 * - admission accuracy: the real AdmissionDriver ticking on its timer for a
 *   short window, admissions against the configured rate;
 * - the `queue` frame's fan-out to waiting viewers (queue-viewers.ts).
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { pino } from 'pino';
import { Catalog } from '../../packages/server/src/inventory/catalog.ts';
import { AdmissionDriver } from '../../packages/server/src/waiting-room/admission-driver.ts';
import { QueuePasses } from '../../packages/server/src/waiting-room/queue-pass.ts';
import { WaitingRoom, type Visitor } from '../../packages/server/src/waiting-room/waiting-room.ts';
import { closedLoop } from '../harness/closed-loop.ts';
import { measureHttpJoins } from './queue-http-joins.ts';
import { goal } from '../harness/goal.ts';
import type { BenchDatabase, Check, Goal, Scenario } from '../harness/scenario.ts';
import { percentile, round, sleep } from '../harness/stats.ts';
import { measureQueueViewers } from './queue-viewers.ts';

// A crowd arriving at once: this many joins are in flight at any moment (closed loop).
const JOINERS = 1_000;
// Pool connections: group commit needs two per event; the bare-INSERT baseline uses them all.
const POOL = 64;
const JOIN_GOAL_PER_S = 20_000;
const HTTP_JOIN_GOAL_PER_S = 5_000;
// wrk for the HTTP joins: threads, and keep-alive connections (one request in flight on each).
const HTTP_THREADS = 2;
// 1,000 (the in-process crowd) was tried: smaller batches and more CPU per join, half the joins/s at load average 14.
const HTTP_CONNECTIONS = 256;
// Tokens minted per second of a wrk run: well beyond what one gateway answers (a join finding none fails a check). A faster
// machine of this class answered 19,104 joins in a 1 s run (2026-12-05), past the 20,000 a second once minted here.
const HTTP_TOKENS_PER_SECOND = 60_000;
const SHUFFLE_GOAL_MS = 2_000;
const SIZE_GOAL_RATIO = 1.2;
const ACCURACY_GOAL_PCT = 2;
const TICK_MS = 250;
const LEASE_MS = 1_500;

const logger = pino({ level: 'silent' });
const visitor = (holderId: string): Visitor => ({ holderId, audience: { privileged: false, userId: holderId } });
const median = (values: number[]) => percentile([...values].sort((a, b) => a - b), 50);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function queuedEvent(bench: BenchDatabase, room: WaitingRoom, settings: Record<string, unknown>) {
  const event = await new Catalog(bench.db).createEvent({
    slug: `queue-${randomBytes(4).toString('hex')}`,
    name: 'Queue bench',
    startsAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
    ticketTypes: [{ name: 'General', price: '20.00', totalCapacity: 5_000_000, maxPerOrder: 4 }],
  });
  await room.configure(event.id, { admitPerMinute: 6000, ...settings });
  return event.id;
}

/** Only this event's queue is enabled: the admission tick works on every enabled, opened queue. */
async function only(bench: BenchDatabase, eventId: string) {
  await bench.db.query('UPDATE event_queues SET enabled = (event_id = $1)', [eventId]);
}

/** `count` entries in line (positioned, seen now), as if shuffled and joined long ago; nobody served yet. */
async function fillPositioned(bench: BenchDatabase, eventId: string, count: number) {
  await bench.db.query(
    `INSERT INTO queue_entries (event_id, holder_id, joined_at, last_seen_at, position)
     SELECT $1, 'v-' || n, now(), now(), n FROM generate_series(1, $2::bigint) AS n`,
    [eventId, count],
  );
  await bench.db.query(
    `UPDATE event_queues SET shuffled_at = now(), last_position = $2, served_up_to = 0, prequeue_count = 0 WHERE event_id = $1`,
    [eventId, count],
  );
}

/** Joins per second by `joiners` concurrent new visitors for `durationMs`, after a warm-up; every join's latency. */
async function joinRate(room: WaitingRoom, eventId: string, prefix: string, joiners: number, durationMs: number) {
  await closedLoop({ concurrency: joiners, done: (n) => n >= joiners * 2, run: async (i) => void (await room.join(eventId, visitor(`${prefix}-warm-${i}`))) });
  const stopAt = performance.now() + durationMs;
  const tp = await closedLoop({ concurrency: joiners, done: () => performance.now() >= stopAt, run: async (i) => void (await room.join(eventId, visitor(`${prefix}-${i}`))) });
  return { perSecond: tp.samples.length / tp.seconds, p99: percentile(tp.samples.map((s) => s.ms).sort((a, b) => a - b), 99), joins: tp.samples.length + joiners * 2 };
}

/** Every joiner of the event has one entry, positions 1..n without a gap or a repeat, and the queue row agrees. */
async function placedCheck(bench: BenchDatabase, eventId: string, joins: number, side: string): Promise<Check> {
  const { rows } = await bench.db.query<{ n: number; distinct_positions: number; max_position: number; last_position: number }>(
    `SELECT count(*)::integer AS n, count(DISTINCT position)::integer AS distinct_positions, max(position)::integer AS max_position,
            (SELECT last_position::integer FROM event_queues WHERE event_id = $1) AS last_position
     FROM queue_entries WHERE event_id = $1`,
    [eventId],
  );
  const r = rows[0]!;
  return {
    check: `joins (${side}): every joiner has one entry with its own position, no gaps`,
    ok: r.n === joins && r.distinct_positions === r.n && r.max_position === r.n && r.last_position === r.n,
    detail: `${joins} joins: ${r.n} entries, ${r.distinct_positions} distinct positions, max ${r.max_position}, last_position ${r.last_position}`,
  };
}

async function measureJoins(bench: BenchDatabase, room: WaitingRoom, quick: boolean) {
  const durationMs = quick ? 500 : 5_000;
  const opened = { opensAt: new Date(Date.now() - 1000).toISOString() };
  const eventId = await queuedEvent(bench, room, opened);
  await only(bench, eventId);
  const tp = await joinRate(room, eventId, 'j', JOINERS, durationMs);
  const checks = [await placedCheck(bench, eventId, tp.joins, 'group commit')];

  // Baseline: the same function, one transaction per join (each takes the queue row's lock and commits alone).
  const single = new WaitingRoom(bench.db, new QueuePasses(randomBytes(32).toString('hex')), { maxJoinBatch: 1 });
  const singleId = await queuedEvent(bench, room, opened);
  await only(bench, singleId);
  const one = await joinRate(single, singleId, 's', JOINERS, durationMs);
  checks.push(await placedCheck(bench, singleId, one.joins, 'one transaction per join'));

  // And a bare INSERT of the same row per join, on every pool connection: the ceiling of one statement per join.
  const bareId = await queuedEvent(bench, room, opened);
  const stopAt = performance.now() + durationMs;
  const bare = await closedLoop({
    concurrency: POOL,
    done: () => performance.now() >= stopAt,
    run: async (i) =>
      void (await bench.db.query(`INSERT INTO queue_entries (event_id, holder_id, joined_at, last_seen_at, position) VALUES ($1, $2, now(), now(), $3)`, [bareId, `b-${i}`, i + 1])),
  });
  await bench.db.query('DELETE FROM queue_entries WHERE event_id IN ($1, $2, $3)', [eventId, singleId, bareId]);
  await bench.db.query('UPDATE event_queues SET enabled = false WHERE event_id IN ($1, $2, $3)', [eventId, singleId, bareId]);
  return {
    ...tp,
    single: one,
    bare: { perSecond: bare.samples.length / bare.seconds, p99: percentile(bare.samples.map((s) => s.ms).sort((a, b) => a - b), 99) },
    checks,
  };
}

async function measureShuffle(bench: BenchDatabase, room: WaitingRoom, count: number) {
  const eventId = await queuedEvent(bench, room, { opensAt: new Date(Date.now() + 3_600_000).toISOString(), prequeueMinutes: 120, abandonAfterSeconds: 3600 });
  await only(bench, eventId);
  const insertStart = performance.now();
  await bench.db.query(
    `INSERT INTO queue_entries (event_id, holder_id, joined_at, last_seen_at)
     SELECT $1, 'p-' || n, now(), now() FROM generate_series(1, $2::integer) AS n`,
    [eventId, count],
  );
  await bench.db.query('UPDATE event_queues SET prequeue_count = $2 WHERE event_id = $1', [eventId, count]);
  await bench.db.exec('ANALYZE queue_entries');
  const insertMs = performance.now() - insertStart;
  // Opening: now.
  await bench.db.query(`UPDATE event_queues SET opens_at = now() WHERE event_id = $1`, [eventId]);
  const driver = new AdmissionDriver(bench.db, { tickMs: TICK_MS, leaseMs: LEASE_MS }, logger);
  const start = performance.now();
  const tick = await driver.tick();
  const ms = performance.now() - start;
  const { rows } = await bench.db.query<{ n: number; placed: number; distinct_positions: number; max_position: number }>(
    `SELECT count(*)::integer AS n, count(position)::integer AS placed, count(DISTINCT position)::integer AS distinct_positions,
            coalesce(max(position), 0)::integer AS max_position FROM queue_entries WHERE event_id = $1`,
    [eventId],
  );
  const r = rows[0]!;
  await driver.stop();
  await bench.db.query('UPDATE event_queues SET enabled = false WHERE event_id = $1', [eventId]);
  await bench.db.query('DELETE FROM queue_entries WHERE event_id = $1', [eventId]);
  const checks: Check[] = [
    {
      check: `shuffle: every one of ${count} pre-queued entries got a distinct position 1..${count} at the opening tick`,
      ok: tick.leader && r.placed === count && r.distinct_positions === count && r.max_position === count,
      detail: `leader ${tick.leader}; ${r.placed} of ${r.n} placed, ${r.distinct_positions} distinct, max ${r.max_position}`,
    },
  ];
  return { ms, insertMs, checks };
}

async function measureSize(bench: BenchDatabase, room: WaitingRoom, small: number, large: number, rounds: number) {
  const opensAt = new Date(Date.now() - 1000).toISOString();
  const smallId = await queuedEvent(bench, room, { opensAt, admitPerMinute: 6000, abandonAfterSeconds: 3600 });
  const largeId = await queuedEvent(bench, room, { opensAt, admitPerMinute: 6000, abandonAfterSeconds: 3600 });
  const fillStart = performance.now();
  await fillPositioned(bench, smallId, small);
  await fillPositioned(bench, largeId, large);
  await bench.db.exec('VACUUM ANALYZE queue_entries');
  const fillMs = performance.now() - fillStart;
  const driver = new AdmissionDriver(bench.db, { tickMs: TICK_MS, leaseMs: LEASE_MS }, logger);
  const times: Record<string, number[]> = { [smallId]: [], [largeId]: [] };
  const admitted: Record<string, number> = { [smallId]: 0, [largeId]: 0 };
  // Each tick is one driver tick 250 ms of database time after the last (25 visitors at 6,000/min).
  const base = Date.now();
  for (let i = 0; i < rounds + 1; i += 1) {
    for (const id of [smallId, largeId]) {
      await only(bench, id);
      await bench.db.query('UPDATE event_queues SET last_tick_at = $2 WHERE event_id = $1', [id, new Date(base + i * TICK_MS)]);
      const start = performance.now();
      const tick = await driver.tick(new Date(base + (i + 1) * TICK_MS));
      const ms = performance.now() - start;
      if (!tick.leader) throw new Error('the bench driver did not lead the admission tick');
      if (i > 0) times[id]!.push(ms); // the first round warms the plans
      admitted[id] = tick.queues[0]?.admitted ?? admitted[id]!;
    }
  }
  await driver.stop();
  await bench.db.query('UPDATE event_queues SET enabled = false WHERE event_id IN ($1, $2)', [smallId, largeId]);
  const smallMs = median(times[smallId]!);
  const largeMs = median(times[largeId]!);
  const perTick = Math.floor((6000 * TICK_MS) / 60_000);
  const expected = (rounds + 1) * perTick;
  const checks: Check[] = [
    {
      check: 'size: each tick admitted the rate\'s share in both queues',
      ok: admitted[smallId] === expected && admitted[largeId] === expected,
      detail: `admitted ${admitted[smallId]} (1k) and ${admitted[largeId]} (large), expected ${expected}`,
    },
  ];
  await bench.db.query('DELETE FROM queue_entries WHERE event_id IN ($1, $2)', [smallId, largeId]);
  return { smallMs, largeMs, fillMs, checks, smallAll: times[smallId]!, largeAll: times[largeId]! };
}

async function measureAccuracy(bench: BenchDatabase, room: WaitingRoom, windowMs: number, rate: number) {
  const eventId = await queuedEvent(bench, room, { opensAt: new Date(Date.now() + 3_600_000).toISOString(), admitPerMinute: rate, abandonAfterSeconds: 3600 });
  const count = Math.ceil((rate / 60) * (windowMs / 1000) * 2);
  await fillPositioned(bench, eventId, count);
  await only(bench, eventId);
  await bench.db.query('UPDATE event_queues SET opens_at = now(), last_tick_at = NULL WHERE event_id = $1', [eventId]);
  const ticksAt: number[] = [];
  const driver = new AdmissionDriver(bench.db, { tickMs: TICK_MS, leaseMs: LEASE_MS }, logger, () => ticksAt.push(performance.now()));
  const started = performance.now();
  driver.start();
  await sleep(windowMs);
  await driver.stop();
  const wallS = (performance.now() - started) / 1000;
  const { rows } = await bench.db.query<{ admitted: number; span: number; ticks: number }>(
    `SELECT coalesce(sum(a.admitted), 0)::integer AS admitted, count(*)::integer AS ticks,
            extract(epoch FROM q.last_tick_at - q.opens_at)::double precision AS span
     FROM event_queues q LEFT JOIN queue_admissions a ON a.event_id = q.event_id WHERE q.event_id = $1
     GROUP BY q.last_tick_at, q.opens_at`,
    [eventId],
  );
  const r = rows[0]!;
  await bench.db.query('UPDATE event_queues SET enabled = false WHERE event_id = $1', [eventId]);
  const expected = (rate / 60) * r.span;
  const deviationPct = ((r.admitted - expected) / expected) * 100;
  const wallExpected = (rate / 60) * wallS;
  const wallDeviationPct = ((r.admitted - wallExpected) / wallExpected) * 100;
  const gaps = ticksAt.slice(1).map((t, i) => t - ticksAt[i]!);
  const checks: Check[] = [
    {
      check: 'accuracy: the driver admitted, and never more than the rate allows',
      ok: r.admitted > 0 && r.admitted <= Math.ceil(expected),
      detail: `${r.admitted} admitted over ${round(r.span, 2)} s at ${rate}/min (allowed ${round(expected, 1)})`,
    },
  ];
  return { admitted: r.admitted, spanS: r.span, expected, deviationPct, wallS, wallDeviationPct, ticks: ticksAt.length, maxGapMs: gaps.length ? Math.max(...gaps) : 0, checks };
}

export const queue: Scenario = {
  name: 'queue',
  title: 'Waiting room at scale',
  needsWrk: true,
  async run(ctx) {
    const quick = ctx.quick;
    const loadBefore = loadavg()[0]!;
    const bench = await ctx.freshDatabase({ maxConnections: POOL + 4 });
    const joinBatches: number[] = [];
    const room = new WaitingRoom(bench.db, new QueuePasses(randomBytes(32).toString('hex')), { onJoinBatch: (size) => joinBatches.push(size) });
    const prequeued = quick ? 2_000 : 100_000;
    const small = 1_000;
    const large = quick ? 20_000 : 1_000_000;
    const rounds = quick ? 3 : 15;
    const windowMs = quick ? 1_500 : 15_000;
    const rate = 6_000;

    ctx.progress(`joins: ${JOINERS} concurrent joiners`);
    const joins = await measureJoins(bench, room, quick);
    const meanJoinBatch = joinBatches.reduce((a, b) => a + b, 0) / Math.max(1, joinBatches.length);
    ctx.progress(`joins: ${fmt(joins.perSecond)}/s (one transaction per join ${fmt(joins.single.perSecond)}/s, bare INSERT ${fmt(joins.bare.perSecond)}/s)`);
    const httpSeconds = quick ? 1 : 5;
    ctx.progress(`http joins: wrk, ${HTTP_THREADS} threads, ${HTTP_CONNECTIONS} connections`);
    const httpEventId = await queuedEvent(bench, room, { opensAt: new Date(Date.now() - 1000).toISOString() });
    await only(bench, httpEventId);
    const http = await measureHttpJoins(ctx, bench, httpEventId, {
      threads: HTTP_THREADS,
      connections: HTTP_CONNECTIONS,
      seconds: httpSeconds,
      warmSeconds: 1,
      tokensPerSecond: HTTP_TOKENS_PER_SECOND,
    });
    await bench.db.query('DELETE FROM queue_entries WHERE event_id = $1', [httpEventId]);
    await bench.db.query('UPDATE event_queues SET enabled = false WHERE event_id = $1', [httpEventId]);
    ctx.progress(`http joins: ${fmt(http.joins.perSecond)}/s (bare route ${fmt(http.bare.perSecond)}/s)`);
    ctx.progress(`shuffle: ${fmt(prequeued)} pre-queued`);
    const shuffle = await measureShuffle(bench, room, prequeued);
    ctx.progress(`shuffle: opening tick ${round(shuffle.ms)} ms`);
    ctx.progress(`size: ${fmt(small)} vs ${fmt(large)} entries`);
    const size = await measureSize(bench, room, small, large, rounds);
    ctx.progress(`size: median tick ${round(size.smallMs, 2)} ms vs ${round(size.largeMs, 2)} ms`);
    ctx.progress(`accuracy: ${windowMs / 1000} s at ${rate}/min`);
    const acc = await measureAccuracy(bench, room, windowMs, rate);
    ctx.progress(`accuracy: ${acc.admitted} admitted vs ${round(acc.expected, 1)} (${round(acc.deviationPct, 2)}%)`);
    const viewers = await measureQueueViewers(ctx);

    const sizeRatio = size.largeMs / size.smallMs;
    // One statement per join batch (queue_join_batch), and a few of the gateway's ticks: joins per statement is a floor on the mean batch.
    const joinsPerBatch = 1 / Math.max(1e-9, http.joins.statementsPerRequest);
    const batchesPerSecond = http.joins.perSecond / joinsPerBatch;
    const loadAfter = loadavg()[0]!;
    const goals: Goal[] = quick
      ? []
      : [
          goal(
            `at least ${fmt(JOIN_GOAL_PER_S)} joins/s into one event's queue, in-process`,
            `${fmt(joins.perSecond)} joins/s (${fmt(JOINERS)} concurrent joiners, p99 ${round(joins.p99)} ms; one transaction per join: ${fmt(joins.single.perSecond)}/s; a bare INSERT of the same row on ${POOL} connections: ${fmt(joins.bare.perSecond)}/s)`,
            joins.perSecond >= JOIN_GOAL_PER_S,
            `PostgreSQL, and what the machine leaves it (1-minute load average ${round(loadBefore, 1)} at the start, on 2 cores): a batch (${round(meanJoinBatch, 0)} joins on average here) holds the event's queue row lock until it commits, so one event's batches run one after another, on one core. ` +
              'Each step of queue_join_batch() timed on this machine (clock_timestamp() between steps, batches of 256 new visitors): about 6.5 ms a batch when the machine is quiet, 25 us a join, down from 13 ms: the INSERT of the new entries (a heap row and two index entries each) 1.9 ms, the answer 1.9 ms, reading the holders\' entries (none here) 1 ms, drawing the entry ids (gen_random_uuid) 0.6 ms, the rest under 1 ms; then the commit. ' +
              'Gone since the last run: the foreign key\'s check of every new entry against events (2 ms a batch), queue_entry_json() for every new entry (3 ms: new entries go back as four numbers), a visibility check per join (1.5 ms: once per batch for a public event), the requests as JSON (arrays now). ' +
              'This process spends about 17 us per join (node --cpu-prof: mostly idle, waiting on the database)',
          ),
          goal(
            `at least ${fmt(HTTP_JOIN_GOAL_PER_S)} joins/s over HTTP from separate processes`,
            `${fmt(http.joins.perSecond)} joins/s (wrk, ${HTTP_CONNECTIONS} connections, p99 ${round(http.joins.p99)} ms; GET /healthz on the same connections: ${fmt(http.bare.perSecond)}/s)`,
            http.joins.perSecond >= HTTP_JOIN_GOAL_PER_S,
            `what the machine leaves it (1-minute load average ${round(loadBefore, 1)} at the start, on 2 cores shared with wrk, PostgreSQL and other work): the gateway spent ${round(http.joins.cpuUsPerRequest)} us of CPU per join and ${round(http.bare.cpuUsPerRequest)} us per GET /healthz here, so it was busy ${round((http.joins.perSecond * http.joins.cpuUsPerRequest) / 10_000)}% of one core during the joins and waited the rest, mostly on PostgreSQL. ` +
              `It sent ${round(http.joins.statementsPerRequest, 3)} statements to PostgreSQL per join (one per join batch, plus its own ticks): at least ${fmt(joinsPerBatch)} joins a batch, at most ${fmt(batchesPerSecond)} batches a second, one every ${fmt(1000 / batchesPerSecond)} ms or more (at most two in flight, decided one after the other on the event's queue row lock), where the in-process batches above take about 6.5 ms each on a quiet machine: each batch's backend waits for a core among the machine's other work. ` +
              'The load generators were two Node processes until this round (node:http clients: an HTTP stack in JavaScript per request, on the same 2 cores); now wrk, written in C, in one process. ' +
              'The gateway\'s CPU profile (BENCH_CPU_PROFILE_DIR, node --cpu-prof) over the measured joins, on a machine at load average 9: idle 18% of the time (waiting for a core, or for PostgreSQL\'s batches); of the busy time, the socket write of the answers 22% (writev, which on loopback also runs the receiving side\'s TCP in the kernel), verifying the token 12% (every join is a new visitor with a new token, so the cache of verified tokens never hits: one HMAC-SHA-256 and two JSON parses each), Fastify\'s own request and reply handling 10%, Node\'s HTTP parsing 9%, the database client 11% (its socket writes 8%), the response checked against its zod schema and serialized 6%, GC 6%, the rate limit\'s hook 3% (the per-address join limit, kept), the waiting room\'s own code 2%, logging and security headers 1% each. No single piece is left whose removal reaches the goal on this machine. ' +
              'The gateway logs at warn here; at info (the CLI\'s default) a request was two log lines, about 52 us of CPU per request more than at warn (Fastify inject, lines to /dev/null, best of 12 rounds), and is now one line once answered, about 31 us. ' +
              `The bare route skips the token, the join and the database: ${fmt(http.bare.perSecond)}/s on the same machine at the same time`,
          ),
          goal(
            `${fmt(prequeued)} pre-queued visitors get positions within ${SHUFFLE_GOAL_MS / 1000} s`,
            `${round(shuffle.ms / 1000, 2)} s (the opening admission tick, shuffle included)`,
            shuffle.ms <= SHUFFLE_GOAL_MS,
            'the write: EXPLAIN (ANALYZE, BUFFERS, WAL) of queue_shuffle()\'s statement: the UPDATE of 100,000 rows is about three quarters of it, each row a new version (position is indexed, so no HOT update) with an entry in both indexes, ~11 buffer accesses and 4 WAL records per row; drawing the 100,000 random keys (gen_random_uuid, pg_strong_random) and sorting them in memory is the rest. The entry id\'s own index (a quarter of the write) is gone (migration 0005): the statement\'s backend CPU time, old and new schema side by side on this machine, 1.7-2.5 s before and 1.5-1.9 s after',
          ),
          goal(
            `one admission tick costs the same with ${fmt(small)} and ${fmt(large)} entries (ratio at most ${SIZE_GOAL_RATIO})`,
            `median ${round(size.smallMs, 2)} ms vs ${round(size.largeMs, 2)} ms: ratio ${round(sizeRatio, 2)}`,
            sizeRatio <= SIZE_GOAL_RATIO,
            'the tick reads the entries from served_up_to on by index (position), so its cost should not depend on the queue\'s size; the difference is cache and index depth',
          ),
          goal(
            `admissions within ${ACCURACY_GOAL_PCT}% of the configured rate`,
            `${acc.admitted} admitted in ${round(acc.spanS, 2)} s of ticks at ${fmt(rate)}/min (expected ${round(acc.expected, 1)}): ${round(acc.deviationPct, 2)}%; over the wall-clock window ${round(acc.wallS, 2)} s: ${round(acc.wallDeviationPct, 2)}%`,
            Math.abs(acc.deviationPct) <= ACCURACY_GOAL_PCT,
            'the fraction of a visitor carried between ticks and the time since the last tick',
          ),
        ];

    return {
      config: {
        concurrentJoiners: JOINERS,
        meanJoinBatch: Math.round(meanJoinBatch),
        httpWrkThreads: HTTP_THREADS,
        httpConnections: HTTP_CONNECTIONS,
        joinSeconds: quick ? 0.5 : 5,
        prequeued,
        sizes: [small, large],
        ticksPerSize: rounds,
        admitPerMinute: rate,
        tickMs: TICK_MS,
        accuracyWindowSeconds: windowMs / 1000,
        fanOut: viewers.config,
      },
      table: {
        columns: ['measure', 'TicketPulse', 'baseline', 'goal'],
        rows: [
          ['joins/s, one event (baseline: one transaction per join)', Math.round(joins.perSecond), Math.round(joins.single.perSecond), `>= ${JOIN_GOAL_PER_S}`],
          ['join p99 ms (baseline: one transaction per join)', round(joins.p99, 1), round(joins.single.p99, 1), '-'],
          [`bare INSERT per join on ${POOL} connections: joins/s (p99 ms)`, '-', `${Math.round(joins.bare.perSecond)} (${round(joins.bare.p99, 1)})`, '-'],
          ['HTTP joins/s from separate processes (baseline: GET /healthz/s)', Math.round(http.joins.perSecond), Math.round(http.bare.perSecond), `>= ${HTTP_JOIN_GOAL_PER_S}`],
          ['HTTP join p99 ms (baseline: GET /healthz)', round(http.joins.p99, 1), round(http.bare.p99, 1), '-'],
          ['gateway CPU µs per HTTP join (baseline: per GET /healthz)', round(http.joins.cpuUsPerRequest, 0), round(http.bare.cpuUsPerRequest, 0), '-'],
          [`opening tick with ${prequeued} pre-queued, ms`, round(shuffle.ms, 0), '-', `<= ${SHUFFLE_GOAL_MS}`],
          [`admission tick, median ms (${large} entries; baseline: ${small})`, round(size.largeMs, 2), round(size.smallMs, 2), `ratio <= ${SIZE_GOAL_RATIO}`],
          [`admitted in ${round(acc.spanS, 2)} s at ${rate}/min (baseline: the rate)`, acc.admitted, round(acc.expected, 1), `within ${ACCURACY_GOAL_PCT}%`],
          ...viewers.rows,
        ],
      },
      ratios: [
        { name: 'joins/s, WaitingRoom.join (group commit) / one transaction per join', value: joins.perSecond / joins.single.perSecond },
        { name: 'joins/s, WaitingRoom.join (group commit) / bare INSERT per join', value: joins.perSecond / joins.bare.perSecond },
        { name: 'HTTP joins/s / GET /healthz requests/s, same gateway and load generators', value: http.joins.perSecond / http.bare.perSecond },
        { name: `admission tick median, ${fmt(large)} / ${fmt(small)} entries`, value: sizeRatio },
        { name: 'admitted / configured rate x ticked time', value: acc.admitted / acc.expected },
        ...viewers.ratios,
      ],
      goals: [...goals, ...viewers.goals],
      checks: [...joins.checks, ...http.checks, ...shuffle.checks, ...size.checks, ...acc.checks, ...viewers.checks],
      notes: [
        `This machine's load average (1 minute) was ${round(loadBefore, 1)} when the scenario started and ${round(loadAfter, 1)} when it ended, on ${availableParallelism()} CPUs: the figures are what other work left of them.`,
        `Joins: ${fmt(JOINERS)} concurrent joiners call WaitingRoom.join (as POST /api/events/:idOrSlug/queue/entries does) into one opened queue for ${quick ? 0.5 : 5} s after a warm-up, each a new visitor; ${fmt(joins.joins)} joins. Concurrent joins of one event are decided together (group commit, queue_join_batch). Baselines: the same WaitingRoom deciding one join per transaction (maxJoinBatch 1), same joiners; and a bare INSERT of the same row per join on each of the ${POOL} pool connections.`,
        `HTTP joins: the gateway (the product's service, as \`ticketpulse start\` runs it) in its own process, with TICKETPULSE_HTTP_QUEUE_JOINS_PER_MINUTE raised (every joiner comes from 127.0.0.1); \`wrk\` in its own process (${HTTP_THREADS} threads, ${HTTP_CONNECTIONS} keep-alive connections, one request in flight on each; bench/workers/queue-joins.lua) sending POST /api/events/:id/queue/entries for ${httpSeconds} s after a 1 s warm-up, each with a token of its own (a distinct \`sub\`, minted beforehand into a file). wrk stops at its deadline without reading the answers in flight: those joins are in the database, unanswered, and not counted. Baseline: GET /healthz from the same wrk, the gateway's HTTP ceiling on this machine. CPU per request: the gateway's CPU time (process.cpuUsage) over each run / requests answered; it grows with the machine's load too (cache and scheduler), less than throughput falls.`,
        `Shuffle: ${fmt(prequeued)} pre-queue entries bulk-inserted with SQL (${round(shuffle.insertMs)} ms), opensAt set to now, then one AdmissionDriver tick timed: it shuffles and admits the first tick.`,
        `Size: ${fmt(small)} and ${fmt(large)} positioned entries bulk-inserted (${round(size.fillMs)} ms); ${rounds} AdmissionDriver ticks each, 250 ms of database time apart (25 visitors each at 6,000/min), the two queues interleaved, only one enabled at a time; medians. All ticks (ms): ${fmt(small)}: ${size.smallAll.map((t) => round(t, 2)).join(', ')}; ${fmt(large)}: ${size.largeAll.map((t) => round(t, 2)).join(', ')}.`,
        `Accuracy: the real AdmissionDriver on its ${TICK_MS} ms timer for ${windowMs / 1000} s (${acc.ticks} ticks, largest gap ${round(acc.maxGapMs)} ms); admitted compared with the rate times the ticked span (opensAt to the last tick, database clock). The wall-clock figure also counts the time after the last tick.`,
        ...viewers.notes,
      ],
    };
  },
};
