/**
 * Hold-cost benchmark: a hold must cost the same whether 0 or 100,000 tickets
 * of its type are already sold (counters are incremental, 0002_counters.sql).
 *
 * Two events, "empty" (0 sold) and "busy" (100,000 sold), are held against in
 * alternating rounds, and the busy/empty ratios of median hold latency and of
 * throughput must stay within 1.5x.
 *
 *   npm run bench                        # DATABASE_URL / TEST_DATABASE_URL, else PGlite
 *   npm run bench -- --quick             # smoke run: 10,000 sold, fewer holds
 *   npm run bench -- --holds 5000 --concurrency 16 --rounds 5 --json out.json
 *
 * Exit codes: 0 PASS; 1 FAIL, counters disagree, or any other error;
 * 2 database unreachable or bad flags.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { HoldSettings } from '../packages/server/src/config.ts';
import type { Database } from '../packages/server/src/db/database.ts';
import { migrate } from '../packages/server/src/db/migrate.ts';
import { openPglite } from '../packages/server/src/db/pglite.ts';
import { openPostgres } from '../packages/server/src/db/postgres.ts';
import { Catalog } from '../packages/server/src/inventory/catalog.ts';
import { Holds } from '../packages/server/src/inventory/holds.ts';

const MAX_RATIO = 1.5;
// Large enough that no round ever runs out of seats, so every hold takes the same path.
const CAPACITY = 1_000_000;
const QUANTITY = 2;
const SETTINGS: HoldSettings = { holdSeconds: 900, extensionSeconds: 300, maxExtensions: 2 };
const DEFAULT_JSON = resolve(dirname(fileURLToPath(import.meta.url)), 'results/hold-cost.json');
const CONNECT_TIMEOUT_MS = 10_000;

type Side = 'empty' | 'busy';

interface RoundResult {
  side: Side;
  round: number;
  holds: number;
  seconds: number;
  holdsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

interface SideResult {
  sold: number;
  holds: number;
  seconds: number;
  holdsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  rounds: RoundResult[];
}

interface Target {
  db: Database;
  description: string;
  schema: string | null;
  /** Closes the database and, on PostgreSQL, drops the throw-away schema. */
  cleanup(): Promise<void>;
}

/** Thrown only when the first connection fails, so main() can print one clear line. */
class UnreachableError extends Error {}
/** Ctrl-C: stop at the next hold, clean up, exit non-zero without a stack trace. */
class Interrupted extends Error {}

// ---------------------------------------------------------------- flags

function usage(): string {
  return 'usage: npm run bench -- [--quick] [--holds N] [--concurrency N] [--rounds N] [--json PATH]';
}

function positiveInt(name: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  return n;
}

function parseFlags(url: string | undefined) {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      holds: { type: 'string' },
      concurrency: { type: 'string' },
      rounds: { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const quick = values.quick === true;
  return {
    help: values.help === true,
    quick,
    sold: quick ? 10_000 : 100_000,
    holdsPerRound: positiveInt('holds', values.holds, quick ? 200 : 2_000),
    // PGlite has one connection and runs one statement at a time, so more workers only queue in Node.
    concurrency: positiveInt('concurrency', values.concurrency, url ? 8 : 1),
    // Measured rounds per side; each side also gets one unmeasured warm-up round.
    rounds: positiveInt('rounds', values.rounds, quick ? 3 : 5, 3),
    jsonPath: values.json ? resolve(values.json) : DEFAULT_JSON,
  };
}

type Flags = ReturnType<typeof parseFlags>;

// ---------------------------------------------------------------- database

let interrupted = false;
function checkpoint(): void {
  if (interrupted) throw new Interrupted('interrupted');
}

const describeError = (error: unknown): string => {
  if (error instanceof AggregateError && error.errors.length > 0) return error.errors.map(describeError).join('; ');
  if (error instanceof Error) return error.message || (error as { code?: string }).code || error.name;
  return String(error);
};

/** The URL without its password, for printing. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/** Fails instead of hanging when the host silently drops packets. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000}s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function openTarget(url: string | undefined, concurrency: number): Promise<Target> {
  if (!url) {
    const db = await openPglite();
    await migrate(db);
    return { db, description: 'PGlite (embedded, in memory; DATABASE_URL not set)', schema: null, cleanup: () => db.close() };
  }

  const onError = (error: Error) => console.error(`hold-cost: idle connection error: ${error.message}`);
  let admin: Database;
  try {
    admin = await withTimeout(openPostgres({ connectionString: url, maxConnections: 1, onError }), CONNECT_TIMEOUT_MS);
  } catch (error) {
    throw new UnreachableError(`cannot reach PostgreSQL at ${redact(url)}: ${describeError(error)}`);
  }

  // A fresh schema per run: the benchmark never sees or leaves behind other data.
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  await admin.exec(`CREATE SCHEMA ${schema}`);
  let db: Database | undefined;
  const cleanup = async () => {
    await db?.close().catch(() => {});
    await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch((error: unknown) => {
      console.error(`hold-cost: could not drop schema ${schema}: ${describeError(error)}`);
    });
    await admin.close();
  };
  try {
    // One connection per worker, plus headroom so no hold ever waits for the pool.
    db = await openPostgres({ connectionString: url, options: `-c search_path=${schema}`, maxConnections: concurrency + 2, onError });
    await migrate(db);
  } catch (error) {
    await cleanup();
    throw error;
  }
  return { db, description: `PostgreSQL ${redact(url)}, schema ${schema}`, schema, cleanup };
}

// ---------------------------------------------------------------- measurement

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const ascending = (values: number[]): number[] => [...values].sort((a, b) => a - b);

interface TicketTarget {
  eventId: string;
  ticketTypeId: string;
}

/** `holdsPerRound` holds through Holds.reserve, `concurrency` at a time; returns each hold's latency in ms. */
async function runRound(
  holds: Holds,
  target: TicketTarget,
  holdsPerRound: number,
  concurrency: number,
  tag: string,
): Promise<{ latencies: number[]; seconds: number }> {
  const latencies = new Array<number>(holdsPerRound);
  let next = 0;
  let failed = false;
  const worker = async () => {
    // Stop all workers at the first failure rather than piling up errors.
    while (!failed) {
      checkpoint();
      const i = next++;
      if (i >= holdsPerRound) return;
      const start = performance.now();
      try {
        await holds.reserve({
          eventId: target.eventId,
          holderId: `bench-${tag}-${i}`, // one holder per hold, like distinct buyers
          items: [{ ticketTypeId: target.ticketTypeId, quantity: QUANTITY }],
        });
      } catch (error) {
        failed = true;
        throw error;
      }
      latencies[i] = performance.now() - start;
    }
  };
  const start = performance.now();
  // allSettled: no query may still be running when the caller closes the pool and drops the schema.
  const outcomes = await Promise.allSettled(Array.from({ length: concurrency }, worker));
  const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failure) throw failure.reason;
  return { latencies, seconds: (performance.now() - start) / 1000 };
}

function summarize(side: Side, sold: number, rounds: RoundResult[], latencies: number[]): SideResult {
  const sorted = ascending(latencies);
  const holds = rounds.reduce((sum, r) => sum + r.holds, 0);
  const seconds = rounds.reduce((sum, r) => sum + r.seconds, 0);
  return { sold, holds, seconds, holdsPerSec: holds / seconds, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), rounds };
}

// ---------------------------------------------------------------- output

const fmt = (n: number, digits = 2) => n.toFixed(digits);
const pad = (s: string | number, width: number) => String(s).padStart(width);

function table(empty: SideResult, busy: SideResult): string {
  const header = `${'side'.padEnd(6)} ${pad('sold', 8)} ${pad('holds', 7)} ${pad('seconds', 8)} ${pad('holds/s', 9)} ${pad('p50 ms', 8)} ${pad('p99 ms', 8)}`;
  const row = (name: Side, s: SideResult) =>
    `${name.padEnd(6)} ${pad(s.sold, 8)} ${pad(s.holds, 7)} ${pad(fmt(s.seconds), 8)} ${pad(fmt(s.holdsPerSec, 1), 9)} ${pad(fmt(s.p50Ms), 8)} ${pad(fmt(s.p99Ms), 8)}`;
  return [header, row('empty', empty), row('busy', busy)].join('\n');
}

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  const url = process.env.DATABASE_URL || process.env.TEST_DATABASE_URL || undefined;
  let flags: Flags;
  try {
    flags = parseFlags(url);
  } catch (error) {
    console.error(`hold-cost: ${describeError(error)}\n${usage()}`);
    return 2;
  }
  if (flags.help) {
    console.log(usage());
    return 0;
  }

  process.once('SIGINT', () => {
    interrupted = true;
    console.error('\nhold-cost: interrupted, cleaning up (Ctrl-C again to quit at once)');
  });

  let target: Target;
  try {
    target = await openTarget(url, flags.concurrency);
  } catch (error) {
    if (error instanceof UnreachableError) {
      console.error(`hold-cost: ${error.message}`);
      return 2;
    }
    throw error;
  }

  try {
    return await run(target, flags);
  } finally {
    await target.cleanup();
  }
}

async function run({ db, description, schema }: Target, flags: Flags): Promise<number> {
  const date = new Date().toISOString();
  const serverVersion = (await db.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version ?? 'unknown';
  const cpus = os.cpus();
  const machine = {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    totalMemoryGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    serverVersion,
  };
  console.log(`hold-cost benchmark, ${date}`);
  console.log(`database: ${description}, server_version ${serverVersion}`);
  console.log(`machine:  ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.totalMemoryGiB} GiB RAM, ${machine.platform}, node ${machine.node}`);
  console.log(
    `config:   ${flags.quick ? 'quick, ' : ''}${flags.sold} sold on busy, ${flags.holdsPerRound} holds/round of ${QUANTITY} seats, ` +
      `concurrency ${flags.concurrency}, 1 warm-up + ${flags.rounds} measured rounds per side`,
  );

  // Setup goes through the service's own code paths, as a real organizer's would.
  const catalog = new Catalog(db);
  const startsAt = new Date(Date.now() + 30 * 86_400_000).toISOString();
  const createSide = async (side: Side): Promise<TicketTarget> => {
    const event = await catalog.createEvent({
      slug: `bench-${side}`,
      name: `Hold-cost benchmark (${side})`,
      startsAt,
      ticketTypes: [{ name: 'General', price: '10.00', totalCapacity: CAPACITY, maxPerOrder: 10 }],
    });
    return { eventId: event.id, ticketTypeId: event.ticketTypes[0]!.id };
  };
  const sides: Record<Side, TicketTarget> = { empty: await createSide('empty'), busy: await createSide('busy') };

  // Past sales in one statement, one row per seat, as seed/demo-events.ts does.
  const seedStart = performance.now();
  await db.query(
    `INSERT INTO tickets (event_id, event_ticket_id, status, holder_id, purchased_at)
     SELECT $1, $2, 'sold', 'bench-past-buyer', now() - make_interval(secs => n) FROM generate_series(1, $3::integer) AS n`,
    [sides.busy.eventId, sides.busy.ticketTypeId, flags.sold],
  );
  const seeded = await db.query<{ sold_count: number }>('SELECT sold_count FROM event_tickets WHERE id = $1', [sides.busy.ticketTypeId]);
  if (seeded.rows[0]?.sold_count !== flags.sold) {
    throw new Error(`busy ticket type shows sold_count ${seeded.rows[0]?.sold_count}, expected ${flags.sold}`);
  }
  console.log(`seeded:   ${flags.sold} sold tickets on busy in ${fmt((performance.now() - seedStart) / 1000)}s`);
  checkpoint();

  // Alternating rounds so that drift (cache warm-up, table growth, autovacuum,
  // a noisy neighbour) lands on both sides equally. Round 0 is warm-up.
  const holds = new Holds(db, SETTINGS);
  const rounds: Record<Side, RoundResult[]> = { empty: [], busy: [] };
  const latencies: Record<Side, number[]> = { empty: [], busy: [] };
  const totalRounds = 2 * (flags.rounds + 1);
  let n = 0;
  for (let round = 0; round <= flags.rounds; round++) {
    for (const side of ['empty', 'busy'] as const) {
      n++;
      const result = await runRound(holds, sides[side], flags.holdsPerRound, flags.concurrency, `${side}-${round}`);
      const sorted = ascending(result.latencies);
      const summary: RoundResult = {
        side,
        round,
        holds: flags.holdsPerRound,
        seconds: result.seconds,
        holdsPerSec: flags.holdsPerRound / result.seconds,
        p50Ms: percentile(sorted, 50),
        p99Ms: percentile(sorted, 99),
      };
      const label = round === 0 ? 'warm-up' : `round ${round}`;
      console.log(
        `[${pad(n, 2)}/${totalRounds}] ${side.padEnd(5)} ${label.padEnd(8)} ${pad(fmt(summary.holdsPerSec, 1), 8)} holds/s` +
          `  p50 ${pad(fmt(summary.p50Ms), 6)} ms  p99 ${pad(fmt(summary.p99Ms), 6)} ms`,
      );
      if (round > 0) {
        rounds[side].push(summary);
        latencies[side].push(...result.latencies);
      }
    }
    // Planner statistics once the warm-up has filled every table, rather than
    // autovacuum analyzing mid-round. Analyzing earlier, while reservations is
    // empty, caches sequential-scan plans that slow every round as it grows.
    if (round === 0) await db.exec('ANALYZE');
  }

  const empty = summarize('empty', 0, rounds.empty, latencies.empty);
  const busy = summarize('busy', flags.sold, rounds.busy, latencies.busy);
  const latencyRatio = busy.p50Ms / empty.p50Ms;
  const throughputRatio = busy.holdsPerSec / empty.holdsPerSec;
  // Busy may be at most 1.5x slower: median latency up to 1.5x, throughput down to 1/1.5.
  const pass = latencyRatio <= MAX_RATIO && throughputRatio >= 1 / MAX_RATIO;

  // The holds must also have left the counters exact.
  const verifyRows = (await db.query('SELECT * FROM verify_ticket_counts()')).rows;
  const expectedReserved = QUANTITY * flags.holdsPerRound * (flags.rounds + 1);
  const reserved = await db.query<{ id: string; reserved_count: number }>(
    'SELECT id, reserved_count FROM event_tickets WHERE id = ANY ($1::uuid[])',
    [[sides.empty.ticketTypeId, sides.busy.ticketTypeId]],
  );
  const reservedOk = reserved.rows.length === 2 && reserved.rows.every((r) => r.reserved_count === expectedReserved);
  const countsOk = verifyRows.length === 0 && reservedOk;

  console.log('');
  console.log(table(empty, busy));
  console.log(
    `busy/empty: p50 latency ${fmt(latencyRatio)}x, throughput ${fmt(throughputRatio)}x ` +
      `(limit: latency <= ${MAX_RATIO}x, throughput >= ${fmt(1 / MAX_RATIO)}x)  ${pass ? 'PASS' : 'FAIL'}`,
  );
  console.log(
    `SELECT * FROM verify_ticket_counts(): ${verifyRows.length === 0 ? 'empty (counters agree with tickets)' : `${verifyRows.length} row(s)`}`,
  );
  for (const row of verifyRows) console.log(`  ${JSON.stringify(row)}`);
  console.log(
    `reserved_count: ${reserved.rows.map((r) => r.reserved_count).join(', ')} (expected ${expectedReserved} each) ${reservedOk ? 'ok' : 'WRONG'}`,
  );

  const report = {
    benchmark: 'hold-cost',
    date,
    machine,
    database: { driver: db.driver, schema, serverVersion },
    config: {
      quick: flags.quick,
      soldOnBusy: flags.sold,
      capacity: CAPACITY,
      quantityPerHold: QUANTITY,
      holdsPerRound: flags.holdsPerRound,
      concurrency: flags.concurrency,
      measuredRoundsPerSide: flags.rounds,
      warmupRoundsPerSide: 1,
      holdSettings: SETTINGS,
    },
    empty,
    busy,
    ratios: { p50Latency: latencyRatio, throughput: throughputRatio, limit: MAX_RATIO },
    pass,
    verify: { ok: countsOk, verifyTicketCounts: verifyRows, reservedCount: reserved.rows, expectedReserved },
  };
  await mkdir(dirname(flags.jsonPath), { recursive: true });
  await writeFile(flags.jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`json:     ${flags.jsonPath}`);

  if (!countsOk) console.error('hold-cost: counters disagree with tickets');
  return pass && countsOk ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof Interrupted) console.error('hold-cost: interrupted; nothing written');
    else console.error(`hold-cost: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  },
);
