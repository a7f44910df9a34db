/**
 * Holds over HTTP (issue 17, "The HTTP hold path"): an on-sale's hot ticket
 * type, measured from outside as the shop's buyers reach it.
 *
 * - TicketPulse: the product's service in its own process
 *   (bench/workers/gateway.ts, wired as `ticketpulse start` wires it), and
 *   `wrk` in its own (bench/workers/hold-requests.lua): 64 keep-alive
 *   connections, each request the shop's hold (POST
 *   /api/events/:id/reservations, one seat, a buyer's bearer token, an
 *   Idempotency-Key of its own), one ticket type.
 * - Baseline, same run, same database: `pgbench` with a raw-SQL hold, one
 *   per transaction with a row lock on the same kind of ticket type
 *   (bench/baselines/row-lock-hold.pgbench), the least a straightforward
 *   implementation could cost before any HTTP.
 *
 * Rounds alternate between the two sides (a warm-up of each first, where
 * pgbench also finds its best client count), so that the machine's other load
 * falls on both. The service's CPU per hold, and its PostgreSQL backends' (read
 * from /proc), are measured in the HTTP rounds. Then a sell-out race over HTTP
 * on a small type: never more seats held than exist, and every 201 is a seat
 * held; verify_ticket_counts() is empty at the end.
 *
 * BENCH_CPU_PROFILE_DIR=<dir> has the service write a CPU profile (the
 * PROFILE text below comes from one). Needs `wrk` and `pgbench` (BENCH_WRK,
 * BENCH_PGBENCH to point elsewhere).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TokenVerifier } from '../../packages/server/src/auth/token-verifier.ts';
import { Catalog } from '../../packages/server/src/inventory/catalog.ts';
import { goal } from '../harness/goal.ts';
import { createHotType, heldSeats, type HotType } from '../harness/hot-type.ts';
import type { BenchContext, BenchDatabase, Check, Scenario } from '../harness/scenario.ts';
import { benchJwtSecret, startGateway, startService, UNLIMITED_CLIENTS } from '../harness/server-process.ts';
import { cpuMsOf } from '../harness/proc-stat.ts';
import { percentile, round } from '../harness/stats.ts';
import { run, transportErrors, wrk, type WrkRun } from '../harness/wrk.ts';

const PGBENCH = process.env.BENCH_PGBENCH ?? 'pgbench';
const HOLD_REQUESTS = fileURLToPath(new URL('../workers/hold-requests.lua', import.meta.url));
const ROW_LOCK_HOLD = fileURLToPath(new URL('../baselines/row-lock-hold.pgbench', import.meta.url));

const CONNECTIONS = 64;
const WRK_THREADS = 2;
// pgbench clients: the row lock lets one hold through at a time, and a long queue of waiters on it costs more than it
// brings (on this machine: about 300 tps with 1 client, 12 with 32). The warm-up tries these and the rounds run the best.
const PGBENCH_CLIENT_COUNTS = [1, 2, 4, 8];
const QUICK_PGBENCH_CLIENTS = 4;
// Buyers: one token each; the requests of a wrk thread take turns among its share.
const BUYERS = CONNECTIONS;
const GOAL_RATIO = 6;
const GOAL_P99_MS = 50;
// Measured rounds of each side, after a warm-up of each; then the sell-out race over HTTP.
const FULL = { rounds: 3, roundSeconds: 8, warmSeconds: 3, raceCapacity: 3_000, raceSeconds: 3 };
const QUICK = { rounds: 1, roundSeconds: 2, warmSeconds: 1, raceCapacity: 300, raceSeconds: 1 };
// wrk runs at most, until the race's type is sold out.
const RACE_RUNS = 5;
// `start --workers 1` against `--workers 2`, both running, rounds alternating (issue 17 §4: how holds/s scale on this machine).
const WORKER_ROUNDS = { full: { rounds: 2, seconds: 6 }, quick: { rounds: 1, seconds: 1 } };

interface Side {
  holds: number;
  seconds: number;
  p50: number;
  p99: number;
}

/** `wrk` holding one seat a request on `target` for `seconds`: what it was answered. */
function wrkHolds(url: string, tokensFile: string, target: HotType, label: string, seconds: number): Promise<WrkRun> {
  return wrk(HOLD_REQUESTS, url, {
    threads: WRK_THREADS,
    connections: CONNECTIONS,
    seconds,
    args: [tokensFile, target.eventId, target.ticketTypeId, label, String(WRK_THREADS)],
  });
}

function wrkSide(r: WrkRun): Side {
  return { holds: r.statuses['201'] ?? 0, seconds: r.durationUs / 1e6, p50: r.p50Us / 1000, p99: r.p99Us / 1000 };
}

/**
 * Holds/s over HTTP from the real CLI with 1 and with 2 worker processes
 * (bench/harness/server-process.ts startService), both started first so
 * that each round finds the other idle, rounds alternating on the same type.
 */
async function workerScaling(ctx: BenchContext, bench: BenchDatabase, target: HotType, tokensFile: string, jwtSecret: string, label: string) {
  const { rounds, seconds } = ctx.quick ? WORKER_ROUNDS.quick : WORKER_ROUNDS.full;
  const services = [await startService(ctx, bench, { workers: 1, jwtSecret, env: UNLIMITED_CLIENTS }), await startService(ctx, bench, { workers: 2, jwtSecret, env: UNLIMITED_CLIENTS })];
  const sides: Side[][] = [[], []];
  const runs: WrkRun[] = [];
  try {
    for (let r = 0; r <= rounds && !ctx.signal.aborted; r++) {
      for (const [i, service] of services.entries()) {
        const w = await wrkHolds(service.url, tokensFile, target, `w${i + 1}r${r}-${label}`, r === 0 ? 1 : seconds);
        runs.push(w);
        // Round 0 warms each service up (its pool, its plans).
        if (r > 0) sides[i]!.push(wrkSide(w));
      }
      if (r > 0) ctx.progress(`workers round ${r}/${rounds}: 1 worker ${Math.round(sides[0]!.at(-1)!.holds / sides[0]!.at(-1)!.seconds)} holds/s, 2 workers ${Math.round(sides[1]!.at(-1)!.holds / sides[1]!.at(-1)!.seconds)} holds/s`);
    }
  } finally {
    for (const service of services) await service.stop();
  }
  return { one: total(sides[0]!), two: total(sides[1]!), runs };
}

/** `pgbench` holding one seat per transaction on `target` for `seconds`; latencies from its per-transaction log. */
async function pgbenchHolds(bench: BenchDatabase, target: HotType, label: string, seconds: number, clients: number): Promise<Side> {
  const dir = await mkdtemp(join(tmpdir(), 'http-holds-pgbench-'));
  try {
    const out = await run(
      PGBENCH,
      ['-n', '-M', 'prepared', '-c', String(clients), '-j', String(Math.min(2, clients)), '-T', String(seconds), '-f', ROW_LOCK_HOLD,
        '-D', `ev=${target.eventId}`, '-D', `tt=${target.ticketTypeId}`, '-D', `prefix=${label}-`,
        '--log', `--log-prefix=${join(dir, 'tx')}`, bench.url],
      { env: { PGOPTIONS: bench.options }, timeoutMs: (seconds + 60) * 1000 },
    );
    const failed = /number of failed transactions: (\d+)/.exec(out);
    if (failed && Number(failed[1]) > 0) throw new Error(`pgbench: ${failed[1]} failed transactions\n${out}`);
    // Per transaction: client, transaction no., latency µs, script, epoch s, µs.
    const latencies: number[] = [];
    let first = Infinity;
    let last = 0;
    for (const file of await readdir(dir)) {
      for (const line of (await readFile(join(dir, file), 'utf8')).split('\n')) {
        const f = line.split(' ');
        if (f.length < 6) continue;
        const us = Number(f[2]);
        const end = Number(f[4]) * 1e6 + Number(f[5]);
        latencies.push(us / 1000);
        first = Math.min(first, end - us);
        last = Math.max(last, end);
      }
    }
    latencies.sort((a, b) => a - b);
    return { holds: latencies.length, seconds: (last - first) / 1e6, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * CPU time (ms) of this database's PostgreSQL backends by pid: the gateway's pool or pgbench's clients, told apart
 * by application_name. Read from /proc (PostgreSQL runs on this machine), before and after a round.
 */
async function backendCpu(bench: BenchDatabase, pgbench: boolean): Promise<Map<number, number>> {
  const { rows } = await bench.db.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND (application_name = 'pgbench') = $1`,
    [pgbench],
  );
  const cpu = new Map<number, number>();
  for (const { pid } of rows) {
    try {
      cpu.set(pid, cpuMsOf(pid));
    } catch {
      // Gone meanwhile.
    }
  }
  return cpu;
}

/** CPU ms spent between two readings by the backends in both (one that came or went in between is missed: pools stay open). */
const cpuSpent = (before: Map<number, number>, after: Map<number, number>) =>
  [...after].reduce((sum, [pid, ms]) => sum + (before.has(pid) ? ms - before.get(pid)! : 0), 0);

const total = (sides: Side[]): Side => {
  const holds = sides.reduce((a, s) => a + s.holds, 0);
  const seconds = sides.reduce((a, s) => a + s.seconds, 0);
  // Rounds are equally long: the worst round's p99 stands for all (no round hides behind another).
  return { holds, seconds, p50: Math.max(...sides.map((s) => s.p50)), p99: Math.max(...sides.map((s) => s.p99)) };
};

const statusText = (runs: WrkRun[]) => {
  const all: Record<string, number> = {};
  for (const r of runs) for (const [s, n] of Object.entries(r.statuses)) all[s] = (all[s] ?? 0) + n;
  return JSON.stringify(all);
};

export const httpHolds: Scenario = {
  name: 'http-holds',
  title: 'Holds over HTTP',
  needsWrk: true,
  async run(ctx: BenchContext) {
    const { rounds, roundSeconds, warmSeconds, raceCapacity, raceSeconds } = ctx.quick ? QUICK : FULL;
    const bench = await ctx.freshDatabase({ maxConnections: 4 });
    const catalog = new Catalog(bench.db);
    const run = randomBytes(3).toString('hex');
    const http = await createHotType(catalog, `http-hot-${run}`, 100_000_000);
    const baseline = await createHotType(catalog, `pgbench-hot-${run}`, 100_000_000);

    const jwtSecret = benchJwtSecret();
    const signer = new TokenVerifier(jwtSecret);
    const dir = await mkdtemp(join(tmpdir(), 'http-holds-'));
    ctx.onCleanup(() => rm(dir, { recursive: true, force: true }));
    const tokensFile = join(dir, 'tokens');
    const tokens = await Promise.all(Array.from({ length: BUYERS }, (_, i) => signer.sign({ userId: `buyer-${run}-${i}`, role: 'anon' }, 3600)));
    await writeFile(tokensFile, tokens.map((t) => t.token).join('\n'));

    const gateway = await startGateway(ctx, bench, { jwtSecret, env: UNLIMITED_CLIENTS });
    const loadBefore = loadavg()[0]!;
    const wrkRuns: WrkRun[] = [];
    const httpRounds: Side[] = [];
    const pgRounds: Side[] = [];
    let pgHolds = 0;
    let pgClients = QUICK_PGBENCH_CLIENTS;
    let cpuMs = 0;
    let pgCpuMs = 0;
    let served = 0;
    let httpSeconds = 0;

    // Round 0 is a warm-up of each side (connections, plans, JIT); then ANALYZE, as plans on filled tables are what a sale runs on.
    for (let r = 0; r <= rounds && !ctx.signal.aborted; r++) {
      const seconds = r === 0 ? warmSeconds : roundSeconds;
      let pg: Side;
      if (r === 0 && !ctx.quick) {
        const tried: Array<[clients: number, side: Side]> = [];
        for (const clients of PGBENCH_CLIENT_COUNTS) tried.push([clients, await pgbenchHolds(bench, baseline, `pg0c${clients}`, 1, clients)]);
        for (const [, side] of tried) pgHolds += side.holds;
        [pgClients, pg] = tried.reduce((best, t) => (t[1].holds / t[1].seconds > best[1].holds / best[1].seconds ? t : best));
        ctx.progress(`pgbench clients: ${tried.map(([c, side]) => `${c}: ${Math.round(side.holds / side.seconds)} holds/s`).join(', ')}; the rounds use ${pgClients}`);
      } else {
        pg = await pgbenchHolds(bench, baseline, `pg${r}`, seconds, pgClients);
        pgHolds += pg.holds;
      }
      const before = await gateway.sample();
      const backendsBefore = await backendCpu(bench, false);
      const w = await wrkHolds(gateway.url, tokensFile, http, `r${r}-${run}`, seconds);
      const after = await gateway.sample();
      const backendsAfter = await backendCpu(bench, false);
      wrkRuns.push(w);
      const side = wrkSide(w);
      ctx.progress(
        `${r === 0 ? 'warm-up' : `round ${r}/${rounds}`}: HTTP ${Math.round(side.holds / side.seconds)} holds/s (p50 ${round(side.p50, 1)} ms, p99 ${round(side.p99, 1)} ms), ` +
          `pgbench ${Math.round(pg.holds / pg.seconds)} holds/s (p99 ${round(pg.p99, 1)} ms), load ${round(loadavg()[0]!, 1)}`,
      );
      if (r === 0) {
        await bench.db.exec('ANALYZE');
        continue;
      }
      httpRounds.push(side);
      pgRounds.push(pg);
      cpuMs += after.cpuMs - before.cpuMs;
      pgCpuMs += cpuSpent(backendsBefore, backendsAfter);
      httpSeconds += side.seconds;
      served += after.httpRequests - before.httpRequests;
    }
    const loadAfter = loadavg()[0]!;

    // The sell-out race over HTTP: more demand than seats.
    const race = await createHotType(catalog, `http-race-${run}`, raceCapacity);
    // Until a seat is refused (bounded): on a loaded machine one run may not sell it out.
    const raceRuns: WrkRun[] = [];
    for (let i = 0; i < RACE_RUNS && !raceRuns.some((w) => (w.statuses['409'] ?? 0) > 0); i++) {
      raceRuns.push(await wrkHolds(gateway.url, tokensFile, race, `race${i}-${run}`, raceSeconds));
    }
    await gateway.stop();
    const scaling = await workerScaling(ctx, bench, http, tokensFile, jwtSecret, run);
    const scalingRatio = scaling.two.holds / scaling.two.seconds / (scaling.one.holds / scaling.one.seconds);

    const tp = total(httpRounds);
    const pg = total(pgRounds);
    const tpPerS = tp.holds / tp.seconds;
    const pgPerS = pg.holds / pg.seconds;
    const ratio = tpPerS / pgPerS;

    const accepted = [...wrkRuns, ...scaling.runs].reduce((a, w) => a + (w.statuses['201'] ?? 0), 0);
    const held = await heldSeats(bench.db, http.ticketTypeId);
    const raced = await heldSeats(bench.db, race.ticketTypeId);
    const baselineHeld = await heldSeats(bench.db, baseline.ticketTypeId);
    const raceAccepted = raceRuns.reduce((a, w) => a + (w.statuses['201'] ?? 0), 0);
    const unexpected = (runs: WrkRun[], allowed: string[]) => runs.some((w) => Object.keys(w.statuses).some((s) => !allowed.includes(s)) || transportErrors(w) > 0);
    const mismatches = (await bench.db.query('SELECT * FROM verify_ticket_counts()')).rows;
    const checks: Check[] = [
      {
        check: 'http: every hold answered 201, no transport errors',
        ok: !unexpected([...wrkRuns, ...scaling.runs], ['201']),
        detail: `answers ${statusText([...wrkRuns, ...scaling.runs])}; errors ${JSON.stringify([...wrkRuns, ...scaling.runs].map((w) => w.errors))}`,
      },
      {
        check: 'http: every accepted hold is in the database, one seat each (beyond them, at most the requests in flight when wrk stopped)',
        ok: held.tickets === held.reservations && held.counted === held.tickets && accepted <= held.tickets && held.tickets - accepted <= CONNECTIONS * (wrkRuns.length + scaling.runs.length),
        detail: `${accepted} answered 201, ${held.reservations} reservations with ${held.tickets} seats held, counters say ${held.counted}`,
      },
      {
        check: 'http: zero oversell in a sell-out race (sold out exactly; the rest refused with 409)',
        ok: raced.tickets === raced.capacity && raceAccepted <= raced.tickets && raced.counted === raced.tickets && !unexpected(raceRuns, ['201', '409']),
        detail: `capacity ${raced.capacity}, ${raceAccepted} answered 201, seats held ${raced.tickets}, counters say ${raced.counted}; answers ${statusText(raceRuns)} in ${raceRuns.length} wrk run(s)`,
      },
      {
        check: 'pgbench: every committed hold is in the database',
        ok: baselineHeld.tickets === pgHolds && baselineHeld.counted === pgHolds,
        detail: `${pgHolds} transactions, ${baselineHeld.tickets} seats held, counters say ${baselineHeld.counted}`,
      },
      { check: 'verify_ticket_counts() is empty', ok: mismatches.length === 0, detail: `${mismatches.length} mismatching counters` },
    ];

    const cpuUsPerHold = (cpuMs * 1000) / Math.max(1, served);
    const pgCpuUsPerHold = (pgCpuMs * 1000) / Math.max(1, served);
    const serviceBusy = cpuMs / (httpSeconds * 1000);
    const limitedBy =
      `measured in this run: the service spent ${Math.round(cpuUsPerHold)} µs of CPU per hold and was busy ${Math.round(100 * serviceBusy)}% of one core ` +
      `(its event loop waited on PostgreSQL the rest), the gateway's PostgreSQL backends ${Math.round(pgCpuUsPerHold)} µs per hold, ` +
      `on 2 cores shared with wrk and a 1-minute load average of ${round(loadBefore, 1)}-${round(loadAfter, 1)}. ${PROFILE}`;
    return {
      config: {
        connections: CONNECTIONS,
        wrkThreads: WRK_THREADS,
        buyers: BUYERS,
        seatsPerHold: 1,
        pgbenchClients: pgClients,
        measuredRounds: rounds,
        roundSeconds,
        warmupSeconds: warmSeconds,
        raceCapacity,
        loadAverage1m: `${round(loadBefore, 1)} before, ${round(loadAfter, 1)} after`,
      },
      table: {
        columns: ['system', 'holds/s', 'p50 ms', 'p99 ms', 'holds', 'service CPU µs/hold', 'its PostgreSQL CPU µs/hold'],
        rows: [
          ['TicketPulse over HTTP (wrk, 64 connections)', Math.round(tpPerS), round(tp.p50, 2), round(tp.p99, 2), tp.holds, Math.round(cpuUsPerHold), Math.round(pgCpuUsPerHold)],
          [`baseline: pgbench, row lock, one hold per transaction (clients: ${pgClients})`, Math.round(pgPerS), round(pg.p50, 2), round(pg.p99, 2), pg.holds, '-', '-'],
          ...[scaling.one, scaling.two].map((side, i) => [
            `ticketpulse start --workers ${i + 1} (the CLI, alternating rounds)`,
            Math.round(side.holds / side.seconds), round(side.p50, 2), round(side.p99, 2), side.holds, '-', '-',
          ]),
        ],
      },
      ratios: [
        { name: 'holds/s, TicketPulse over HTTP / pgbench baseline', value: ratio },
        { name: 'holds/s, start --workers 2 / --workers 1', value: scalingRatio },
      ],
      goals: [
        goal(`at least ${GOAL_RATIO}x the pgbench baseline`, `${round(ratio, 1)}x`, ratio >= GOAL_RATIO, limitedBy),
        goal(`p99 at most ${GOAL_P99_MS} ms`, `${round(tp.p99, 1)} ms`, tp.p99 <= GOAL_P99_MS, limitedBy),
      ],
      checks,
      notes: [
        'wrk, the service and PostgreSQL are three processes on the same 2 cores; pgbench runs alone against PostgreSQL in its rounds. ' +
          'p50 and p99 are the worst round\'s (wrk: per request, send to last byte; pgbench: per transaction, from its log).',
        'Workers: `start --workers 1` and `--workers 2` run side by side (the idle one costs next to nothing) and take turns under the same wrk load on the same type. ' +
          'On 2 cores shared with wrk and PostgreSQL a second worker has little CPU to win, and on one hot type it loses: each worker group-commits its own holds, ' +
          'so two workers send two half-size batches that queue on the same ticket type\'s row locks, one after the other, each paying a batch\'s fixed cost. ' +
          'Workers add HTTP and WebSocket capacity (see workers-scaling and connections), not one ticket type\'s hold capacity.',
        'wrk stops at its deadline without reading the answers in flight (at most one per connection): those holds are in the database, unanswered, and not counted.',
        'Each wrk thread sends its requests with its share of the 64 buyers\' tokens in turn; every request carries a new Idempotency-Key, as the shop\'s HoldClient does.',
      ],
    };
  },
};

/** Where the service's CPU goes per hold: from `node --cpu-prof` of it (BENCH_CPU_PROFILE_DIR), after the token cache. */
const PROFILE =
  "Its database side first: a keyed hold's database CPU was 321 µs before the first round of this work (the cached plan joined a batch's " +
  'Idempotency-Keys to the whole reservations_idempotency index, and re-planned statements per batch), about 130 after it (docs/inventory.md, ' +
  'Idempotency and Group commit), and 84 against 88 µs with a seat\'s references checked once per statement instead of by two per-row ' +
  'foreign keys (alternated, 2026-12-05: docs/inventory.md, References checked per statement). The service, PostgreSQL and wrk share the 2 cores, ' +
  'while pgbench is limited by its commits\' flushes, not by the CPU. Profile of the service over a run (node --cpu-prof, ' +
  "BENCH_CPU_PROFILE_DIR, load average 2-2.5, 2026-12-04), shares of its busy time: the socket writes of the answers 24% (writev, which on loopback also " +
  "runs the receiving side's TCP in the kernel), Node's HTTP and stream internals ~20%, Fastify and its plugins ~10%, zod request validation and " +
  'response encoding ~9% (kept: they check what comes in and goes out), GC 5%, the hold\'s own code (fingerprint, building the reservation) 5%, ' +
  'the pg client 3%, JWT verification under 1% (verified tokens are remembered until exp): no single piece whose removal alone reaches the goal.';
